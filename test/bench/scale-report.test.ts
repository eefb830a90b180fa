import { describe, expect, it } from 'vitest';
import { machineBound, renderScale, type ScaleRun } from './scale.ts';

function run(k: number, cpu: Partial<ScaleRun['cpu']>, p95: number): ScaleRun {
  return {
    k,
    store: 'ddblocal',
    seconds: 55,
    wallSeconds: 56,
    loadAverageAtStart: 1,
    polls: { total: 100, withOutflows: 90, failed: 0 },
    outflows: { expected: 7000, recorded: 7000, exact: true },
    pendingBlocksAtEnd: 1,
    state: { saves: 0, conflicts: 0, conflictShareOfSaves: 0, conflictsPerPollWithOutflows: 0 },
    requestsPerPollWithOutflows: 9,
    requestsPerPollWithOutflowsByOperation: { GetItem: 3, PutItem: 4 },
    readUnitsPerPollWithOutflows: 50,
    pollWithOutflowsMs: { p50: 60, p95: 250 },
    confirmedToEvaluatedMs: { p50: 600, p95: p95 },
    cpu: { nodeCores: 0.4, jvmCores: 0.6, machineBusyShare: 0.5, mainThreadUtilisation: 0.5, ...cpu },
    errors: [],
  };
}

describe('the scale report', () => {
  // The 2026-12-05 quiet-machine run: K = 50's main thread was 53 % busy on 0.44 cores with the machine 56 %
  // busy, and the old test (busy ≥ 50 % on < 0.6 cores) called that "other work kept the machine busy".
  it('does not blame the machine for a busy main thread while the machine had cores to spare', () => {
    expect(machineBound(run(50, { mainThreadUtilisation: 0.53, nodeCores: 0.44, machineBusyShare: 0.56 }, 1000))).toBe(
      false,
    );
    const text = renderScale(
      [run(1, {}, 1100), run(50, { mainThreadUtilisation: 0.53, machineBusyShare: 0.56 }, 1000)],
      'now',
    );
    expect(text).not.toContain('Where the machine, not the design, is the limit');
  });

  it('shows the runs with a global pattern rule in their own table, and keeps them out of the done-when', () => {
    const plain = run(50, {}, 1000);
    const patterns: ScaleRun = {
      ...run(50, {}, 7700),
      patterns: true,
      requestsPerPollWithOutflows: 55.8,
      ledgerCache: { served: 1245, partial: 18659, full: 3322, recordsHeldAtEnd: 319442 },
    };
    // The pattern run comes first: the done-when must still pick the plain K = 50 run.
    const text = renderScale([run(1, {}, 1100), patterns, plain], 'now');
    expect(text).toContain('Done-when at K = 50 on DynamoDB Local');
    expect(text).toContain('9.0 requests per poll with outflows (target ≤ 15)');
    expect(text).toContain('confirmed → evaluated p95 1.0 s vs 1.1 s at K = 1: within 2 s');
    const [, patternTable] = text.split('### With a global pattern rule');
    expect(patternTable).toContain('| 50 | DynamoDB Local | yes (7,000) | 55.8 (G 3.0, P 4.0) |');
    expect(patternTable).toContain('| 1245 / 18659 / 3322 |');
    expect(text.split('### With a global pattern rule')[0]).not.toContain('55.8');
  });

  it('marks a run whose pollers waited for a machine with no core to spare', () => {
    const starved = run(50, { mainThreadUtilisation: 0.9, nodeCores: 0.33, machineBusyShare: 0.97 }, 5000);
    expect(machineBound(starved)).toBe(true);
    const text = renderScale([run(1, {}, 1500), starved], 'now');
    expect(text).toContain('Where the machine, not the design, is the limit: K = 50 on DynamoDB Local');
    expect(text).toContain('confirmed → evaluated p95 5.0 s vs 1.5 s at K = 1: NOT within 2 s');
  });
});
