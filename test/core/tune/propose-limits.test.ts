import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../../functions/adapters/config/config-file.ts';
import type { OutflowRecord } from '../../../functions/core/model.ts';
import { limitChanges, limitsSnippet } from '../../../functions/core/tune/limits-snippet.ts';
import {
  proposeLimits,
  roundUp2,
  SECONDS_PER_YEAR,
  slidingPeak,
  windowLabel,
} from '../../../functions/core/tune/propose-limits.ts';

let n = 0;
function outflow(t: number, usd: number, extra: Partial<OutflowRecord> = {}): OutflowRecord {
  n++;
  return {
    chain: 'ethereum',
    block: n,
    blockHash: `0x${n}`,
    blockTime: t,
    txHash: `0xtx${n}`,
    index: 0,
    contract: null,
    from: '0xhot',
    to: `0xcustomer${n}`,
    amount: BigInt(usd) * 10n ** 6n,
    id: `ethereum:0xtx${n}:0`,
    t,
    asset: 'USDT',
    decimals: 6,
    known: true,
    own: false,
    usdMicros: BigInt(usd) * 1_000_000n,
    priceSource: 'static',
    ...extra,
  };
}

const usd = (micros: bigint) => Number(micros / 1_000_000n);

describe('roundUp2, windowLabel, slidingPeak', () => {
  it.each([
    [1n, 1n],
    [99n, 99n],
    [100n, 100n],
    [101n, 110n],
    [1234n, 1300n],
    [960_552n, 970_000n],
    [0n, 1n], // never a zero limit: it would trip on anything
  ])('roundUp2(%s) = %s', (value, expected) => expect(roundUp2(value)).toBe(expected));

  it.each([
    [600, '10m'],
    [3600, '1h'],
    [86_400, '24h'],
    [7 * 86_400, '7d'],
    [90, '90s'],
  ])('windowLabel(%s) = %s', (s, label) => expect(windowLabel(s)).toBe(label));

  it('slidingPeak uses half-open windows (T − W, T]', () => {
    const records = [outflow(0, 100), outflow(600, 50), outflow(601, 25)];
    // At T = 600 the outflow at 0 has left the 10-minute window; at 601 the two later ones remain.
    expect(usd(slidingPeak(records, 600, (r) => r.usdMicros))).toBe(100);
    expect(usd(slidingPeak(records, 601, (r) => r.usdMicros))).toBe(150);
  });
});

describe('proposeLimits', () => {
  it('a history too short for the target rate: proposes the peak × headroom, rounded up, and trips none of it', () => {
    // A week of $1,000 every 10 minutes, with one busy hour.
    const records: OutflowRecord[] = [];
    for (let t = 0; t < 7 * 86_400; t += 600) records.push(outflow(t, 1000));
    records.push(outflow(3 * 86_400 + 1, 40_000), outflow(3 * 86_400 + 2, 30_000));
    const result = proposeLimits(records, { windowsSeconds: [600, 3600], headroom: 2, falseTripsPerYear: 1 });
    const tenMin = result.proposals.find((p) => p.ruleId === 'global-usd-10m');
    expect(tenMin).toMatchObject({ percentileValue: undefined, historyAbove: 0 });
    expect(usd(tenMin?.peak ?? 0n)).toBe(71_000);
    expect(usd(tenMin?.proposed ?? 0n)).toBe(150_000); // 142,000 rounded up to two digits
    const single = result.proposals.find((p) => p.ruleId === 'global-single-tx-usd');
    expect(usd(single?.proposed ?? 0n)).toBe(80_000);
    for (const p of result.proposals) expect(p.proposed, p.ruleId).toBeGreaterThanOrEqual(p.peak);
  });

  it('a history long enough resolves the percentile: one freak window above it is the false trip the target allows', () => {
    // Two years of hourly $10,000–$19,900 outflows, and one $5M hour.
    const records: OutflowRecord[] = [];
    const hours = (2 * SECONDS_PER_YEAR) / 3600;
    for (let h = 0; h < hours; h++) records.push(outflow(h * 3600, 10_000 + ((h * 37) % 100) * 100));
    records.push(outflow(400 * 3600 + 1, 5_000_000));
    const result = proposeLimits(records, { windowsSeconds: [3600], headroom: 1.5, falseTripsPerYear: 2 });
    const hourly = result.proposals.find((p) => p.ruleId === 'global-usd-1h');
    expect(hourly?.percentileValue).toBeDefined();
    // The percentile is set by the ordinary hours, not by the freak one...
    expect(usd(hourly?.percentileValue ?? 0n)).toBeLessThanOrEqual(19_900 + 100);
    expect(usd(hourly?.proposed ?? 0n)).toBeLessThan(100_000);
    expect(usd(hourly?.peak ?? 0n)).toBeGreaterThan(5_000_000);
    // ...which stays above the limit: within the 2 per year × 2 years the target allows.
    expect(hourly?.historyAbove).toBeGreaterThanOrEqual(1);
    expect(hourly?.historyAbove).toBeLessThanOrEqual(4);
  });

  it('leaves out own-address transfers; proposes no units limit for assets the config does not know', () => {
    const records = [
      outflow(0, 1000),
      outflow(10, 9_000_000, { own: true }),
      outflow(20, 500, { asset: 'UNKNOWN', known: false, decimals: null }),
    ];
    const result = proposeLimits(records, { windowsSeconds: [600], headroom: 1, falseTripsPerYear: 1 });
    expect(result.outflows).toBe(2);
    expect(usd(result.proposals.find((p) => p.ruleId === 'global-usd-10m')?.peak ?? 0n)).toBe(1500);
    expect(result.proposals.map((p) => p.ruleId).filter((id) => id.includes('UNKNOWN'))).toEqual([]);
  });

  it('rejects a headroom below 1 and a non-positive rate', () => {
    expect(() => proposeLimits([], { windowsSeconds: [600], headroom: 0.5, falseTripsPerYear: 1 })).toThrow(/headroom/);
    expect(() => proposeLimits([], { windowsSeconds: [600], headroom: 2, falseTripsPerYear: 0 })).toThrow(
      /falseTripsPerYear/,
    );
  });

  it('names each proposal with the id the config compiles the same limit to', () => {
    const config = loadConfigFile('test/fixtures/config/limits-only.yaml');
    const records = [
      outflow(0, 1000),
      outflow(5, 10, { chain: 'bsc', asset: 'BNB', decimals: 18, amount: 10n ** 18n }),
    ];
    const result = proposeLimits(records, { windowsSeconds: [600, 3600], headroom: 2, falseTripsPerYear: 1 });
    const changes = limitChanges(result.proposals, config.rules);
    // Every limit the fixture has for these scopes and windows is matched by id.
    for (const id of [
      'global-usd-10m',
      'global-usd-1h',
      'global-count-10m',
      'global-single-tx-usd',
      'chain-bsc-usd-10m',
      'asset-bsc-BNB-units-1h',
    ])
      expect(changes.find((c) => c.ruleId === id)?.current, id).toBeDefined();
    const snippet = limitsSnippet(result.proposals);
    expect(snippet.chains.bsc?.assets?.BNB?.units?.['1h']).toBe('2');
    expect(snippet.chains.ethereum?.assets?.USDT?.singleTx).toBe('2000');
    expect(snippet.global.count?.['10m']).toBe(4);
  });
});
