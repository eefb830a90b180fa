/**
 * Reads Uniswap-v2-style pools (`factory.getPair`, `pair.token0`, `pair.getReserves`) with eth_call at
 * a block, for tokens the config does not list, and lets core decide the price (core/prices/discovery.ts:
 * the deepest pool against a configured quote asset above the liquidity floor, else the worst case).
 * One answer per token is cached for `cacheSeconds`. A read that fails is the worst case with its
 * reason — never zero, never an exception on the watching path.
 */
import { Contract, isError, type Provider, ZeroAddress } from 'ethers';
import {
  type DiscoveredPrice,
  type DiscoveryQuote,
  type PoolReading,
  type PriceDiscoveryConfig,
  priceFromPools,
} from '../../core/prices/discovery.ts';

const FACTORY_ABI = ['function getPair(address, address) view returns (address)'];
const PAIR_ABI = [
  'function token0() view returns (address)',
  'function getReserves() view returns (uint112, uint112, uint32)',
];
const TOKEN_ABI = ['function decimals() view returns (uint8)'];

export interface DexPriceDiscoveryOptions {
  readonly config: PriceDiscoveryConfig;
  /** A provider per config chain id that discovery searches. */
  readonly providers: Readonly<Record<string, Provider>>;
}

export class DexPriceDiscovery {
  private readonly config: PriceDiscoveryConfig;
  private readonly providers: Readonly<Record<string, Provider>>;
  private readonly cache = new Map<string, { atS: number; price: DiscoveredPrice }>();

  constructor(options: DexPriceDiscoveryOptions) {
    this.config = options.config;
    this.providers = options.providers;
  }

  /** The token's price at `block` (cached per token for cacheSeconds of `nowS`). */
  async price(chainId: string, token: string, block: number | 'latest', nowS: number): Promise<DiscoveredPrice> {
    const key = `${chainId}:${token.toLowerCase()}`;
    const cached = this.cache.get(key);
    if (cached && nowS - cached.atS < this.config.cacheSeconds) return cached.price;
    const price = await this.discover(chainId, token, block);
    this.cache.set(key, { atS: nowS, price });
    return price;
  }

  private async discover(chainId: string, token: string, block: number | 'latest'): Promise<DiscoveredPrice> {
    const chain = this.config.chains.get(chainId);
    const provider = this.providers[chainId];
    if (!chain || !provider) return { kind: 'worst-case', reason: `price discovery is not configured for ${chainId}` };
    const at = { blockTag: block };
    try {
      const decimals = Number(await new Contract(token, TOKEN_ABI, provider).getFunction('decimals')(at));
      const searches = chain.factories.flatMap((factory) => chain.quotes.map((quote) => ({ factory, quote })));
      const readings = await Promise.all(searches.map((s) => readPool(provider, s.factory, token, s.quote, at)));
      return priceFromPools(
        readings.filter((r): r is PoolReading => r !== undefined),
        decimals,
        this.config.minLiquidityMicros,
      );
    } catch (e) {
      return { kind: 'worst-case', reason: `pools unreadable: ${describe(e)}` };
    }
  }
}

async function readPool(
  provider: Provider,
  factory: string,
  token: string,
  quote: DiscoveryQuote,
  at: { blockTag: number | 'latest' },
): Promise<PoolReading | undefined> {
  const pair = (await new Contract(factory, FACTORY_ABI, provider).getFunction('getPair')(
    token,
    quote.contract,
    at,
  )) as string;
  if (pair === ZeroAddress) return undefined;
  const pool = new Contract(pair, PAIR_ABI, provider);
  const [token0, reserves] = (await Promise.all([
    pool.getFunction('token0')(at),
    pool.getFunction('getReserves')(at),
  ])) as [string, [bigint, bigint, bigint]];
  const tokenFirst = token0.toLowerCase() === token.toLowerCase();
  return {
    pool: pair.toLowerCase(),
    quote,
    tokenReserve: tokenFirst ? reserves[0] : reserves[1],
    quoteReserve: tokenFirst ? reserves[1] : reserves[0],
  };
}

function describe(e: unknown): string {
  // No contract at the address answers empty data, which ethers reports as BAD_DATA.
  if (isError(e, 'BAD_DATA')) return 'no contract answered (empty or malformed answer)';
  if (isError(e, 'CALL_EXCEPTION')) return `a call reverted${e.reason ? `: ${e.reason}` : ''}`;
  return e instanceof Error ? e.message : String(e);
}
