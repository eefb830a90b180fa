import { parseUnits, usdToMicros } from '../amounts.ts';
import { ConfigError } from '../errors.ts';
import type { HaltScope } from '../model.ts';
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
  | { kind: 'units'; asset: string; decimals: number };

/** Which outflows a rule looks at. */
export type RuleSubject = { kind: 'global' } | { kind: 'chain'; chain: string } | { kind: 'asset'; chain: string; asset: string };

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
}

export interface BreakerConfig {
  name: string;
  chains: Map<string, ChainConfig>;
  unknownAssetUsdMicros: bigint;
  rules: Rule[];
  /** Longest rule window in seconds: how much history evaluation must read. */
  maxWindowSeconds: number;
  warnRatio: number;
  pages: ParsedConfig['pages'];
  /** The validated input, for tools that want to print or re-serialise it. */
  source: ParsedConfig;
}

/** Validate an already-parsed object (from YAML or JSON). Throws ConfigError naming every bad path. */
export function compileConfig(input: unknown, sourceName = 'config'): BreakerConfig {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(sourceName, parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`));
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

  const rules = buildRules(cfg, chains, issues);
  return {
    name: cfg.name,
    chains,
    unknownAssetUsdMicros: usdToMicros(cfg.unknownAssets.usdPerTransfer),
    rules,
    maxWindowSeconds: Math.max(0, ...rules.map((r) => r.windowSeconds)),
    warnRatio: cfg.limits.warnRatio,
    pages: cfg.pages,
    source: cfg,
  };
}

type PricedInput = { priceFeed?: { address: string; maxAgeSeconds: number; chain?: string }; worstCaseUsdPrice?: number };

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

function buildRules(cfg: ParsedConfig, chains: Map<string, ChainConfig>, issues: string[]): Rule[] {
  const ratio = cfg.limits.warnRatio;
  const rules: Rule[] = [];
  const add = (r: Omit<Rule, 'warnAt'>) => rules.push({ ...r, warnAt: warnLevel(r.limit, ratio) });
  const global: HaltScope = { kind: 'global' };

  const g = cfg.limits.global;
  for (const [w, usd] of Object.entries(g.usd ?? {})) {
    add({ id: `global-usd-${w}`, subject: { kind: 'global' }, measure: { kind: 'usd' }, windowSeconds: parseDuration(w), limit: usdToMicros(usd), halt: global });
  }
  for (const [w, n] of Object.entries(g.count ?? {})) {
    add({ id: `global-count-${w}`, subject: { kind: 'global' }, measure: { kind: 'count' }, windowSeconds: parseDuration(w), limit: BigInt(n), halt: global });
  }
  if (g.singleTxUsd !== undefined) {
    add({ id: 'global-single-tx-usd', subject: { kind: 'global' }, measure: { kind: 'usd' }, windowSeconds: 0, limit: usdToMicros(g.singleTxUsd), halt: global });
  }

  for (const [chainId, limits] of Object.entries(cfg.limits.chains)) {
    const chain = chains.get(chainId);
    if (!chain) {
      issues.push(`limits.chains.${chainId}: no chain "${chainId}" under chains (known: ${[...chains.keys()].join(', ')})`);
      continue;
    }
    const halt: HaltScope = limits.halt === 'global' ? global : { kind: 'chain', chain: chainId };
    const subject: RuleSubject = { kind: 'chain', chain: chainId };
    for (const [w, usd] of Object.entries(limits.usd ?? {})) {
      add({ id: `chain-${chainId}-usd-${w}`, subject, measure: { kind: 'usd' }, windowSeconds: parseDuration(w), limit: usdToMicros(usd), halt });
    }
    for (const [w, n] of Object.entries(limits.count ?? {})) {
      add({ id: `chain-${chainId}-count-${w}`, subject, measure: { kind: 'count' }, windowSeconds: parseDuration(w), limit: BigInt(n), halt });
    }
    if (limits.singleTxUsd !== undefined) {
      add({ id: `chain-${chainId}-single-tx-usd`, subject, measure: { kind: 'usd' }, windowSeconds: 0, limit: usdToMicros(limits.singleTxUsd), halt });
    }
    for (const [symbol, a] of Object.entries(limits.assets ?? {})) {
      const asset = [chain.native, ...chain.tokens.values()].find((x) => x.symbol === symbol);
      const path = `limits.chains.${chainId}.assets.${symbol}`;
      if (!asset) {
        issues.push(`${path}: no asset "${symbol}" on chain ${chainId} (known: ${[chain.native, ...chain.tokens.values()].map((x) => x.symbol).join(', ')})`);
        continue;
      }
      const assetHalt: HaltScope = a.halt === 'global' ? global : a.halt === 'chain' ? { kind: 'chain', chain: chainId } : halt;
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
        add({ id: `asset-${chainId}-${symbol}-units-${w}`, subject: assetSubject, measure: { kind: 'units', asset: symbol, decimals: asset.decimals }, windowSeconds: parseDuration(w), limit, halt: assetHalt });
      }
      for (const [w, n] of Object.entries(a.count ?? {})) {
        add({ id: `asset-${chainId}-${symbol}-count-${w}`, subject: assetSubject, measure: { kind: 'count' }, windowSeconds: parseDuration(w), limit: BigInt(n), halt: assetHalt });
      }
      if (a.singleTx !== undefined) {
        const limit = units(a.singleTx, 'singleTx');
        if (limit !== undefined) {
          add({ id: `asset-${chainId}-${symbol}-single-tx`, subject: assetSubject, measure: { kind: 'units', asset: symbol, decimals: asset.decimals }, windowSeconds: 0, limit, halt: assetHalt });
        }
      }
    }
  }
  if (rules.length === 0) issues.push('limits: no limits configured — the breaker would never trip');
  return rules;
}

/** ceil(limit × ratio), computed in integers (ratio to 1e-6). */
function warnLevel(limit: bigint, ratio: number): bigint {
  const ppm = BigInt(Math.round(ratio * 1_000_000));
  return (limit * ppm + 999_999n) / 1_000_000n;
}
