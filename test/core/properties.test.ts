/**
 * Properties of the pure core, over random drains across two chains, random limits and random
 * ways the pollers batch what they read:
 *  1. totals and trip decisions do not depend on history order or on batching;
 *  2. a trip is never lost to a reset;
 *  3. tightening a limit never un-trips.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { haltedFor, isScopeHalted, resetBreaker } from '../../functions/core/breaker.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import { isBreakerError } from '../../functions/core/errors.ts';
import { evaluateRules, measureOf, ruleApplies } from '../../functions/core/evaluate.ts';
import type { HaltScope, OutflowRecord } from '../../functions/core/model.ts';
import type { Rule } from '../../functions/core/rules/rule.ts';
import { type BreakerState, initialState, type TripInfo } from '../../functions/core/state.ts';
import { ADDR, compile, type LimitsInput, outflow } from '../support/fixtures.ts';
import { feed, pollStep } from './simulate.ts';

const BASE_T = 1_700_000_000;
const SCOPES: HaltScope[] = [{ kind: 'global' }, { kind: 'chain', chain: 'ethereum' }, { kind: 'chain', chain: 'bsc' }];
const RUNS = { numRuns: 300 };

// ---- generators ----

/** Every limit of the property config, flat, so one can be picked and lowered. */
interface Limits {
  globalUsd10m: number;
  globalUsd1h: number;
  globalCount10m: number;
  globalSingleTxUsd: number;
  ethUsd10m: number;
  ethUnits1h: number; // ETH
  ethUsdtSingleTx: number; // USDT units
  bscUsd1h: number;
  bscCount10m: number;
  bnbUnits1h: number; // BNB
  ethHalt: 'chain' | 'global';
  bscHalt: 'chain' | 'global';
}

const limitsArb: fc.Arbitrary<Limits> = fc.record({
  globalUsd10m: fc.integer({ min: 500_000, max: 8_000_000 }),
  globalUsd1h: fc.integer({ min: 1_000_000, max: 16_000_000 }),
  globalCount10m: fc.integer({ min: 4, max: 40 }),
  globalSingleTxUsd: fc.integer({ min: 300_000, max: 2_000_000 }),
  ethUsd10m: fc.integer({ min: 100_000, max: 2_000_000 }),
  ethUnits1h: fc.integer({ min: 100, max: 3_000 }),
  ethUsdtSingleTx: fc.integer({ min: 50_000, max: 500_000 }),
  bscUsd1h: fc.integer({ min: 100_000, max: 2_000_000 }),
  bscCount10m: fc.integer({ min: 2, max: 10 }),
  bnbUnits1h: fc.integer({ min: 200, max: 6_000 }),
  ethHalt: fc.constantFrom('chain' as const, 'chain' as const, 'global' as const),
  bscHalt: fc.constantFrom('chain' as const, 'chain' as const, 'global' as const),
});

const NUMERIC_LIMITS = [
  'globalUsd10m',
  'globalUsd1h',
  'globalCount10m',
  'globalSingleTxUsd',
  'ethUsd10m',
  'ethUnits1h',
  'ethUsdtSingleTx',
  'bscUsd1h',
  'bscCount10m',
  'bnbUnits1h',
] as const;

function limitsInput(l: Limits): LimitsInput {
  return {
    warnRatio: 0.8,
    global: {
      usd: { '10m': l.globalUsd10m, '1h': l.globalUsd1h },
      count: { '10m': l.globalCount10m },
      singleTxUsd: l.globalSingleTxUsd,
    },
    chains: {
      ethereum: {
        usd: { '10m': l.ethUsd10m },
        halt: l.ethHalt,
        assets: { ETH: { units: { '1h': String(l.ethUnits1h) } }, USDT: { singleTx: String(l.ethUsdtSingleTx) } },
      },
      bsc: {
        usd: { '1h': l.bscUsd1h },
        count: { '10m': l.bscCount10m },
        halt: l.bscHalt,
        assets: { BNB: { units: { '1h': String(l.bnbUnits1h) } } },
      },
    },
  };
}

/** Outflows do not depend on the limits (static prices), so one config classifies them all. */
const RECORDS_CONFIG = compile(limitsInput(fc.sample(limitsArb, 1)[0] as Limits));

/** A drain: up to 30 outflows over two hours on two chains; about one in ten goes to an own address. */
const drainArb: fc.Arbitrary<OutflowRecord[]> = fc
  .array(
    fc.record({
      chain: fc.constantFrom('ethereum', 'bsc'),
      kind: fc.constantFrom('native', 'native', 'native', 'usdt', 'unknown'),
      n: fc.integer({ min: 1, max: 400 }),
      dt: fc.oneof(fc.integer({ min: 0, max: 7_200 }), fc.integer({ min: 0, max: 20 })),
      own: fc.integer({ min: 0, max: 9 }).map((x) => x === 0),
    }),
    { minLength: 1, maxLength: 30 },
  )
  .map((specs) =>
    specs.map((s, i) => {
      const t = BASE_T + s.dt;
      const asset = s.kind === 'native' ? undefined : s.kind === 'usdt' ? 'USDT' : 'UNKNOWN';
      const units = s.kind === 'usdt' ? String(s.n * 1_000) : String(s.n);
      // block = window time, so per chain blocks and window times grow together
      return outflow(RECORDS_CONFIG, {
        chain: s.chain,
        asset,
        units,
        t,
        block: t,
        tx: i + 1,
        to: s.own ? ADDR.cold : ADDR.stranger,
      });
    }),
  );

/** Cut a chronologically sorted drain into polls, only between distinct window times (a poll reads whole blocks). */
function chronologicalBatches(records: OutflowRecord[], cuts: boolean[]): OutflowRecord[][] {
  const sorted = [...records].sort((a, b) => a.t - b.t || a.id.localeCompare(b.id));
  const batches: OutflowRecord[][] = [[]];
  sorted.forEach((r, i) => {
    const prev = sorted[i - 1];
    if (prev && prev.t !== r.t && cuts[i]) batches.push([]);
    (batches.at(-1) as OutflowRecord[]).push(r);
  });
  return batches;
}

/** Any partition, in any order: pollers of different chains run independently and may lag each other. */
function arbitraryBatches(records: OutflowRecord[], batchOf: number[], order: number[]): OutflowRecord[][] {
  const batches = new Map<number, OutflowRecord[]>();
  for (const i of order) {
    const r = records[i] as OutflowRecord;
    const b = batchOf[i] ?? 0;
    batches.set(b, [...(batches.get(b) ?? []), r]);
  }
  return [...batches.entries()].sort((a, b) => a[0] - b[0]).map(([, rs]) => rs);
}

const scenarioArb = fc.tuple(limitsArb, drainArb).chain(([limits, records]) =>
  fc.record({
    limits: fc.constant(limits),
    records: fc.constant(records),
    cuts: fc.array(fc.boolean(), { minLength: records.length, maxLength: records.length }),
    batchOf: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: records.length, maxLength: records.length }),
    order: fc.shuffledSubarray(
      records.map((_, i) => i),
      { minLength: records.length, maxLength: records.length },
    ),
  }),
);

// ---- what "the same outcome" means ----

/** Which scopes stop signing: what the signing service sees. */
function haltedScopes(state: BreakerState): string[] {
  return SCOPES.filter((s) => isScopeHalted(state, s)).map((s) =>
    s.kind === 'global' ? 'global' : `chain:${s.chain}`,
  );
}

/** A trip without its per-run identity (trip id and wall-clock time depend on how many writes came first). */
function tripOutcome(trip: TripInfo | undefined) {
  return trip && { ruleId: trip.ruleId, scope: trip.scope, evidence: trip.evidence };
}

// ---- an oracle for one windowed rule: every window (T − W, T], T any outflow time ----

function bruteForce(rule: Rule, history: OutflowRecord[]) {
  const applicable = history.filter((r) => ruleApplies(rule, r));
  const ends = [...new Set(applicable.map((r) => r.t))].sort((a, b) => a - b);
  const windows = ends.map((end) => ({
    end,
    value: applicable
      .filter((r) => r.t > end - rule.windowSeconds && r.t <= end)
      .reduce((s, r) => s + measureOf(rule, r), 0n),
  }));
  const trip = windows.find((w) => w.value > rule.limit);
  const highest = windows.reduce<(typeof windows)[number] | undefined>(
    (m, w) => (!m || w.value > m.value ? w : m),
    undefined,
  );
  return { trip, highest };
}

describe('property 1: history order and batching do not change the decision', () => {
  it('every windowed rule matches a brute-force check of every window, whatever the history order', () => {
    fc.assert(
      fc.property(scenarioArb, ({ limits, records, order }) => {
        const config = compile(limitsInput(limits));
        const shuffled = order.map((i) => records[i] as OutflowRecord);
        const span = { fromT: BASE_T, toT: BASE_T + 7_200, newIds: new Set(records.map((r) => r.id)) };
        const breaches = evaluateRules(config.rules, records, span);
        expect(evaluateRules(config.rules, shuffled, span)).toEqual(breaches);
        for (const rule of config.rules.filter((r) => r.windowSeconds > 0)) {
          const { trip, highest } = bruteForce(rule, records);
          const breach = breaches.find((b) => b.rule.id === rule.id);
          if (trip) {
            expect(breach).toMatchObject({ level: 'trip', windowEnd: trip.end, value: trip.value });
          } else if (highest && highest.value > rule.warnAt) {
            expect(breach).toMatchObject({ level: 'warn', value: highest.value });
          } else {
            expect(breach).toBeUndefined();
          }
        }
      }),
      RUNS,
    );
  });

  it('any batching, in any order: the same scopes end up halted', () => {
    fc.assert(
      fc.property(scenarioArb, ({ limits, records, batchOf, order }) => {
        const config = compile(limitsInput(limits));
        const atOnce = feed(initialState(), config, [records]);
        const batched = feed(initialState(), config, arbitraryBatches(records, batchOf, order));
        expect(haltedScopes(batched)).toEqual(haltedScopes(atOnce));
        // a global trip is the same decision either way; which of its rules broke first can differ only
        // when a lagging chain reports an earlier outflow after a later one was already judged
        expect('global' in batched.tripped).toBe('global' in atOnce.tripped);
      }),
      RUNS,
    );
  });

  it('polls in chain-time order: the same trips, with the same rule and evidence, as judging everything at once', () => {
    fc.assert(
      fc.property(scenarioArb, ({ limits, records, cuts }) => {
        const config = compile(limitsInput(limits));
        const atOnce = feed(initialState(), config, [records]);
        const batched = feed(initialState(), config, chronologicalBatches(records, cuts));
        expect(haltedScopes(batched)).toEqual(haltedScopes(atOnce));
        expect(tripOutcome(batched.tripped.global)).toEqual(tripOutcome(atOnce.tripped.global));
        // At once, a global trip covers the chains and no chain trip is recorded; polled, a chain may
        // trip first and the global trip widens it. So: every chain trip judged at once is also there.
        for (const [key, trip] of Object.entries(atOnce.tripped)) {
          expect(tripOutcome(batched.tripped[key])).toEqual(tripOutcome(trip));
        }
        // exactly one trip page and one audit record per trip, whatever the batching; warnings may
        // differ (a rising total can warn in an early poll and trip in a later one)
        for (const state of [atOnce, batched]) {
          const tripPages = state.outbox.filter((e) => e.kind === 'page' && e.page.kind === 'trip');
          const audits = state.outbox.filter((e) => e.kind === 'audit');
          expect(tripPages).toHaveLength(Object.keys(state.tripped).length);
          expect(audits).toHaveLength(Object.keys(state.tripped).length);
        }
      }),
      RUNS,
    );
  });
});

describe('property 2: a trip is never lost to a reset', () => {
  const resetArb = fc.record({
    attempt: fc.boolean(),
    scope: fc.constantFrom(undefined, 'global', 'chain:ethereum', 'chain:bsc'),
    review: fc.constantFrom('none' as const, 'current' as const, 'stale' as const),
  });

  it('after any interleaving of polls and resets, every breach among unreviewed outflows is halted', () => {
    fc.assert(
      fc.property(
        scenarioArb.chain((s) =>
          fc.record({
            s: fc.constant(s),
            resets: fc.array(resetArb, { minLength: s.records.length, maxLength: s.records.length }),
          }),
        ),
        ({ s: { limits, records, cuts }, resets }) => {
          const config = compile(limitsInput(limits));
          let state = initialState();
          let staleTripIds: string[] = [];
          const ledger: OutflowRecord[] = [];
          let nowMs = 1;
          chronologicalBatches(records, cuts).forEach((batch, i) => {
            ledger.push(...batch);
            state = pollStep(state, config, ledger, batch, ++nowMs).state;
            const r = resets[i];
            if (r?.attempt) {
              const processedThrough: Record<string, number> = {};
              for (const o of ledger) processedThrough[o.chain] = Math.max(processedThrough[o.chain] ?? -1, o.block);
              const current = Object.values(state.tripped).map((t) => t.tripId);
              const reviewedTripIds = r.review === 'none' ? undefined : r.review === 'current' ? current : staleTripIds;
              try {
                state = resetBreaker(
                  state,
                  {
                    scope: r.scope,
                    reason: 'reviewed by on-call',
                    actor: 'oncall',
                    nowMs: ++nowMs,
                    processedThrough,
                    reviewedTripIds,
                  },
                  config,
                );
              } catch (e) {
                if (!isBreakerError(e, 'RESET_REJECTED')) throw e;
              }
            }
            staleTripIds = Object.values(state.tripped).map((t) => t.tripId);
          });
          const unreviewed = ledger.filter((o) => o.block > (state.reviewedThrough[o.chain] ?? -1));
          const expected = pollStep(initialState(), config, unreviewed, unreviewed, 0).state;
          for (const scope of SCOPES) {
            if (isScopeHalted(expected, scope)) expect(isScopeHalted(state, scope)).toBe(true);
          }
        },
      ),
      RUNS,
    );
  });

  it('a reset never re-arms on evidence the operator did not see: a trip after the review rejects it', () => {
    fc.assert(
      fc.property(scenarioArb, ({ limits, records, cuts }) => {
        const config = compile(limitsInput(limits));
        const batches = chronologicalBatches(records, cuts);
        const ledger: OutflowRecord[] = [];
        let state = initialState();
        let reviewed: string[] | undefined;
        let nowMs = 1;
        for (const batch of batches) {
          ledger.push(...batch);
          const before = state;
          state = pollStep(state, config, ledger, batch, ++nowMs).state;
          if (!reviewed && Object.keys(state.tripped).length > 0)
            reviewed = Object.values(state.tripped).map((t) => t.tripId);
          const newTrip = Object.values(state.tripped).find(
            (t) => !Object.values(before.tripped).some((b) => b.tripId === t.tripId),
          );
          if (reviewed && newTrip && !reviewed.includes(newTrip.tripId)) {
            expect(() =>
              resetBreaker(
                state,
                {
                  reason: 'reviewed the first trip',
                  actor: 'oncall',
                  nowMs,
                  processedThrough: {},
                  reviewedTripIds: reviewed,
                },
                config,
              ),
            ).toThrow(/tripped again since it was reviewed/);
          }
        }
      }),
      RUNS,
    );
  });
});

describe('property 3: tightening a limit never un-trips', () => {
  it('lowering any one limit halts at least every scope the original limits halt', () => {
    fc.assert(
      fc.property(
        scenarioArb,
        fc.constantFrom(...NUMERIC_LIMITS),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        ({ limits, records, cuts }, which, factor) => {
          const lowered: Limits = { ...limits, [which]: Math.max(1, Math.floor(limits[which] * factor)) };
          const a: BreakerConfig = compile(limitsInput(limits));
          const b: BreakerConfig = compile(limitsInput(lowered));
          const batches = chronologicalBatches(records, cuts);
          const haltedA = haltedScopes(feed(initialState(), a, batches));
          const haltedB = haltedScopes(feed(initialState(), b, batches));
          for (const scope of haltedA) expect(haltedB).toContain(scope);
          // and per chain: what halts a chain's signing under A halts it under B
          for (const chain of ['ethereum', 'bsc']) {
            if (haltedFor(feed(initialState(), a, [records]), chain)) {
              expect(haltedFor(feed(initialState(), b, [records]), chain)).toBeDefined();
            }
          }
        },
      ),
      RUNS,
    );
  });
});
