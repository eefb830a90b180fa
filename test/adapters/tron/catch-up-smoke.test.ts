import { describe, expect, it } from 'vitest';
import { tronCatchUp } from '../../bench/tron-catch-up.ts';

/** The Tron benchmark on a few blocks: the same ground-truth check, cheap enough for every test run. */
describe('Tron catch-up bench (smoke)', () => {
  it('finds every outflow sent, exactly, on both read paths and through the poller', async () => {
    const r = await tronCatchUp(60, () => undefined);
    expect(r.traffic.outflows).toBeGreaterThan(5);
    expect(r.runs).toHaveLength(3);
    for (const run of r.runs) expect(run).toMatchObject({ found: r.traffic.outflows, missing: 0, extra: 0 });
  });
});
