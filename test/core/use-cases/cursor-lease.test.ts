import { describe, expect, it } from 'vitest';
import { MemoryBreakerStore } from '../../../functions/adapters/memory/memory-breaker-store.ts';
import type { BreakerStore } from '../../../functions/core/ports.ts';
import type { ChainCursor, Page } from '../../../functions/core/state.ts';
import { DEFAULT_LEASE_MS } from '../../../functions/core/use-cases/cursor-lease.ts';
import { type PollDeps, pollOnce } from '../../../functions/core/use-cases/poll-chain.ts';
import { ADDR, compile } from '../../support/fixtures.ts';
import { initialiseForTest } from '../../support/initialise.ts';
import { SCRIPTED_BASE_T, ScriptedChain } from '../../support/scripted-chain.ts';

const config = compile({ global: { singleTxUsd: 100 } });
const chain = { ...config.chains.get('ethereum')!, startBlock: 0, confirmations: 0, maxBlocksPerPoll: 100 };

async function world(outflows: Record<number, number>) {
  const store = new MemoryBreakerStore();
  const pages: Page[] = [];
  const clock = { ms: SCRIPTED_BASE_T * 1000, now: () => clock.ms };
  await initialiseForTest(store, clock);
  const reader = new ScriptedChain('ethereum', 10, {
    from: ADDR.ethHot,
    to: ADDR.stranger,
    amount: 10n ** 18n, // $1,000: each one trips the $100 single-transfer limit
    outflows,
  });
  const deps = (owner: string, s: BreakerStore = store): PollDeps => ({
    config,
    chain,
    reader,
    store: s,
    publisher: { publish: async (p: Page) => void pages.push(p) },
    clock,
    owner,
  });
  return { store, pages, clock, deps };
}

/**
 * The real memory store with hooks on two calls, to stall a poller at a chosen point (as a slow or
 * paused process would) and let another act meanwhile: fault injection, not a stand-in.
 */
function hooked(
  store: MemoryBreakerStore,
  hooks: {
    afterSaveCursor?: (cursor: ChainCursor) => Promise<void>;
    beforeRecord?: (n: number) => Promise<void>;
  },
) {
  const calls = { saveCursor: 0, recordOutflows: 0 };
  return {
    calls,
    store: new Proxy(store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop === 'saveCursor') {
          return async (...args: Parameters<BreakerStore['saveCursor']>) => {
            await target.saveCursor(...args);
            calls.saveCursor++;
            await hooks.afterSaveCursor?.(args[0]);
          };
        }
        if (prop === 'recordOutflows') {
          return async (...args: Parameters<BreakerStore['recordOutflows']>) => {
            await hooks.beforeRecord?.(++calls.recordOutflows);
            await target.recordOutflows(...args);
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as BreakerStore,
  };
}

describe('the cursor lease', () => {
  it('a poller that died holding the lease is recovered by the next one within 15 s (the default lease)', async () => {
    const w = await world({ 4: 1 });
    const dying = hooked(w.store, {
      beforeRecord: async () => {
        throw new Error('killed after taking the lease');
      },
    });
    await expect(pollOnce(w.deps('dead', dying.store))).rejects.toThrow(/killed/);
    expect((await w.store.getCursor('ethereum'))?.lease?.owner).toBe('dead');

    w.clock.ms += 14_999;
    expect((await pollOnce(w.deps('next'))).result).toMatchObject({ kind: 'busy' });
    w.clock.ms += 2;
    expect((await pollOnce(w.deps('next'))).result).toMatchObject({ kind: 'advanced', to: 10 });
    expect(await w.store.outflowsSince('ethereum', 0)).toHaveLength(1);
    expect(w.pages.filter((p) => p.kind === 'trip')).toHaveLength(1);
  });

  it('a renewal that finds the lease taken stops the batch before it records anything', async () => {
    const w = await world({ 4: 1 });
    let other: Awaited<ReturnType<typeof pollOnce>> | undefined;
    // The first poller stalls right after leasing, past its lease; a second one recovers the range.
    const stalled = hooked(w.store, {
      afterSaveCursor: async (cursor) => {
        if (cursor.lease?.owner !== 'first' || other) return;
        w.clock.ms += DEFAULT_LEASE_MS + 1;
        other = await pollOnce(w.deps('second'));
      },
    });
    const first = await pollOnce(w.deps('first', stalled.store));

    expect(other?.result).toMatchObject({ kind: 'advanced', to: 10 });
    expect(first.result).toEqual({ kind: 'busy', reason: 'lease lost during the batch' });
    expect(stalled.calls.recordOutflows).toBe(0);
    expect(await w.store.outflowsSince('ethereum', 0)).toHaveLength(1);
    expect(w.pages.filter((p) => p.kind === 'trip')).toHaveLength(1);
    const cursor = await w.store.getCursor('ethereum');
    expect(cursor?.lastBlock).toBe(10);
    expect(cursor?.lease).toBeUndefined();
  });

  it('a poll that takes longer than its lease keeps it by renewing before each write', async () => {
    // 450 outflows: recorded in three chunks, each taking half a lease.
    const w = await world({ 3: 150, 5: 150, 7: 150 });
    const seen: string[] = [];
    const slow = hooked(w.store, {
      beforeRecord: async (n) => {
        w.clock.ms += DEFAULT_LEASE_MS / 2;
        if (n === 3) seen.push((await pollOnce(w.deps('intruder'))).result.kind);
      },
    });
    const { result } = await pollOnce(w.deps('slow', slow.store));

    expect(result).toMatchObject({ kind: 'advanced', to: 10 });
    expect(slow.calls.recordOutflows).toBe(3);
    // After 1.5 leases the lease is still held: the intruder backed off instead of recovering it.
    expect(seen).toEqual(['busy']);
    expect(await w.store.outflowsSince('ethereum', 0)).toHaveLength(450);
    expect((await w.store.getCursor('ethereum'))?.lease).toBeUndefined();
  });
});
