/**
 * Per-chain window summaries (core/windows/summary.ts): the bound they give a global limit is never
 * below any exact window total, and a poll uses them to skip the other chains' ledgers only while a
 * limit is out of reach — within reach it evaluates exactly, to the second at the window edge.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryBreakerStore } from '../../../functions/adapters/memory/memory-breaker-store.ts';
import { windowTotalsAt } from '../../../functions/core/evaluate.ts';
import type { OutflowRecord } from '../../../functions/core/model.ts';
import { evaluateAndTransition } from '../../../functions/core/use-cases/poll-chain.ts';
import { buildSummary, summaryWindows, windowBound } from '../../../functions/core/windows/summary.ts';
import { ADDR, compile, outflow } from '../../support/fixtures.ts';
import { initialiseForTest } from '../../support/initialise.ts';

const T0 = 1_700_000_000;

describe('windowBound', () => {
  const config = compile({ global: { usd: { '10m': 5_000, '1h': 20_000 }, count: { '10m': 7 } } });
  const rules = config.rules.filter((r) => r.subject.kind === 'global');
  const windows = summaryWindows(config);

  it('is at or above the exact total of every window a batch can change, over random outflows of two chains', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            chain: fc.constantFrom('ethereum', 'bsc'),
            dt: fc.integer({ min: 0, max: 5_400 }),
            units: fc.integer({ min: 1, max: 9 }),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        fc.integer({ min: -300, max: 300 }),
        (specs, lag) => {
          const records = specs.map((s, i) =>
            outflow(config, { chain: s.chain, t: T0 + s.dt, units: String(s.units), tx: 1_000 + i }),
          );
          const from = T0 - 7_200; // as a poller holds its history: a longest window and more before its batch
          const summaries = ['ethereum', 'bsc'].map((c) => buildSummary(c, records, from, windows, 1, 0));
          // The polling chain's batch is about as new as the newest summarised outflow (chains keep pace).
          const batchAt = T0 + Math.max(...specs.map((s) => s.dt)) + lag;
          const span = { fromT: batchAt, toT: batchAt + 30 };
          for (const rule of rules) {
            const bound = windowBound(rule, summaries, span);
            expect(bound).toBeDefined();
            for (let end = span.fromT; end < span.toT + rule.windowSeconds; end += 7) {
              const [exact] = windowTotalsAt([rule], records, end);
              expect(bound as bigint).toBeGreaterThanOrEqual(exact?.value ?? 0n);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('is undefined (read the ledgers) when a summary does not reach back to the windows', () => {
    const [rule] = rules;
    const records = [outflow(config, { chain: 'bsc', t: T0 + 5_000, units: '1' })];
    const late = buildSummary('bsc', records, T0 + 4_000, windows, 1, 0);
    expect(windowBound(rule!, [late], { fromT: T0 + 3_000, toT: T0 + 3_010 })).toBeUndefined();
    expect(windowBound(rule!, [late], { fromT: T0 + 5_000, toT: T0 + 5_010 })).toBe(500_000_000n);
  });
});

describe('a poll evaluates the global limits from the chains’ summaries', () => {
  // $1,800 per 10 minutes across chains; ETH is $1,000, BNB $500.
  const config = compile({ global: { usd: { '10m': 1_800 } } });

  async function world() {
    const store = new MemoryBreakerStore();
    await initialiseForTest(store);
    const reads: string[] = [];
    const outflowsSince = store.outflowsSince.bind(store);
    store.outflowsSince = async (c, since) => {
      reads.push(c);
      return outflowsSince(c, since);
    };
    const deps = { config, store, clock: { now: () => T0 * 1000 }, publisher: { publish: async () => {} } };
    let lease = 0;
    const poll = async (r: OutflowRecord) => {
      await store.recordOutflows([r]);
      return evaluateAndTransition(deps, [r], { chain: r.chain, block: r.block, t: r.t, leaseVersion: ++lease });
    };
    return { store, reads, poll };
  }

  it('reads no other chain’s ledger while the bound stays under the warn level', async () => {
    const { reads, poll, store } = await world();
    await poll(outflow(config, { chain: 'bsc', t: T0, units: '1', to: ADDR.stranger }));
    reads.length = 0;
    const { trips } = await poll(outflow(config, { chain: 'ethereum', t: T0 + 30, units: '0.5' }));
    expect(trips).toEqual([]);
    expect(reads).not.toContain('bsc'); // its own history only
    expect((await store.summariesOf(['bsc', 'ethereum'])).map((s) => s.chain)).toEqual(['bsc', 'ethereum']);
  });

  it('within reach of the limit it evaluates exactly: a window one second too long holds both, the exact one does not', async () => {
    const apart = await world();
    await apart.poll(outflow(config, { chain: 'bsc', t: T0, units: '2', to: ADDR.stranger }));
    apart.reads.length = 0;
    // $1,000 at T0 + 600: the window (T0, T0 + 600] leaves the $1,000 of BNB at T0 out.
    const edge = await apart.poll(outflow(config, { chain: 'ethereum', t: T0 + 600, units: '1' }));
    expect(apart.reads).toContain('bsc'); // the bound ($2,000) is above the warn level: the ledgers decide
    expect(edge.trips).toEqual([]);

    const inside = await world();
    await inside.poll(outflow(config, { chain: 'bsc', t: T0, units: '2', to: ADDR.stranger }));
    const tripped = await inside.poll(outflow(config, { chain: 'ethereum', t: T0 + 599, units: '1' }));
    expect(tripped.trips.map((t) => t.ruleId)).toEqual(['global-usd-10m']);
    expect(tripped.trips[0]?.evidence.windowEnd).toBe(T0 + 599);
  });
});
