/**
 * The benchmark's correctness half, fast enough for `npm test`: on ~100 blocks of the bench traffic the
 * breaker (runPoller + store), the reader alone and the naive baseline each find exactly the outflows
 * sent — reverted sends not counted, third-party transferFrom and batch payouts counted, nothing missed or
 * doubled. Throughput is `npm run bench`'s business, never asserted here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AnvilProcess, startAnvil } from '../../functions/local/anvil-process.ts';
import { BENCH_CHAIN } from './bench-config.ts';
import { breakerCatchUp, readerAlone } from './catch-up.ts';
import { compareOutflows } from './exactness.ts';
import { naiveRead } from './naive-reader.ts';
import { generateTraffic, type Traffic } from './traffic.ts';

describe('bench catch-up comparison on 100 blocks', () => {
  let anvil: AnvilProcess;
  let traffic: Traffic;

  beforeAll(async () => {
    anvil = await startAnvil();
    traffic = await generateTraffic(anvil.url, { blocks: 100, chain: BENCH_CHAIN, blockSeconds: 12 });
  });
  afterAll(async () => {
    await anvil?.stop();
  });

  it('generates every kind of traffic the benchmark claims', () => {
    const s = traffic.stats;
    expect(s.batchPayoutTransfers).toBeGreaterThan(0);
    expect(s.thirdPartyTransferFroms).toBeGreaterThan(0);
    expect(s.revertedHotSends).toBeGreaterThan(0);
    expect(s.sweepsToColdWallet).toBeGreaterThan(0);
    expect(s.unknownTokenTransfers).toBeGreaterThan(0);
    expect(s.noiseTransactions).toBeGreaterThan(0);
    expect(traffic.expected).toHaveLength(s.outflows);
  });

  it('the breaker records exactly the outflows sent, from block 0, over several polls', async () => {
    const run = await breakerCatchUp(traffic, { rpcUrl: anvil.url, maxBlocksPerPoll: 40, rpcBatchSize: 100 });
    expect(run.exactness).toMatchObject({ exact: true, missing: [], doubled: [], extra: [], different: [] });
    expect(run.outflowsRecorded).toBe(traffic.expected.length);
    expect(run.polls).toBeGreaterThanOrEqual(3);
    expect(run.pages).toBe(0);
  });

  it('the reader alone (nativeSource blocks and traces) and the naive baseline find the same outflows', async () => {
    const reader = await readerAlone(traffic, { rpcUrl: anvil.url, maxBlocksPerPoll: 100, rpcBatchSize: 100 });
    expect(reader.exactness.exact).toBe(true);
    const traces = await readerAlone(traffic, {
      rpcUrl: anvil.url,
      maxBlocksPerPoll: 100,
      rpcBatchSize: 100,
      nativeSource: 'traces',
    });
    expect(traces.exactness.exact).toBe(true);
    const naive = await naiveRead(anvil.url, BENCH_CHAIN, traffic.hotWallets, 0, traffic.lastBlock);
    const exactness = compareOutflows(naive.outflows, traffic.expected);
    expect(exactness).toMatchObject({ exact: true, missing: [], doubled: [], extra: [], different: [] });
  });
});
