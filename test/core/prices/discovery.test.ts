import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../../functions/adapters/config/config-file.ts';
import { loosenings, summariseConfig } from '../../../functions/core/config-record.ts';
import { priceFromPools } from '../../../functions/core/prices/discovery.ts';
import { configInput } from '../../support/fixtures.ts';

const USDC = { symbol: 'USDC', decimals: 6, priceMicros: 1_000_000n };
const ETH = { symbol: 'WETH', decimals: 18, priceMicros: 3_300_000_000n };

describe('priceFromPools', () => {
  it('prices per whole token from the deepest pool, rounded up to the micro-dollar', () => {
    const price = priceFromPools(
      [
        { kind: 'v2', pool: '0xa', quote: USDC, tokenReserve: 3n * 10n ** 18n, quoteReserve: 1_000_000n * 10n ** 6n },
        // Deeper ($3.3M on the quote side): wins, at 1000 ETH / 10,000 tokens = 0.1 ETH = $330 each.
        { kind: 'v2', pool: '0xb', quote: ETH, tokenReserve: 10_000n * 10n ** 18n, quoteReserve: 1000n * 10n ** 18n },
      ],
      18,
      100_000_000_000n,
    );
    expect(price).toEqual({
      kind: 'priced',
      priceMicros: 330_000_000n,
      decimals: 18,
      source: '0xb',
      quoteSymbol: 'WETH',
      depthMicros: 3_300_000_000_000n,
    });
    // $1M / 3 tokens = $333,333.333333…: rounded up, never down.
    const single = priceFromPools(
      [{ kind: 'v2', pool: '0xa', quote: USDC, tokenReserve: 3n * 10n ** 18n, quoteReserve: 10n ** 12n }],
      18,
      1n,
    );
    expect(single).toMatchObject({ priceMicros: 333_333_333_334n });
  });

  it('prices a v3 pool from slot0.sqrtPriceX96 on either side, judging depth by the quote balance it holds', () => {
    // √4 · 2^96: token1 is worth 4 token0 (same 6 decimals both sides).
    const v3 = (tokenIsToken0: boolean) =>
      priceFromPools(
        [{ kind: 'v3', pool: '0xc', quote: USDC, sqrtPriceX96: 2n << 96n, tokenIsToken0, quoteBalance: 10n ** 12n }],
        6,
        1n,
      );
    expect(v3(true)).toMatchObject({ kind: 'priced', priceMicros: 4_000_000n, depthMicros: 10n ** 12n });
    expect(v3(false)).toMatchObject({ kind: 'priced', priceMicros: 250_000n });
    // Uninitialised (price 0) or holding no quote asset: never a price.
    expect(
      priceFromPools(
        [
          { kind: 'v3', pool: '0xc', quote: USDC, sqrtPriceX96: 0n, tokenIsToken0: true, quoteBalance: 10n ** 12n },
          { kind: 'v3', pool: '0xd', quote: USDC, sqrtPriceX96: 2n << 96n, tokenIsToken0: true, quoteBalance: 0n },
        ],
        6,
        1n,
      ),
    ).toMatchObject({ kind: 'worst-case' });
  });

  it('a pool below the floor or an empty one never prices: the worst case, with the reason', () => {
    expect(
      priceFromPools(
        [{ kind: 'v2', pool: '0xa', quote: USDC, tokenReserve: 10n ** 18n, quoteReserve: 50_000n * 10n ** 6n }],
        18,
        100_000n * 10n ** 6n,
      ),
    ).toEqual({
      kind: 'worst-case',
      reason: 'no pool above the liquidity floor (deepest quote side 50000000000 micro-USD)',
    });
    expect(
      priceFromPools([{ kind: 'v2', pool: '0xa', quote: USDC, tokenReserve: 0n, quoteReserve: 10n ** 12n }], 18, 1n),
    ).toMatchObject({
      kind: 'worst-case',
    });
    expect(priceFromPools([], 18, 1n)).toEqual({ kind: 'worst-case', reason: 'no pool against any quote asset' });
  });
});

describe('unknownAssets.discovery in the config', () => {
  function withDiscovery(discovery: unknown): () => unknown {
    const input = configInput();
    (input as { unknownAssets: unknown }).unknownAssets = { usdPerTransfer: 1000, discovery };
    return () => compileConfig(input, 'discovery');
  }

  it('is off by default and compiles factories and quote assets of the chain', () => {
    expect(compileConfig(configInput(), 'plain').priceDiscovery.enabled).toBe(false);
    const config = withDiscovery({
      enabled: true,
      chains: {
        ethereum: { uniswapV2Factories: ['0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f'], quoteAssets: ['USDC'] },
      },
    })() as ReturnType<typeof compileConfig>;
    expect(config.priceDiscovery).toMatchObject({
      enabled: true,
      minLiquidityMicros: 250_000_000_000n,
      cacheSeconds: 600,
    });
    expect(config.priceDiscovery.chains.get('ethereum')?.v2Factories).toEqual([
      '0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f',
    ]);
    expect(config.priceDiscovery.chains.get('ethereum')?.quotes.map((q) => q.symbol)).toEqual(['USDC']);
    // The v3 search covers the standard fee tiers unless told otherwise.
    expect(config.priceDiscovery.chains.get('ethereum')).toMatchObject({
      v3Factories: [],
      v3FeeTiers: [100, 500, 3000, 10000],
    });
  });

  it('takes v3 factories and fee tiers, and a feed per unlisted token — never for a listed one', () => {
    const V3 = '0x1F98431c8aD98523631AE4a59f267346ea31F984';
    const token = '0x6982508145454Ce325dDbE47a25d4ec3d2311933';
    const feed = '0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419';
    const config = withDiscovery({
      enabled: true,
      chains: {
        ethereum: {
          uniswapV3Factories: [V3],
          uniswapV3FeeTiers: [500, 3000, 3000],
          quoteAssets: ['USDC'],
          chainlinkFeeds: { [token]: { address: feed, maxAgeSeconds: 3600 } },
        },
      },
    })() as ReturnType<typeof compileConfig>;
    expect(config.priceDiscovery.chains.get('ethereum')).toMatchObject({
      v2Factories: [],
      v3Factories: [V3.toLowerCase()],
      v3FeeTiers: [500, 3000],
      feeds: new Map([[token.toLowerCase(), { address: feed.toLowerCase(), maxAgeSeconds: 3600 }]]),
    });
    const usdc = configInput().chains.ethereum as { tokens: { contract: string }[] };
    const listed = usdc.tokens[1]?.contract as string;
    expect(
      withDiscovery({
        enabled: true,
        chains: {
          ethereum: {
            quoteAssets: ['USDC'],
            chainlinkFeeds: {
              [listed]: { address: feed, maxAgeSeconds: 3600 },
              '0x12': { address: feed, maxAgeSeconds: 1 },
            },
          },
        },
      }),
    ).toThrow(/chainlinkFeeds\.0x[0-9a-fA-F]{40}: a listed token; give it a priceFeed[\s\S]*chainlinkFeeds\.0x12: /);
  });

  it('refuses discovery with a worst case of zero: an illiquid token would count for nothing', () => {
    const input = configInput();
    (input as { unknownAssets: unknown }).unknownAssets = {
      usdPerTransfer: 0,
      discovery: {
        enabled: true,
        chains: {
          ethereum: { uniswapV2Factories: ['0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f'], quoteAssets: ['USDC'] },
        },
      },
    };
    expect(() => compileConfig(input, 'zero')).toThrow(/unknownAssets\.usdPerTransfer: must be > 0 with discovery on/);
  });

  it('names each mistake: unknown chain, bad factory, a quote the chain does not list, enabled with no chain', () => {
    expect(
      withDiscovery({
        enabled: true,
        chains: {
          solana: { uniswapV2Factories: ['0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f'], quoteAssets: ['USDC'] },
          ethereum: { uniswapV2Factories: ['0x123'], quoteAssets: ['DAI'] },
        },
      }),
    ).toThrow(
      /unknownAssets\.discovery\.chains\.solana: no chain "solana"[\s\S]*unknownAssets\.discovery\.chains\.ethereum\.uniswapV2Factories\[0\][\s\S]*quoteAssets\[0\]: "DAI" is not a token of ethereum/,
    );
    expect(withDiscovery({ enabled: true })).toThrow(/discovery is enabled but no chain lists factories/);
    expect(withDiscovery({ enabled: true, chains: { ethereum: { quoteAssets: ['USDC'] } } })).toThrow(
      /chains\.ethereum: names no uniswapV2Factories, uniswapV3Factories or chainlinkFeeds/,
    );
    expect(withDiscovery({ enabled: true, minLiquidityUsd: 0, chains: {} })).toThrow(/minLiquidityUsd: must be > 0/);
  });
});

describe('changing how unlisted tokens are priced is a recorded loosening', () => {
  const V2 = '0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f';
  function summaryWith(discovery: unknown) {
    const input = configInput();
    (input as { unknownAssets: unknown }).unknownAssets = { usdPerTransfer: 1000, ...(discovery ? { discovery } : {}) };
    return summariseConfig(compileConfig(input, 'discovery'));
  }
  const on = { enabled: true, chains: { ethereum: { uniswapV2Factories: [V2], quoteAssets: ['USDC'] } } };

  it('turning discovery on or off, or changing its sources or floor, waits out the loosening delay', () => {
    // A discovered price can be far below usdPerTransfer (a thief's own pool), and far above it (turning it off).
    const off = summaryWith(undefined);
    const looser = (before: ReturnType<typeof summaryWith>, after: ReturnType<typeof summaryWith>) =>
      loosenings(before, after).filter((l) => l.includes('unlisted tokens'));
    expect(looser(off, summaryWith(on))).toHaveLength(1);
    expect(looser(summaryWith(on), off)).toHaveLength(1);
    expect(looser(summaryWith(on), summaryWith({ ...on, minLiquidityUsd: 1 }))).toHaveLength(1);
    const otherFactory = {
      ...on,
      chains: { ethereum: { uniswapV2Factories: [`0x${'11'.repeat(20)}`], quoteAssets: ['USDC'] } },
    };
    expect(looser(summaryWith(on), summaryWith(otherFactory))).toHaveLength(1);
    expect(looser(summaryWith(on), summaryWith(on))).toEqual([]);
  });
});
