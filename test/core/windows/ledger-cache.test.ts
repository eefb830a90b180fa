/**
 * Other chains' ledgers cached across polls (core/windows/ledger-cache.ts), validated by the ledger
 * version each chain's writers bump in its summary (core/windows/ledger-version.ts). The property:
 * whenever no write is between its records and its bump, a cached read equals a fresh ledger read —
 * over random interleavings of three chains' recordings, reorg and lease-recovery removals, a chain's
 * writer restarting (its memory of the log lost), a summary written by an older build (no log), and
 * polls by two reader processes; and once every write has bumped, no cached read stays stale.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBreakerStore } from '../../../functions/adapters/memory/memory-breaker-store.ts';
import { type OutflowRecord, outflowId } from '../../../functions/core/model.ts';
import type { OutflowLedger, WindowSummaryStore } from '../../../functions/core/ports.ts';
import { LedgerCache } from '../../../functions/core/windows/ledger-cache.ts';
import {
  changedFrom,
  LEDGER_LOG_LENGTH,
  nextLedgerLog,
  recordLedgerChange,
  saveOwnSummary,
} from '../../../functions/core/windows/ledger-version.ts';
import type { ChainSummary, LedgerLog, LedgerStamp } from '../../../functions/core/windows/summary.ts';
import { startTestStore, type TestStore } from '../../support/dynamo.ts';

// 2100-01-01 (a DynamoDB server's TTL must not expire the records under the test).
const T0 = 4_102_444_800;
const CHAINS = ['ethereum', 'bsc', 'tron'] as const;

/** The part of the store the ledger and its version live in. */
type LedgerStore = OutflowLedger & WindowSummaryStore;

function record(chain: string, t: number, block: number, n: number): OutflowRecord {
  const txHash = `0x${n.toString(16).padStart(64, '0')}`;
  return {
    id: outflowId(chain, txHash, null),
    chain,
    block,
    blockHash: `0x${block.toString(16).padStart(64, '0')}`,
    blockTime: t,
    txHash,
    index: null,
    contract: null,
    from: '0x1111111111111111111111111111111111111111',
    to: '0x2222222222222222222222222222222222222222',
    amount: BigInt(n),
    t,
    asset: 'ETH',
    decimals: 18,
    known: true,
    own: false,
    usdMicros: BigInt(n) * 1_000n,
    priceSource: 'static',
  };
}

describe('the ledger log', () => {
  const at = (log: LedgerLog, version: number) => ({ epoch: log.epoch, version });

  it('answers from the earliest change after the cached version, +∞ when none, −∞ when it cannot tell', () => {
    let log = nextLedgerLog(undefined, undefined, 'e1');
    expect(log).toEqual({ epoch: 'e1', version: 0, changes: [] });
    log = nextLedgerLog(log, T0 + 50, 'unused');
    log = nextLedgerLog(log, T0 + 10, 'unused');
    log = nextLedgerLog(log, T0 + 30, 'unused');
    expect(changedFrom(log, at(log, 3))).toBe(Number.POSITIVE_INFINITY);
    expect(changedFrom(log, at(log, 2))).toBe(T0 + 30);
    expect(changedFrom(log, at(log, 1))).toBe(T0 + 10);
    expect(changedFrom(log, at(log, 0))).toBe(T0 + 10);
    expect(changedFrom(log, { epoch: 'e0', version: 3 })).toBe(Number.NEGATIVE_INFINITY);
    expect(changedFrom(log, at(log, 4))).toBe(Number.NEGATIVE_INFINITY);
    expect(changedFrom(undefined, at(log, 3))).toBe(Number.NEGATIVE_INFINITY);
  });

  it('forgets versions older than its length: a cache that far behind reads the ledger whole', () => {
    let log = nextLedgerLog(undefined, undefined, 'e1');
    for (let i = 0; i < LEDGER_LOG_LENGTH + 3; i++) log = nextLedgerLog(log, T0 + i, 'unused');
    expect(log.changes).toHaveLength(LEDGER_LOG_LENGTH);
    expect(changedFrom(log, at(log, 3))).toBe(T0 + 3);
    expect(changedFrom(log, at(log, 2))).toBe(Number.NEGATIVE_INFINITY);
  });

  it('a write that changed nothing keeps the version (caches stay valid)', () => {
    const log = nextLedgerLog(nextLedgerLog(undefined, undefined, 'e1'), T0, 'unused');
    expect(nextLedgerLog(log, undefined, 'e2')).toBe(log);
  });
});

type Op =
  | { kind: 'record'; chain: number; dts: number[] }
  | { kind: 'remove'; chain: number; afterDt: number }
  | { kind: 'bump'; pick: number; process: number }
  | { kind: 'restart'; chain: number; process: number }
  | { kind: 'legacy'; chain: number }
  | { kind: 'poll'; reader: number; chain: number; sinceDt: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('record' as const),
      chain: fc.nat(2),
      dts: fc.array(fc.integer({ min: 0, max: 3_000 }), { minLength: 1, maxLength: 4 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('remove' as const), chain: fc.nat(2), afterDt: fc.nat(3_000) }),
  },
  // Bumps outnumber writes, so that polls often find no write in flight (then they must match exactly).
  { weight: 7, arbitrary: fc.record({ kind: fc.constant('bump' as const), pick: fc.nat(), process: fc.nat(1) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('restart' as const), chain: fc.nat(2), process: fc.nat(1) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('legacy' as const), chain: fc.nat(2) }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('poll' as const),
      reader: fc.nat(1),
      chain: fc.nat(2),
      sinceDt: fc.integer({ min: 0, max: 2_000 }),
    }),
  },
);

/**
 * Runs one interleaving. A write (records or a removal) and its bump are separate steps, as they are
 * separate requests: between them a poll may see the write without its bump ("in flight"), which is
 * no different from the write happening after the poll. Bumps are made with the very functions the
 * poller uses (saveOwnSummary after recording, recordLedgerChange after a removal), by one of two
 * writer processes per chain, each remembering what it last wrote until it restarts.
 */
async function runInterleaving(store: LedgerStore, ops: readonly Op[]): Promise<{ served: number }> {
  const readers = [new LedgerCache(), new LedgerCache()];
  const writers = CHAINS.map(() => [new LedgerCache(), new LedgerCache()]);
  const pending: { chain: string; fromT: number; removal: boolean }[] = [];
  const lease = new Map<string, number>(CHAINS.map((c) => [c, 0]));
  let n = 1;
  let nowMs = 0;
  const summaryOf = (chain: string): ChainSummary => {
    const leaseVersion = (lease.get(chain) ?? 0) + 1;
    lease.set(chain, leaseVersion);
    return { chain, leaseVersion, series: {}, updatedAtMs: ++nowMs };
  };
  const compare = async (reader: LedgerCache, poller: string, since: number, mustEqual: boolean) => {
    const others = CHAINS.filter((c) => c !== poller);
    const summaries = new Map((await store.summariesOf(others)).map((s) => [s.chain, s]));
    for (const c of others) {
      const cached = await reader.historyOf(c, since, summaries.get(c), (chain, s) => store.outflowsSince(chain, s));
      if (mustEqual) expect(cached).toEqual(await store.outflowsSince(c, since));
    }
  };
  for (const op of ops) {
    switch (op.kind) {
      case 'record': {
        const chain = CHAINS[op.chain] as string;
        const records = op.dts.map((dt) => record(chain, T0 + dt, T0 + dt, n++));
        await store.recordOutflows(records);
        pending.push({ chain, fromT: Math.min(...records.map((r) => r.t)), removal: false });
        break;
      }
      case 'remove': {
        // A reorg or a lease recovery: records above a block go, from a window time on (blocks track time here).
        const chain = CHAINS[op.chain] as string;
        await store.removeOutflowsAfter(chain, T0 + op.afterDt, T0 + op.afterDt);
        pending.push({ chain, fromT: T0 + op.afterDt, removal: true });
        break;
      }
      case 'bump': {
        const write = pending.splice(op.pick % Math.max(1, pending.length), 1)[0];
        if (!write) break;
        const memory = writers[CHAINS.indexOf(write.chain as (typeof CHAINS)[number])]?.[op.process];
        if (write.removal) await recordLedgerChange(store, memory, write.chain, write.fromT);
        else expect(await saveOwnSummary(store, memory, summaryOf(write.chain), write.fromT)).toBeDefined();
        break;
      }
      case 'restart': {
        writers[op.chain]?.splice(op.process, 1, new LedgerCache());
        break;
      }
      case 'legacy': {
        // An older build's poller: a summary with no ledger log, written with no change to the ledger.
        await store.saveSummary(summaryOf(CHAINS[op.chain] as string));
        break;
      }
      case 'poll': {
        const reader = readers[op.reader] as LedgerCache;
        await compare(reader, CHAINS[op.chain] as string, T0 + op.sinceDt, pending.length === 0);
        break;
      }
    }
  }
  // Every write bumps in the end: then every reader's next read is the ledger as it is.
  while (pending.length > 0) {
    const write = pending.shift() as (typeof pending)[number];
    const memory = writers[CHAINS.indexOf(write.chain as (typeof CHAINS)[number])]?.[0];
    if (write.removal) await recordLedgerChange(store, memory, write.chain, write.fromT);
    else await saveOwnSummary(store, memory, summaryOf(write.chain), write.fromT);
  }
  for (const reader of readers) for (const c of CHAINS) await compare(reader, c, T0 + 500, true);
  return { served: readers.reduce((a, r) => a + r.stats.served + r.stats.partial, 0) };
}

describe('a cached ledger equals a fresh read whenever the version says nothing changed', () => {
  it('a reorg removal after a poll cached the chain: the next poll re-reads from the removal on', async () => {
    const store = new MemoryBreakerStore();
    const ops: Op[] = [
      { kind: 'record', chain: 0, dts: [100, 200, 300] },
      { kind: 'bump', pick: 0, process: 0 },
      { kind: 'poll', reader: 0, chain: 1, sinceDt: 0 },
      { kind: 'remove', chain: 0, afterDt: 150 },
      { kind: 'bump', pick: 0, process: 0 },
      { kind: 'poll', reader: 0, chain: 1, sinceDt: 0 },
    ];
    await runInterleaving(store, ops);
    expect((await store.outflowsSince('ethereum', T0)).map((r) => r.t)).toEqual([T0 + 100]);
  });

  it('on the in-memory store, over random interleavings of three chains', async () => {
    let served = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 60 }), async (ops) => {
        served += (await runInterleaving(new MemoryBreakerStore(), ops)).served;
      }),
      { numRuns: 600 },
    );
    // The property is not vacuous: the cache answered from memory (in whole or in part) many times.
    expect(served).toBeGreaterThan(600);
  });

  describe('on dynalite (the DynamoDB conditions)', () => {
    let t: TestStore;
    beforeAll(async () => {
      t = await startTestStore();
    });
    afterAll(() => t.close());

    it('over random interleavings of three chains', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
          // A fresh set of chain partitions per run on one server: the chains' names carry the run.
          const store = new RunScopedStore(t.store, `r${run++}-`);
          await runInterleaving(store, ops);
        }),
        { numRuns: 25 },
      );
    });
  });
});

/**
 * The DynamoDB store with every chain id prefixed, so each property run starts from empty partitions
 * on the one dynalite server (records and summaries are read back with the prefix removed).
 */
class RunScopedStore implements LedgerStore {
  constructor(
    private readonly inner: LedgerStore,
    private readonly prefix: string,
  ) {}
  private scoped = (chain: string) => this.prefix + chain;
  private unscoped = <T extends { chain: string }>(x: T): T => ({ ...x, chain: x.chain.slice(this.prefix.length) });

  async recordOutflows(records: OutflowRecord[]): Promise<void> {
    await this.inner.recordOutflows(records.map((r) => ({ ...r, chain: this.scoped(r.chain) })));
  }
  async outflowsSince(chain: string, sinceT: number): Promise<OutflowRecord[]> {
    return (await this.inner.outflowsSince(this.scoped(chain), sinceT)).map(this.unscoped);
  }
  async removeOutflowsAfter(chain: string, afterBlock: number, sinceT: number): Promise<number> {
    return this.inner.removeOutflowsAfter(this.scoped(chain), afterBlock, sinceT);
  }
  async saveSummary(summary: ChainSummary, expected?: LedgerStamp): Promise<boolean> {
    return this.inner.saveSummary({ ...summary, chain: this.scoped(summary.chain) }, expected);
  }
  async summariesOf(chains: readonly string[]): Promise<ChainSummary[]> {
    return (await this.inner.summariesOf(chains.map(this.scoped))).map(this.unscoped);
  }
}
