import { type ActuatorsConfig, compileActuators } from '../actuators/config.ts';
import { parseUnits, usdToMicros } from '../amounts.ts';
import { ConfigError } from '../errors.ts';
import type { HaltScope } from '../model.ts';
import { compileReconciliation, type ReconciliationConfig } from '../reconciliation/config.ts';
import { parseDuration } from '../time.ts';
import { configSchema, type ParsedConfig } from './schema.ts';

export interface AssetConfig {
  chain: string;
  symbol: string;
  /** Lower-case token contract; null for the native coin. */
  contract: string | null;
  decimals: number;
  /** Static USD price in micro-USD per whole unit. */
  priceMicros: bigint;
  /** On-chain USD feed; `chain` is the (EVM) chain it is read on. */
  priceFeed?: { chain: string; address: string; maxAgeSeconds: number };
  /** Micro-USD per unit while the feed is stale or unreadable (≥ priceMicros). */
  worstCasePriceMicros?: bigint;
}

export interface ChainConfig {
  id: string;
  kind: 'evm' | 'bitcoin';
  raw: ParsedConfig['chains'][string];
  confirmations: number;
  blockTimeSeconds: number;
  pollIntervalSeconds: number;
  maxBlocksPerPoll: number;
  startBlock: 'latest' | number;
  explorer: string | undefined;
  /** Lower-case (EVM) or as written (Bitcoin). */
  hotWallets: string[];
  /** Hot wallets of every chain plus configured own addresses: transfers here are not losses. */
  ownAddresses: Set<string>;
  native: AssetConfig;
  tokens: Map<string, AssetConfig>;
}

/** What a rule counts over its window. */
export type RuleMeasure =
  | { kind: 'usd' }
  | { kind: 'count' }
  | { kind: 'units'; asset: string; decimals: number }
  | PatternMeasure;

/**
 * Drain-pattern measures (functions/core/rules/patterns.ts defines them exactly):
 *  - `new-destination-usd`: USD sent in the window to destinations first paid less than one window
 *    earlier (nothing sent to them in [t − lookback, t − window]);
 *  - `distinct-assets`: how many assets each sent more than `percent`% of their own units limit in
 *    the window (limit = trip − 1, so "N or more" trips);
 *  - `profile-usd`: a hot wallet's USD in the window against factor × the percentile of its own
 *    per-window totals over the trailing baseline; the levels move with the profile, so `limit`
 *    and `warnAt` hold only the USD floors and each breach carries the levels in force.
 */
export type PatternMeasure =
  | { kind: 'new-destination-usd'; lookbackSeconds: number }
  | { kind: 'distinct-assets'; percent: number; assets: DistinctAssetLimit[] }
  | {
      kind: 'profile-usd';
      tripFactorPpm: bigint;
      warnFactorPpm: bigint;
      /** Percentile × 10 000 (99 → 990 000). */
      percentilePpm: number;
      baselineSeconds: number;
      minHistorySeconds: number;
    };

export interface DistinctAssetLimit {
  chain: string;
  asset: string;
  decimals: number;
  /** The asset's own units limit the share is taken of, and its window. */
  limit: bigint;
  limitWindowSeconds: number;
  /** The asset counts when its units in the window exceed this (ceil(limit × percent / 100)). */
  threshold: bigint;
}

/** Which outflows a rule looks at. */
export type RuleSubject =
  | { kind: 'global' }
  | { kind: 'chain'; chain: string }
  | { kind: 'asset'; chain: string; asset: string }
  | { kind: 'wallet'; chain: string; wallet: string }
  /** Outflows of the chain that match no approved withdrawal (marked `unapproved` before evaluation). */
  | { kind: 'unapproved'; chain: string };

export interface Rule {
  /** e.g. `global-usd-1h`, `chain-ethereum-count-10m`, `asset-ethereum-USDT-units-1h`, `global-single-tx-usd`. */
  id: string;
  subject: RuleSubject;
  measure: RuleMeasure;
  /** Window length in seconds; 0 for single-transaction rules. */
  windowSeconds: number;
  /** Trips when the measure exceeds this (micro-USD, count, or base units). */
  limit: bigint;
  /** Warns when the measure exceeds this (ceil(limit × warnRatio)). */
  warnAt: bigint;
  halt: HaltScope;
  /** Shadow mode: a breach pages "would have tripped" and is audited, but never halts. */
  shadow?: boolean;
}

export interface BreakerConfig {
  name: string;
  chains: Map<string, ChainConfig>;
  unknownAssetUsdMicros: bigint;
  rules: Rule[];
  /**
   * How much history evaluation must read, in seconds: the longest rule window, or longer when a
   * drain pattern looks further back (new destinations: window + lookback; wallet profile:
   * baseline + window).
   */
  maxWindowSeconds: number;
  warnRatio: number;
  pages: ParsedConfig['pages'];
  operations: ParsedConfig['operations'];
  /** Approved-withdrawal reconciliation (its rules are in `rules` when enabled). */
  reconciliation: ReconciliationConfig;
  /** Kill-switch layers beyond the table flag. */
  actuators: ActuatorsConfig;
  /** The validated input, for tools that want to print or re-serialise it. */
  source: ParsedConfig;
}

/** Validate an already-parsed object (from YAML or JSON). Throws ConfigError naming every bad path. */
export function compileConfig(input: unknown, sourceName = 'config'): BreakerConfig {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      sourceName,
      parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`),
    );
  }
  const issues: string[] = [];
  const config = buildConfig(parsed.data, issues);
  if (issues.length > 0) throw new ConfigError(sourceName, issues);
  return config;
}

/** ['chains','ethereum','rpc',0] → `chains.ethereum.rpc[0]` */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}

function buildConfig(cfg: ParsedConfig, issues: string[]): BreakerConfig {
  const allHot = new Set<string>();
  for (const chain of Object.values(cfg.chains)) for (const w of chain.hotWallets) allHot.add(normalise(chain.kind, w));

  const chains = new Map<string, ChainConfig>();
  for (const [id, raw] of Object.entries(cfg.chains)) {
    const native: AssetConfig = {
      chain: id,
      symbol: raw.native.symbol,
      contract: null,
      decimals: raw.native.decimals,
      priceMicros: usdToMicros(raw.native.usdPrice),
      ...pricing(cfg, id, raw.kind, raw.native, `chains.${id}.native`, issues),
    };
    const tokens = new Map<string, AssetConfig>();
    if (raw.kind === 'evm') {
      raw.tokens.forEach((t, i) => {
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
          ...pricing(cfg, id, raw.kind, t, `chains.${id}.tokens[${i}]`, issues),
        });
      });
    }
    const hotWallets = raw.hotWallets.map((w) => normalise(raw.kind, w));
    raw.ownAddresses.forEach((a, i) => {
      if (hotWallets.includes(normalise(raw.kind, a))) {
        issues.push(`chains.${id}.ownAddresses[${i}]: ${a} is already a hot wallet of this chain`);
      }
    });
    chains.set(id, {
      id,
      kind: raw.kind,
      raw,
      confirmations: raw.confirmations,
      blockTimeSeconds: raw.blockTimeSeconds,
      pollIntervalSeconds: raw.pollIntervalSeconds ?? raw.blockTimeSeconds,
      maxBlocksPerPoll: raw.maxBlocksPerPoll,
      startBlock: raw.startBlock,
      explorer: raw.explorer?.replace(/\/+$/, ''),
      hotWallets,
      ownAddresses: new Set([...allHot, ...raw.ownAddresses.map((a) => normalise(raw.kind, a))]),
      native,
      tokens,
    });
  }

  const reconciliation = compileReconciliation(cfg.reconciliation, chains, issues);
  const rules = buildRules(cfg, chains, issues, reconciliation.rules);
  return {
    name: cfg.name,
    chains,
    unknownAssetUsdMicros: usdToMicros(cfg.unknownAssets.usdPerTransfer),
    rules,
    maxWindowSeconds: Math.max(0, ...rules.map(historyNeeded)),
    warnRatio: cfg.limits.warnRatio,
    pages: cfg.pages,
    operations: cfg.operations,
    reconciliation: reconciliation.config,
    actuators: compileActuators(cfg.actuators, chains, issues),
    source: cfg,
  };
}

type PricedInput = {
  usdPrice: number;
  priceFeed?: { address: string; maxAgeSeconds: number; chain?: string };
  worstCaseUsdPrice?: number;
};

/** The feed fields of one asset; the feed must be read on an EVM chain the config has. */
function pricing(
  cfg: ParsedConfig,
  chainId: string,
  kind: 'evm' | 'bitcoin',
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
    const on = cfg.chains[feedChain];
    if (!a.priceFeed.chain && kind !== 'evm') {
      issues.push(`${path}.priceFeed.chain: required on a ${kind} chain (the EVM chain the feed is read on)`);
    } else if (!on) {
      issues.push(`${path}.priceFeed.chain: no chain "${feedChain}" under chains`);
    } else if (on.kind !== 'evm') {
      issues.push(`${path}.priceFeed.chain: "${feedChain}" is not an EVM chain`);
    }
    out.priceFeed = { chain: feedChain, address: a.priceFeed.address, maxAgeSeconds: a.priceFeed.maxAgeSeconds };
  }
  return out;
}

function normalise(kind: 'evm' | 'bitcoin', address: string): string {
  return kind === 'evm' ? address.toLowerCase() : address;
}

function buildRules(cfg: ParsedConfig, chains: Map<string, ChainConfig>, issues: string[], extra: Rule[] = []): Rule[] {
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
  rules.push(...extra);
  if (rules.length === 0) issues.push('limits: no limits configured — the breaker would never trip');
  const ids = new Set(rules.map((r) => r.id));
  cfg.limits.shadow.forEach((id, i) => {
    if (!ids.has(id)) issues.push(`limits.shadow[${i}]: no rule "${id}" (rules: ${[...ids].join(', ')})`);
  });
  const shadow = new Set(cfg.limits.shadow);
  for (const r of rules) if (shadow.has(r.id)) r.shadow = true;
  return rules;
}

function historyNeeded(rule: Rule): number {
  switch (rule.measure.kind) {
    case 'new-destination-usd':
      return rule.windowSeconds + rule.measure.lookbackSeconds;
    case 'profile-usd':
      return rule.measure.baselineSeconds + rule.windowSeconds;
    default:
      return rule.windowSeconds;
  }
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
