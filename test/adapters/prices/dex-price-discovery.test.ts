import { Contract } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileConfig } from '../../../functions/adapters/config/config-file.ts';
import { DexPriceDiscovery } from '../../../functions/adapters/prices/dex-price-discovery.ts';
import type { PriceDiscoveryConfig } from '../../../functions/core/prices/discovery.ts';
import { TestToken } from '../../../functions/local/contracts/artifacts.ts';
import TestPairFactory from '../../fixtures/contracts/TestPairFactory.json' with { type: 'json' };
import { type Anvil, deploy, startAnvil } from '../../support/anvil.ts';
import { configInput } from '../../support/fixtures.ts';

/**
 * Price discovery for an unlisted token on a real chain: Uniswap-v2-style pools (TestPools.sol, the
 * v2 read interface) deployed to anvil and read with eth_call at a block. The deepest pool against a
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
