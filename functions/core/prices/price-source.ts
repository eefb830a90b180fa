import { valueInMicros } from '../amounts.ts';
import type { AssetConfig } from '../config/types.ts';
import type { ChainTransfer, OutflowRecord } from '../model.ts';

/**
 * USD prices. An asset with a `priceFeed` is valued at its on-chain feed's answer while that answer
 * is fresh; when the feed is stale, unreadable or answers nonsense, at its configured worst-case
 * price (never zero, never below the static price), and the problem is reported so the poller can
 * page — being blind to prices is an alarm. An asset without a feed uses its static price.
 */

/** Micro-USD per whole unit of an asset, and where that figure came from. */
export interface PriceQuote {
  priceMicros: bigint;
  source: 'static' | 'feed' | 'worst-case' | 'scenario';
  /** The feed round's update time (Unix seconds), for a quote read from a feed. */
  updatedAt?: number;
}

export interface PriceProblem {
  chain: string;
  asset: string;
  feed: string;
  /** e.g. "stale: updated 7200 s ago (max 3600 s)", "unreadable: …", "answer ≤ 0". */
  reason: string;
}

/** The prices in force for one poll. */
export interface PriceBook {
  quote(asset: AssetConfig): PriceQuote;
  /** Feeds that could not be used this time (their assets are valued at the worst case). */
  readonly problems: readonly PriceProblem[];
}

/** Port: reads feeds. Adapters: ChainlinkPriceSource (functions/adapters/prices). */
export interface PriceSource {
  /** Quotes at `nowS` (Unix seconds). A failing feed never throws: its asset gets the worst case. */
  prices(assets: readonly AssetConfig[], nowS: number): Promise<PriceBook>;
}

/** What a Chainlink-style aggregator answered: `latestRoundData().answer`, `decimals()`, `updatedAt`. */
export interface FeedReading {
  answer: bigint;
  decimals: number;
  updatedAt: number;
}

export function staticQuote(asset: AssetConfig): PriceQuote {
  return { priceMicros: asset.priceMicros, source: 'static' };
}

/** The conservative price for an asset whose feed cannot be trusted right now. */
export function worstCaseQuote(asset: AssetConfig): PriceQuote {
  // Config validation keeps the worst case ≥ the static price; the static price is the floor regardless.
  let priceMicros = asset.priceMicros;
  if (asset.worstCasePriceMicros !== undefined && asset.worstCasePriceMicros > priceMicros)
    priceMicros = asset.worstCasePriceMicros;
  return { priceMicros, source: 'worst-case' };
}

/**
 * Decide the price of one asset from its feed's reading (or the reason it could not be read).
 * Pure, so the staleness rule is tested without a chain.
 */
export function quoteFromFeed(
  asset: AssetConfig,
  reading: FeedReading | { error: string },
  nowS: number,
): { quote: PriceQuote; problem?: PriceProblem } {
  const feed = asset.priceFeed;
  if (!feed) return { quote: staticQuote(asset) };
  const problem = (reason: string) => ({
    quote: worstCaseQuote(asset),
    problem: { chain: asset.chain, asset: asset.symbol, feed: `${feed.chain}:${feed.address}`, reason },
  });
  const decided = feedPrice(reading, feed.maxAgeSeconds, nowS);
  if ('reason' in decided) return problem(decided.reason);
  return { quote: { priceMicros: decided.priceMicros, source: 'feed', updatedAt: decided.updatedAt } };
}

/**
 * A feed's answer as micro-USD per whole unit, rounded up (never undervalue), or why it cannot be used:
 * unreadable, ≤ 0, nonsense decimals, or older than `maxAgeSeconds` at `nowS`. The one staleness rule,
 * for listed assets' feeds and the feeds discovery reads for unlisted tokens alike.
 */
export function feedPrice(
  reading: FeedReading | { error: string },
  maxAgeSeconds: number,
  nowS: number,
): { priceMicros: bigint; updatedAt: number } | { reason: string } {
  if ('error' in reading) return { reason: `unreadable: ${reading.error}` };
  if (reading.answer <= 0n) return { reason: `answer ${reading.answer} ≤ 0` };
  if (!Number.isInteger(reading.decimals) || reading.decimals < 0 || reading.decimals > 36) {
    return { reason: `decimals ${reading.decimals} out of range` };
  }
  const age = nowS - reading.updatedAt;
  if (reading.updatedAt <= 0 || age > maxAgeSeconds) {
    return { reason: `stale: updated ${Math.round(age)} s ago (max ${maxAgeSeconds} s)` };
  }
  // answer has `decimals` decimals; micro-USD has 6. Round up: never undervalue.
  const scale = 10n ** BigInt(reading.decimals);
  return { priceMicros: (reading.answer * 1_000_000n + scale - 1n) / scale, updatedAt: reading.updatedAt };
}

/** A book of already-decided quotes; assets not in it use their static price. */
export function priceBook(quotes: ReadonlyMap<string, PriceQuote>, problems: readonly PriceProblem[] = []): PriceBook {
  return {
    quote: (asset) => quotes.get(assetKey(asset)) ?? staticQuote(asset),
    problems,
  };
}

export function assetKey(asset: Pick<AssetConfig, 'chain' | 'symbol'>): string {
  return `${asset.chain}:${asset.symbol}`;
}

/** How classification turns a known asset's transfer into micro-USD. */
export interface Valuation {
  value(asset: AssetConfig, transfer: ChainTransfer): { usdMicros: bigint; priceSource: OutflowRecord['priceSource'] };
}

export function bookValuation(book: PriceBook): Valuation {
  return {
    value(asset, transfer) {
      const q = book.quote(asset);
      return { usdMicros: valueInMicros(transfer.amount, asset.decimals, q.priceMicros), priceSource: q.source };
    },
  };
}

/** The static prices from config: classification's default. */
export const staticValuation: Valuation = {
  value: (asset, transfer) => ({
    usdMicros: valueInMicros(transfer.amount, asset.decimals, asset.priceMicros),
    priceSource: 'static',
  }),
};
