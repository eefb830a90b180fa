/**
 * The XRPL benchmark's correctness half, fast enough for `npm test`: on 40 generated ledgers every
 * read mode and the poll use case find exactly what getBalanceChanges says the hot wallets lost
 * (measureXrplCatchUp throws on any difference). Throughput is `npm run bench`'s business.
 */
import { describe, expect, it } from 'vitest';
import { measureXrplCatchUp } from './xrpl-catch-up.ts';

describe('XRPL bench catch-up on 40 ledgers', () => {
  it('every read mode and the breaker are exact, at about one JSON-RPC call per ledger', async () => {
    const results = await measureXrplCatchUp(40, () => {});
    expect(results.traffic.hotWalletLosses).toBeGreaterThan(0);
    expect(results.runs).toHaveLength(5);
    for (const run of results.runs) {
      expect(run.exact).toBe(true);
      expect(run.transfers).toBeGreaterThanOrEqual(results.traffic.hotWalletLosses);
      expect(run.rpcCallsPerLedger).toBeGreaterThanOrEqual(1);
      expect(run.rpcCallsPerLedger).toBeLessThan(1.5);
    }
  });
});
