import { Contract, JsonRpcProvider } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileConfig } from '../../../functions/adapters/config/config-file.ts';
import { DexPriceDiscovery } from '../../../functions/adapters/prices/dex-price-discovery.ts';
import type { PriceDiscoveryConfig } from '../../../functions/core/prices/discovery.ts';
import { TestToken } from '../../../functions/local/contracts/artifacts.ts';
import TestAggregator from '../../fixtures/contracts/TestAggregator.json' with { type: 'json' };
import TestPairFactory from '../../fixtures/contracts/TestPairFactory.json' with { type: 'json' };
import TestV3Factory from '../../fixtures/contracts/TestV3Factory.json' with { type: 'json' };
import { type Anvil, deploy, startAnvil } from '../../support/anvil.ts';
import { startFaultProxy } from '../../support/fault-proxy.ts';
import { configInput } from '../../support/fixtures.ts';

/**
 * Price discovery for an unlisted token on a real chain: Uniswap-v2-style pools (TestPools.sol, the
 * v2 read interface), Uniswap-v3-style pools (TestPools.sol's TestV3Pool: the v3 read interface with
 * a price the test sets, since real Uniswap v3 bytecode is not available offline) and Chainlink-style
 * aggregators (TestAggregator.sol), deployed to anvil and read with eth_call at a block. The deepest pool against a
 * configured quote asset above the liquidity floor prices it; a thin pool never does; nothing liquid
 * or nothing readable is the worst case, never zero.
 */

let anvil: Anvil;
let factory: Contract;
let usdc: Contract;
let usdt: Contract;
let pepe: Contract; // unlisted, 18 decimals: a deep USDC pool and a thin USDT pool
let thin: Contract; // unlisted, only a thin pool
let discoveryConfig: PriceDiscoveryConfig;

const E18 = 10n ** 18n;
const E6 = 10n ** 6n;

/** Adds amountA and amountB to the a/b pair (created on first use) and syncs its reserves. */
async function pool(a: Contract, b: Contract, amountA: bigint, amountB: bigint): Promise<void> {
  const [addressA, addressB] = [await a.getAddress(), await b.getAddress()];
  let pair = (await factory.getFunction('getPair')(addressA, addressB)) as string;
  if (pair === '0x0000000000000000000000000000000000000000') {
    await (await factory.getFunction('createPair')(addressA, addressB)).wait();
    pair = (await factory.getFunction('getPair')(addressA, addressB)) as string;
  }
  await (await a.getFunction('mint')(pair, amountA)).wait();
  await (await b.getFunction('mint')(pair, amountB)).wait();
  await (await new Contract(pair, ['function sync()'], anvil.accounts[0]).getFunction('sync')()).wait();
}

beforeAll(async () => {
  anvil = await startAnvil();
  factory = await deploy(anvil, TestPairFactory, []);
  usdc = await deploy(anvil, TestToken, ['USD Coin', 'USDC', 6]);
  usdt = await deploy(anvil, TestToken, ['Tether', 'USDT', 6]);
  pepe = await deploy(anvil, TestToken, ['Pepe', 'PEPE', 18]);
  thin = await deploy(anvil, TestToken, ['Thin', 'THIN', 18]);
  await pool(pepe, usdc, 1_000_000n * E18, 500_000n * E6); // $0.50, $500k deep
  await pool(pepe, usdt, 1_000n * E18, 5_000n * E6); // $5.00 but only $5k deep: an easy pool to push
  await pool(thin, usdc, 1_000n * E18, 20_000n * E6); // $20, $20k deep
  const input = configInput();
  const eth = input.chains.ethereum as { tokens: { contract: string }[] };
  (eth.tokens[0] as { contract: string }).contract = await usdt.getAddress();
  (eth.tokens[1] as { contract: string }).contract = await usdc.getAddress();
  input.unknownAssets = {
    usdPerTransfer: 1000,
    discovery: {
      enabled: true,
      minLiquidityUsd: 100_000,
      cacheSeconds: 600,
      chains: { ethereum: { uniswapV2Factories: [await factory.getAddress()], quoteAssets: ['USDC', 'USDT'] } },
    },
  };
  discoveryConfig = compileConfig(input, 'discovery').priceDiscovery;
});

afterAll(async () => {
  await anvil?.stop();
});

function head(): Promise<number> {
  return anvil.provider.getBlockNumber();
}

function discovery(): DexPriceDiscovery {
  return new DexPriceDiscovery({ config: discoveryConfig, providers: { ethereum: anvil.provider } });
}

describe('DexPriceDiscovery on anvil', () => {
  it('prices an unlisted token from its deepest pool above the floor, ignoring a thin pool that says 10× more', async () => {
    const price = await discovery().price('ethereum', await pepe.getAddress(), await head(), 1000);
    expect(price).toMatchObject({
      kind: 'priced',
      priceMicros: 500_000n, // $0.50 per whole PEPE
      quoteSymbol: 'USDC',
      depthMicros: 500_000n * 1_000_000n,
    });
  });

  it('nothing liquid enough, or nothing readable, is the worst case with the reason — never a price of zero', async () => {
    const d = discovery();
    expect(await d.price('ethereum', await thin.getAddress(), await head(), 1000)).toMatchObject({
      kind: 'worst-case',
      reason: expect.stringContaining('no pool above the liquidity floor'),
    });
    // A token with no pool at all, and an address with no contract behind it.
    expect(await d.price('ethereum', await usdt.getAddress(), await head(), 1000)).toMatchObject({
      kind: 'worst-case',
    });
    expect(await d.price('ethereum', '0x00000000000000000000000000000000deadbeef', await head(), 1000)).toMatchObject({
      kind: 'worst-case',
      reason: expect.stringContaining('pools unreadable'),
    });
    expect(await d.price('bsc', await pepe.getAddress(), await head(), 1000)).toMatchObject({
      kind: 'worst-case',
      reason: 'price discovery is not configured for bsc',
    });
  });

  it('an endpoint that never answers is the worst case once the timeout passes — the poll is not held up', async () => {
    const hanging = await startFaultProxy(anvil.url, () => ({ kind: 'hang' }));
    try {
      const provider = new JsonRpcProvider(hanging.url, 31337, { staticNetwork: true });
      const d = new DexPriceDiscovery({ config: discoveryConfig, providers: { ethereum: provider }, timeoutMs: 300 });
      expect(await d.price('ethereum', await pepe.getAddress(), await head(), 1000)).toEqual({
        kind: 'worst-case',
        reason: 'pools unreadable: no answer within 300 ms',
      });
      provider.destroy();
    } finally {
      await hanging.stop();
    }
  });

  it('reads the pools at the block asked for, and reuses an answer for cacheSeconds', async () => {
    const before = await anvil.provider.getBlockNumber();
    // Double the USDC side: PEPE is now worth $1.00.
    await pool(pepe, usdc, 0n, 500_000n * E6);
    const d = discovery();
    const token = await pepe.getAddress();
    expect(await d.price('ethereum', token, before, 2000)).toMatchObject({ priceMicros: 500_000n });
    // Within cacheSeconds the cached answer stands; after it, the pool is read again (now at the head).
    expect(await d.price('ethereum', token, await head(), 2000 + 599)).toMatchObject({ priceMicros: 500_000n });
    expect(await d.price('ethereum', token, await head(), 2000 + 600)).toMatchObject({ priceMicros: 1_000_000n });
  });
});

/** √(quote base units per token base unit) · 2^96, as slot0 holds it, for a token worth `usd` of a 6-decimal quote. */
function sqrtPriceX96(tokenIsToken0: boolean, usdMicrosPerToken: bigint, tokenDecimals: number): bigint {
  const [num, den] = [usdMicrosPerToken, 10n ** BigInt(tokenDecimals)]; // quote base units per token base unit
  const ratioX192 = tokenIsToken0 ? (num << 192n) / den : (den << 192n) / num;
  let x = ratioX192;
  let y = (x + 1n) / 2n;
  while (y < x) [x, y] = [y, (y + ratioX192 / y) / 2n];
  return x;
}

describe('Uniswap-v3-style pools and feeds for unlisted tokens, on anvil', () => {
  let v3: Contract;
  let v2: Contract;
  let uni3: Contract; // unlisted: a $400k-deep v3 pool at $2, a $200k v2 pool at $3
  let fed: Contract; // unlisted, with a feed named in the config
  let aggregator: Contract;
  let config: PriceDiscoveryConfig;

  async function v3Pool(token: Contract, fee: number, usdMicros: bigint, usdcBalance: bigint): Promise<string> {
    const [a, b] = [await token.getAddress(), await usdc.getAddress()];
    await (await v3.getFunction('createPool')(a, b, fee)).wait();
    const address = (await v3.getFunction('getPool')(a, b, fee)) as string;
    const pool = new Contract(address, ['function setSqrtPriceX96(uint160)'], anvil.accounts[0]);
    const tokenIsToken0 = a.toLowerCase() < b.toLowerCase();
    await (await pool.getFunction('setSqrtPriceX96')(sqrtPriceX96(tokenIsToken0, usdMicros, 18))).wait();
    await (await usdc.getFunction('mint')(address, usdcBalance)).wait();
    return address.toLowerCase();
  }

  beforeAll(async () => {
    v3 = await deploy(anvil, TestV3Factory, []);
    v2 = await deploy(anvil, TestPairFactory, []);
    uni3 = await deploy(anvil, TestToken, ['Uni Three', 'UNI3', 18]);
    fed = await deploy(anvil, TestToken, ['Fed', 'FED', 18]);
    aggregator = await deploy(anvil, TestAggregator, [8, 7_00000000n]); // $7.00, 8 decimals
    const input = configInput();
    const eth = input.chains.ethereum as { tokens: { contract: string }[] };
    (eth.tokens[0] as { contract: string }).contract = await usdt.getAddress();
    (eth.tokens[1] as { contract: string }).contract = await usdc.getAddress();
    input.unknownAssets = {
      usdPerTransfer: 1000,
      discovery: {
        enabled: true,
        minLiquidityUsd: 100_000,
        chains: {
          ethereum: {
            uniswapV2Factories: [await v2.getAddress()],
            uniswapV3Factories: [await v3.getAddress()],
            quoteAssets: ['USDC'],
            chainlinkFeeds: {
              [await fed.getAddress()]: { address: await aggregator.getAddress(), maxAgeSeconds: 3600 },
            },
          },
        },
      },
    };
    config = compileConfig(input, 'discovery-v3').priceDiscovery;
  });

  it('prices from the deepest pool across v2 and v3, reading slot0 and the quote balance the v3 pool holds', async () => {
    const pool = await v3Pool(uni3, 3000, 2_000_000n, 400_000n * E6);
    // A v2 pair at $3 but only $200k deep: above the floor, shallower than the v3 pool.
    const [a, b] = [await uni3.getAddress(), await usdc.getAddress()];
    await (await v2.getFunction('createPair')(a, b)).wait();
    const pair = (await v2.getFunction('getPair')(a, b)) as string;
    await (await uni3.getFunction('mint')(pair, (200_000n * E18) / 3n)).wait();
    await (await usdc.getFunction('mint')(pair, 200_000n * E6)).wait();
    await (await new Contract(pair, ['function sync()'], anvil.accounts[0]).getFunction('sync')()).wait();

    const d = new DexPriceDiscovery({ config, providers: { ethereum: anvil.provider } });
    const price = await d.price('ethereum', a, await head(), 1000);
    expect(price).toMatchObject({ kind: 'priced', source: pool, quoteSymbol: 'USDC', decimals: 18 });
    // √price is stored floored to 2^-96: the price read back is $2 within a micro-dollar, rounded up.
    const micros = price.kind === 'priced' ? price.priceMicros : 0n;
    expect(micros >= 2_000_000n && micros <= 2_000_001n).toBe(true);
    expect(price).toMatchObject({ depthMicros: 400_000n * 1_000_000n });
  });

  it('a v3 pool below the liquidity floor, or not initialised, never prices', async () => {
    const shallow = await deploy(anvil, TestToken, ['Shallow', 'SHL', 18]);
    await v3Pool(shallow, 500, 5_000_000n, 50_000n * E6); // $50k deep: under the $100k floor
    await v3Pool(shallow, 10_000, 0n, 900_000n * E6); // never initialised: sqrtPriceX96 = 0
    const d = new DexPriceDiscovery({ config, providers: { ethereum: anvil.provider } });
    expect(await d.price('ethereum', await shallow.getAddress(), await head(), 1000)).toEqual({
      kind: 'worst-case',
      reason: 'no pool above the liquidity floor (deepest quote side 50000000000 micro-USD)',
    });
  });

  it('a fresh feed named for the token prices it; a stale one falls back to the pools, with the reason', async () => {
    const d = () => new DexPriceDiscovery({ config, providers: { ethereum: anvil.provider } });
    const token = await fed.getAddress();
    const now = (await anvil.provider.getBlock('latest'))!.timestamp;
    expect(await d().price('ethereum', token, await head(), now)).toMatchObject({
      kind: 'priced',
      priceMicros: 7_000_000n,
      decimals: 18,
      source: (await aggregator.getAddress()).toLowerCase(),
      quoteSymbol: 'feed',
    });
    // Stale by a day, and FED has no pool: the worst case, naming both.
    const stale = await d().price('ethereum', token, await head(), now + 86_400);
    expect(stale).toMatchObject({ kind: 'worst-case' });
    expect(stale.kind === 'worst-case' && stale.reason).toMatch(
      /^feed 0x[0-9a-f]{40} stale: .*; no pool against any quote asset$/,
    );
    // With a deep v3 pool, the stale feed falls back to the pool's $4.
    const pool = await v3Pool(fed, 100, 4_000_000n, 300_000n * E6);
    expect(await d().price('ethereum', token, await head(), now + 86_400)).toMatchObject({
      kind: 'priced',
      source: pool,
    });
  });
});
