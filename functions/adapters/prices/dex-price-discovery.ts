/**
 * Reads prices for tokens the config does not list, with eth_call at a block, and lets core decide
 * (core/prices/discovery.ts): a Chainlink-style feed the config names for the token, while fresh;
 * else the deepest pool against a configured quote asset above the liquidity floor, among
 * Uniswap-v2-style pairs (`factory.getPair`, `pair.token0`, `pair.getReserves`) and Uniswap-v3-style
 * pools (`factory.getPool(a, b, fee)` over the fee tiers, `pool.slot0().sqrtPriceX96`, and the quote
 * asset's `balanceOf(pool)` as the depth); else the worst case. One answer per token is cached for
 * `cacheSeconds`. A read that fails or hangs is the worst case with its reason — never zero, never an
 * exception on the watching path.
 */
import { Contract, isError, type Provider, ZeroAddress } from 'ethers';
import type { BreakerConfig } from '../../core/config/types.ts';
import {
  type DiscoveredPrice,
  type DiscoveryChain,
  type DiscoveryQuote,
  discoversOn,
  type PoolReading,
  type PriceDiscoveryConfig,
  priceFromPools,
  type UnlistedPriceSource,
} from '../../core/prices/discovery.ts';
import { feedPrice } from '../../core/prices/price-source.ts';
import { readAggregator, withTimeout } from './chainlink-price-source.ts';
import { evmPriceProvider } from './evm-provider.ts';

const V2_FACTORY_ABI = ['function getPair(address, address) view returns (address)'];
const V2_PAIR_ABI = [
  'function token0() view returns (address)',
  'function getReserves() view returns (uint112, uint112, uint32)',
];
const V3_FACTORY_ABI = ['function getPool(address, address, uint24) view returns (address)'];
const V3_POOL_ABI = [
  'function token0() view returns (address)',
  'function slot0() view returns (uint160 sqrtPriceX96, int24 tick, uint16, uint16, uint16, uint8, bool)',
];
const TOKEN_ABI = ['function decimals() view returns (uint8)', 'function balanceOf(address) view returns (uint256)'];

type At = { blockTag: number };

export interface DexPriceDiscoveryOptions {
  readonly config: PriceDiscoveryConfig;
  /** A provider per config chain id that discovery searches. */
  readonly providers: Readonly<Record<string, Provider>>;
  /**
   * Longest wait for one token's reads before it is valued at the worst case (a hanging RPC must not stall the poll).
   * @default 5000
   */
  readonly timeoutMs?: number;
}

export class DexPriceDiscovery implements UnlistedPriceSource {
  private readonly config: PriceDiscoveryConfig;
  private readonly providers: Readonly<Record<string, Provider>>;
  private readonly timeoutMs: number;
  private readonly cache = new Map<string, { atS: number; price: DiscoveredPrice }>();
  /** A token's decimals never change: read once per token. */
  private readonly decimals = new Map<string, number>();

  constructor(options: DexPriceDiscoveryOptions) {
    if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) {
      throw new RangeError(`DexPriceDiscovery: timeoutMs must be > 0, got ${options.timeoutMs}`);
    }
    this.config = options.config;
    this.providers = options.providers;
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  /** The token's price at `block` (cached per token for cacheSeconds of `nowS`). */
  async price(chainId: string, token: string, block: number, nowS: number): Promise<DiscoveredPrice> {
    const key = `${chainId}:${token.toLowerCase()}`;
    const cached = this.cache.get(key);
    if (cached && nowS - cached.atS < this.config.cacheSeconds) return cached.price;
    const read = await withTimeout(this.discover(chainId, token.toLowerCase(), block, nowS), this.timeoutMs);
    const price: DiscoveredPrice =
      'error' in read ? { kind: 'worst-case', reason: `pools unreadable: ${read.error}` } : read;
    this.cache.set(key, { atS: nowS, price });
    return price;
  }

  private async discover(chainId: string, token: string, block: number, nowS: number): Promise<DiscoveredPrice> {
    const chain = this.config.chains.get(chainId);
    const provider = this.providers[chainId];
    if (!chain || !provider) return { kind: 'worst-case', reason: `price discovery is not configured for ${chainId}` };
    const at = { blockTag: block };
    try {
      const decimals = this.decimalsOf(provider, chainId, token, at);
      let feedProblem = '';
      const feed = chain.feeds.get(token);
      if (feed) {
        const [known, reading] = await Promise.all([decimals, readAggregator(provider, feed.address, at)]);
        const decided = feedPrice(reading, feed.maxAgeSeconds, nowS);
        if (!('reason' in decided)) {
          const { priceMicros } = decided;
          return {
            kind: 'priced',
            priceMicros,
            decimals: known,
            source: feed.address,
            quoteSymbol: 'feed',
            depthMicros: 0n,
          };
        }
        // A feed that cannot be used falls back to the pools; the reason stays with a worst-case answer.
        feedProblem = `feed ${feed.address} ${decided.reason}; `;
      }
      // Decimals and the pool lookups go out together (ethers batches one tick's calls into one request).
      const [known, readings] = await Promise.all([decimals, readPools(provider, chain, token, at)]);
      const price = priceFromPools(readings, known, this.config.minLiquidityMicros);
      return price.kind === 'worst-case' ? { ...price, reason: feedProblem + price.reason } : price;
    } catch (e) {
      return { kind: 'worst-case', reason: `pools unreadable: ${describe(e)}` };
    }
  }

  private async decimalsOf(provider: Provider, chainId: string, token: string, at: At): Promise<number> {
    const key = `${chainId}:${token}`;
    const known = this.decimals.get(key);
    if (known !== undefined) return known;
    const decimals = Number(await new Contract(token, TOKEN_ABI, provider).getFunction('decimals')(at));
    this.decimals.set(key, decimals);
    return decimals;
  }
}

/** Every configured pool of the token against a quote asset: one round of lookups, then one round of pool reads. */
async function readPools(provider: Provider, chain: DiscoveryChain, token: string, at: At): Promise<PoolReading[]> {
  const lookups = [
    ...chain.v2Factories.flatMap((factory) =>
      chain.quotes.map(async (quote) => {
        const pair = await call<string>(provider, factory, V2_FACTORY_ABI, 'getPair', [token, quote.contract], at);
        return pair === ZeroAddress ? undefined : readV2Pair(provider, pair, token, quote, at);
      }),
    ),
    ...chain.v3Factories.flatMap((factory) =>
      chain.quotes.flatMap((quote) =>
        chain.v3FeeTiers.map(async (fee) => {
          const pool = await call<string>(
            provider,
            factory,
            V3_FACTORY_ABI,
            'getPool',
            [token, quote.contract, fee],
            at,
          );
          return pool === ZeroAddress ? undefined : readV3Pool(provider, pool, token, quote, at);
        }),
      ),
    ),
  ];
  return (await Promise.all(lookups)).filter((r): r is PoolReading => r !== undefined);
}

async function readV2Pair(
  provider: Provider,
  pair: string,
  token: string,
  quote: DiscoveryQuote,
  at: At,
): Promise<PoolReading> {
  const [token0, reserves] = await Promise.all([
    call<string>(provider, pair, V2_PAIR_ABI, 'token0', [], at),
    call<[bigint, bigint, bigint]>(provider, pair, V2_PAIR_ABI, 'getReserves', [], at),
  ]);
  const tokenFirst = token0.toLowerCase() === token;
  return {
    kind: 'v2',
    pool: pair.toLowerCase(),
    quote,
    tokenReserve: tokenFirst ? reserves[0] : reserves[1],
    quoteReserve: tokenFirst ? reserves[1] : reserves[0],
  };
}

async function readV3Pool(
  provider: Provider,
  pool: string,
  token: string,
  quote: DiscoveryQuote,
  at: At,
): Promise<PoolReading> {
  const [token0, slot0, quoteBalance] = await Promise.all([
    call<string>(provider, pool, V3_POOL_ABI, 'token0', [], at),
    call<[bigint]>(provider, pool, V3_POOL_ABI, 'slot0', [], at),
    call<bigint>(provider, quote.contract as string, TOKEN_ABI, 'balanceOf', [pool], at),
  ]);
  return {
    kind: 'v3',
    pool: pool.toLowerCase(),
    quote,
    sqrtPriceX96: slot0[0],
    tokenIsToken0: token0.toLowerCase() === token,
    quoteBalance,
  };
}

function call<T>(
  provider: Provider,
  address: string,
  abi: string[],
  name: string,
  args: unknown[],
  at: At,
): Promise<T> {
  return new Contract(address, abi, provider).getFunction(name)(...args, at) as Promise<T>;
}

/** Discovery on every chain the config turns it on for, reading each chain's configured endpoints; undefined when off. */
export function createDexPriceDiscovery(config: BreakerConfig): DexPriceDiscovery | undefined {
  const discovery = config.priceDiscovery;
  const providers: Record<string, Provider> = {};
  for (const id of discovery.chains.keys()) {
    const chain = config.chains.get(id);
    if (chain && discoversOn(discovery, id)) providers[id] = evmPriceProvider(chain);
  }
  return Object.keys(providers).length > 0 ? new DexPriceDiscovery({ config: discovery, providers }) : undefined;
}

function describe(e: unknown): string {
  // No contract at the address answers empty data, which ethers reports as BAD_DATA.
  if (isError(e, 'BAD_DATA')) return 'no contract answered (empty or malformed answer)';
  if (isError(e, 'CALL_EXCEPTION')) return `a call reverted${e.reason ? `: ${e.reason}` : ''}`;
  return e instanceof Error ? e.message : String(e);
}
