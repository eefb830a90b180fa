import { z } from 'zod';
import { usdToMicros } from '../amounts.ts';
import type { ChainKind } from '../chain-kind.ts';

/**
 * Prices for tokens the config does not list, discovered on-chain: the deepest Uniswap-v2-style pool
 * pairing the token with one of the chain's configured quote assets, read at the block, above a
 * liquidity floor. Nothing liquid (or nothing readable) is the worst case — the configured
 * `unknownAssets.usdPerTransfer` — never zero. This file decides; adapters/prices/dex-price-discovery.ts reads.
 */

/** The Uniswap v3 fee tiers (hundredths of a basis point): 0.01 %, 0.05 %, 0.3 %, 1 %. */
export const UNISWAP_V3_FEE_TIERS = [100, 500, 3000, 10_000] as const;

const addressList = (what: string) =>
  z
    .array(z.string({ error: `expected ${what} address` }), { error: 'expected a list of addresses' })
    .min(1, { error: `needs at least one ${what}` });

/** `unknownAssets.discovery.chains.<id>.chainlinkFeeds.<token>`: an aggregator that prices one unlisted token. */
const unlistedFeedSchema = z
  .object({
    address: z.string({ error: 'expected the aggregator address' }),
    maxAgeSeconds: z
      .number({ error: 'expected a number of seconds' })
      .int({ error: 'must be an integer' })
      .positive({ error: 'must be a positive number of seconds' }),
  })
  .strict();

/** `unknownAssets.discovery:` in the config file. Off by default. */
export const priceDiscoverySchema = z
  .object({
    enabled: z.boolean({ error: 'expected true or false' }).default(false),
    /** A pool counts only when its quote side holds at least this many USD (a thin pool is easy to push). */
    minLiquidityUsd: z.number({ error: 'expected a USD number' }).positive({ error: 'must be > 0' }).default(250_000),
    /** A discovered price is reused for this long per token. */
    cacheSeconds: z
      .number({ error: 'expected a number of seconds' })
      .int({ error: 'must be an integer' })
      .min(0, { error: 'must be ≥ 0' })
      .default(600),
    /** Per chain: the DEX factories to search, the listed tokens to quote against, feeds named per token. */
    chains: z
      .record(
        z.string(),
        z
          .object({
            uniswapV2Factories: addressList('factory').optional(),
            uniswapV3Factories: addressList('factory').optional(),
            /** The v3 fee tiers searched per quote asset (each is one `getPool` call). */
            uniswapV3FeeTiers: z
              .array(
                z
                  .number({ error: 'expected a fee tier (e.g. 3000 for 0.3 %)' })
                  .int({ error: 'must be an integer' })
                  .positive({ error: 'must be > 0' })
                  .max(1_000_000, { error: 'must be ≤ 1000000 (100 %)' }),
                { error: 'expected a list of fee tiers' },
              )
              .min(1, { error: 'needs at least one fee tier' })
              .default([...UNISWAP_V3_FEE_TIERS]),
            quoteAssets: z
              .array(z.string({ error: 'expected a token symbol' }), { error: 'expected a list of token symbols' })
              .min(1, { error: 'needs at least one quote asset' }),
            /** Token contract → a Chainlink-style aggregator for that unlisted token (wins over pools while fresh). */
            chainlinkFeeds: z
              .record(z.string(), unlistedFeedSchema, {
                error: 'expected a map of token contract → { address, maxAgeSeconds }',
              })
              .default({}),
          })
          .strict(),
        { error: 'expected a map of chain → { uniswapV2Factories, uniswapV3Factories, quoteAssets, chainlinkFeeds }' },
      )
      .default({}),
  })
  .strict();

export type PriceDiscoveryInput = z.input<typeof priceDiscoverySchema>;
export type ParsedPriceDiscovery = z.output<typeof priceDiscoverySchema>;

/** A listed token an unlisted one is quoted against (a view of AssetConfig, so this file does not depend on the compiler's types). */
export interface DiscoveryQuote {
  symbol: string;
  /** Token identifier in the kind's canonical form. */
  contract: string | null;
  decimals: number;
  /** Micro-USD per whole unit. */
  priceMicros: bigint;
}

/** What discovery needs to know of a chain (a view of ChainConfig). */
export interface DiscoveryChainView {
  kind: ChainKind;
  tokens: ReadonlyMap<string, DiscoveryQuote>;
}

export interface DiscoveryChain {
  /** Uniswap-v2-style factory addresses (`getPair`), in the chain kind's canonical form. */
  v2Factories: string[];
  /** Uniswap-v3-style factory addresses (`getPool(a, b, fee)`), canonical. */
  v3Factories: string[];
  /** Fee tiers searched on each v3 factory. */
  v3FeeTiers: number[];
  /** Listed tokens the unlisted token is quoted against. */
  quotes: DiscoveryQuote[];
  /** Canonical token contract → the aggregator that prices it. */
  feeds: Map<string, UnlistedFeed>;
}

export interface UnlistedFeed {
  /** Aggregator address, canonical. */
  address: string;
  maxAgeSeconds: number;
}

export interface PriceDiscoveryConfig {
  enabled: boolean;
  minLiquidityMicros: bigint;
  cacheSeconds: number;
  chains: Map<string, DiscoveryChain>;
}

/**
 * Validate discovery against the chains: EVM chains, valid factory and feed addresses, quote symbols the
 * chain lists as tokens, a feed only for a token the chain does not list, and a worst case above zero.
 */
export function compilePriceDiscovery(
  input: ParsedPriceDiscovery,
  chains: ReadonlyMap<string, DiscoveryChainView>,
  unknownAssetUsdMicros: bigint,
  issues: string[],
): PriceDiscoveryConfig {
  const compiled = new Map<string, DiscoveryChain>();
  for (const [id, c] of Object.entries(input.chains)) {
    const path = `unknownAssets.discovery.chains.${id}`;
    const chain = chains.get(id);
    if (!chain) {
      issues.push(`${path}: no chain "${id}" under chains (known: ${[...chains.keys()].join(', ')})`);
      continue;
    }
    // The kinds that host Chainlink-style contracts (EVM) are the ones whose DEX pools can be read with eth_call.
    if (!chain.kind.hostsPriceFeeds) {
      issues.push(`${path}: "${id}" is a ${chain.kind.id} chain; DEX pools are read on EVM chains only`);
      continue;
    }
    const { address } = chain.kind;
    const addresses = (list: readonly string[] | undefined, field: string): string[] =>
      (list ?? []).flatMap((a, i) => {
        const problem = address.problem(a);
        if (problem) issues.push(`${path}.${field}[${i}]: ${problem}`);
        return problem ? [] : [address.normalise(a)];
      });
    const v2Factories = addresses(c.uniswapV2Factories, 'uniswapV2Factories');
    const v3Factories = addresses(c.uniswapV3Factories, 'uniswapV3Factories');
    const feeds = new Map<string, UnlistedFeed>();
    for (const [token, feed] of Object.entries(c.chainlinkFeeds)) {
      const problem = address.problem(token) ?? address.problem(feed.address);
      if (problem) issues.push(`${path}.chainlinkFeeds.${token}: ${problem}`);
      else if (chain.tokens.has(address.normalise(token)))
        issues.push(`${path}.chainlinkFeeds.${token}: a listed token; give it a priceFeed under its chain's tokens`);
      else
        feeds.set(address.normalise(token), {
          address: address.normalise(feed.address),
          maxAgeSeconds: feed.maxAgeSeconds,
        });
    }
    if (c.uniswapV2Factories === undefined && c.uniswapV3Factories === undefined && feeds.size === 0)
      issues.push(`${path}: names no uniswapV2Factories, uniswapV3Factories or chainlinkFeeds to price from`);
    const bySymbol = new Map([...chain.tokens.values()].map((t) => [t.symbol, t]));
    const quotes: DiscoveryQuote[] = [];
    c.quoteAssets.forEach((symbol, i) => {
      const token = bySymbol.get(symbol);
      if (token) quotes.push(token);
      else
        issues.push(
          `${path}.quoteAssets[${i}]: "${symbol}" is not a token of ${id} (tokens: ${[...bySymbol.keys()].join(', ') || 'none'})`,
        );
    });
    compiled.set(id, { v2Factories, v3Factories, v3FeeTiers: [...new Set(c.uniswapV3FeeTiers)], quotes, feeds });
  }
  if (input.enabled && compiled.size === 0 && Object.keys(input.chains).length === 0)
    issues.push('unknownAssets.discovery.chains: discovery is enabled but no chain lists factories and quote assets');
  // Discovery's "nothing liquid" answer is usdPerTransfer: zero would make an illiquid token's drain invisible.
  if (input.enabled && unknownAssetUsdMicros <= 0n)
    issues.push('unknownAssets.usdPerTransfer: must be > 0 with discovery on (the worst case when no pool is liquid)');
  return {
    enabled: input.enabled,
    minLiquidityMicros: usdToMicros(input.minLiquidityUsd),
    cacheSeconds: input.cacheSeconds,
    chains: compiled,
  };
}

/**
 * How unlisted tokens are priced, as stable text for the recorded config (core/config-record.ts): any
 * change to it is a loosening, since it can value an unlisted token lower either way — turning
 * discovery on (a thief's own pool or feed), or off (back to usdPerTransfer from a deep pool's price).
 */
export function describeDiscovery(discovery: PriceDiscoveryConfig): string {
  if (!discovery.enabled) return 'off';
  const chains = [...discovery.chains].sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify({
    minLiquidityMicros: discovery.minLiquidityMicros.toString(),
    cacheSeconds: discovery.cacheSeconds,
    chains: chains.map(([id, c]) => ({
      id,
      v2: [...c.v2Factories].sort(),
      v3: [...c.v3Factories].sort(),
      fees: [...c.v3FeeTiers].sort((a, b) => a - b),
      quotes: c.quotes.map((q) => q.symbol).sort(),
      feeds: [...c.feeds].sort(([a], [b]) => a.localeCompare(b)).map(([t, f]) => [t, f.address, f.maxAgeSeconds]),
    })),
  });
}

/** Does discovery price unlisted tokens on this chain? */
export function discoversOn(discovery: PriceDiscoveryConfig, chain: string): boolean {
  return discovery.enabled && discovery.chains.has(chain);
}

/**
 * One pool as read at a block. v2: the pool's reserves of the unlisted token and the quote asset.
 * v3: `slot0.sqrtPriceX96` (√(token1/token0 in base units) · 2^96), which side the token is, and the
 * quote asset's balance held by the pool (the depth the liquidity floor is judged on).
 */
export type PoolReading = {
  pool: string;
  quote: Pick<DiscoveryQuote, 'symbol' | 'decimals' | 'priceMicros'>;
} & (
  | { kind: 'v2'; tokenReserve: bigint; quoteReserve: bigint }
  | { kind: 'v3'; sqrtPriceX96: bigint; tokenIsToken0: boolean; quoteBalance: bigint }
);

export type DiscoveredPrice =
  | {
      kind: 'priced';
      /** Micro-USD per whole unit of the token, rounded up (never undervalue an outflow). */
      priceMicros: bigint;
      /** The token's own `decimals()`: what a base-unit amount is divided by. */
      decimals: number;
      /** The pool or aggregator the price came from. */
      source: string;
      /** The quote asset of the pool, or `feed` for an aggregator. */
      quoteSymbol: string;
      /** USD on the pool's quote side: the depth the floor is judged on (0 for a feed). */
      depthMicros: bigint;
    }
  | { kind: 'worst-case'; reason: string };

/** Port: prices a token the config does not list, on-chain at a block (adapters/prices/dex-price-discovery.ts). */
export interface UnlistedPriceSource {
  /** Never throws and never answers zero: a failure is the worst case with its reason. */
  price(chain: string, token: string, block: number, nowS: number): Promise<DiscoveredPrice>;
}

/** Quote-asset base units per token base unit, as a fraction; undefined for an empty or uninitialised pool. */
function poolPrice(r: PoolReading): { num: bigint; den: bigint; depth: bigint } | undefined {
  if (r.kind === 'v2') {
    if (r.tokenReserve <= 0n || r.quoteReserve <= 0n) return undefined;
    return { num: r.quoteReserve, den: r.tokenReserve, depth: r.quoteReserve };
  }
  if (r.sqrtPriceX96 <= 0n || r.quoteBalance <= 0n) return undefined;
  // sqrtPriceX96² / 2^192 is token1 per token0 in base units.
  const squared = r.sqrtPriceX96 * r.sqrtPriceX96;
  const q192 = 1n << 192n;
  return r.tokenIsToken0
    ? { num: squared, den: q192, depth: r.quoteBalance }
    : { num: q192, den: squared, depth: r.quoteBalance };
}

/** The deepest pool above the liquidity floor prices the token; none → the worst case, with the reason. */
export function priceFromPools(
  readings: readonly PoolReading[],
  tokenDecimals: number,
  minLiquidityMicros: bigint,
): DiscoveredPrice {
  let best: Extract<DiscoveredPrice, { kind: 'priced' }> | undefined;
  let deepestBelowFloor = 0n;
  for (const r of readings) {
    const price = poolPrice(r);
    if (!price) continue;
    const depthMicros = (price.depth * r.quote.priceMicros) / 10n ** BigInt(r.quote.decimals);
    if (depthMicros < minLiquidityMicros) {
      if (depthMicros > deepestBelowFloor) deepestBelowFloor = depthMicros;
      continue;
    }
    if (best && depthMicros <= best.depthMicros) continue;
    const numerator = price.num * r.quote.priceMicros * 10n ** BigInt(tokenDecimals);
    const denominator = price.den * 10n ** BigInt(r.quote.decimals);
    best = {
      kind: 'priced',
      priceMicros: (numerator + denominator - 1n) / denominator,
      decimals: tokenDecimals,
      source: r.pool,
      quoteSymbol: r.quote.symbol,
      depthMicros,
    };
  }
  if (best) return best;
  return {
    kind: 'worst-case',
    reason:
      readings.length === 0
        ? 'no pool against any quote asset'
        : `no pool above the liquidity floor (deepest quote side ${deepestBelowFloor} micro-USD)`,
  };
}
