/**
 * USD prices from Chainlink-style aggregators (AggregatorV3Interface: `decimals()`,
 * `latestRoundData()`), read with ethers. Implements the core PriceSource port: a feed that is
 * stale, unreachable, missing or answers ≤ 0 never throws and never prices at zero — its asset is
 * valued at the configured worst case and the problem is reported in the book (core decides, in
 * quoteFromFeed; this adapter only reads).
 */
import { Contract, isError, type Provider } from 'ethers';
import type { AssetConfig, BreakerConfig } from '../../core/config/types.ts';
import {
  assetKey,
  type FeedReading,
  type PriceBook,
  type PriceProblem,
  type PriceQuote,
  type PriceSource,
  priceBook,
  quoteFromFeed,
  staticQuote,
} from '../../core/prices/price-source.ts';
import { EVM_KIND_ID } from '../evm/evm-settings.ts';
import { evmPriceProvider } from './evm-provider.ts';

const AGGREGATOR_ABI = [
  'function decimals() view returns (uint8)',
  'function latestRoundData() view returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)',
];

export interface ChainlinkPriceSourceOptions {
  /** A provider per config chain id the feeds are read on (`priceFeed.chain`). */
  readonly providers: Readonly<Record<string, Provider>>;
  /**
   * Longest wait for one feed before it counts as unreadable.
   * @default 5000
   */
  readonly timeoutMs?: number;
}

export class ChainlinkPriceSource implements PriceSource {
  private readonly providers: Readonly<Record<string, Provider>>;
  private readonly timeoutMs: number;
  /** An aggregator's decimals never change: read once per feed. */
  private readonly decimals = new Map<string, number>();

  constructor(options: ChainlinkPriceSourceOptions) {
    if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) {
      throw new RangeError(`ChainlinkPriceSource: timeoutMs must be > 0, got ${options.timeoutMs}`);
    }
    this.providers = options.providers;
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  async prices(assets: readonly AssetConfig[], nowS: number): Promise<PriceBook> {
    const quotes = new Map<string, PriceQuote>();
    const problems: PriceProblem[] = [];
    await Promise.all(
      assets.map(async (asset) => {
        if (!asset.priceFeed) {
          quotes.set(assetKey(asset), staticQuote(asset));
          return;
        }
        const decided = quoteFromFeed(asset, await this.read(asset.priceFeed), nowS);
        quotes.set(assetKey(asset), decided.quote);
        if (decided.problem) problems.push(decided.problem);
      }),
    );
    return priceBook(quotes, problems);
  }

  private async read(feed: NonNullable<AssetConfig['priceFeed']>): Promise<FeedReading | { error: string }> {
    const provider = this.providers[feed.chain];
    if (!provider) return { error: `no RPC provider for chain "${feed.chain}"` };
    const key = `${feed.chain}:${feed.address}`;
    const reading = await withTimeout(
      readAggregator(provider, feed.address, { decimals: this.decimals.get(key) }),
      this.timeoutMs,
    );
    if (!('error' in reading)) this.decimals.set(key, reading.decimals);
    return reading;
  }
}

/**
 * One aggregator's `latestRoundData()` (and `decimals()` unless known), at `blockTag` (default latest).
 * Never throws: a failure is its reason.
 */
export async function readAggregator(
  provider: Provider,
  address: string,
  options: { decimals?: number; blockTag?: number },
): Promise<FeedReading | { error: string }> {
  const aggregator = new Contract(address, AGGREGATOR_ABI, provider);
  const at = { blockTag: options.blockTag ?? 'latest' };
  try {
    const [decimals, round] = await Promise.all([
      options.decimals === undefined
        ? (aggregator.getFunction('decimals')(at) as Promise<bigint>)
        : Promise.resolve(BigInt(options.decimals)),
      aggregator.getFunction('latestRoundData')(at) as Promise<[bigint, bigint, bigint, bigint, bigint]>,
    ]);
    return { answer: round[1], decimals: Number(decimals), updatedAt: Number(round[3]) };
  } catch (e) {
    return { error: describe(e) };
  }
}

/** `work`, or an error reading once `timeoutMs` passed without an answer. */
export async function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T | { error: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ error: string }>((resolve) => {
    timer = setTimeout(() => resolve({ error: `no answer within ${timeoutMs} ms` }), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A price source reading each feed on its chain's configured RPC endpoints (the first that answers;
 * feeds are public data, so one answer is enough). Only chains that host a feed get a provider.
 */
export function createChainlinkPriceSource(
  config: BreakerConfig,
  options: { timeoutMs?: number } = {},
): ChainlinkPriceSource {
  const providers: Record<string, Provider> = {};
  for (const chain of config.chains.values()) {
    for (const asset of [chain.native, ...chain.tokens.values()]) {
      const feedChain = asset.priceFeed && config.chains.get(asset.priceFeed.chain);
      // Chainlink aggregators are EVM contracts: the compiler only lets a feed name a chain whose kind hosts them.
      if (!feedChain || feedChain.kind.id !== EVM_KIND_ID || providers[feedChain.id]) continue;
      providers[feedChain.id] = evmPriceProvider(feedChain);
    }
  }
  return new ChainlinkPriceSource({ providers, timeoutMs: options.timeoutMs });
}

function describe(e: unknown): string {
  // No contract at the address answers empty data, which ethers reports as BAD_DATA.
  if (isError(e, 'BAD_DATA')) return 'no aggregator at this address (empty or malformed answer)';
  if (isError(e, 'CALL_EXCEPTION')) return `the call reverted${e.reason ? `: ${e.reason}` : ''}`;
  if (isError(e, 'TIMEOUT') || isError(e, 'NETWORK_ERROR') || isError(e, 'SERVER_ERROR'))
    return `${e.code}: ${e.shortMessage}`;
  return e instanceof Error ? e.message : String(e);
}
