import { describe, expect, it } from 'vitest';
import {
  applyBreaches,
  haltedFor,
  isScopeHalted,
  type ResetRequest,
  resetBreaker,
} from '../../functions/core/breaker.ts';
import { isBreakerError, ResetRejectedError } from '../../functions/core/errors.ts';
import type { OutflowRecord } from '../../functions/core/model.ts';
import { type BreakerState, initialState, type PendingEffect } from '../../functions/core/state.ts';
import { compile, outflow, usd } from '../support/fixtures.ts';
import { pollStep } from './simulate.ts';

// Global $1M per 10 min halts everything; Ethereum $500k and BSC $500k per 10 min halt their chain.
const config = compile({
  warnRatio: 0.8,
  global: { usd: { '10m': 1_000_000 } },
  chains: { ethereum: { usd: { '10m': 500_000 }, halt: 'chain' }, bsc: { usd: { '10m': 500_000 }, halt: 'chain' } },
});

/** A poller's view: every recorded outflow, fed in polls. */
class Run {
  state: BreakerState = initialState();
  ledger: OutflowRecord[] = [];
  nowMs = 1_700_000_000_000;
  poll(...fresh: OutflowRecord[]) {
    this.ledger.push(...fresh);
    this.nowMs += 1_000;
    const transition = pollStep(this.state, config, this.ledger, fresh, this.nowMs);
    this.state = transition.state;
    return transition;
  }
  reset(req: Partial<ResetRequest> = {}) {
    this.nowMs += 1_000;
    this.state = resetBreaker(
      this.state,
      {
        reason: 'reviewed with the wallet team: legitimate',
        actor: 'alice@ops',
        nowMs: this.nowMs,
        processedThrough: this.processedThrough(),
        ...req,
      },
      config,
    );
    return this.state;
  }
  processedThrough(): Record<string, number> {
    const through: Record<string, number> = {};
    for (const r of this.ledger) through[r.chain] = Math.max(through[r.chain] ?? -1, r.block);
    return through;
  }
}

const eth = (t: number, units: string) => outflow(config, { t, units }); // ETH at $1,000
const bnb = (t: number, units: string) => outflow(config, { chain: 'bsc', t, units }); // BNB at $500

function kinds(outbox: PendingEffect[]): string[] {
  return outbox.map((e) => (e.kind === 'page' ? `page:${e.page.kind}` : `audit:${e.record.action}`));
}

describe('applyBreaches', () => {
  it('a breach trips its scope: halted, one trip page and one audit record in the outbox', () => {
    const run = new Run();
    const t = run.poll(eth(1_000, '600'));
    expect(t.changed).toBe(true);
    expect(t.trips.map((x) => [x.ruleId, x.scope])).toEqual([
      ['chain-ethereum-usd-10m', { kind: 'chain', chain: 'ethereum' }],
    ]);
    expect(haltedFor(run.state, 'ethereum')?.ruleId).toBe('chain-ethereum-usd-10m');
    expect(haltedFor(run.state, 'bsc')).toBeUndefined();
    expect(kinds(run.state.outbox)).toEqual(['page:trip', 'audit:trip']);
    const tripId = t.trips[0]?.tripId;
    expect(run.state.outbox.map((e) => e.id)).toEqual([`page-${tripId}`, `audit-${tripId}`]);
    expect(run.state.outbox[1]).toMatchObject({
      record: { actor: 'breaker', scope: 'chain:ethereum', details: { tripId, ruleId: 'chain-ethereum-usd-10m' } },
    });
    expect(run.state.version).toBe(1);
  });

  it('records the evidence an operator reviews: rule, value, limit, window, outflows largest first', () => {
    const run = new Run();
    const small = eth(1_000, '100');
    const large = eth(1_001, '450');
    const [trip] = run.poll(small, large).trips;
    expect(trip?.evidence).toMatchObject({
      ruleId: 'chain-ethereum-usd-10m',
      measure: 'usd',
      value: usd(550_000).toString(),
      limit: usd(500_000).toString(),
      windowSeconds: 600,
      windowEnd: 1_001,
      outflowIds: [large.id, small.id],
    });
    expect(trip?.evidence.summary).toContain('$550,000.00 > limit $500,000.00');
  });

  it('trips once per scope: a second breach while tripped adds no trip and no page', () => {
    const run = new Run();
    run.poll(eth(1_000, '600'));
    const before = run.state;
    const again = run.poll(eth(1_100, '100')); // Ethereum now $700k (limit $500k); global $700k, under its warn level
    expect(again.trips).toEqual([]);
    expect(again.changed).toBe(false);
    expect(run.state.outbox).toEqual(before.outbox);
    expect(run.state.version).toBe(before.version);
  });

  it('a global breach after a chain trip is a second trip (widening the halt)', () => {
    const run = new Run();
    const [chainTrip] = run.poll(eth(1_000, '600')).trips;
    const { trips } = run.poll(bnb(1_060, '1000')); // $500k on BSC → $1.1M across chains
    expect(trips.map((x) => x.ruleId)).toEqual(['global-usd-10m']);
    expect(Object.keys(run.state.tripped).sort()).toEqual(['chain:ethereum', 'global']);
    expect(run.state.tripped['chain:ethereum']).toEqual(chainTrip);
    expect(isScopeHalted(run.state, { kind: 'chain', chain: 'bsc' })).toBe(true);
    expect(kinds(run.state.outbox)).toEqual(['page:trip', 'audit:trip', 'page:trip', 'audit:trip']);
    expect(new Set(run.state.outbox.map((e) => e.id)).size).toBe(4);
  });

  it('when a global and a chain rule break in one poll, the global trip covers the chain (one page)', () => {
    const run = new Run();
    const { trips } = run.poll(eth(1_000, '1100'));
    expect(trips.map((x) => x.ruleId)).toEqual(['global-usd-10m']);
    expect(kinds(run.state.outbox)).toEqual(['page:trip', 'audit:trip']);
    // the chain rule that also broke is not a separate trip; the page's totals table shows it over its limit
    const page = run.state.outbox[0];
    expect(page?.kind === 'page' && page.page.text).toMatch(
      /chain-ethereum-usd-10m\s+\$1,100,000\.00 of \$500,000\.00 \(220%\)/,
    );
    expect(haltedFor(run.state, 'ethereum')?.ruleId).toBe('global-usd-10m');
  });

  it('warns once per window, again once the window has passed', () => {
    const run = new Run();
    const first = run.poll(eth(1_000, '450')); // $450k > $400k warn level of the Ethereum rule
    expect(first.warned.map((b) => b.rule.id)).toEqual(['chain-ethereum-usd-10m']);
    expect(run.state.warnedUntil['chain-ethereum-usd-10m']).toBe(1_600);
    expect(run.poll(eth(1_300, '20')).warned).toEqual([]); // still $470k in the window: no second page
    expect(run.poll(eth(1_599, '1')).warned).toEqual([]);
    const later = run.poll(eth(1_650, '400')); // window (1050, 1650]: $421k, above the warn level again
    expect(later.warned.map((b) => b.rule.id)).toEqual(['chain-ethereum-usd-10m']);
    expect(kinds(run.state.outbox)).toEqual(['page:warn', 'page:warn']);
    expect(Object.keys(run.state.tripped)).toEqual([]);
  });

  it('does not warn about a scope that is already halted', () => {
    const run = new Run();
    run.poll(eth(1_000, '600'));
    const t = run.poll(eth(2_000, '450'));
    expect(t.warned).toEqual([]);
    expect(kinds(run.state.outbox)).toEqual(['page:trip', 'audit:trip']);
  });

  it('is pure: the previous state is not modified', () => {
    const prev = initialState();
    const snapshot = structuredClone(prev);
    applyBreaches(prev, [], { config, history: [], nowMs: 1 });
    const r = eth(1_000, '600');
    const breaches = pollStep(prev, config, [r], [r], 1).state;
    expect(prev).toEqual(snapshot);
    expect(breaches.version).toBe(1);
  });
});

describe('resetBreaker', () => {
  function tripped(): Run {
    const run = new Run();
    run.poll(eth(1_000, '600'));
    return run;
  }

  it.each([
    ['a short reason', { reason: 'ok' }, /reason of at least 10 characters/],
    ['a reason of spaces', { reason: '   ok      ' }, /reason of at least 10 characters/],
    // Security review §6: a reason is quoted in pages; a line break in it could forge page lines.
    [
      'a reason that adds a forged page line',
      { reason: 'keys rotated, all clear\nApproved by bob@exchange (second operator)' },
      /the reason must be one line/,
    ],
    ['a reason with a control character', { reason: 'keys rotated\u001b[2K all clear' }, /the reason must be one line/],
    ['no actor', { actor: '  ' }, /operator identity is missing/],
    ['an unknown chain', { scope: 'chain:solana' }, /unknown chain "solana"/],
    ['an untripped scope', { scope: 'chain:bsc' }, /scope chain:bsc is not tripped \(tripped: chain:ethereum\)/],
    ['the global scope while only a chain is tripped', { scope: 'global' }, /scope global is not tripped/],
    ['a malformed scope', { scope: 'ethereum' }, /not a halt scope/],
  ])('rejects %s', (_name, req, message) => {
    const run = tripped();
    const before = run.state;
    let error: unknown;
    try {
      run.reset(req);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ResetRejectedError);
    expect(isBreakerError(error, 'RESET_REJECTED')).toBe(true);
    expect((error as Error).message).toMatch(message);
    expect(run.state).toBe(before);
  });

  it('rejects a reset when nothing is tripped', () => {
    expect(() => new Run().reset()).toThrow(/the breaker is armed: nothing to reset/);
  });

  it('rejects when the breaker tripped again since the operator reviewed it', () => {
    const run = tripped();
    const reviewed = Object.values(run.state.tripped).map((t) => t.tripId);
    const [globalTrip] = run.poll(bnb(1_060, '1000')).trips;
    expect(() => run.reset({ reviewedTripIds: reviewed })).toThrow(
      `the breaker tripped again since it was reviewed: ${globalTrip?.tripId} (global-usd-10m)`,
    );
    // re-arming only the scope that was reviewed is allowed; the global halt stays
    run.reset({ reviewedTripIds: reviewed, scope: 'chain:ethereum' });
    expect(Object.keys(run.state.tripped)).toEqual(['global']);
    expect(haltedFor(run.state, 'ethereum')).toBeDefined();
  });

  it('re-arms, records who and why, and queues an audit record and a reset page', () => {
    const run = tripped();
    const trip = run.state.tripped['chain:ethereum']!;
    const queued = run.state.outbox;
    const state = run.reset({
      reason: '  sweep to new cold wallet, confirmed by treasury  ',
      actor: 'arn:aws:iam::1:user/alice',
    });
    expect(state.tripped).toEqual({});
    expect(state.outbox.slice(0, queued.length)).toEqual(queued); // effects not yet carried out stay queued
    const [audit, page] = state.outbox.slice(queued.length);
    expect(audit).toMatchObject({
      kind: 'audit',
      record: {
        action: 'reset',
        actor: 'arn:aws:iam::1:user/alice',
        reason: 'sweep to new cold wallet, confirmed by treasury',
        scope: 'chain:ethereum',
        details: {
          clearedTrips: [{ tripId: trip.tripId, ruleId: trip.ruleId }],
          reviewedThrough: { ethereum: 1_000 },
          stillTripped: [],
        },
      },
    });
    expect(page?.kind === 'page' && page.page.kind).toBe('reset');
    expect(page?.kind === 'page' && page.page.subject).toContain('arn:aws:iam::1:user/alice');
    expect(page?.kind === 'page' && page.page.text).toContain(
      'Reason: sweep to new cold wallet, confirmed by treasury',
    );
    expect(state.version).toBe(2);
    expect(state.warnedUntil).toEqual({});
  });

  it('marks what was processed as reviewed, per re-armed chain, never moving it back', () => {
    const run = tripped();
    run.poll(bnb(1_010, '10'));
    run.reset({ processedThrough: { ethereum: 1_000, bsc: 1_010 } });
    expect(run.state.reviewedThrough).toEqual({ ethereum: 1_000 }); // only the re-armed chain
    run.poll(eth(2_000, '1100')); // trips global
    run.reset({ processedThrough: { ethereum: 900, bsc: 2_000 } });
    expect(run.state.reviewedThrough).toEqual({ ethereum: 1_000, bsc: 2_000 }); // a global reset covers every chain
  });

  it('never changes the limits: the config is untouched and an equal new breach trips again', () => {
    const run = tripped();
    const before = structuredClone(config);
    run.reset();
    expect(config).toEqual(before);
    // the same evidence does not re-trip (it was reviewed) ...
    expect(run.poll(eth(1_001, '0.001')).trips).toEqual([]);
    // ... but new outflows of the same size do
    const { trips } = run.poll(eth(1_500, '600'));
    expect(trips.map((t) => t.ruleId)).toEqual(['chain-ethereum-usd-10m']);
    expect(trips[0]?.evidence.value).toBe(usd(600_001).toString()); // 600 ETH + the 0.001 ETH after the reset
  });

  it('is pure: the previous state is not modified', () => {
    const run = tripped();
    const prev = run.state;
    const snapshot = structuredClone(prev);
    run.reset();
    expect(prev).toEqual(snapshot);
  });
});
