/**
 * "A trip is never lost to a reset", across the two use cases that write the breaker state: a
 * poller evaluating a batch while a scope is halted, and an operator's reset landing in between.
 * The store is the in-memory BreakerStore (the DynamoDB store's conditional-write semantics); the
 * chain is scripted, because the interleaving has to be exact.
 */
import { describe, expect, it } from 'vitest';
import { MemoryBreakerStore } from '../../../functions/adapters/memory/memory-breaker-store.ts';
import { haltedFor, resetBreaker } from '../../../functions/core/breaker.ts';
import type { ChainReader } from '../../../functions/core/chain-kind.ts';
import { evaluateRules } from '../../../functions/core/evaluate.ts';
import type { BlockRef, ChainTransfer, RangeRead } from '../../../functions/core/model.ts';
import type { ChainCursor, Page } from '../../../functions/core/state.ts';
import { commitOnTripRecords } from '../../../functions/core/use-cases/operator-transition.ts';
import { pollOnce } from '../../../functions/core/use-cases/poll-chain.ts';
import { readProgress, resetBreakerUseCase, reviewedReset } from '../../../functions/core/use-cases/reset-breaker.ts';
import { ADDR, compile, spanOf } from '../../support/fixtures.ts';
import { initialiseForTest } from '../../support/initialise.ts';

const BASE_T = 1_700_000_000;
const config = compile({ chains: { ethereum: { usd: { '10m': 500_000 }, halt: 'chain' } } });
const ethereum = config.chains.get('ethereum')!;

class ScriptedChain implements ChainReader {
  readonly chain = 'ethereum';
  headNumber = 0;
  private readonly sends = new Map<number, ChainTransfer[]>();

  send(block: number, eth: bigint) {
    const list = this.sends.get(block) ?? [];
    list.push({
      chain: 'ethereum',
      block,
      blockHash: hash(block),
      blockTime: BASE_T + block * 12,
      txHash: `0x${(block * 100 + list.length).toString(16).padStart(64, '0')}`,
      index: null,
      contract: null,
      from: ADDR.ethHot,
      to: ADDR.stranger,
      amount: eth * 10n ** 18n,
    });
    this.sends.set(block, list);
  }
  async head() {
    return this.headNumber;
  }
  async readRange(from: number, to: number): Promise<RangeRead> {
    const blocks: BlockRef[] = [];
    for (let n = from; n <= to; n++) blocks.push(ref(n));
    return { blocks, transfers: blocks.flatMap((b) => this.sends.get(b.number) ?? []) };
  }
  async blockRefs(numbers: number[]) {
    return numbers.map(ref);
  }
}

function hash(n: number): string {
  return `0x${n.toString(16).padStart(64, '0')}`;
}
function ref(n: number): BlockRef {
  return { number: n, hash: hash(n), parentHash: hash(n - 1), time: BASE_T + n * 12 };
}

/** Runs `beforeCommit` once, just before the poller commits its cursor past a leased batch. */
class InterleavingStore extends MemoryBreakerStore {
  beforeCommit: (() => Promise<void>) | undefined;
  override async saveCursor(next: ChainCursor, expectedVersion: number | undefined): Promise<void> {
    const current = await this.getCursor(next.chain);
    const hook = this.beforeCommit;
    if (hook && current?.lease && !next.lease && next.lastBlock > current.lastBlock) {
      this.beforeCommit = undefined;
      await hook();
    }
    return super.saveCursor(next, expectedVersion);
  }
}

describe('a reset racing a poll', () => {
  // Was a bug: the reset took what was reviewed from the cursors, which are not written with the
  // evaluation; an in-flight batch ended up neither reviewed nor evaluated against the re-armed
  // state. Now every evaluation records evaluatedThrough in its conditional state write, and a
  // reset marks exactly that as reviewed.
  it('outflows evaluated while halted are covered by a reset that lands before the poller commits', async () => {
    const store = new InterleavingStore();
    await initialiseForTest(store);
    const pages: Page[] = [];
    const publisher = { publish: async (p: Page) => void pages.push(p) };
    let nowMs = 1_700_000_000_000;
    const clock = { now: () => nowMs };
    const chain = new ScriptedChain();
    const deps = { config, chain: ethereum, reader: chain, store, publisher, clock, owner: 'poller-1' };

    chain.headNumber = 11; // the cursor starts at head − 2 confirmations: block 9
    await pollOnce(deps);
    chain.send(10, 600n); // $600k > $500k: Ethereum halts
    chain.headNumber = 12;
    nowMs += 12_000;
    const first = await pollOnce(deps);
    expect(first.result.kind === 'advanced' && first.result.trips.map((t) => t.ruleId)).toEqual([
      'chain-ethereum-usd-10m',
    ]);

    // The thief keeps going while signing is halted: another $600k in block 12. While the poller
    // holds its lease on blocks 11–12 (evaluated against the halted state: no new trip), on-call
    // resets having reviewed the first trip. The reset reads the cursor — still at block 10.
    chain.send(12, 600n);
    chain.headNumber = 14;
    nowMs += 24_000;
    store.beforeCommit = async () => {
      await resetBreakerUseCase(
        { config, store, publisher, clock },
        { reason: 'reviewed trip 1 with treasury', actor: 'oncall', scope: 'chain:ethereum' },
      );
    };
    await pollOnce(deps);
    chain.headNumber = 20; // later blocks are quiet
    nowMs += 60_000;
    await pollOnce(deps);

    const state = await store.getState();
    const unreviewed = (await store.outflowsSince('ethereum', 0)).filter(
      (r) => r.block > (state.reviewedThrough.ethereum ?? -1),
    );
    // The $600k in block 12 is past what the reset marked reviewed, and alone breaks the limit.
    // Either the reset should have covered it (it was evaluated while halted) or Ethereum should
    // be halted again; today neither holds and nothing will ever look at it again.
    const tripping = evaluateRules(config.rules, unreviewed, spanOf(unreviewed)).filter((b) => b.level === 'trip');
    expect(tripping.length === 0 || haltedFor(state, 'ethereum') !== undefined).toBe(true);
    // Here the evaluation came first, so the reset covered block 12 — and its page said so:
    // the $600k left after the halt, which is the stolen-key escalation.
    expect(state.reviewedThrough.ethereum).toBe(12);
    expect(pages.filter((p) => p.kind === 'escalation')).toHaveLength(1);
  });

  it('a reset that lands before the evaluation is written makes the poller decide again: the batch trips', async () => {
    const store = new InterleavingStore();
    await initialiseForTest(store);
    const pages: Page[] = [];
    const publisher = { publish: async (p: Page) => void pages.push(p) };
    let nowMs = 1_700_000_000_000;
    const clock = { now: () => nowMs };
    const chain = new ScriptedChain();
    const deps = { config, chain: ethereum, reader: chain, store, publisher, clock, owner: 'poller-1' };
    chain.headNumber = 11;
    await pollOnce(deps);
    chain.send(10, 600n);
    chain.headNumber = 12;
    nowMs += 12_000;
    await pollOnce(deps);
    expect(haltedFor(await store.getState(), 'ethereum')).toBeDefined();

    // The reset lands right after the poller read the (halted) state for blocks 11–12.
    chain.send(12, 600n);
    chain.headNumber = 14;
    nowMs += 24_000;
    const getState = store.getState.bind(store);
    let armedReset = true;
    store.getState = async () => {
      const s = await getState();
      if (armedReset && s.tripped['chain:ethereum'] && s.outbox.length === 0) {
        armedReset = false;
        await resetBreakerUseCase(
          { config, store, publisher, clock },
          { reason: 'reviewed trip 1 with treasury', actor: 'oncall', scope: 'chain:ethereum' },
        );
      }
      return s;
    };
    await pollOnce(deps);
    const state = await getState();
    expect(state.reviewedThrough.ethereum).toBe(10);
    expect(haltedFor(state, 'ethereum')?.ruleId).toBe('chain-ethereum-usd-10m');
    expect(pages.filter((p) => p.kind === 'trip')).toHaveLength(2);
  });
});

describe('evaluation progress in its own item', () => {
  it('a reset that crashed before its second look: the chain’s next evaluation evaluates the raced blocks again', async () => {
    const store = new MemoryBreakerStore();
    await initialiseForTest(store);
    const pages: Page[] = [];
    const publisher = { publish: async (p: Page) => void pages.push(p) };
    let nowMs = 1_700_000_000_000;
    const clock = { now: () => nowMs };
    const chain = new ScriptedChain();
    const deps = { config, chain: ethereum, reader: chain, store, publisher, clock, owner: 'poller-1' };
    chain.headNumber = 11;
    await pollOnce(deps);
    chain.send(10, 600n);
    chain.headNumber = 12;
    await pollOnce(deps);
    const reviewable = await readProgress({ config, store }); // on-call reads progress: block 10
    // While halted, $600k more leave in block 12: evaluated on the halted state, no new trip.
    chain.send(12, 600n);
    chain.headNumber = 14;
    await pollOnce(deps);
    expect((await store.getProgress('ethereum'))?.through).toBe(12);
    // The reset, decided with the progress it read before block 12 was recorded, lands — and its
    // process dies before the second look (reviewRacedEvaluations) that would have covered block 12.
    await commitOnTripRecords(
      { store, publisher, clock },
      (state, at) =>
        reviewedReset(state, config, reviewable, (processedThrough) =>
          resetBreaker(state, { reason: 'reviewed trip 1', actor: 'oncall', nowMs: at, processedThrough }, config),
        ),
      undefined,
      () => ({ actor: 'oncall', reason: 'reviewed trip 1' }),
    );
    expect(haltedFor(await store.getState(), 'ethereum')).toBeUndefined();
    // Much later (block 12's $600k is far outside the 10m window of this one) a small outflow: its
    // evaluation also takes the raced block 12, on the re-armed state, and that trips.
    chain.send(80, 1n);
    chain.headNumber = 82;
    nowMs += 3_600_000;
    await pollOnce(deps);
    const state = await store.getState();
    expect(state.reviewedThrough.ethereum).toBe(10);
    const trip = haltedFor(state, 'ethereum');
    expect(trip?.ruleId).toBe('chain-ethereum-usd-10m');
    expect(trip?.evidence.windowEnd).toBe(BASE_T + 12 * 12);
    expect(await store.getProgress('ethereum')).toMatchObject({ through: 80, decidedOn: state.version - 1 });
  });

  it('a state item written by an older build (evaluatedThrough on it) still bounds what a reset reviews', async () => {
    const store = new MemoryBreakerStore();
    await initialiseForTest(store);
    const publisher = { publish: async () => {} };
    const clock = { now: () => 1_700_000_000_000 };
    const legacy = await store.getState();
    const trip = {
      tripId: 'trip-legacy',
      atMs: 1,
      ruleId: 'chain-ethereum-usd-10m',
      scope: { kind: 'chain' as const, chain: 'ethereum' },
      evidence: {
        ruleId: 'chain-ethereum-usd-10m',
        summary: 'legacy',
        measure: 'usd' as const,
        value: '1',
        limit: '0',
        windowSeconds: 600,
        windowEnd: BASE_T,
        outflowIds: [],
      },
    };
    await store.saveState(
      {
        ...legacy,
        version: legacy.version + 1,
        tripped: { 'chain:ethereum': trip },
        evaluatedThrough: { ethereum: 40 },
      },
      legacy.version,
    );
    // No progress item yet (the poller has not run on this build): the legacy field is what was evaluated.
    const first = await resetBreakerUseCase(
      { config, store, publisher, clock },
      { reason: 'reviewed the legacy trip', actor: 'oncall' },
    );
    expect(first.reviewedThrough.ethereum).toBe(40);
    expect(first.reviewedAt?.ethereum).toEqual({ version: first.version, t: 0 });
    // Once the poller records progress past it, the progress item wins; the legacy field stays a floor.
    await store.saveProgress(
      {
        chain: 'ethereum',
        through: 55,
        throughT: BASE_T + 55 * 12,
        decidedOn: first.version,
        version: 1,
        updatedAtMs: 0,
      },
      undefined,
    );
    const now = await store.getState();
    await store.saveState({ ...now, version: now.version + 1, tripped: { 'chain:ethereum': trip } }, now.version);
    const second = await resetBreakerUseCase(
      { config, store, publisher, clock },
      { reason: 'reviewed it again', actor: 'oncall' },
    );
    expect(second.reviewedThrough.ethereum).toBe(55);
    expect(second.reviewedAt?.ethereum).toEqual({ version: second.version, t: BASE_T + 55 * 12 });
    expect(second.evaluatedThrough).toEqual({ ethereum: 40 });
  });
});
