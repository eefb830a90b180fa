import { z } from 'zod';
import { usdToMicros } from '../amounts.ts';
import type { ChainKind } from '../chain-kind.ts';

/**
 * Prices for tokens the config does not list, discovered on-chain: the deepest Uniswap-v2-style pool
 * pairing the token with one of the chain's configured quote assets, read at the block, above a
 * liquidity floor. Nothing liquid (or nothing readable) is the worst case — the configured
 * `unknownAssets.usdPerTransfer` — never zero. This file decides; adapters/prices/dex-price-discovery.ts reads.
 */

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
    /** Per chain: the DEX factories to search and the listed tokens to quote against. */
    chains: z
      .record(
        z.string(),
        z
          .object({
            uniswapV2Factories: z
              .array(z.string({ error: 'expected a factory address' }), { error: 'expected a list of addresses' })
              .min(1, { error: 'needs at least one factory' }),
            quoteAssets: z
              .array(z.string({ error: 'expected a token symbol' }), { error: 'expected a list of token symbols' })
              .min(1, { error: 'needs at least one quote asset' }),
          })
          .strict(),
        { error: 'expected a map of chain → { uniswapV2Factories, quoteAssets }' },
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
  /** Factory addresses in the chain kind's canonical form. */
  factories: string[];
  /** Listed tokens the unlisted token is quoted against. */
  quotes: DiscoveryQuote[];
}

export interface PriceDiscoveryConfig {
  enabled: boolean;
  minLiquidityMicros: bigint;
  cacheSeconds: number;
  chains: Map<string, DiscoveryChain>;
}

/** Validate discovery against the chains: EVM chains, valid factory addresses, quote symbols the chain lists as tokens. */
export function compilePriceDiscovery(
  input: ParsedPriceDiscovery,
  chains: ReadonlyMap<string, DiscoveryChainView>,
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
    const factories: string[] = [];
    c.uniswapV2Factories.forEach((f, i) => {
      const problem = chain.kind.address.problem(f);
      if (problem) issues.push(`${path}.uniswapV2Factories[${i}]: ${problem}`);
      else factories.push(chain.kind.address.normalise(f));
    });
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
    compiled.set(id, { factories, quotes });
  }
  if (input.enabled && compiled.size === 0 && Object.keys(input.chains).length === 0)
    issues.push('unknownAssets.discovery.chains: discovery is enabled but no chain lists factories and quote assets');
  return {
    enabled: input.enabled,
    minLiquidityMicros: usdToMicros(input.minLiquidityUsd),
    cacheSeconds: input.cacheSeconds,
    chains: compiled,
  };
}

/** One pool as read at a block: the unlisted token's and the quote asset's reserves. */
export interface PoolReading {
  pool: string;
  quote: Pick<DiscoveryQuote, 'symbol' | 'decimals' | 'priceMicros'>;
  tokenReserve: bigint;
  quoteReserve: bigint;
}

export type DiscoveredPrice =
  | {
      kind: 'priced';
      /** Micro-USD per whole unit of the token, rounded up (never undervalue an outflow). */
      priceMicros: bigint;
      pool: string;
      quoteSymbol: string;
      /** USD on the pool's quote side: the depth the floor is judged on. */
      depthMicros: bigint;
    }
  | { kind: 'worst-case'; reason: string };

/** The deepest pool above the liquidity floor prices the token; none → the worst case, with the reason. */
export function priceFromPools(
  readings: readonly PoolReading[],
  tokenDecimals: number,
  minLiquidityMicros: bigint,
): DiscoveredPrice {
  let best: Extract<DiscoveredPrice, { kind: 'priced' }> | undefined;
  let deepestBelowFloor = 0n;
  for (const r of readings) {
    if (r.tokenReserve <= 0n || r.quoteReserve <= 0n) continue;
    const depthMicros = (r.quoteReserve * r.quote.priceMicros) / 10n ** BigInt(r.quote.decimals);
    if (depthMicros < minLiquidityMicros) {
      if (depthMicros > deepestBelowFloor) deepestBelowFloor = depthMicros;
      continue;
    }
    if (best && depthMicros <= best.depthMicros) continue;
    const numerator = r.quoteReserve * r.quote.priceMicros * 10n ** BigInt(tokenDecimals);
    const denominator = r.tokenReserve * 10n ** BigInt(r.quote.decimals);
    best = {
      kind: 'priced',
      priceMicros: (numerator + denominator - 1n) / denominator,
      pool: r.pool,
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
