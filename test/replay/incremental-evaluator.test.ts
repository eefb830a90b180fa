import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateRules } from '../../functions/core/evaluate.ts';
import type { OutflowRecord } from '../../functions/core/model.ts';
import type { AffectedSpan, Breach, OutflowMarks } from '../../functions/core/rules/breach.ts';
import { IncrementalEvaluator } from '../../functions/core/rules/incremental.ts';
import type { DistinctAssetLimit, Rule } from '../../functions/core/rules/rule.ts';

/**
 * The incremental evaluator replay uses must give exactly the breaches evaluateRules gives — same
 * rule, level, value, window end, levels and evidence — whatever the history and however it is cut
 * into batches and reordered (chains observed with different delays deliver late outflows).
 */

const CHAINS = ['alpha', 'beta'] as const;
const ASSETS: Record<(typeof CHAINS)[number], string[]> = { alpha: ['AAA', 'BBB'], beta: ['CCC'] };
const WALLETS = ['0xaaaa000000000000000000000000000000000001', '0xaaaa000000000000000000000000000000000002'];
const DESTS = [
  '0xD00d000000000000000000000000000000000001',
  '0xd00d000000000000000000000000000000000002',
  'bc1qdest3',
  'bc1qdest4',
  'bc1qdest5',
];

function rulesOf(p: {
  w1: number;
  w2: number;
  usdLimit: number;
  countLimit: number;
  unitsLimit: number;
  singleLimit: number;
  lookback: number;
  percent: number;
  distinctTrip: number;
  profileWindow: number;
  profileBuckets: number;
  minHistoryBuckets: number;
  tripFactor: number;
  floor: number;
}): Rule[] {
  const global = { kind: 'global' } as const;
  const rule = (r: Omit<Rule, 'warnAt' | 'halt'> & { warnAt?: bigint }): Rule => ({
    halt: global,
    warnAt: (r.limit * 7n) / 10n,
    ...r,
  });
  const assets: DistinctAssetLimit[] = [
    { chain: 'alpha', asset: 'AAA', decimals: 0, limit: 100n, limitWindowSeconds: p.w1, threshold: BigInt(p.percent) },
    {
      chain: 'alpha',
      asset: 'BBB',
      decimals: 0,
      limit: 100n,
      limitWindowSeconds: p.w1,
      threshold: BigInt(p.percent + 10),
    },
    {
      chain: 'beta',
      asset: 'CCC',
      decimals: 0,
      limit: 100n,
      limitWindowSeconds: p.w1,
      threshold: BigInt(Math.floor(p.percent / 2)),
    },
  ];
  return [
    rule({ id: 'g-usd-1', subject: global, measure: { kind: 'usd' }, windowSeconds: p.w1, limit: BigInt(p.usdLimit) }),
    rule({
      id: 'g-usd-2',
      subject: global,
      measure: { kind: 'usd' },
      windowSeconds: p.w2,
      limit: BigInt(p.usdLimit * 3),
    }),
    rule({
      id: 'g-count',
      subject: global,
      measure: { kind: 'count' },
      windowSeconds: p.w2,
      limit: BigInt(p.countLimit),
    }),
    rule({ id: 'g-single', subject: global, measure: { kind: 'usd' }, windowSeconds: 0, limit: BigInt(p.singleLimit) }),
    rule({
      id: 'c-usd',
      subject: { kind: 'chain', chain: 'alpha' },
      measure: { kind: 'usd' },
      windowSeconds: p.w1,
      limit: BigInt(p.usdLimit),
    }),
    rule({
      id: 'a-units',
      subject: { kind: 'asset', chain: 'alpha', asset: 'AAA' },
      measure: { kind: 'units', asset: 'AAA', decimals: 0 },
      windowSeconds: p.w1,
      limit: BigInt(p.unitsLimit),
    }),
    rule({
      id: 'a-single',
      subject: { kind: 'asset', chain: 'beta', asset: 'CCC' },
      measure: { kind: 'units', asset: 'CCC', decimals: 0 },
      windowSeconds: 0,
      limit: BigInt(p.unitsLimit),
    }),
    rule({
      id: 'p-new-dest',
      subject: global,
      measure: { kind: 'new-destination-usd', lookbackSeconds: p.lookback },
      windowSeconds: p.w1,
      limit: BigInt(p.usdLimit),
    }),
    rule({
      id: 'p-distinct',
      subject: global,
      measure: { kind: 'distinct-assets', percent: 50, assets },
      windowSeconds: p.w2,
      limit: BigInt(p.distinctTrip - 1),
      warnAt: BigInt(p.distinctTrip - 2),
    }),
    ...WALLETS.map((wallet, i) =>
      rule({
        id: `p-profile-${i}`,
        subject: { kind: 'wallet', chain: 'alpha', wallet },
        measure: {
          kind: 'profile-usd',
          tripFactorPpm: BigInt(p.tripFactor * 1_000_000),
          warnFactorPpm: BigInt(p.tripFactor * 500_000),
          percentilePpm: 900_000,
          baselineSeconds: p.profileWindow * p.profileBuckets,
          minHistorySeconds: p.profileWindow * p.minHistoryBuckets,
        },
        windowSeconds: p.profileWindow,
        limit: BigInt(p.floor),
        warnAt: BigInt(Math.floor(p.floor / 2)),
      }),
    ),
  ];
}

const rulesArb = fc
  .record({
    w1: fc.integer({ min: 1, max: 40 }),
    w2: fc.integer({ min: 1, max: 120 }),
    usdLimit: fc.integer({ min: 1, max: 400 }),
    countLimit: fc.integer({ min: 1, max: 12 }),
    unitsLimit: fc.integer({ min: 1, max: 60 }),
    singleLimit: fc.integer({ min: 1, max: 90 }),
    lookback: fc.integer({ min: 41, max: 200 }),
    percent: fc.integer({ min: 2, max: 60 }),
    distinctTrip: fc.integer({ min: 2, max: 3 }),
    profileWindow: fc.integer({ min: 3, max: 20 }),
    profileBuckets: fc.integer({ min: 2, max: 12 }),
    minHistoryBuckets: fc.integer({ min: 1, max: 2 }),
    tripFactor: fc.integer({ min: 2, max: 4 }),
    floor: fc.integer({ min: 0, max: 120 }),
  })
  .map(rulesOf);

type Spec = {
  chain: 0 | 1;
  asset: number;
  wallet: number;
  dest: number;
  t: number;
  amount: number;
  usd: number;
  known: boolean;
  aggregate: boolean;
  usdOnly: boolean;
};

const specArb: fc.Arbitrary<Spec> = fc.record({
  chain: fc.constantFrom(0 as const, 1 as const),
  asset: fc.nat({ max: 1 }),
  wallet: fc.nat({ max: 1 }),
  dest: fc.nat({ max: DESTS.length - 1 }),
  // A narrow range so windows overlap, times tie and 0.5 s steps test the half-open boundary.
  t: fc.integer({ min: 0, max: 400 }).map((x) => 1_000_000 + x / 2),
  amount: fc.integer({ min: 0, max: 80 }),
  usd: fc.integer({ min: 0, max: 150 }),
  known: fc.constantFrom(true, true, true, false),
  aggregate: fc.constantFrom(false, false, false, true),
  usdOnly: fc.constantFrom(false, false, false, false, true),
});

function record(s: Spec, i: number): OutflowRecord & OutflowMarks {
  const chain = CHAINS[s.chain];
  const assets = ASSETS[chain];
  const asset = assets[s.asset % assets.length] as string;
  return {
    chain,
    block: Math.floor(s.t),
    blockHash: `0xb${i}`,
    blockTime: Math.floor(s.t),
    txHash: `0xt${i}`,
    index: i,
    contract: null,
    from: s.wallet === 0 ? (WALLETS[0] as string).toUpperCase().replace('0X', '0x') : (WALLETS[1] as string),
    to: DESTS[s.dest] as string,
    amount: BigInt(s.amount),
    id: `${chain}:0xt${i}:${i}`,
    t: s.t,
    asset: s.known ? asset : 'UNKNOWN',
    decimals: s.known ? 0 : null,
    known: s.known,
    own: false,
    usdMicros: BigInt(s.usd),
    priceSource: 'static',
    ...(s.aggregate ? { aggregate: true } : {}),
    ...(s.usdOnly ? { usdOnly: true } : {}),
  };
}

function comparable(breaches: Breach[]) {
  return breaches.map((b) => ({
    rule: b.rule.id,
    level: b.level,
    value: b.value,
    windowEnd: b.windowEnd,
    limit: b.limit,
    warnAt: b.warnAt,
    baseline: b.baseline,
    outflows: b.outflows.map((r) => r.id),
  }));
}

function spanOf(batch: readonly OutflowRecord[]): AffectedSpan {
  const ts = batch.map((r) => r.t);
  return { fromT: Math.min(...ts), toT: Math.max(...ts), newIds: new Set(batch.map((r) => r.id)) };
}

describe('IncrementalEvaluator', () => {
  it('gives exactly the breaches of evaluateRules on random histories, batches and arrival orders', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(
        rulesArb,
        fc.array(specArb, { minLength: 1, maxLength: 70 }),
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 70 }),
        fc.integer({ min: 0, max: 30 }),
        (rules, specs, cuts, lateness) => {
          // Arrival order: by time plus up to `lateness` seconds of per-chain delay, as chains are polled.
          const records = specs.map(record);
          const arrival = records
            .map((r, i) => ({ r, at: r.t + (r.chain === 'beta' ? lateness : 0), i }))
            .sort((a, b) => a.at - b.at || a.i - b.i)
            .map((x) => x.r);
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
            for (const b of got) seen.add(`${b.rule.id.replace(/^p-profile-\d$/, 'p-profile')}:${b.level}`);
          }
        },
      ),
      { numRuns: 400 },
    );
    // Not vacuous: every kind of rule warned and tripped somewhere in the runs.
    for (const id of [
      'g-usd-1',
      'g-usd-2',
      'g-count',
      'g-single',
      'c-usd',
      'a-units',
      'a-single',
      'p-new-dest',
      'p-distinct',
      'p-profile',
    ]) {
      expect(seen).toContain(`${id}:trip`);
      expect(seen).toContain(`${id}:warn`);
    }
  });

  it('handles arbitrary (not just delayed) arrival orders', () => {
    fc.assert(
      fc.property(
        rulesArb,
        fc.array(specArb, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 5 }),
        (rules, specs, cut) => {
          const records = specs.map(record); // generation order: random in time
          const evaluator = new IncrementalEvaluator(rules);
          const history: OutflowRecord[] = [];
          for (let start = 0; start < records.length; start += cut) {
            const batch = records.slice(start, start + cut);
            history.push(...batch);
            evaluator.add(batch);
            const span = spanOf(batch);
            expect(comparable(evaluator.evaluate(span))).toEqual(comparable(evaluateRules(rules, history, span)));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('counts an outflow added twice once (a repeated poll)', () => {
    const rules = rulesOf({
      w1: 10,
      w2: 60,
      usdLimit: 150,
      countLimit: 1_000,
      unitsLimit: 1_000_000,
      singleLimit: 1_000_000,
      lookback: 100,
      percent: 20,
      distinctTrip: 3,
      profileWindow: 10,
      profileBuckets: 6,
      minHistoryBuckets: 2,
      tripFactor: 3,
      floor: 50,
    }).filter((r) => r.id === 'g-usd-1');
    const r = record(
      {
        chain: 0,
        asset: 0,
        wallet: 0,
        dest: 0,
        t: 1_000_000,
        amount: 1,
        usd: 100,
        known: true,
        aggregate: false,
        usdOnly: false,
      },
      1,
    );
    const evaluator = new IncrementalEvaluator(rules);
    evaluator.add([r]);
    evaluator.add([{ ...r }]);
    expect(evaluator.evaluate(spanOf([r]))).toEqual([]);
    expect(evaluator.measureAt(rules[0] as Rule, r.t)?.value).toBe(100n);
  });

  it('finds the pattern breaches it is meant to (not only agreeing with the reference)', () => {
    const rules = rulesOf({
      w1: 10,
      w2: 60,
      usdLimit: 150,
      countLimit: 1_000,
      unitsLimit: 1_000_000,
      singleLimit: 1_000_000,
      lookback: 100,
      percent: 20,
      distinctTrip: 3,
      profileWindow: 10,
      profileBuckets: 6,
      minHistoryBuckets: 2,
      tripFactor: 3,
      floor: 50,
    }).filter((r) => r.id.startsWith('p-'));
    const at = (t: number, over: Partial<Spec>) =>
      record(
        {
          chain: 0,
          asset: 0,
          wallet: 0,
          dest: 0,
          t,
          amount: 1,
          usd: 1,
          known: true,
          aggregate: false,
          usdOnly: false,
          ...over,
        },
        t * 10,
      );
    const evaluator = new IncrementalEvaluator(rules);
    // Profile: 10 quiet buckets of $10 a bucket from wallet 0, to one regular destination.
    const quiet = Array.from({ length: 10 }, (_, i) => at(1_000_000 + i * 10, { usd: 10, dest: 0 }));
    evaluator.add(quiet);
    // Then the drain: three assets above their thresholds, to a new destination, $300 in one bucket.
    const drain = [
      at(1_000_101, { asset: 0, amount: 30, usd: 100, dest: 3 }),
      at(1_000_102, { asset: 1, amount: 40, usd: 100, dest: 3 }),
      at(1_000_103, { chain: 1, asset: 0, amount: 40, usd: 100, dest: 3 }),
    ];
    evaluator.add(drain);
    const got = evaluator.evaluate(spanOf(drain));
    const byRule = new Map(got.map((b) => [b.rule.id, b]));
    expect(byRule.get('p-distinct')).toMatchObject({ level: 'trip', value: 3n, windowEnd: 1_000_103 });
    // $100 then $100 more to a destination never paid before: $200 > the $150 limit.
    expect(byRule.get('p-new-dest')).toMatchObject({ level: 'trip', value: 200n, windowEnd: 1_000_102 });
    // Wallet 0's profile: p90 of its $10 buckets is $10 → trips above max(3 × $10, $50 floor) = $50.
    expect(byRule.get('p-profile-0')).toMatchObject({
      level: 'trip',
      value: 100n,
      windowEnd: 1_000_101,
      limit: 50n,
      baseline: 10n,
    });
    expect(comparable(got)).toEqual(comparable(evaluateRules(rules, [...quiet, ...drain], spanOf(drain))));
  });
});
