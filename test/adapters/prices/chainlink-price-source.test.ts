import { type Contract, JsonRpcProvider } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileConfig } from '../../../functions/adapters/config/config-file.ts';
import {
  ChainlinkPriceSource,
  createChainlinkPriceSource,
} from '../../../functions/adapters/prices/chainlink-price-source.ts';
import { parseUnits } from '../../../functions/core/amounts.ts';
import { classifyTransfers } from '../../../functions/core/classify.ts';
import type { AssetConfig, BreakerConfig } from '../../../functions/core/config/types.ts';
import type { ChainTransfer } from '../../../functions/core/model.ts';
import { bookValuation, quoteFromFeed } from '../../../functions/core/prices/price-source.ts';
import TestAggregator from '../../fixtures/contracts/TestAggregator.json' with { type: 'json' };
import { type Anvil, deploy, startAnvil } from '../../support/anvil.ts';
import { ADDR, configInput, usd } from '../../support/fixtures.ts';

/**
 * Feed prices on a real chain: a Chainlink-style aggregator deployed to anvil, read with ethers.
 * Fresh → the feed's price; stale, missing, unreachable or ≤ 0 → the configured worst case (never
 * zero, never below the static price) and a reported problem.
 */

let anvil: Anvil;
let ethFeed: Contract;
let usdtFeed: Contract;
let now: number;

const MAX_AGE = 3600;

beforeAll(async () => {
  anvil = await startAnvil();
  ethFeed = await deploy(anvil, TestAggregator, [8, 3_456_12345678n]); // $3,456.12345678, 8 decimals
  usdtFeed = await deploy(anvil, TestAggregator, [18, 999_800_000_000_000_000n]); // $0.9998, 18 decimals
  now = (await anvil.provider.getBlock('latest'))?.timestamp as number;
});

afterAll(async () => {
  await anvil?.stop();
});

/** The fixture config (ETH $1,000 static) with feeds on Ethereum's ETH and USDT. */
function withFeeds(feeds: { eth?: string; usdt?: string; bnb?: string }): BreakerConfig {
  const input = configInput();
  const eth = input.chains.ethereum as { native: Record<string, unknown>; tokens: Record<string, unknown>[] };
  if (feeds.eth)
    Object.assign(eth.native, { priceFeed: { address: feeds.eth, maxAgeSeconds: MAX_AGE }, worstCaseUsdPrice: 6000 });
  if (feeds.usdt) {
    Object.assign(eth.tokens[0] as object, {
      priceFeed: { address: feeds.usdt, maxAgeSeconds: MAX_AGE },
      worstCaseUsdPrice: 1.05,
    });
  }
  const bsc = input.chains.bsc as { native: Record<string, unknown> };
  // BNB's feed is read on Ethereum (priceFeed.chain): one chain can price another's assets.
  if (feeds.bnb)
    Object.assign(bsc.native, {
      priceFeed: { address: feeds.bnb, maxAgeSeconds: MAX_AGE, chain: 'ethereum' },
      worstCaseUsdPrice: 900,
    });
  return compileConfig(input, 'feeds');
}

function assetsOf(config: BreakerConfig): AssetConfig[] {
  return [...config.chains.values()].flatMap((c) => [c.native, ...c.tokens.values()]);
}

function source(timeoutMs?: number): ChainlinkPriceSource {
  return new ChainlinkPriceSource({ providers: { ethereum: anvil.provider }, timeoutMs });
}

describe('ChainlinkPriceSource on anvil', () => {
  it('a fresh feed prices the asset, rounded up to the micro-dollar; assets without a feed keep their static price', async () => {
    const config = withFeeds({ eth: await ethFeed.getAddress(), usdt: await usdtFeed.getAddress() });
    const book = await source().prices(assetsOf(config), now);
    const eth = config.chains.get('ethereum')!;
    expect(book.quote(eth.native)).toMatchObject({ priceMicros: 3_456_123_457n, source: 'feed' });
    expect(book.quote(eth.tokens.get(ADDR.ethUsdt)!)).toMatchObject({ priceMicros: 999_800n, source: 'feed' });
    expect(book.quote(eth.tokens.get(ADDR.ethUsdc)!)).toEqual({ priceMicros: 1_000_000n, source: 'static' });
    expect(book.problems).toEqual([]);

    // Classification values the outflow at the feed price: 2 ETH × $3,456.123457.
    const transfer: ChainTransfer = {
      chain: 'ethereum',
      block: 1,
      blockHash: '0x01',
      blockTime: now,
      txHash: '0x02',
      index: null,
      contract: null,
      from: ADDR.ethHot,
      to: ADDR.stranger,
      amount: parseUnits('2', 18),
    };
    const [record] = classifyTransfers(config, eth, [transfer], () => now, bookValuation(book));
    expect(record).toMatchObject({ usdMicros: 6_912_246_914n, priceSource: 'feed' });
  });

  it('a stale feed values at the worst case and reports the problem', async () => {
    const stale = await deploy(anvil, TestAggregator, [8, 3_456_00000000n]);
    await (await stale.getFunction('setAnswer')(3_456_00000000n, now - MAX_AGE - 1)).wait();
    const config = withFeeds({ eth: await stale.getAddress() });
    const book = await source().prices(assetsOf(config), now);
    expect(book.quote(config.chains.get('ethereum')!.native)).toEqual({ priceMicros: usd(6000), source: 'worst-case' });
    expect(book.problems).toEqual([
      expect.objectContaining({
        chain: 'ethereum',
        asset: 'ETH',
        reason: `stale: updated ${MAX_AGE + 1} s ago (max ${MAX_AGE} s)`,
      }),
    ]);
  });

  it('exactly maxAgeSeconds old is still fresh', async () => {
    const edge = await deploy(anvil, TestAggregator, [8, 2_000_00000000n]);
    await (await edge.getFunction('setAnswer')(2_000_00000000n, now - MAX_AGE)).wait();
    const config = withFeeds({ eth: await edge.getAddress() });
    const book = await source().prices(assetsOf(config), now);
    expect(book.quote(config.chains.get('ethereum')!.native)).toMatchObject({ priceMicros: usd(2000), source: 'feed' });
  });

  it('no contract at the feed address: worst case, never zero', async () => {
    const config = withFeeds({ eth: '0x00000000000000000000000000000000deadbeef' });
    const book = await source().prices(assetsOf(config), now);
    expect(book.quote(config.chains.get('ethereum')!.native)).toEqual({ priceMicros: usd(6000), source: 'worst-case' });
    expect(book.problems[0]?.reason).toMatch(/^unreadable: no aggregator at this address/);
  });

  it('an answer of zero or below is no price', async () => {
    const broken = await deploy(anvil, TestAggregator, [8, 0n]);
    const config = withFeeds({ eth: await broken.getAddress() });
    const book = await source().prices(assetsOf(config), now);
    expect(book.quote(config.chains.get('ethereum')!.native).source).toBe('worst-case');
    expect(book.problems[0]?.reason).toBe('answer 0 ≤ 0');
  });

  it('a feed read on another chain prices this chain’s asset', async () => {
    const config = withFeeds({ bnb: await ethFeed.getAddress() });
    const book = await source().prices(assetsOf(config), now);
    expect(book.quote(config.chains.get('bsc')!.native)).toMatchObject({ source: 'feed', priceMicros: 3_456_123_457n });
  });

  it('an unreachable RPC endpoint or a missing provider: worst case within the timeout, no throw', async () => {
    const config = withFeeds({ eth: await ethFeed.getAddress(), bnb: await ethFeed.getAddress() });
    // A port nothing listens on (anvil's port + 1 is not ours; port 9 is discard and closed on loopback).
    const dead = new JsonRpcProvider('http://127.0.0.1:9', 1, { staticNetwork: true });
    const started = Date.now();
    const book = await new ChainlinkPriceSource({ providers: {}, timeoutMs: 500 }).prices(assetsOf(config), now);
    expect(book.quote(config.chains.get('ethereum')!.native).source).toBe('worst-case');
    expect(book.problems.map((p) => p.reason)).toContain('unreadable: no RPC provider for chain "ethereum"');
    const viaDead = await new ChainlinkPriceSource({ providers: { ethereum: dead }, timeoutMs: 500 }).prices(
      assetsOf(config),
      now,
    );
    expect(viaDead.quote(config.chains.get('ethereum')!.native)).toEqual({
      priceMicros: usd(6000),
      source: 'worst-case',
    });
    expect(viaDead.problems).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(5000);
    dead.destroy();
  });
});

describe('createChainlinkPriceSource', () => {
  it('reads each feed on its chain’s configured RPC endpoints (the first that answers)', async () => {
    const input = configInput();
    const eth = input.chains.ethereum as unknown as { rpc: string[]; chainId: number; native: object };
    eth.rpc = [`http://127.0.0.1:9/down`, anvil.url];
    eth.chainId = anvil.chainId;
    Object.assign(eth.native, {
      priceFeed: { address: await ethFeed.getAddress(), maxAgeSeconds: MAX_AGE },
      worstCaseUsdPrice: 6000,
    });
    const config = compileConfig(input, 'rpc');
    const book = await createChainlinkPriceSource(config, { timeoutMs: 4000 }).prices(assetsOf(config), now);
    expect(book.quote(config.chains.get('ethereum')!.native)).toMatchObject({
      priceMicros: 3_456_123_457n,
      source: 'feed',
    });
    expect(book.problems).toEqual([]);
  });
});

describe('quoteFromFeed (the staleness rule, without a chain)', () => {
  const config = withFeedsStatic();
  const eth = config.chains.get('ethereum')!.native;

  function withFeedsStatic(): BreakerConfig {
    const input = configInput();
    Object.assign((input.chains.ethereum as { native: object }).native, {
      priceFeed: { address: '0x0000000000000000000000000000000000000001', maxAgeSeconds: 60 },
      worstCaseUsdPrice: 5000,
    });
    return compileConfig(input, 'static');
  }

  it.each([
    ['fresh', { answer: 1_500_00000000n, decimals: 8, updatedAt: 1000 }, 1000, 'feed', usd(1500)],
    ['61 s old (max 60)', { answer: 1_500_00000000n, decimals: 8, updatedAt: 939 }, 1000, 'worst-case', usd(5000)],
    ['negative answer', { answer: -1n, decimals: 8, updatedAt: 1000 }, 1000, 'worst-case', usd(5000)],
    ['absurd decimals', { answer: 1n, decimals: 99, updatedAt: 1000 }, 1000, 'worst-case', usd(5000)],
    ['never updated', { answer: 1_500_00000000n, decimals: 8, updatedAt: 0 }, 1000, 'worst-case', usd(5000)],
    ['unreadable', { error: 'boom' }, 1000, 'worst-case', usd(5000)],
    // A feed reading far below a cent still values above zero (rounded up).
    ['a dust price', { answer: 1n, decimals: 18, updatedAt: 1000 }, 1000, 'feed', 1n],
  ] as const)('%s → %s', (_name, reading, nowS, sourceName, price) => {
    const { quote } = quoteFromFeed(eth, reading, nowS);
    expect(quote.source).toBe(sourceName);
    expect(quote.priceMicros).toBe(price);
    expect(quote.priceMicros).toBeGreaterThan(0n);
  });

  it('the worst case is never below the static price', () => {
    const cheap = { ...eth, worstCasePriceMicros: 1n };
    expect(quoteFromFeed(cheap, { error: 'x' }, 0).quote.priceMicros).toBe(eth.priceMicros);
  });
});
