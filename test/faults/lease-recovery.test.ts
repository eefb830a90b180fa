/**
 * Fault matrix, process: a poller killed with SIGKILL in the middle of a batch (holding its lease,
 * part of the batch recorded) is recovered by the next poller within the short lease; the range is
 * counted exactly once and the breach trips once. The measurement is shared with `npm run bench`.
 */
import { describe, expect, it } from 'vitest';
import { measureLeaseRecovery, RECOVERY_OUTFLOWS } from '../bench/lease-recovery.ts';

describe('a poller killed mid-batch', () => {
  it('is recovered by the next poller within the short lease, exactly once', async () => {
    const run = await measureLeaseRecovery();
    process.stdout.write(
      `lease recovery after SIGKILL mid-batch: ${run.recoveryMs.toFixed(0)} ms (lease ${run.leaseMs} ms)\n`,
    );
    expect(run.orphanedRecords).toBeGreaterThan(0);
    expect(run.orphanedRecords).toBeLessThan(RECOVERY_OUTFLOWS);
    // Within the lease, plus one poll interval and one poll (generous for a loaded 2-core machine).
    expect(run.recoveryMs).toBeLessThan(20_000);
    expect(run.outflowsRecorded).toBe(RECOVERY_OUTFLOWS);
    expect(run.tripPages).toBe(1);
    expect(run.cursorLastBlock).toBe(20);
    expect(run.leaseLeft).toBe(false);
  }, 120_000);
});
