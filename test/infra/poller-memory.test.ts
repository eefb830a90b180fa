import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  LAMBDA_MB_PER_VCPU,
  MEASURED_GROUP_EXTRA_CHAIN_MB,
  MEASURED_POLLER_PEAK_RSS_MB,
  POLLER_CPU_TARGET_UTILISATION,
  POLLER_HISTORY_HEADROOM,
  POLLER_MEMORY_HEADROOM,
  POLLER_MEMORY_MB,
  type PollerFigures,
  pollerGroupMemoryMb,
  pollerGroupPeakRssMb,
  pollerMemoryMb,
} from '../../infra/constructs/poller-memory.ts';
import { REPO_ROOT } from '../../infra/paths.ts';

interface ProcessRun {
  chains: string[];
  memoryMb?: number;
  peakRssMb: number;
}

interface MemoryFigures {
  costInputs?: { memory?: { withHistory?: { single: ProcessRun; group: ProcessRun } } };
  pollerPeakRssMb?: number;
  pollerGroupChains?: number;
  pollerGroupPeakRssMb?: number;
  pollerGroupExtraChainMb?: number;
  pollerGroupCpuMsPerSecond?: number;
  pollerGroupCpuMsPerSecondPerChain?: number;
  pollerHistoryPeakRssMb?: number;
}

const bench = JSON.parse(readFileSync(join(REPO_ROOT, 'BENCHMARKS.json'), 'utf8')) as MemoryFigures;
const rerun = 'run npm run bench -- --only memory';

describe('poller memory', () => {
  it('sizes every group up to the measured one as the bench figures do: above the working set and the history, CPU at most half busy', () => {
    for (const field of [
      'pollerPeakRssMb',
      'pollerGroupChains',
      'pollerGroupPeakRssMb',
      'pollerGroupExtraChainMb',
      'pollerGroupCpuMsPerSecond',
      'pollerGroupCpuMsPerSecondPerChain',
      'pollerHistoryPeakRssMb',
    ] as const) {
      expect(bench[field], `BENCHMARKS.json has no ${field}: ${rerun}`).toBeTypeOf('number');
    }
    const measured: PollerFigures = {
      singlePeakRssMb: bench.pollerPeakRssMb!,
      extraChainMb: bench.pollerGroupExtraChainMb!,
      cpuMsPerSecondPerChain: bench.pollerGroupCpuMsPerSecondPerChain!,
      historyPeakRssMb: bench.pollerHistoryPeakRssMb!,
    };
    const chains = bench.pollerGroupChains!;
    expect(chains).toBeGreaterThan(1);
    // Sizes are whole MB, so every run of the bench moves the figures' size a little: the stack's size must hold
    // what the latest measurement needs, and not exceed it by more than one old 32 MB step (figures that no longer
    // hold, or that waste money, must be copied into infra/constructs/poller-memory.ts).
    for (let n = 1; n <= chains; n++) {
      const needed = pollerGroupMemoryMb(n, measured);
      expect(pollerGroupMemoryMb(n), `a group of ${n}: copy the figures`).toBeGreaterThanOrEqual(needed);
      expect(pollerGroupMemoryMb(n), `a group of ${n}: copy the figures`).toBeLessThanOrEqual(needed + 32);
    }
    const mb = pollerGroupMemoryMb(chains);
    expect(mb).toBeGreaterThanOrEqual(bench.pollerGroupPeakRssMb! * POLLER_MEMORY_HEADROOM);
    expect(POLLER_MEMORY_MB).toBeGreaterThanOrEqual(bench.pollerPeakRssMb! * POLLER_MEMORY_HEADROOM);
    for (const size of [POLLER_MEMORY_MB, mb]) {
      expect(size).toBeGreaterThanOrEqual(bench.pollerHistoryPeakRssMb! * POLLER_HISTORY_HEADROOM);
    }
    const busy = bench.pollerGroupCpuMsPerSecond! / 1000 / (mb / LAMBDA_MB_PER_VCPU);
    expect(busy).toBeLessThanOrEqual(POLLER_CPU_TARGET_UTILISATION);
    expect(MEASURED_GROUP_EXTRA_CHAIN_MB).toBeGreaterThanOrEqual(0);
  });

  it("holds 14 days of normal-week history at the stack's sizes: one chain and the group stayed within their memory", () => {
    const history = bench.costInputs?.memory?.withHistory;
    expect(history, `BENCHMARKS.json has no costInputs.memory.withHistory: ${rerun}`).toBeDefined();
    for (const r of [history!.single, history!.group]) {
      const label = r.chains.length === 1 ? r.chains[0] : `a group of ${r.chains.length}`;
      // Measured under the heap limits of at most the stack's size for its chain count (what fits under tighter
      // limits fits under the stack's): a size that shrank below the measured one needs a new run.
      expect(r.memoryMb, `${label}: ${rerun}`).toBeLessThanOrEqual(pollerGroupMemoryMb(r.chains.length));
      expect(r.peakRssMb, label).toBeLessThanOrEqual(r.memoryMb!);
    }
  });

  it('gives a group of one the one-chain size and never less memory to a bigger group', () => {
    expect(pollerGroupMemoryMb(1)).toBe(POLLER_MEMORY_MB);
    for (let n = 2; n <= 50; n++) expect(pollerGroupMemoryMb(n)).toBeGreaterThanOrEqual(pollerGroupMemoryMb(n - 1));
    expect(pollerGroupPeakRssMb(3)).toBeCloseTo(MEASURED_POLLER_PEAK_RSS_MB + 2 * MEASURED_GROUP_EXTRA_CHAIN_MB, 9);
    expect(() => pollerGroupMemoryMb(0)).toThrow(/at least one chain/);
    expect(() => pollerGroupMemoryMb(1.5)).toThrow(/at least one chain/);
  });

  it('keeps headroom above the peak, in steps Lambda accepts', () => {
    // Lambda takes whole MB from 128 to 10,240: the smallest such size above the peak with its headroom.
    expect(pollerMemoryMb(141.5)).toBe(213);
    expect(pollerMemoryMb(40)).toBe(128);
    for (const peak of [50, 100, 137, 170, 300]) {
      const mb = pollerMemoryMb(peak);
      expect(mb).toBeGreaterThanOrEqual(peak * 1.5);
      expect(mb - 1).toBeLessThan(Math.max(128, peak * 1.5));
      expect(Number.isInteger(mb)).toBe(true);
      expect(mb).toBeLessThanOrEqual(10_240);
    }
  });
});
