/**
 * Fault matrix, process: a poller killed with SIGKILL in the middle of a batch (holding its lease,
 * part of the batch recorded) is recovered by the next poller within the short lease; the range is
 * counted exactly once and the breach trips once. The measurement is shared with `npm run bench`.
 */
import { describe, expect, it } from 'vitest';
import { measureLeaseRecovery, RECOVERY_OUTFLOWS } from '../bench/lease-recovery.ts';
import { NOTHING_REARMED, recordTamperRow } from '../tamper/row.ts';
import { recordRow } from './world.ts';

describe('a poller killed mid-batch', () => {
  it('is recovered by the next poller within the short lease, exactly once', async () => {
    const run = await measureLeaseRecovery();
    process.stdout.write(
      `lease recovery after SIGKILL mid-batch: ${run.recoveryMs.toFixed(0)} ms (lease ${run.leaseMs} ms)\n`,
    );
    expect(run.orphanedRecords).toBeGreaterThan(0);
    expect(run.orphanedRecords).toBeLessThan(RECOVERY_OUTFLOWS);
    // Within the lease, plus one poll interval and one poll (generous for a loaded 2-core machine).
    // The 15 s lease plus one poll of the 600-outflow batch; generous for a loaded 2-core machine, and far
    // below the 120 s lease this replaced. BENCHMARKS.md §6 reports the measured figure.
    expect(run.recoveryMs).toBeLessThan(30_000);
    expect(run.outflowsRecorded).toBe(RECOVERY_OUTFLOWS);
    expect(run.tripPages).toBe(1);
    expect(run.cursorLastBlock).toBe(20);
    expect(run.leaseLeft).toBe(false);
    expect(run.counts).toMatchObject({
      outflows: RECOVERY_OUTFLOWS,
      missed: 0,
      doubleCounted: 0,
      phantom: 0,
      wrongAmount: 0,
    });
    recordRow(
      expect.getState().currentTestName ?? 'lease recovery',
      {
        component: 'process',
        fault: `poller SIGKILLed mid-batch (child process, holding its ${run.leaseMs / 1000} s lease, ${run.orphanedRecords} of ${RECOVERY_OUTFLOWS} records written)`,
        expected:
          'the next poller recovers the range once the short lease runs out: its writes undone and redone, one trip page',
        observed: `recovered ${(run.recoveryMs / 1000).toFixed(1)} s after the SIGKILL; trip pages ${run.tripPages}`,
      },
      run.counts,
    );
    recordTamperRow({
      attacker: 'anyone who can kill the poller (OOM, a forced timeout, a crash they provoke)',
      tamper: `poller SIGKILLed mid-batch, holding its lease, ${run.orphanedRecords} of ${RECOVERY_OUTFLOWS} records written`,
      control: 'a short cursor lease renewed while a poll runs; the next poller undoes the partial batch and redoes it',
      outcome: NOTHING_REARMED,
      recoveryMs: Math.round(run.recoveryMs),
      observed: `the breach in the batch tripped once (trip pages ${run.tripPages}); ${run.outflowsRecorded} of ${RECOVERY_OUTFLOWS} outflows recorded exactly once`,
    });
  }, 120_000);
});
