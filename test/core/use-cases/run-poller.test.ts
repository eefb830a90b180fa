import { describe, expect, it } from 'vitest';
import { MemoryBreakerStore } from '../../../functions/adapters/memory/memory-breaker-store.ts';
import type { ChainReader } from '../../../functions/core/chain-kind.ts';
import type { BlockRef, ChainTransfer, RangeRead } from '../../../functions/core/model.ts';
import type { Page } from '../../../functions/core/state.ts';
import { emptyHistoryCache, pollOnce } from '../../../functions/core/use-cases/poll-chain.ts';
import { runPoller } from '../../../functions/core/use-cases/run-poller.ts';
import { ADDR, compile } from '../../support/fixtures.ts';
import { initialiseForTest } from '../../support/initialise.ts';

const BASE_T = 1_700_000_000;
const hash = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
const ref = (n: number): BlockRef => ({ number: n, hash: hash(n), parentHash: hash(n - 1), time: BASE_T + n * 12 });

/** A scripted chain (not a node: the property under test is how many calls the poller makes). */
class CountingChain implements ChainReader {
  readonly chain = 'ethereum';
  heads = 0;
  ranges: [number, number][] = [];
  constructor(
    private readonly headNumber: number,
    private readonly transfers: ChainTransfer[] = [],
  ) {}
  async head() {
    this.heads++;
    return this.headNumber;
  }
  async readRange(from: number, to: number): Promise<RangeRead> {
    this.ranges.push([from, to]);
    const blocks: BlockRef[] = [];
    for (let n = from; n <= to; n++) blocks.push(ref(n));
    return { blocks, transfers: this.transfers.filter((t) => t.block >= from && t.block <= to) };
  }
  async blockRefs(numbers: number[]) {
    return numbers.map(ref);
  }
}

describe('runPoller catching up', () => {
  it('reads every block once, in whole batches, asking for the head once per pass rather than once per batch', async () => {
    const config = compile();
    const chain = { ...config.chains.get('ethereum')!, startBlock: 0, confirmations: 2, maxBlocksPerPoll: 100 };
    const transfers: ChainTransfer[] = [120, 333, 499].map((block) => ({
      chain: 'ethereum',
      block,
      blockHash: hash(block),
      blockTime: BASE_T + block * 12,
      txHash: hash(10_000 + block),
      index: null,
      contract: null,
      from: ADDR.ethHot,
      to: ADDR.stranger,
      amount: 10n ** 17n,
    }));
    const reader = new CountingChain(502, transfers); // confirmed head 500: blocks 0–500
    const store = new MemoryBreakerStore();
    await initialiseForTest(store);
    const pages: Page[] = [];
    let now = 1_700_000_000_000;
    const clock = { now: () => now };
    const summary = await runPoller(
      { config, chain, reader, store, publisher: { publish: async (p) => void pages.push(p) }, clock, owner: 'p' },
      {
        deadlineMs: now + 60_000,
        sleep: async (ms) => {
          now += ms;
        },
      },
    );
    expect(reader.ranges).toEqual([
      [0, 99],
      [100, 199],
      [200, 299],
      [300, 399],
      [400, 499],
      [500, 500],
    ]);
    expect(summary.outflows).toBe(3);
    expect((await store.outflowsSince('ethereum', 0)).map((r) => r.block)).toEqual([120, 333, 499]);
    // One head for the first batch (plus the cursor's start), one to find the last partial batch,
    // then one per idle poll while waiting for new blocks.
    const idlePolls = summary.polls - reader.ranges.length;
    expect(reader.heads).toBeLessThanOrEqual(3 + idlePolls);
  });

  it("keeps its own chain's history across batches (one read, not one per batch) and still sees windows spanning batches", async () => {
    // $1,800 per 10 minutes; each transfer is 1 ETH ($1,000 at the fixture's price): two within 10 minutes trip.
    const config = compile({ global: { usd: { '10m': 1800 } } });
    const chain = { ...config.chains.get('ethereum')!, startBlock: 0, confirmations: 0, maxBlocksPerPoll: 10 };
    const send = (block: number): ChainTransfer => ({
      chain: 'ethereum',
      block,
      blockHash: hash(block),
      blockTime: BASE_T + block * 12,
      txHash: hash(20_000 + block),
      index: null,
      contract: null,
      from: ADDR.ethHot,
      to: ADDR.stranger,
      amount: 10n ** 18n,
    });
    // One transfer every 60 blocks (12 min): never two in a window … until blocks 200 and 240 (8 min apart).
    const blocks = [0, 60, 120, 200, 240];
    const reader = new CountingChain(300, blocks.map(send));
    const store = new MemoryBreakerStore();
    await initialiseForTest(store);
    let reads = 0;
    const outflowsSince = store.outflowsSince.bind(store);
    store.outflowsSince = async (c, since) => {
      if (c === 'ethereum') reads++; // other chains are re-read each time: their own pollers write them
      return outflowsSince(c, since);
    };
    const pages: Page[] = [];
    let now = 1_700_000_000_000;
    const clock = { now: () => now };
    await runPoller(
      { config, chain, reader, store, publisher: { publish: async (p) => void pages.push(p) }, clock, owner: 'p' },
      {
        deadlineMs: now + 5_000,
        sleep: async (ms) => {
          now += ms;
        },
      },
    );
    expect(pages.filter((p) => p.kind === 'trip').map((p) => p.details.rule)).toEqual(['global-usd-10m']);
    expect((await store.getState()).tripped.global?.evidence.windowEnd).toBe(BASE_T + 240 * 12);
    expect(reads).toBe(1); // five batches with outflows, one read of this chain's history

    // Another poller moving the cursor invalidates the cache: the next poll re-reads.
    const history = emptyHistoryCache();
    const deps = { config, chain, reader, store, publisher: { publish: async () => {} }, clock, owner: 'q' };
    await pollOnce({ ...deps, history });
    expect(history.version).toBe(-1); // nothing new to read: no commit by us, nothing cached
  });

  it('keeps polling and trips while paging is down, then fails the run so the platform alarms', async () => {
    const config = compile({ global: { usd: { '10m': 1500 } } });
    const chain = { ...config.chains.get('ethereum')!, startBlock: 0, confirmations: 0, maxBlocksPerPoll: 10 };
    const transfers: ChainTransfer[] = [3, 4].map((block) => ({
      chain: 'ethereum',
      block,
      blockHash: hash(block),
      blockTime: BASE_T + block * 12,
      txHash: hash(30_000 + block),
      index: null,
      contract: null,
      from: ADDR.ethHot,
      to: ADDR.stranger,
      amount: 10n ** 18n,
    }));
    const store = new MemoryBreakerStore();
    // A page left queued by an earlier run, with the pager down from the start.
    const state = await store.getState();
    const old: Page = { id: 'old', kind: 'warn', subject: 's', text: 't', details: {} };
    await store.saveState({ ...state, version: 1, outbox: [{ kind: 'page', id: 'old', page: old }] }, 0);
    let now = 1_700_000_000_000;
    const failing = { publish: async () => Promise.reject(new Error('SNS is down')) };
    const reader = new CountingChain(10, transfers);
    const run = runPoller(
      { config, chain, reader, store, publisher: failing, clock: { now: () => now }, owner: 'p' },
      {
        deadlineMs: now + 3_000,
        sleep: async (ms) => {
          now += ms;
        },
      },
    );
    await expect(run).rejects.toThrow(/not carried out/);
    const after = await store.getState();
    expect(after.tripped.global?.ruleId).toBe('global-usd-10m'); // the kill switch flipped regardless
    expect((await store.outflowsSince('ethereum', 0)).map((r) => r.block)).toEqual([3, 4]);
    expect(after.outbox.filter((e) => e.kind === 'page').map((e) => e.id)).toContain('old'); // queued, not dropped
  });
});
