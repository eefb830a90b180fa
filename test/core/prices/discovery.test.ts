import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../../functions/adapters/config/config-file.ts';
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
    expect(withDiscovery({ enabled: true, minLiquidityUsd: 0, chains: {} })).toThrow(/minLiquidityUsd: must be > 0/);
  });
});
