import { describe, expect, it } from 'vitest';
import { MemoryBreakerStore } from '../../../functions/adapters/memory/memory-breaker-store.ts';
import type { ChainReader } from '../../../functions/core/chain-kind.ts';
import { isBreakerError } from '../../../functions/core/errors.ts';
import type { BlockRef, ChainTransfer, RangeRead } from '../../../functions/core/model.ts';
import type { ChainCursor, Page } from '../../../functions/core/state.ts';
import { pollOnce } from '../../../functions/core/use-cases/poll-chain.ts';
import { ADDR, compile } from '../../support/fixtures.ts';
import { initialiseForTest } from '../../support/initialise.ts';

const BASE_T = 1_700_000_000;

/**
 * A scripted chain whose block numbers have gaps, as Solana's slots do: numbers in `skipped` never had
 * a block, and each block's parent is the block before it that exists. Blocks from `forkFrom` on
 * change hash with `fork`; `payments` puts one 1-ETH outflow in a block (its tx hash carries the fork).
 * Not a node: the gaps are the point. `omit` makes the reader leave out a block that exists (a fault).
 */
class SparseChain implements ChainReader {
  readonly chain = 'ethereum';
  fork = 'a';
  forkFrom = Number.POSITIVE_INFINITY;
  omit = new Set<number>();
  constructor(
    public headNumber: number,
    public skipped: Set<number>,
    public payments: Set<number>,
  ) {}
  private hash(n: number): string {
    return `0x${n >= this.forkFrom ? this.fork : 'a'}${n.toString(16).padStart(63, '0')}`;
  }
  private exists(n: number): boolean {
    return n >= 0 && !this.skipped.has(n);
  }
  private ref(n: number): BlockRef {
    let p = n - 1;
    while (p >= 0 && !this.exists(p)) p--;
    return {
      number: n,
      hash: this.hash(n),
      parentHash: p < 0 ? `0x${'0'.repeat(64)}` : this.hash(p),
      time: BASE_T + n,
    };
  }
  async head() {
    return this.headNumber;
  }
  async readRange(from: number, to: number): Promise<RangeRead> {
    const blocks: BlockRef[] = [];
    const transfers: ChainTransfer[] = [];
    for (let n = from; n <= to; n++) {
      if (!this.exists(n) || this.omit.has(n)) continue;
      const b = this.ref(n);
      blocks.push(b);
      if (this.payments.has(n)) {
        transfers.push({
          chain: this.chain,
          block: n,
          blockHash: b.hash,
          blockTime: b.time,
          txHash: `0x${n >= this.forkFrom ? this.fork : 'a'}${n.toString(16).padStart(63, '0')}`,
          index: null,
          contract: null,
          from: ADDR.ethHot,
          to: ADDR.stranger,
          amount: 10n ** 18n,
        });
      }
    }
    return { blocks, transfers };
  }
  async blockRefs(numbers: number[]) {
    return numbers.filter((n) => this.exists(n)).map((n) => this.ref(n));
  }
}

async function setup(reader: SparseChain) {
  const config = compile();
  const chain = { ...config.chains.get('ethereum')!, startBlock: 0, confirmations: 0, maxBlocksPerPoll: 10 };
  const store = new MemoryBreakerStore();
  await initialiseForTest(store);
  const pages: Page[] = [];
  const deps = {
    config,
    chain,
    reader,
    store,
    publisher: { publish: async (p: Page) => void pages.push(p) },
    clock: { now: () => 1 },
    owner: 'p',
  };
  // As runPoller polls: each poll gets the cursor the last one returned (an idle poll may move it in memory only).
  let cursor: ChainCursor | undefined;
  const poll = async () => {
    const outcome = await pollOnce(deps, cursor);
    cursor = outcome.cursor;
    return outcome;
  };
  /** Poll until idle (bounded), returning each result's kind. */
  const pollToIdle = async (): Promise<string[]> => {
    const kinds: string[] = [];
    for (let i = 0; i < 50; i++) {
      const { result } = await poll();
      kinds.push(result.kind);
      if (result.kind === 'idle') return kinds;
    }
    throw new Error('did not reach idle in 50 polls');
  };
  return { deps, store, pages, poll, pollToIdle, cursor: () => cursor };
}

const blocksOf = async (store: MemoryBreakerStore) =>
  (await store.outflowsSince('ethereum', 0)).map((r) => r.block).sort((a, b) => a - b);

describe('sparse block numbers (skipped slots)', () => {
  it('reads ranges with gaps inside and at both edges, counting every outflow once', async () => {
    // Ranges are [0–9], [10–19], [20–29], [30–35]: 9 and 19 end a range, 10 and 20 begin one, 30–35 are all skipped.
    const skipped = new Set([5, 9, 10, 19, 20, 30, 31, 32, 33, 34, 35]);
    const reader = new SparseChain(35, skipped, new Set([4, 8, 11, 18, 21, 29]));
    const { store, pollToIdle, cursor } = await setup(reader);
    const kinds = await pollToIdle();
    expect(kinds).not.toContain('reorg');
    expect(await blocksOf(store)).toEqual([4, 8, 11, 18, 21, 29]);
    expect(cursor()).toMatchObject({ lastBlock: 35, lastT: BASE_T + 29 });
    expect(cursor()!.recent.at(-1)).toMatchObject({ n: 29 });

    // The chain goes on after an all-skipped range: the next block links to 29 across the gap.
    reader.headNumber = 40;
    reader.payments.add(37);
    expect(await pollToIdle()).toEqual(['advanced', 'idle']);
    expect(await blocksOf(store)).toEqual([4, 8, 11, 18, 21, 29, 37]);
  });

  it('a reorg across a gap rewinds to the common ancestor before the gap and re-reads', async () => {
    const reader = new SparseChain(29, new Set([9, 10, 11, 19]), new Set([8, 12, 25]));
    const { store, pages, pollToIdle } = await setup(reader);
    await pollToIdle();
    expect(await blocksOf(store)).toEqual([8, 12, 25]);
    const before = (await store.outflowsSince('ethereum', 0)).map((r) => r.txHash);

    // Block 12 (whose parent is 8, across the gap 9–11) and everything after it are replaced; the new
    // fork skips 13 too, and moves the payment from 25 to 26.
    reader.fork = 'b';
    reader.forkFrom = 12;
    reader.skipped.add(13);
    reader.payments.delete(25);
    reader.payments.add(26);
    reader.headNumber = 31;
    const kinds = await pollToIdle();
    expect(kinds[0]).toBe('reorg');
    const reorg = (await store.listAudit(10)).find((a) => a.action === 'reorg');
    expect(reorg?.details).toMatchObject({ rewoundTo: 8, depthKnown: true });
    expect(await blocksOf(store)).toEqual([8, 12, 26]);
    const after = await store.outflowsSince('ethereum', 0);
    // The orphaned outflows are gone; block 8's survives unchanged.
    expect(after.filter((r) => before.includes(r.txHash)).map((r) => r.block)).toEqual([8]);
    expect(pages.filter((p) => p.kind === 'blind')).toEqual([]);
  });

  it('refuses a read that leaves out a block the chain has (its successor does not link)', async () => {
    const reader = new SparseChain(9, new Set([3]), new Set());
    reader.omit.add(6);
    const { deps, store } = await setup(reader);
    const error = await pollOnce(deps).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isBreakerError(error, 'CHAIN_READ')).toBe(true);
    expect((error as Error).message).toContain("block 7's parent is not block 5");
    expect((await store.getCursor('ethereum'))?.lastBlock).toBe(-1);
  });

  it('refuses a read with a block outside the range asked for', async () => {
    const reader = new SparseChain(9, new Set(), new Set());
    reader.readRange = async () => ({
      blocks: [{ number: 12, hash: '0x1', parentHash: '0x0', time: BASE_T }],
      transfers: [],
    });
    const { deps } = await setup(reader);
    await expect(pollOnce(deps)).rejects.toThrow('asked for blocks 0–9, got block 12');
  });

  it('a left-out last block is caught by the next read, which does not link to what was kept', async () => {
    const reader = new SparseChain(9, new Set(), new Set([9]));
    reader.omit.add(9);
    const { store, poll, pollToIdle } = await setup(reader);
    expect((await poll()).result.kind).toBe('idle');
    expect(await blocksOf(store)).toEqual([]);
    // Block 10's parent is 9, which the cursor never kept: the poller rewinds and reads 9 again.
    reader.omit.clear();
    reader.headNumber = 10;
    expect((await poll()).result).toMatchObject({ kind: 'reorg', rewoundTo: 8 });
    await pollToIdle();
    expect(await blocksOf(store)).toEqual([9]);
  });
});
