import { describe, expect, it } from 'vitest';
import { MemoryBreakerStore } from '../../../functions/adapters/memory/memory-breaker-store.ts';
import type { ChainReader } from '../../../functions/core/chain-kind.ts';
import type { BreakerStore } from '../../../functions/core/ports.ts';
import { type BreakerState, initialState, type Page } from '../../../functions/core/state.ts';
import { pollOnce } from '../../../functions/core/use-cases/poll-chain.ts';
import { combineSteps, type DecideStep, type PollCheck } from '../../../functions/core/use-cases/poll-decision.ts';
import { ADDR, compile } from '../../support/fixtures.ts';
import { initialiseForTest } from '../../support/initialise.ts';
import { SCRIPTED_BASE_T, ScriptedChain } from '../../support/scripted-chain.ts';

const BASE_T = SCRIPTED_BASE_T;
/** Blocks 0…head; `outflowAt` holds one 2-ETH outflow of the hot wallet to a stranger. */
const scripted = (head: number, outflowAt?: number) =>
  new ScriptedChain('ethereum', head, {
    from: ADDR.ethHot,
    to: ADDR.stranger,
    amount: 2n * 10n ** 18n,
    outflows: outflowAt === undefined ? {} : { [outflowAt]: 1 },
  });

/** The real memory store, counting its state writes (a spy on a real part, not a stand-in). */
async function countingStore(): Promise<{ store: BreakerStore; stateWrites: () => number }> {
  const store = new MemoryBreakerStore();
  await initialiseForTest(store);
  let writes = 0;
  const save = store.saveState.bind(store);
  store.saveState = async (next, expected) => {
    writes++;
    return save(next, expected);
  };
  return { store, stateWrites: () => writes };
}

/** A check as seccore/secadapt would add one: it pages once per finding id. */
function pagingCheck(id: string): PollCheck & { runs: number } {
  const check = async () => {
    check.runs++;
    const step: DecideStep = (state) =>
      state.outbox.some((e) => e.id === id) || state.warnedUntil[id] !== undefined
        ? undefined
        : {
            ...state,
            warnedUntil: { ...state.warnedUntil, [id]: Number.MAX_SAFE_INTEGER },
            outbox: [
              ...state.outbox,
              { kind: 'page', id, page: { id, kind: 'blind', subject: `check ${id}`, text: 'found', details: {} } },
            ],
          };
    return step;
  };
  check.runs = 0;
  return check;
}

describe('combineSteps', () => {
  const base: BreakerState = { ...initialState(), version: 7, updatedAtMs: 1 };
  const addPage =
    (id: string): DecideStep =>
    (s) => ({
      ...s,
      // A step that bumps the version itself (as applyBreaches does) must not shift the next step's ids.
      version: s.version + 1,
      outbox: [
        ...s.outbox,
        { kind: 'page', id: `${id}-${s.version + 1}`, page: { id, kind: 'warn', subject: id, text: id, details: {} } },
      ],
    });

  it('writes every step as one new version, ids agreeing on it', () => {
    const next = combineSteps([addPage('a'), () => undefined, addPage('b')])(base, 99);
    expect(next?.version).toBe(8);
    expect(next?.updatedAtMs).toBe(99);
    expect(next?.outbox.map((e) => e.id)).toEqual(['a-8', 'b-8']);
  });

  it('decides nothing when no step changes anything', () => {
    expect(combineSteps([() => undefined, () => undefined])(base, 99)).toBeUndefined();
    expect(combineSteps([])(base, 99)).toBeUndefined();
  });
});

describe('a poll commits one decision and flushes once', () => {
  const config = compile({ global: { singleTxUsd: 100 } });
  const chain = { ...config.chains.get('ethereum')!, startBlock: 0, confirmations: 0, maxBlocksPerPoll: 100 };

  function deps(reader: ChainReader, store: BreakerStore, checks: PollCheck[], pages: Page[]) {
    return {
      config,
      chain,
      reader,
      store,
      publisher: { publish: async (p: Page) => void pages.push(p) },
      clock: { now: () => BASE_T * 1000 },
      owner: 'poller',
      checks,
    };
  }

  it('a trip and a check found in the same poll are one state write, paged once after the cursor moved', async () => {
    const { store, stateWrites } = await countingStore();
    const pages: Page[] = [];
    const check = pagingCheck('check-1');
    const before = await store.getState();
    const { result } = await pollOnce(deps(scripted(10, 4), store, [check], pages));
    expect(result).toMatchObject({ kind: 'advanced', to: 10 });
    // One write for the decision (trip + check page), one for the outbox trim; progress has its own item.
    expect(stateWrites()).toBe(2);
    const after = await store.getState();
    expect(after.version).toBe(before.version + 2);
    expect(after.tripped.global).toBeDefined();
    expect((await store.getProgress('ethereum'))?.through).toBe(10);
    expect(after.outbox).toEqual([]);
    expect(pages.map((p) => p.kind).sort()).toEqual(['blind', 'trip']);
    expect(check.runs).toBe(1);
  });

  it('checks run on idle polls too, and what they find is committed and paged once', async () => {
    const { store, stateWrites } = await countingStore();
    const pages: Page[] = [];
    const reader = scripted(10);
    const quiet = deps(reader, store, [], pages);
    expect((await pollOnce(quiet)).result).toMatchObject({ kind: 'idle', lastBlock: 10 });
    const writesBefore = stateWrites();

    const check = pagingCheck('check-idle');
    const checked = deps(reader, store, [check], pages);
    expect((await pollOnce(checked)).result).toMatchObject({ kind: 'idle', lastBlock: 10 });
    expect((await pollOnce(checked)).result).toMatchObject({ kind: 'idle', lastBlock: 10 });
    expect(check.runs).toBe(2);
    expect(pages.filter((p) => p.id === 'check-idle')).toHaveLength(1);
    // The finding's write and its outbox trim; the second poll found it recorded and wrote nothing.
    expect(stateWrites() - writesBefore).toBe(2);
  });

  it('an idle poll without checks writes nothing', async () => {
    const { store, stateWrites } = await countingStore();
    const d = deps(scripted(10), store, [], []);
    await pollOnce(d);
    const writes = stateWrites();
    expect((await pollOnce(d)).result.kind).toBe('idle');
    expect(stateWrites()).toBe(writes);
  });
});

describe('a poll that trips nothing writes no shared item', () => {
  const config = compile({ global: { singleTxUsd: 1_000_000 } });
  const chain = { ...config.chains.get('ethereum')!, startBlock: 0, confirmations: 0, maxBlocksPerPoll: 100 };

  it('records its outflows and its chain’s evaluation progress, and leaves the breaker state alone', async () => {
    const { store, stateWrites } = await countingStore();
    const before = await store.getState();
    const deps = {
      config,
      chain,
      reader: scripted(10, 4),
      store,
      publisher: { publish: async () => {} },
      clock: { now: () => BASE_T * 1000 },
      owner: 'poller',
    };
    const { result } = await pollOnce(deps);
    expect(result).toMatchObject({ kind: 'advanced', to: 10 });
    expect(result.kind === 'advanced' && result.outflows).toHaveLength(1);
    expect(stateWrites()).toBe(0);
    expect(await store.getState()).toEqual(before);
    expect(await store.getProgress('ethereum')).toMatchObject({ through: 10, decidedOn: before.version, version: 1 });
  });
});
