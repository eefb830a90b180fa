import { compileActuators } from '../actuators/config.ts';
import { parseUnits, usdToMicros } from '../amounts.ts';
import { type ChainKind, chainKindsById } from '../chain-kind.ts';
import { ConfigError, formatPath } from '../errors.ts';
import type { HaltScope } from '../model.ts';
import { compilePriceDiscovery, priceDiscoverySchema } from '../prices/discovery.ts';
import { compileReconciliation } from '../reconciliation/config.ts';
import { historyProblem } from '../retention.ts';
import type { DistinctAssetLimit, Rule, RuleSubject } from '../rules/rule.ts';
import { ruleKindOf } from '../rules/rule-kinds.ts';
import { parseDuration } from '../time.ts';
import { compileWatermark } from '../watermark/config.ts';
import { compilePollerGroups } from './poller-groups.ts';
import { configSchema, type ParsedChain, type ParsedConfig } from './schema.ts';
import type { AssetConfig, BreakerConfig, ChainConfig } from './types.ts';

/**
 * Validate an already-parsed object (from YAML or JSON) for the registered chain kinds (the config
 * loader, adapters/config/config-file.ts, passes them). Throws ConfigError naming every bad path.
 */
export function compileConfigWith(kinds: readonly ChainKind[], input: unknown, sourceName = 'config'): BreakerConfig {
  const byId = chainKindsById(kinds);
  const protoKeys = protoKeyPaths(input);
  if (protoKeys.length > 0) {
    throw new ConfigError(
      sourceName,
      protoKeys.map((p) => `${p}: a key may not be named __proto__ (it would be dropped without a word)`),
    );
  }
  const parsed = configSchema(kinds).safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      sourceName,
      parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`),
    );
  }
  const issues: string[] = [];
  const config = buildConfig(parsed.data, byId, issues);
  if (issues.length > 0) throw new ConfigError(sourceName, issues);
  return config;
}

/**
 * Paths of own keys named `__proto__` (YAML and JSON parsers keep them as data). Validation copies maps into
 * plain objects, where assigning `__proto__` sets the prototype instead, so such a limit would vanish.
 */
function protoKeyPaths(value: unknown, path: (string | number)[] = []): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => protoKeyPaths(v, [...path, i]));
  if (value === null || typeof value !== 'object') return [];
  return Object.keys(value).flatMap((k) =>
    k === '__proto__' ? [formatPath([...path, k])] : protoKeyPaths((value as Record<string, unknown>)[k], [...path, k]),
  );
}

function buildConfig(cfg: ParsedConfig, kinds: ReadonlyMap<string, ChainKind>, issues: string[]): BreakerConfig {
  // The schema normalised every address by its chain's kind.
  const allHot = new Set<string>(Object.values(cfg.chains).flatMap((chain) => chain.hotWallets));
  const kindOf = (raw: ParsedChain): ChainKind => kinds.get(raw.kind)!;

  const chains = new Map<string, ChainConfig>();
  for (const [id, raw] of Object.entries(cfg.chains)) {
    const kind = kindOf(raw);
    const native: AssetConfig = {
      chain: id,
      symbol: raw.native.symbol,
      contract: null,
      decimals: raw.native.decimals,
      priceMicros: usdToMicros(raw.native.usdPrice),
      ...pricing(cfg, id, kinds, raw.native, `chains.${id}.native`, issues),
    };
    const tokens = new Map<string, AssetConfig>();
    raw.tokens?.forEach((t, i) => {
      if (t.symbol === native.symbol || [...tokens.values()].some((o) => o.symbol === t.symbol)) {
        issues.push(`chains.${id}.tokens[${i}].symbol: "${t.symbol}" is used twice on this chain`);
      }
      if (tokens.has(t.contract)) issues.push(`chains.${id}.tokens[${i}].contract: listed twice`);
      tokens.set(t.contract, {
        chain: id,
        symbol: t.symbol,
        contract: t.contract,
        decimals: t.decimals,
        priceMicros: usdToMicros(t.usdPrice),
        ...pricing(cfg, id, kinds, t, `chains.${id}.tokens[${i}]`, issues),
      });
    });
    const hotWallets = raw.hotWallets;
    raw.ownAddresses.forEach((a, i) => {
      if (hotWallets.includes(a)) {
        issues.push(`chains.${id}.ownAddresses[${i}]: ${a} is already a hot wallet of this chain`);
      }
    });
    chains.set(id, {
      id,
      kind,
      raw,
      confirmations: raw.confirmations,
      blockTimeSeconds: raw.blockTimeSeconds,
      pollIntervalSeconds: raw.pollIntervalSeconds ?? raw.blockTimeSeconds,
      maxBlocksPerPoll: raw.maxBlocksPerPoll,
      startBlock: raw.startBlock,
      explorer: raw.explorer?.replace(/\/+$/, ''),
      hotWallets,
      ownAddresses: new Set([...allHot, ...raw.ownAddresses]),
      native,
      tokens,
    });
  }

  const reconciliation = compileReconciliation(cfg.reconciliation, chains, issues);
  const chainKinds = new Map([...chains].map(([id, c]) => [id, c.kind]));
  const watermark = compileWatermark(cfg.watermark, chainKinds, issues, cfg.limits.shadow);
  const rules = buildRules(cfg, chains, issues, reconciliation.rules, watermark.ruleIds);
  for (const rule of rules) {
    const problem = historyProblem(ruleKindOf(rule).historyNeeded(rule));
    if (problem) issues.push(`rule ${rule.id}: ${problem}`);
  }
  return {
    name: cfg.name,
    chains,
    unknownAssetUsdMicros: usdToMicros(cfg.unknownAssets.usdPerTransfer),
    priceDiscovery: compilePriceDiscovery(
      cfg.unknownAssets.discovery ?? priceDiscoverySchema.parse({}),
      chains,
      usdToMicros(cfg.unknownAssets.usdPerTransfer),
      issues,
    ),
    rules,
    maxWindowSeconds: Math.max(0, ...rules.map((r) => ruleKindOf(r).historyNeeded(r))),
    warnRatio: cfg.limits.warnRatio,
    pages: cfg.pages,
    operations: cfg.operations,
    reconciliation: reconciliation.config,
    watermark,
    actuators: compileActuators(cfg.actuators, new Set(chains.keys()), issues),
    pollerGroups: compilePollerGroups(cfg.pollerGroups, [...chains.keys()], issues),
    source: cfg,
  };
}

type PricedInput = {
  usdPrice: number;
  priceFeed?: { address: string; maxAgeSeconds: number; chain?: string };
  worstCaseUsdPrice?: number;
};

/** The feed fields of one asset; the feed must be read on a chain the config has whose kind hosts price feeds. */
function pricing(
  cfg: ParsedConfig,
  chainId: string,
  kinds: ReadonlyMap<string, ChainKind>,
  a: PricedInput,
  path: string,
  issues: string[],
): Pick<AssetConfig, 'priceFeed' | 'worstCasePriceMicros'> {
  const out: Pick<AssetConfig, 'priceFeed' | 'worstCasePriceMicros'> = {};
  if (usdToMicros(a.usdPrice) === 0n) {
    issues.push(
      `${path}.usdPrice: ${a.usdPrice} is below $0.000001 per whole unit (the precision of prices): every transfer would be valued at $0`,
    );
  }
  if (a.worstCaseUsdPrice !== undefined) out.worstCasePriceMicros = usdToMicros(a.worstCaseUsdPrice);
  if (a.priceFeed) {
    const feedChain = a.priceFeed.chain ?? chainId;
    const own = kinds.get(cfg.chains[chainId]!.kind)!;
    const on = cfg.chains[feedChain] && kinds.get(cfg.chains[feedChain].kind)!;
    let address = a.priceFeed.address;
    if (!a.priceFeed.chain && !own.hostsPriceFeeds) {
      issues.push(`${path}.priceFeed.chain: required on a ${own.id} chain (the chain the feed is read on)`);
    } else if (!on) {
      issues.push(`${path}.priceFeed.chain: no chain "${feedChain}" under chains`);
    } else if (!on.hostsPriceFeeds) {
      issues.push(`${path}.priceFeed.chain: "${feedChain}" is a ${on.name} chain, where no price feed can be read`);
    } else {
      const problem = on.address.problem(address);
      if (problem) issues.push(`${path}.priceFeed.address: ${problem}`);
      else address = on.address.normalise(address);
    }
    out.priceFeed = { chain: feedChain, address, maxAgeSeconds: a.priceFeed.maxAgeSeconds };
  }
  return out;
}

function buildRules(
  cfg: ParsedConfig,
  chains: Map<string, ChainConfig>,
  issues: string[],
  extra: Rule[] = [],
  /** Rule ids decided outside the rule set (the watermarks') that `limits.shadow` may name too. */
  otherRuleIds: ReadonlySet<string> = new Set(),
): Rule[] {
  const ratio = cfg.limits.warnRatio;
  const rules: Rule[] = [];
  const add = (r: Omit<Rule, 'warnAt'>) => rules.push({ ...r, warnAt: warnLevel(r.limit, ratio) });
  const global: HaltScope = { kind: 'global' };

  const g = cfg.limits.global;
  for (const [w, usd] of Object.entries(g.usd ?? {})) {
    add({
      id: `global-usd-${w}`,
      subject: { kind: 'global' },
      measure: { kind: 'usd' },
      windowSeconds: parseDuration(w),
      limit: usdToMicros(usd),
      halt: global,
    });
  }
  for (const [w, n] of Object.entries(g.count ?? {})) {
    add({
      id: `global-count-${w}`,
      subject: { kind: 'global' },
      measure: { kind: 'count' },
      windowSeconds: parseDuration(w),
      limit: BigInt(n),
      halt: global,
    });
  }
  if (g.singleTxUsd !== undefined) {
    add({
      id: 'global-single-tx-usd',
      subject: { kind: 'global' },
      measure: { kind: 'usd' },
      windowSeconds: 0,
      limit: usdToMicros(g.singleTxUsd),
      halt: global,
    });
  }

  for (const [chainId, limits] of Object.entries(cfg.limits.chains)) {
    const chain = chains.get(chainId);
    if (!chain) {
      issues.push(
        `limits.chains.${chainId}: no chain "${chainId}" under chains (known: ${[...chains.keys()].join(', ')})`,
      );
      continue;
    }
    const halt: HaltScope = limits.halt === 'global' ? global : { kind: 'chain', chain: chainId };
    const subject: RuleSubject = { kind: 'chain', chain: chainId };
    for (const [w, usd] of Object.entries(limits.usd ?? {})) {
      add({
        id: `chain-${chainId}-usd-${w}`,
        subject,
        measure: { kind: 'usd' },
        windowSeconds: parseDuration(w),
        limit: usdToMicros(usd),
        halt,
      });
    }
    for (const [w, n] of Object.entries(limits.count ?? {})) {
      add({
        id: `chain-${chainId}-count-${w}`,
        subject,
        measure: { kind: 'count' },
        windowSeconds: parseDuration(w),
        limit: BigInt(n),
        halt,
      });
    }
    if (limits.singleTxUsd !== undefined) {
      add({
        id: `chain-${chainId}-single-tx-usd`,
        subject,
        measure: { kind: 'usd' },
        windowSeconds: 0,
        limit: usdToMicros(limits.singleTxUsd),
        halt,
      });
    }
    for (const [symbol, a] of Object.entries(limits.assets ?? {})) {
      const asset = [chain.native, ...chain.tokens.values()].find((x) => x.symbol === symbol);
      const path = `limits.chains.${chainId}.assets.${symbol}`;
      if (!asset) {
        issues.push(
          `${path}: no asset "${symbol}" on chain ${chainId} (known: ${[chain.native, ...chain.tokens.values()].map((x) => x.symbol).join(', ')})`,
        );
        continue;
      }
      const assetHalt: HaltScope =
        a.halt === 'global' ? global : a.halt === 'chain' ? { kind: 'chain', chain: chainId } : halt;
      const assetSubject: RuleSubject = { kind: 'asset', chain: chainId, asset: symbol };
      const units = (text: string, field: string): bigint | undefined => {
        try {
          return parseUnits(text, asset.decimals);
        } catch (e) {
          issues.push(`${path}.${field}: ${(e as Error).message}`);
          return undefined;
        }
      };
      for (const [w, amount] of Object.entries(a.units ?? {})) {
        const limit = units(amount, `units.${w}`);
        if (limit === undefined) continue;
        add({
          id: `asset-${chainId}-${symbol}-units-${w}`,
          subject: assetSubject,
          measure: { kind: 'units', asset: symbol, decimals: asset.decimals },
          windowSeconds: parseDuration(w),
          limit,
          halt: assetHalt,
        });
      }
      for (const [w, n] of Object.entries(a.count ?? {})) {
        add({
          id: `asset-${chainId}-${symbol}-count-${w}`,
          subject: assetSubject,
          measure: { kind: 'count' },
          windowSeconds: parseDuration(w),
          limit: BigInt(n),
          halt: assetHalt,
        });
      }
      if (a.singleTx !== undefined) {
        const limit = units(a.singleTx, 'singleTx');
        if (limit !== undefined) {
          add({
            id: `asset-${chainId}-${symbol}-single-tx`,
            subject: assetSubject,
            measure: { kind: 'units', asset: symbol, decimals: asset.decimals },
            windowSeconds: 0,
            limit,
            halt: assetHalt,
          });
        }
      }
    }
  }
  buildPatternRules(cfg, chains, rules, issues);
  buildBalanceRules(cfg, chains, rules, issues);
  rules.push(...extra);
  if (rules.length === 0) issues.push('limits: no limits configured — the breaker would never trip');
  const ids = new Set([...rules.map((r) => r.id), ...otherRuleIds]);
  cfg.limits.shadow.forEach((id, i) => {
    if (!ids.has(id)) issues.push(`limits.shadow[${i}]: no rule "${id}" (rules: ${[...ids].join(', ')})`);
  });
  const shadow = new Set(cfg.limits.shadow);
  for (const r of rules) if (shadow.has(r.id)) r.shadow = true;
  return rules;
}

function buildPatternRules(cfg: ParsedConfig, chains: Map<string, ChainConfig>, rules: Rule[], issues: string[]): void {
  const ratio = cfg.limits.warnRatio;
  const p = cfg.limits.patterns;
  const global: HaltScope = { kind: 'global' };

  if (p.distinctAssets) {
    const d = p.distinctAssets;
    const w = parseDuration(d.window);
    const assets: DistinctAssetLimit[] = [];
    for (const rule of rules) {
      if (rule.subject.kind !== 'asset' || rule.measure.kind !== 'units' || rule.windowSeconds === 0) continue;
      const { chain, asset } = rule.subject;
      const i = assets.findIndex((a) => a.chain === chain && a.asset === asset);
      const current = assets[i];
      // The asset's own limit for this window, else the nearest longer window, else the nearest shorter.
      if (current && closer(current.limitWindowSeconds, rule.windowSeconds, w)) continue;
      const entry: DistinctAssetLimit = {
        chain,
        asset,
        decimals: rule.measure.decimals,
        limit: rule.limit,
        limitWindowSeconds: rule.windowSeconds,
        threshold: ceilPercent(rule.limit, d.percentOfLimit),
      };
      if (current) assets[i] = entry;
      else assets.push(entry);
    }
    if (assets.length < d.trip) {
      issues.push(
        `limits.patterns.distinctAssets.trip: ${d.trip} assets can never count at once — only ${assets.length} asset(s) have a units limit (${assets.map((a) => `${a.asset} on ${a.chain}`).join(', ') || 'none'})`,
      );
    }
    rules.push({
      id: `pattern-distinct-assets-${d.window}`,
      subject: { kind: 'global' },
      measure: { kind: 'distinct-assets', percent: d.percentOfLimit, assets },
      windowSeconds: w,
      limit: BigInt(d.trip - 1),
      warnAt: BigInt((d.warn ?? d.trip - 1) - 1),
      halt: global,
      shadow: d.shadow,
    });
  }

  if (p.newDestinations) {
    const n = p.newDestinations;
    const limit = usdToMicros(n.usd);
    rules.push({
      id: `pattern-new-destinations-usd-${n.window}`,
      subject: { kind: 'global' },
      measure: { kind: 'new-destination-usd', lookbackSeconds: parseDuration(n.lookback) },
      windowSeconds: parseDuration(n.window),
      limit,
      warnAt: n.warnUsd !== undefined ? usdToMicros(n.warnUsd) : warnLevel(limit, ratio),
      halt: global,
      shadow: n.shadow,
    });
  }

  if (p.walletProfile) {
    const w = p.walletProfile;
    const minUsd = usdToMicros(w.minUsd);
    for (const chain of chains.values()) {
      for (const wallet of chain.hotWallets) {
        rules.push({
          id: `pattern-profile-${chain.id}-${wallet}-${w.window}`,
          subject: { kind: 'wallet', chain: chain.id, wallet },
          measure: {
            kind: 'profile-usd',
            tripFactorPpm: BigInt(Math.round(w.tripFactor * 1_000_000)),
            warnFactorPpm: BigInt(Math.round((w.warnFactor ?? w.tripFactor * ratio) * 1_000_000)),
            percentilePpm: Math.round(w.percentile * 10_000),
            baselineSeconds: parseDuration(w.baseline),
            minHistorySeconds: parseDuration(w.minHistory),
          },
          windowSeconds: parseDuration(w.window),
          limit: minUsd,
          warnAt: warnLevel(minUsd, ratio),
          halt: w.halt === 'global' ? global : { kind: 'chain', chain: chain.id },
          shadow: w.shadow,
        });
      }
    }
  }
}

/** One drawdown and one emptied rule per watched chain (core/rules/kinds/balance-drawdown.ts). */
function buildBalanceRules(cfg: ParsedConfig, chains: Map<string, ChainConfig>, rules: Rule[], issues: string[]): void {
  const d = cfg.limits.patterns.balanceDrawdown;
  if (!d) return;
  const path = 'limits.patterns.balanceDrawdown';
  const ids = d.chains ?? [...chains.keys()];
  ids.forEach((id, i) => {
    const chain = chains.get(id);
    const at = d.chains ? `${path}.chains[${i}]` : `${path}`;
    if (!chain) {
      issues.push(`${at}: no chain "${id}" (chains: ${[...chains.keys()].join(', ')})`);
      return;
    }
    if (!chain.kind.readsBalances) {
      issues.push(
        `${at}: chain "${id}" (kind ${chain.kind.id}) cannot read hot-wallet balances, so the rule would never see it — list the chains to watch in ${path}.chains without it`,
      );
      return;
    }
    const halt: HaltScope = d.halt === 'global' ? { kind: 'global' } : { kind: 'chain', chain: id };
    const tripPpm = percentPpm(d.tripPercent);
    rules.push({
      id: `pattern-drawdown-${id}-${d.window}`,
      subject: { kind: 'chain', chain: id },
      measure: { kind: 'balance-drawdown' },
      windowSeconds: parseDuration(d.window),
      limit: tripPpm,
      warnAt: d.warnPercent !== undefined ? percentPpm(d.warnPercent) : warnLevel(tripPpm, cfg.limits.warnRatio),
      halt,
      shadow: d.shadow,
    });
    if (d.emptied === false) return;
    rules.push({
      // The floor is in the id: the recorded config summary compares limits only, so a lower floor
      // (looser) must show as a rule removed, which waits out operations.loosenDelaySeconds.
      id: `pattern-emptied-${id}-${d.emptied.window}-${d.emptied.belowPercent}pct`,
      subject: { kind: 'chain', chain: id },
      measure: { kind: 'balance-emptied', floorPpm: percentPpm(d.emptied.belowPercent) },
      windowSeconds: parseDuration(d.emptied.window),
      // One emptied asset trips; there is no warning level below one.
      limit: 0n,
      warnAt: 0n,
      halt,
      shadow: d.shadow,
    });
  });
}

/** A percentage (to 1e-4) in parts per million. */
function percentPpm(percent: number): bigint {
  return BigInt(Math.round(percent * 10_000));
}

/** Is window `a` a better reference than `b` for a pattern window `w`? (equal, else longer, else nearest) */
function closer(a: number, b: number, w: number): boolean {
  const score = (x: number) => (x === w ? 0 : x > w ? 1 : 2);
  return score(a) !== score(b) ? score(a) < score(b) : Math.abs(a - w) <= Math.abs(b - w);
}

/** ceil(limit × percent / 100), percent to 1e-4. */
function ceilPercent(limit: bigint, percent: number): bigint {
  const ppm = BigInt(Math.round(percent * 10_000));
  return (limit * ppm + 999_999n) / 1_000_000n;
}

/** ceil(limit × ratio), computed in integers (ratio to 1e-6). */
function warnLevel(limit: bigint, ratio: number): bigint {
  const ppm = BigInt(Math.round(ratio * 1_000_000));
  return (limit * ppm + 999_999n) / 1_000_000n;
}
