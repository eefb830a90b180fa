import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../../functions/adapters/config/config-file.ts';
import { MemoryBreakerStore } from '../../../functions/adapters/memory/memory-breaker-store.ts';
import type { OutflowRecord } from '../../../functions/core/model.ts';
import type { Page } from '../../../functions/core/state.ts';
import { emptyHistoryCache, type PollDeps, pollOnce } from '../../../functions/core/use-cases/poll-chain.ts';
import { runPoller } from '../../../functions/core/use-cases/run-poller.ts';
import { ClockedChain } from '../../support/clocked-chain.ts';
import { configInput } from '../../support/fixtures.ts';
import { initialiseForTest } from '../../support/initialise.ts';

const START_MS = 1_800_000_000_000;
const BLOCK_MS = 2_000;

/** Counts reads of Ethereum's own ledger: what keeping the history across runs saves. */
class CountingStore extends MemoryBreakerStore {
  ownReads = 0;
  override async outflowsSince(chain: string, sinceT: number): Promise<OutflowRecord[]> {
    if (chain === 'ethereum') this.ownReads++;
    return super.outflowsSince(chain, sinceT);
  }
}

/**
 * Each payment is 1 ETH = $1,000; the global hourly limit is $5,500, so the sixth payment trips — only if the
 * run that records it counts the five recorded by earlier runs.
 */
async function world() {
  const input = configInput({ global: { usd: { '1h': 5_500 } } });
  Object.assign(input.chains.ethereum as object, { blockTimeSeconds: BLOCK_MS / 1000 });
  const config = compileConfig(input, 'test');
  const chain = { ...config.chains.get('ethereum')!, startBlock: 0, confirmations: 0, maxBlocksPerPoll: 100 };
  const store = new CountingStore();
  await initialiseForTest(store);
  const pages: Page[] = [];
  let now = START_MS;
  const clock = { now: () => now };
  const reader = new ClockedChain(clock.now, START_MS, BLOCK_MS);
  // One history per process, as functions/runtime/compose.ts pollerDeps hands it to every run of the chain.
  const history = emptyHistoryCache();
  const deps = (owner: string): PollDeps => ({
    config,
    chain,
    reader,
    store,
    publisher: { publish: async (p: Page) => void pages.push(p) },
    clock,
    owner,
    history,
  });
  const run = (owner: string) =>
    runPoller(deps(owner), {
      deadlineMs: now + 20_000,
      intervalMs: BLOCK_MS,
      sleep: async (ms) => {
        now += ms;
      },
    });
  const payAt = (...offsets: number[]) => {
    const head = Math.floor((now - START_MS) / BLOCK_MS);
    for (const o of offsets) reader.payments.add(head + o);
  };
  return { store, pages, history, deps, run, payAt, advance: (ms: number) => (now += ms) };
}

describe("a chain's own history is kept across the runs of one process", () => {
  it('the next run (a warm invocation) reads none of its own ledger again, and still counts what earlier runs recorded', async () => {
    const { store, pages, history, run, payAt } = await world();
    payAt(2, 4, 6);
    const first = await run('invocation-1');
    expect(first.outflows).toBe(3);
    const coldReads = store.ownReads;
    expect(coldReads).toBeGreaterThan(0);
    expect(history.inUse).toBe(false);

    payAt(2, 4, 6);
    const second = await run('invocation-2');
    expect(second.outflows).toBe(3);
    // The run-end save of the cursor keeps the history valid: before, it made every run re-read 14 days.
    expect(store.ownReads).toBe(coldReads);
    // Exact: the sixth $1,000 payment within the hour trips the $5,500 limit.
    expect(pages.filter((p) => p.kind === 'trip')).toHaveLength(1);
    const stored = await store.outflowsSince('ethereum', 0);
    expect(history.records.map((r) => r.id).sort()).toEqual(stored.map((r) => r.id).sort());
  });

  it('a run after another poller moved the cursor re-reads, and sees that poller’s outflow', async () => {
    const { store, pages, deps, run, payAt, advance } = await world();
    payAt(2, 4);
    await run('invocation-1');
    // Another container's poller (not this process) records three payments: this process's copy is stale.
    payAt(1, 2, 3);
    advance(4 * BLOCK_MS);
    const other = await pollOnce({ ...deps('other-container'), history: emptyHistoryCache() });
    expect(other.result).toMatchObject({ kind: 'advanced' });
    const before = store.ownReads;
    payAt(2);
    await run('invocation-2');
    expect(store.ownReads).toBeGreaterThan(before);
    // 2 + 3 + 1 payments: the sixth trips only if the re-read counted the other poller's three.
    expect(pages.filter((p) => p.kind === 'trip')).toHaveLength(1);
  });

  it('a run that fails gives the history back for the next run', async () => {
    const { history, deps } = await world();
    const failing = {
      ...deps('invocation-1'),
      reader: { ...deps('x').reader, head: async () => Promise.reject(new Error('boom')) },
    };
    await expect(
      runPoller(failing, { deadlineMs: START_MS + 5_000, intervalMs: BLOCK_MS, sleep: async () => undefined }),
    ).rejects.toThrow('boom');
    expect(history.inUse).toBe(false);
  });
});
