import { describe, expect, it } from 'vitest';
import { MemoryBreakerStore } from '../../functions/adapters/memory/memory-breaker-store.ts';
import { StateConflictError } from '../../functions/core/errors.ts';
import type { OutflowRecord } from '../../functions/core/model.ts';
import { type AuditRecord, type ChainCursor, initialState } from '../../functions/core/state.ts';

/** The replay's embedded store keeps the DynamoDB store's contract: conditional writes, idempotent records. */

function outflow(n: number, t: number, chain = 'ethereum'): OutflowRecord {
  return {
    chain,
    block: n,
    blockHash: `0xb${n}`,
    blockTime: t,
    txHash: `0xt${n}`,
    index: null,
    contract: null,
    from: '0xhot',
    to: '0xdest',
    amount: BigInt(n),
    id: `${chain}:0xt${n}:native`,
    t,
    asset: 'ETH',
    decimals: 18,
    known: true,
    own: false,
    usdMicros: BigInt(n) * 1_000_000n,
    priceSource: 'static',
  };
}

describe('MemoryBreakerStore', () => {
  it('writes the breaker state only on the expected version; a loser gets the current state', async () => {
    const store = new MemoryBreakerStore();
    expect(await store.getState()).toEqual(initialState());
    const first = { ...initialState(), version: 1, warnedUntil: { a: 1 } };
    await store.saveState(first, 0);
    await expect(store.saveState({ ...initialState(), version: 1 }, 0)).rejects.toSatisfy(
      (e) => e instanceof StateConflictError && (e.current as typeof first).warnedUntil.a === 1,
    );
    await expect(store.saveState({ ...first, version: 1 }, 1)).rejects.toThrow(RangeError);
    // What the caller holds is a copy: mutating it does not change the store.
    const read = await store.getState();
    read.warnedUntil.a = 99;
    expect((await store.getState()).warnedUntil.a).toBe(1);
  });

  it('cursors: created once, then advanced version by version', async () => {
    const store = new MemoryBreakerStore();
    const cursor: ChainCursor = {
      chain: 'ethereum',
      lastBlock: 9,
      recent: [],
      lastT: 0,
      epoch: 0,
      version: 1,
      updatedAtMs: 0,
    };
    await store.saveCursor(cursor, undefined);
    await expect(store.saveCursor(cursor, undefined)).rejects.toBeInstanceOf(StateConflictError);
    await store.saveCursor({ ...cursor, lastBlock: 10, version: 2 }, 1);
    await expect(store.saveCursor({ ...cursor, version: 2 }, 1)).rejects.toBeInstanceOf(StateConflictError);
    expect((await store.getCursor('ethereum'))?.lastBlock).toBe(10);
  });

  it('records each outflow once, returns them by window time, and removes orphaned blocks', async () => {
    const store = new MemoryBreakerStore();
    await store.recordOutflows([outflow(3, 300), outflow(1, 100)]);
    await store.recordOutflows([outflow(2, 200), outflow(1, 100)]);
    await store.recordOutflows([outflow(9, 150, 'bsc')]);
    expect((await store.outflowsSince('ethereum', 0)).map((r) => r.block)).toEqual([1, 2, 3]);
    expect((await store.outflowsSince('ethereum', 150)).map((r) => r.block)).toEqual([2, 3]);
    expect(await store.removeOutflowsAfter('ethereum', 1, 0)).toBe(2);
    expect((await store.outflowsSince('ethereum', 0)).map((r) => r.block)).toEqual([1]);
    expect((await store.outflowsSince('bsc', 0)).map((r) => r.block)).toEqual([9]);
  });

  it('audit records are idempotent by id and listed newest first', async () => {
    const store = new MemoryBreakerStore();
    const record = (id: string, atMs: number): AuditRecord => ({
      id,
      atMs,
      action: 'trip',
      actor: 'breaker',
      details: {},
    });
    await store.appendAudit(record('a', 1));
    await store.appendAudit(record('b', 3));
    await store.appendAudit(record('a', 2));
    expect((await store.listAudit(10)).map((r) => r.id)).toEqual(['b', 'a']);
    expect(await store.listAudit(1)).toHaveLength(1);
  });
});
