/**
 * Polls that need every chain's ledger (a global pattern rule) read another chain's ledger only when
 * its version moved (core/windows/ledger-cache.ts), and only from where it moved — and still decide
 * exactly: a poll sees the other chain's new outflows, and no longer counts outflows a reorg removed;
 * and of two chains recording at once, at least one still sees the other. Real pollOnce on both chains
 * against the in-memory store; the chains are scripted readers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryBreakerStore } from '../../../functions/adapters/memory/memory-breaker-store.ts';
import type { ChainReader } from '../../../functions/core/chain-kind.ts';
import type { BlockRef, ChainTransfer, RangeRead } from '../../../functions/core/model.ts';
import type { BreakerStore } from '../../../functions/core/ports.ts';
import { pollOnce } from '../../../functions/core/use-cases/poll-chain.ts';
import { LedgerCache } from '../../../functions/core/windows/ledger-cache.ts';
import { ADDR, compile } from '../../support/fixtures.ts';
import { initialiseForTest } from '../../support/initialise.ts';

const BASE_T = 1_700_000_000;
const ETHER = 10n ** 18n;

/** A scripted chain: native outflows per block (wei); blocks from `forkFrom` on change hash, and lose their outflows, on fork 'b'. */
class ForkableChain implements ChainReader {
  fork = 'a';
  forkFrom = Number.POSITIVE_INFINITY;
  constructor(
    readonly chain: string,
    readonly from: string,
    public headNumber: number,
    private readonly outflows: Record<number, bigint[]>,
  ) {}
  private forked(n: number): boolean {
    return this.fork === 'b' && n >= this.forkFrom;
  }
  private hash(n: number): string {
    return `0x${this.forked(n) ? 'bb' : 'aa'}${Math.max(n, 0).toString(16).padStart(62, '0')}`;
  }
  private ref(n: number): BlockRef {
    return { number: n, hash: this.hash(n), parentHash: this.hash(n - 1), time: BASE_T + n * 12 };
  }
  async head() {
    return this.headNumber;
  }
  async readRange(from: number, to: number): Promise<RangeRead> {
    const blocks: BlockRef[] = [];
    const transfers: ChainTransfer[] = [];
    for (let n = from; n <= to; n++) {
      blocks.push(this.ref(n));
      if (this.forked(n)) continue;
      (this.outflows[n] ?? []).forEach((amount, i) => {
        transfers.push({
          chain: this.chain,
          block: n,
          blockHash: this.hash(n),
          blockTime: BASE_T + n * 12,
          txHash: `0x${this.chain === 'bsc' ? 'b5' : 'e7'}${n.toString(16).padStart(30, '0')}${i.toString(16).padStart(32, '0')}`,
          index: null,
          contract: null,
          from: this.from,
          to: ADDR.stranger,
          amount,
        });
      });
    }
    return { blocks, transfers };
  }
  async blockRefs(numbers: number[]) {
    return numbers.map((n) => this.ref(n));
  }
}

type Config = ReturnType<typeof compile>;

function pollerDeps(config: Config, store: BreakerStore, reader: ForkableChain, ledgers: LedgerCache) {
  return {
    config,
    chain: { ...config.chains.get(reader.chain)!, startBlock: 0, confirmations: 0, maxBlocksPerPoll: 100 },
    reader,
    store,
    publisher: { publish: async () => {} },
    clock: { now: () => 1_000 },
    owner: `poller-${reader.chain}`,
    ledgers,
  };
}

/** Every store call waits for the scheduler: fast-check picks the order the two pollers' calls land in. */
function scheduled(store: BreakerStore, s: fc.Scheduler): BreakerStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => s.schedule(Promise.resolve(), String(prop)).then(() => value.apply(target, args));
    },
  });
}

describe('other chains’ ledgers cached across polls', () => {
  it('reads another chain only when its version moved, from where it moved, and counts exactly across a reorg', async () => {
    // New destinations across both chains: warn at $8,000, trip above $10,000 in an hour. ETH $1,000, BNB $500.
    const config = compile({
      global: { usd: { '1h': 1_000_000_000 } },
      patterns: { newDestinations: { window: '1h', usd: 10_000, warnUsd: 8_000, lookback: '14d' } },
    });
    const store = new MemoryBreakerStore();
    await initialiseForTest(store);
    const bscReads: number[] = [];
    const outflowsSince = store.outflowsSince.bind(store);
    store.outflowsSince = async (chain, since) => {
      if (chain === 'bsc') bscReads.push(since);
      return outflowsSince(chain, since);
    };
    const eth = new ForkableChain('ethereum', ADDR.ethHot, 0, {
      3: [ETHER],
      8: [ETHER / 10n],
      12: [ETHER / 2n],
      16: [(ETHER * 5n) / 2n],
    });
    const bsc = new ForkableChain('bsc', ADDR.bscHot, 0, { 1: [ETHER], 5: [12n * ETHER] });
    // One cache per poller process, as one Lambda per chain has.
    const ethCache = new LedgerCache();
    const ethPoll = async (head: number) => {
      eth.headNumber = head;
      bscReads.length = 0;
      return (await pollOnce(pollerDeps(config, store, eth, ethCache))).result;
    };
    const bscPoll = async (head: number) => {
      bsc.headNumber = head;
      return (await pollOnce(pollerDeps(config, store, bsc, new LedgerCache()))).result;
    };

    expect(await bscPoll(2)).toMatchObject({ kind: 'advanced', outflows: [{ block: 1 }] });
    expect(await ethPoll(3)).toMatchObject({ kind: 'advanced', trips: [], warnings: [] }); // $1,500
    expect(bscReads).toHaveLength(1); // a cold cache: the whole reach
    expect(await ethPoll(8)).toMatchObject({ kind: 'advanced', trips: [], warnings: [] }); // $1,600
    expect(bscReads).toEqual([]); // bsc unchanged: no request for it

    // bsc records $6,000 at block 5: eth's next poll reads bsc from there on only, and sees it ($8,100: a warning).
    expect(await bscPoll(6)).toMatchObject({ kind: 'advanced', outflows: [{ block: 5 }] });
    const warned = await ethPoll(12);
    expect(warned).toMatchObject({ kind: 'advanced', trips: [], warnings: ['pattern-new-destinations-usd-1h'] });
    expect(bscReads).toEqual([BASE_T + 5 * 12]);

    // bsc block 5 is reorganised away (its $6,000 with it): eth no longer counts it. Counted, it would trip ($10,600).
    bsc.fork = 'b';
    bsc.forkFrom = 5;
    expect(await bscPoll(7)).toMatchObject({ kind: 'reorg', removed: 1 });
    expect(await ethPoll(16)).toMatchObject({ kind: 'advanced', trips: [] }); // $4,600
    expect(bscReads).toEqual([BASE_T + 4 * 12]); // from the common ancestor's time on
    expect(ethCache.stats).toEqual({ served: 1, partial: 2, full: 1 });
  });

  it('of two chains recording at once, at least one sees the other’s outflows, whatever the interleaving (warm caches)', async () => {
    // New destinations above $1,500 in an hour trip (warn at $1,200): $1,000 on each chain trips only together.
    const config = compile({
      global: { usd: { '1h': 1_000_000_000 } },
      patterns: { newDestinations: { window: '1h', usd: 1_500, lookback: '14d' } },
    });
    let trips = 0;
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), async (s) => {
        const memory = new MemoryBreakerStore();
        await initialiseForTest(memory);
        // Blocks 1 and 2: $10 each, so that each poller has cached the other's ledger before the race.
        const eth = new ForkableChain('ethereum', ADDR.ethHot, 0, { 1: [ETHER / 100n], 2: [ETHER / 100n], 3: [ETHER] });
        const bsc = new ForkableChain('bsc', ADDR.bscHot, 0, { 1: [ETHER / 50n], 2: [ETHER / 50n], 3: [2n * ETHER] });
        const caches = { ethereum: new LedgerCache(), bsc: new LedgerCache() };
        for (const head of [1, 2]) {
          for (const reader of [eth, bsc]) {
            reader.headNumber = head;
            await pollOnce(pollerDeps(config, memory, reader, caches[reader.chain as 'ethereum' | 'bsc']));
          }
        }
        // Each holds a copy of the other chain's ledger: ethereum polled before bsc's block 2 was recorded.
        expect([caches.ethereum.size, caches.bsc.size]).toEqual([1, 2]);
        eth.headNumber = 3;
        bsc.headNumber = 3;
        const store = scheduled(memory, s);
        const both = Promise.all(
          [eth, bsc].map((r) => pollOnce(pollerDeps(config, store, r, caches[r.chain as 'ethereum' | 'bsc']))),
        );
        const results = await s.waitFor(both);
        const tripped = results.flatMap(({ result }) => (result.kind === 'advanced' ? result.trips : []));
        expect(tripped.map((t) => t.ruleId)).toContain('pattern-new-destinations-usd-1h');
        trips++;
      }),
      { numRuns: 60 },
    );
    expect(trips).toBe(60);
  });
});
