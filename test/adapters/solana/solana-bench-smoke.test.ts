import { describe, expect, it } from 'vitest';
import { measureSolana } from '../../bench/solana-catch-up.ts';

/** The Solana bench on a few slots, so that `npm run bench -- --only solana` keeps working: exact, and its counts add up. */
describe('Solana bench, small', () => {
  it('catches up exactly through the reader, the breaker and steady polls, and counts calls per slot', async () => {
    const r = await measureSolana(60, () => {});
    for (const run of [r.reader, r.breaker, r.steady]) {
      expect(run.exactness.exact).toBe(true);
      expect(run.exactness.found).toBe(r.traffic.outflows);
      expect(run.callsPerSlot).toBeCloseTo(run.rpcCalls / run.slots, 9);
    }
    expect(r.traffic.outflows).toBeGreaterThan(0);
    // Steady polls: a head read plus two batches, at most (the range's calls fit one batch).
    expect(r.steady.requestsPerPoll).toBeLessThanOrEqual(3);
  }, 60_000);
});
