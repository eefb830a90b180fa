import { describe, expect, it } from 'vitest';
import { MemoryBreakerStore } from '../../../functions/adapters/memory/memory-breaker-store.ts';
import type { BlockRef, ChainTransfer, RangeRead } from '../../../functions/core/model.ts';
import type { ChainReader } from '../../../functions/core/ports.ts';
import type { Page } from '../../../functions/core/state.ts';
import { runPoller } from '../../../functions/core/use-cases/run-poller.ts';
import { ADDR, compile } from '../../support/fixtures.ts';

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
});
