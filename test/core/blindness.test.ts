import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { MemoryBreakerStore } from '../../functions/adapters/memory/memory-breaker-store.ts';
import { applyBlindness, assessBlindness, type BlindAssessment, blindPolicy } from '../../functions/core/blindness.ts';
import { initialState, type Page } from '../../functions/core/state.ts';
import type { PollResult } from '../../functions/core/use-cases/poll-chain.ts';
import { BlindnessWatch, recordBlindness } from '../../functions/core/use-cases/watch-blindness.ts';
import { createKillSwitch } from '../../functions/guard/kill-switch.ts';
import { configInput } from '../support/fixtures.ts';
import { initialiseForTest } from '../support/initialise.ts';

const NOW = 1_800_000_000_000;

function config(eth: { blindAfterSeconds?: number; blindAction?: 'page' | 'halt-chain' } = {}) {
  const input = configInput();
  Object.assign(input.chains.ethereum as object, eth);
  return compileConfig(input, 'test');
}

const sighting = (lastBlockTime: number | undefined, nowMs = NOW) => ({
  nowMs,
  lastBlock: lastBlockTime === undefined ? undefined : 100,
  lastBlockTime,
  referenceMs: NOW - 1000,
  consecutiveFailures: 3,
  lastError: 'chain ethereum: eth_blockNumber failed',
});

class Pages {
  readonly pages: Page[] = [];
  async publish(page: Page) {
    this.pages.push(page);
  }
}

describe('blind policy', () => {
  it('defaults to max(120 s, 10 blocks) and page', () => {
    const c = config();
    expect(blindPolicy(c.chains.get('ethereum')!)).toEqual({ afterSeconds: 120, action: 'page' });
    const slow = configInput();
    Object.assign(slow.chains.ethereum as object, { blockTimeSeconds: 60 });
    expect(blindPolicy(compileConfig(slow).chains.get('ethereum')!).afterSeconds).toBe(600);
  });

  it('takes blindAfterSeconds and blindAction from the chain', () => {
    const c = config({ blindAfterSeconds: 45, blindAction: 'halt-chain' });
    expect(blindPolicy(c.chains.get('ethereum')!)).toEqual({ afterSeconds: 45, action: 'halt-chain' });
  });

  it('rejects a bad blindAction or blindAfterSeconds, naming the field', () => {
    expect(() => config({ blindAction: 'panic' as never })).toThrow(
      /chains\.ethereum\.blindAction: expected "page" or "halt-chain"/,
    );
    expect(() => config({ blindAfterSeconds: 0 })).toThrow(/chains\.ethereum\.blindAfterSeconds/);
  });
});

describe('assessBlindness', () => {
  const c = config({ blindAfterSeconds: 60 });
  const eth = c.chains.get('ethereum')!;
  const policy = blindPolicy(eth);
  const nowS = NOW / 1000;
  // Ethereum here: 2 confirmations × 12 s = 24 s of expected lag.

  it('counts from the last processed block, beyond the confirmation lag', () => {
    expect(assessBlindness(eth, policy, sighting(nowS - 24 - 60)).blind).toBe(false);
    const a = assessBlindness(eth, policy, sighting(nowS - 24 - 61));
    expect(a).toMatchObject({ blind: true, unobservedSeconds: 61, limitSeconds: 60 });
    expect(a.reason).toContain('every poll is failing (3 in a row');
  });

  it('is observed again only back within half the limit (no flapping pages)', () => {
    expect(assessBlindness(eth, policy, sighting(nowS - 24 - 31)).observed).toBe(false);
    expect(assessBlindness(eth, policy, sighting(nowS - 24 - 30)).observed).toBe(true);
  });

  it('with nothing ever processed, counts from the reference (when the cursor was created)', () => {
    const a = assessBlindness(eth, policy, { ...sighting(undefined), referenceMs: NOW - 61_000 });
    expect(a.blind).toBe(true);
  });

  it('says why: head not advancing, cursor held by another poller', () => {
    const head = assessBlindness(eth, policy, {
      ...sighting(nowS - 200),
      consecutiveFailures: 0,
      head: 500,
      headSinceMs: NOW - 150_000,
    });
    expect(head.reason).toBe('the head has not advanced past block 500 for 2m 30s');
    const busy = assessBlindness(eth, policy, {
      ...sighting(nowS - 200),
      consecutiveFailures: 0,
      busy: 'lease held by x',
    });
    expect(busy.reason).toBe('the cursor is not moving: lease held by x');
  });
});

describe('applyBlindness', () => {
  const blind: BlindAssessment = {
    blind: true,
    observed: false,
    unobservedSeconds: 130,
    limitSeconds: 120,
    reason: 'every poll is failing',
  };
  const seen: BlindAssessment = { blind: false, observed: true, unobservedSeconds: 3, limitSeconds: 120, reason: '' };
  const at = { nowMs: NOW, lastBlock: 100, lastBlockTime: NOW / 1000 - 154 };

  it('opens one episode with one page and audit record; a second blind assessment changes nothing', () => {
    const c = config();
    const eth = c.chains.get('ethereum')!;
    const t = applyBlindness(initialState(), c, eth, blindPolicy(eth), blind, at);
    expect(t).toMatchObject({ changed: true, event: 'blind' });
    expect(t.state.blind?.ethereum).toMatchObject({ lastBlock: 100, reason: 'every poll is failing' });
    expect(t.state.tripped).toEqual({});
    const [page, audit] = t.state.outbox;
    expect(page?.kind === 'page' && page.page.kind).toBe('blind');
    expect(page?.kind === 'page' && page.page.subject).toBe('[BLIND] test-exchange: ethereum unobserved for 2m 10s');
    expect(page?.kind === 'page' && page.page.text).toContain('continue UNWATCHED');
    expect(audit?.kind === 'audit' && audit.record.action).toBe('blind');
    expect(applyBlindness(t.state, c, eth, blindPolicy(eth), blind, at).changed).toBe(false);
  });

  it('halt-chain halts the chain for the signer; recovery pages but keeps the halt until a reset', async () => {
    const c = config({ blindAction: 'halt-chain' });
    const eth = c.chains.get('ethereum')!;
    const opened = applyBlindness(initialState(), c, eth, blindPolicy(eth), blind, at).state;
    const trip = opened.tripped['chain:ethereum'];
    expect(trip).toMatchObject({ ruleId: 'blind-ethereum', scope: { kind: 'chain', chain: 'ethereum' } });
    expect(trip?.evidence).toMatchObject({ measure: 'seconds', value: '130', limit: '120' });
    expect(opened.blind?.ethereum?.tripId).toBe(trip?.tripId);
    const store = new MemoryBreakerStore();
    await store.saveState(opened, 0);
    expect(await createKillSwitch(store).isHalted({ chain: 'ethereum' })).toMatchObject({ halted: true });
    expect(await createKillSwitch(store).isHalted({ chain: 'bsc' })).toEqual({ halted: false });

    const closed = applyBlindness(opened, c, eth, blindPolicy(eth), seen, {
      ...at,
      nowMs: NOW + 60_000,
      lastBlock: 140,
    });
    expect(closed.event).toBe('recovered');
    expect(closed.state.blind?.ethereum).toBeUndefined();
    expect(closed.state.tripped['chain:ethereum']).toBeDefined();
    const page = closed.state.outbox.find((e) => e.kind === 'page' && e.page.subject.startsWith('[RECOVERED]'));
    expect(page?.kind === 'page' && page.page.text).toContain('still halted');
  });

  it('does not halt again what is already halted (a global trip covers the chain)', () => {
    const c = config({ blindAction: 'halt-chain' });
    const eth = c.chains.get('ethereum')!;
    const s = initialState();
    s.tripped.global = {
      tripId: 'trip-1-global',
      atMs: 1,
      ruleId: 'global-usd-1h',
      scope: { kind: 'global' },
      evidence: {} as never,
    };
    const t = applyBlindness(s, c, eth, blindPolicy(eth), blind, at);
    expect(Object.keys(t.state.tripped)).toEqual(['global']);
    expect(t.state.blind?.ethereum?.tripId).toBeUndefined();
  });

  it('property: any sequence of assessments pages blind and recovered alternately, starting with blind', () => {
    const c = config();
    const eth = c.chains.get('ethereum')!;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 60 }), (unobserved) => {
        let state = initialState();
        for (const u of unobserved) {
          const a: BlindAssessment = {
            blind: u > 120,
            observed: u <= 60,
            unobservedSeconds: u,
            limitSeconds: 120,
            reason: 'x',
          };
          state = applyBlindness(state, c, eth, blindPolicy(eth), a, at).state;
        }
        const kinds = state.outbox.flatMap((e) =>
          e.kind === 'page' ? [e.page.subject.startsWith('[RECOVERED]') ? 'R' : 'B'] : [],
        );
        expect(kinds.join('')).toMatch(/^(BR)*B?$/);
        const open = state.blind?.ethereum !== undefined;
        expect(open).toBe(kinds.at(-1) === 'B');
      }),
      { numRuns: 300 },
    );
  });
});

describe('recordBlindness and the watch', () => {
  it('two pollers recording the same blindness at once page once', async () => {
    const c = config();
    const eth = c.chains.get('ethereum')!;
    const store = new MemoryBreakerStore();
    await initialiseForTest(store);
    const publisher = new Pages();
    const deps = { config: c, chain: eth, store, publisher, clock: { now: () => NOW } };
    const a: BlindAssessment = {
      blind: true,
      observed: false,
      unobservedSeconds: 200,
      limitSeconds: 120,
      reason: 'every poll is failing',
    };
    const results = await Promise.all(
      [1, 2, 3].map(() => recordBlindness(deps, a, { lastBlock: 1, lastBlockTime: 1 })),
    );
    expect(results.filter((r) => r.event === 'blind')).toHaveLength(1);
    expect(results.every((r) => r.open)).toBe(true);
    expect(publisher.pages.filter((p) => p.kind === 'blind')).toHaveLength(1);
    expect((await store.listAudit(10)).filter((r) => r.action === 'blind')).toHaveLength(1);
  });

  it('a healthy chain costs one state read per watch, then none', async () => {
    const c = config();
    const eth = c.chains.get('ethereum')!;
    const store = new MemoryBreakerStore();
    await initialiseForTest(store);
    let reads = 0;
    const counting = new Proxy(store, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (prop === 'getState' || prop === 'getCursor')
          return (...args: unknown[]) => {
            reads++;
            return v.apply(target, args);
          };
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    let now = NOW;
    const watch = new BlindnessWatch({
      config: c,
      chain: eth,
      store: counting,
      publisher: new Pages(),
      clock: { now: () => now },
    });
    for (let i = 0; i < 20; i++) {
      now += 12_000;
      const result: PollResult = { kind: 'idle', head: 1000 + i, lastBlock: 998 + i, lastBlockTime: now / 1000 - 24 };
      expect(await watch.observe({ result })).toBeUndefined();
    }
    expect(reads).toBe(1);
  });

  it('failing polls past the limit page blind once; polls that see the chain again page recovered', async () => {
    const c = config({ blindAfterSeconds: 60 });
    const eth = c.chains.get('ethereum')!;
    const store = new MemoryBreakerStore();
    await initialiseForTest(store);
    const publisher = new Pages();
    let now = NOW;
    const watch = new BlindnessWatch({ config: c, chain: eth, store, publisher, clock: { now: () => now } });
    const ok = (lastBlock: number): { result: PollResult } => ({
      result: { kind: 'idle', head: lastBlock + 2, lastBlock, lastBlockTime: now / 1000 - 24 },
    });
    expect(await watch.observe(ok(10))).toBeUndefined();
    const events = [];
    for (let i = 0; i < 12; i++) {
      now += 10_000;
      events.push(await watch.observe({ error: new Error('chain ethereum: every endpoint failed') }));
    }
    expect(events.filter(Boolean)).toEqual(['blind']);
    now += 10_000;
    expect(await watch.observe(ok(30))).toBe('recovered');
    expect(publisher.pages.map((p) => p.subject)).toEqual([
      expect.stringMatching(/^\[BLIND\] test-exchange: ethereum unobserved for 1m/),
      '[RECOVERED] test-exchange: ethereum observed again',
    ]);
    expect(publisher.pages[0]?.text).toContain('every poll is failing');
  });
});
