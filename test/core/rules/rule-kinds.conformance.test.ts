import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateRules } from '../../../functions/core/evaluate.ts';
import type { OutflowRecord } from '../../../functions/core/model.ts';
import type { AffectedSpan, Breach } from '../../../functions/core/rules/breach.ts';
import { IncrementalEvaluator } from '../../../functions/core/rules/incremental.ts';
import type { Rule } from '../../../functions/core/rules/rule.ts';
import type { RuleKindId } from '../../../functions/core/rules/rule-kind.ts';
import { RULE_KINDS, ruleKindOf } from '../../../functions/core/rules/rule-kinds.ts';

/**
 * One conformance suite for every registered rule kind (middy's habit: every package has the same test
 * shape). For each kind, random rules of that kind over random histories, batches and arrival orders:
 * the incremental evaluator gives exactly the reference's breaches, the kind claims its rules, and the
 * run is not vacuous (the kind trips). A kind added to RULE_KINDS without a generator here does not
 * compile (`GENERATORS` is keyed by every kind id).
 */

const global = { kind: 'global' } as const;
const HOT = ['0xhot-a', '0xhot-b'];
const DESTS = ['0xd1', '0xd2', '0xd3', 'bc1qd4'];
const ASSETS = ['AAA', 'BBB', 'CCC'];

function base(
  id: string,
  windowSeconds: number,
  limit: number,
  warn: number,
): Pick<Rule, 'id' | 'windowSeconds' | 'limit' | 'warnAt' | 'halt'> {
  return { id, windowSeconds, limit: BigInt(limit), warnAt: BigInt(Math.min(warn, limit)), halt: global };
}

const GENERATORS: Record<RuleKindId, fc.Arbitrary<Rule>> = {
  'window-sum': fc
    .record({
      w: fc.integer({ min: 1, max: 40 }),
      limit: fc.integer({ min: 1, max: 300 }),
      m: fc.constantFrom('usd', 'count', 'units'),
    })
    .map(({ w, limit, m }) => ({
      ...base(`window-${m}`, w, m === 'count' ? Math.ceil(limit / 40) : limit, Math.floor((limit * 7) / 10)),
      subject: m === 'units' ? { kind: 'asset', chain: 'alpha', asset: 'AAA' } : global,
      measure: m === 'units' ? { kind: 'units', asset: 'AAA', decimals: 0 } : { kind: m },
    })),
  'single-transfer': fc.integer({ min: 1, max: 60 }).map((limit) => ({
    ...base('single', 0, limit, Math.floor(limit / 2)),
    subject: global,
    measure: { kind: 'usd' },
  })),
  'new-destinations': fc
    .record({
      w: fc.integer({ min: 2, max: 20 }),
      lookback: fc.integer({ min: 21, max: 80 }),
      limit: fc.integer({ min: 1, max: 150 }),
    })
    .map(({ w, lookback, limit }) => ({
      ...base('new-dest', w, limit, Math.floor(limit / 2)),
      subject: global,
      measure: { kind: 'new-destination-usd', lookbackSeconds: lookback },
    })),
  'distinct-assets': fc
    .record({
      w: fc.integer({ min: 2, max: 30 }),
      trip: fc.integer({ min: 2, max: 3 }),
      threshold: fc.integer({ min: 1, max: 40 }),
    })
    .map(({ w, trip, threshold }) => ({
      ...base('distinct', w, trip - 1, trip - 2),
      subject: global,
      measure: {
        kind: 'distinct-assets',
        percent: 50,
        assets: ASSETS.map((asset) => ({
          chain: 'alpha',
          asset,
          decimals: 0,
          limit: BigInt(threshold * 2),
          limitWindowSeconds: w,
          threshold: BigInt(threshold),
        })),
      },
    })),
  'wallet-profile': fc
    .record({
      w: fc.integer({ min: 2, max: 6 }),
      buckets: fc.integer({ min: 3, max: 8 }),
      floor: fc.integer({ min: 1, max: 50 }),
    })
    .map(({ w, buckets, floor }) => ({
      ...base('profile', w, floor, Math.floor(floor / 2)),
      subject: { kind: 'wallet', chain: 'alpha', wallet: HOT[0]! },
      measure: {
        kind: 'profile-usd',
        tripFactorPpm: 2_000_000n,
        warnFactorPpm: 1_500_000n,
        percentilePpm: 900_000,
        baselineSeconds: w * buckets,
        minHistorySeconds: w * 2,
      },
    })),
  'balance-drawdown': fc
    .record({
      w: fc.integer({ min: 2, max: 30 }),
      emptied: fc.boolean(),
      tripPpm: fc.integer({ min: 100_000, max: 800_000 }),
      floorPpm: fc.integer({ min: 0, max: 300_000 }),
    })
    .map(({ w, emptied, tripPpm, floorPpm }) =>
      emptied
        ? {
            ...base('emptied', w, 0, 0),
            subject: { kind: 'chain', chain: 'alpha' },
            measure: { kind: 'balance-emptied', floorPpm: BigInt(floorPpm) },
          }
        : {
            ...base('drawdown', w, tripPpm, Math.floor(tripPpm / 2)),
            subject: { kind: 'chain', chain: 'alpha' },
            measure: { kind: 'balance-drawdown' },
          },
    ),
};

const specArb = fc.record({
  t: fc.integer({ min: 0, max: 150 }),
  usd: fc.integer({ min: 0, max: 60 }),
  amount: fc.integer({ min: 1, max: 50 }),
  asset: fc.integer({ min: 0, max: ASSETS.length - 1 }),
  dest: fc.integer({ min: 0, max: DESTS.length - 1 }),
  wallet: fc.integer({ min: 0, max: HOT.length - 1 }),
  // The hot wallets' balance of the asset after the outflow; sometimes unknown (no balance reader).
  balance: fc.option(fc.integer({ min: 0, max: 120 }), { freq: 6 }),
});

type Spec = typeof specArb extends fc.Arbitrary<infer T> ? T : never;

function record(s: Spec, i: number): OutflowRecord {
  return {
    chain: 'alpha',
    block: s.t,
    blockHash: `b${s.t}`,
    blockTime: s.t,
    txHash: `tx${i}`,
    index: i,
    // Each asset its own token (the native coin for the first), as balance rules key assets by contract.
    contract: s.asset === 0 ? null : `0xtoken-${ASSETS[s.asset]}`,
    from: HOT[s.wallet]!,
    to: DESTS[s.dest]!,
    amount: BigInt(s.amount),
    id: `alpha:tx${i}:${i}`,
    t: s.t,
    asset: ASSETS[s.asset]!,
    decimals: 0,
    known: true,
    own: false,
    usdMicros: BigInt(s.usd),
    priceSource: 'static',
    ...(s.balance === null ? {} : { balanceAfter: BigInt(s.balance) }),
  };
}

function comparable(breaches: Breach[]) {
  return breaches.map((b) => ({ ...b, rule: b.rule.id, outflows: b.outflows.map((r) => r.id) }));
}

function spanOf(batch: readonly OutflowRecord[]): AffectedSpan {
  const ts = batch.map((r) => r.t);
  return { fromT: Math.min(...ts), toT: Math.max(...ts), newIds: new Set(batch.map((r) => r.id)) };
}

describe('every registered rule kind', () => {
  it('has a generator in this suite (and only registered kinds have one)', () => {
    expect(RULE_KINDS.map((k) => k.id).sort()).toEqual(Object.keys(GENERATORS).sort());
  });

  for (const kind of RULE_KINDS) {
    it(`${kind.id}: claims its rules, and incremental ≡ reference on random histories and batches`, () => {
      const levels = new Set<string>();
      fc.assert(
        fc.property(
          fc.array(GENERATORS[kind.id], { minLength: 1, maxLength: 3 }),
          fc.array(specArb, { minLength: 1, maxLength: 60 }),
          fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 20 }),
          (generated, specs, cuts) => {
            const rules = generated.map((r, i) => ({ ...r, id: `${r.id}-${i}` }));
            for (const r of rules) expect(ruleKindOf(r)).toBe(kind);
            const arrival = specs.map(record).sort((a, b) => a.t - b.t);
            const evaluator = new IncrementalEvaluator(rules);
            const history: OutflowRecord[] = [];
            for (let start = 0, k = 0; start < arrival.length; k++) {
              const batch = arrival.slice(start, start + (cuts[k % cuts.length] as number));
              start += batch.length;
              history.push(...batch);
              evaluator.add(batch);
              const span = spanOf(batch);
              const got = evaluator.evaluate(span);
              expect(comparable(got)).toEqual(comparable(evaluateRules(rules, history, span)));
              for (const b of got) levels.add(b.level);
            }
          },
        ),
        { numRuns: 150 },
      );
      // Not vacuous: the kind tripped somewhere in the runs.
      expect(levels).toContain('trip');
    });
  }

  it('a rule no kind claims is refused, never evaluated by a default', () => {
    const stray = { ...base('stray', 10, 1, 1), subject: global, measure: { kind: 'entropy' } } as unknown as Rule;
    expect(() => ruleKindOf(stray)).toThrow('claimed by 0 rule kinds');
  });
});
