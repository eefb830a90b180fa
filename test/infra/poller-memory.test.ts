import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MEASURED_POLLER_PEAK_RSS_MB, POLLER_MEMORY_MB, pollerMemoryMb } from '../../infra/constructs/poller-memory.ts';
import { REPO_ROOT } from '../../infra/paths.ts';

describe('poller memory', () => {
  it('is sized from the peak the bench measured on the bundled handler (npm run bench -- --only memory)', () => {
    const bench = JSON.parse(readFileSync(join(REPO_ROOT, 'BENCHMARKS.json'), 'utf8')) as { pollerPeakRssMb?: number };
    expect(
      bench.pollerPeakRssMb,
      'BENCHMARKS.json has no pollerPeakRssMb: run npm run bench -- --only memory',
    ).toBeTypeOf('number');
    // Re-measured within the same size step, nothing changes; a peak that moves the size must be copied here.
    expect(POLLER_MEMORY_MB).toBe(pollerMemoryMb(bench.pollerPeakRssMb!));
    expect(POLLER_MEMORY_MB).toBe(pollerMemoryMb(MEASURED_POLLER_PEAK_RSS_MB));
    expect(POLLER_MEMORY_MB).toBeGreaterThan(bench.pollerPeakRssMb!);
  });

  it('keeps headroom above the peak, in steps Lambda accepts', () => {
    expect(pollerMemoryMb(141.5)).toBe(224);
    expect(pollerMemoryMb(40)).toBe(128);
    for (const peak of [50, 100, 137, 170, 300]) {
      const mb = pollerMemoryMb(peak);
      expect(mb).toBeGreaterThanOrEqual(peak * 1.5);
      expect(mb % 32).toBe(0);
      expect(mb).toBeLessThanOrEqual(10_240);
    }
  });
});
