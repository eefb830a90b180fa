import { parseUnits } from 'ethers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BreakerStore } from '../../functions/core/ports.ts';
import { customer, type Harness, startHarness } from './harness.ts';

/**
 * A crash between any two writes. dynalite cannot crash on cue, so this wraps the REAL store and
 * throws (as a killed Lambda would stop) just before the chosen call reaches it — the one place
 * these tests use a fault-injecting double.
 */
function crashingStore(store: BreakerStore, method: keyof BreakerStore, nth: number): BreakerStore {
  let calls = 0;
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (prop === method && ++calls === nth) throw new Error(`injected crash before ${String(method)} #${nth}`);
        return value.apply(target, args);
      };
    },
  });
}

const crashPoints: [string, keyof BreakerStore, number][] = [
  ['after taking the lease, before writing outflows', 'recordOutflows', 1],
  ['after writing outflows, before evaluating', 'getState', 1],
  ['after evaluating, before writing the trip', 'saveState', 1],
  ['after writing the trip, before committing the cursor', 'saveCursor', 3], // #1 creates it, #2 leases
];

describe('a crash between any two writes loses nothing and double-counts nothing', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ globalUsd10m: 10_000 });
  });
  afterEach(async () => {
    await h.stop();
  });

  it.each(crashPoints)('crash %s', async (_name, method, nth) => {
    const txs: string[] = [];
    for (const usd of [7000, 6000, 50]) {
      const tx = await h.usdt.connect(h.hot).getFunction('transfer')(customer(), parseUnits(String(usd), 6));
      txs.push(tx.hash as string);
    }
    await h.anvil.mine(1);

    await expect(h.poll('crashing-poller', crashingStore(h.store, method, nth))).rejects.toThrow(/injected crash/);
    // The crashed poller's lease blocks others until it expires …
    expect((await h.poll('second-poller')).kind).toBe('busy');
    h.clock.offsetMs += 31_000;
    // … then a second poller recovers the range.
    await h.catchUp('second-poller');

    const out = await h.outflows();
    expect(out.map((r) => r.txHash).sort()).toEqual([...txs].sort());
    expect(h.publisher.ofKind('trip')).toHaveLength(1);
    expect((await h.store.listAudit(20)).filter((a) => a.action === 'trip')).toHaveLength(1);
    const state = await h.store.getState();
    expect(Object.keys(state.tripped)).toEqual(['global']);
    expect(state.outbox).toEqual([]);
    const cursor = await h.store.getCursor('devnet');
    expect(cursor?.lease).toBeUndefined();
  });

  it('a page that fails to publish stays queued and goes out on the next flush, once', async () => {
    await h.usdt.connect(h.hot).getFunction('transfer')(customer(), parseUnits('12000', 6));
    await h.anvil.mine(1);
    h.publisher.failNext = 1;
    await expect(h.poll()).rejects.toThrow(/not carried out/);
    expect(h.publisher.ofKind('trip')).toHaveLength(0);
    expect((await h.store.getState()).outbox.some((e) => e.kind === 'page')).toBe(true);
    const { flushOutbox } = await import('../../functions/core/use-cases/outbox.ts');
    await flushOutbox({ store: h.store, publisher: h.publisher });
    expect(h.publisher.ofKind('trip')).toHaveLength(1);
    expect((await h.store.getState()).outbox).toEqual([]);
    // The outflows were committed despite the failed page: nothing is re-read or re-counted.
    expect((await h.poll()).kind).toBe('idle');
    expect(await h.outflows()).toHaveLength(1);
  });
});
