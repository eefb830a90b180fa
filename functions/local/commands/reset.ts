import { parseArgs } from 'node:util';
import type { ConsoleStatus } from '../../console/service.ts';
import { exitCodeFor, openTarget, targetHelp, targetOptions } from '../operator-target.ts';

export { localOperator } from '../../console/local-server.ts';

export const summary =
  're-arm the breaker after review: --reason "..." [--scope global|chain:<id>]; two-person rule: --approve <request id>';

/**
 * One step, or two with `operations.twoPersonReset`: then `--reason` files a request that re-arms
 * nothing, and a different operator runs `--approve <request id>`. The operator is always the
 * identity of the credentials (OS user locally, the IAM principal for a stack), never an argument.
 */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...targetOptions,
      reason: { type: 'string' },
      scope: { type: 'string' },
      approve: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || (!values.reason && !values.approve)) {
    process.stderr.write(
      `breaker reset --reason "<what was reviewed and why it is safe>" [--scope global|chain:<id>]\nbreaker reset --approve <request id>   (two-person rule: a different operator approves)\n  ${targetHelp}\n`,
    );
    return values.help ? 0 : 2;
  }
  const target = await openTarget(values);
  const fail = (res: { status: number; data: Record<string, unknown> }) => {
    process.stderr.write(`breaker reset: ${String(res.data.error)}\n`);
    return exitCodeFor(res.status);
  };
  try {
    if (values.approve) {
      const res = await target.call('POST', '/api/reset/approve', { requestId: values.approve });
      if (res.status !== 200) return fail(res);
      return done(res.data, `Approved ${values.approve} as ${String(res.data.actor)} (${target.where}).`);
    }
    const status = await target.call('GET', '/api/status');
    if (status.status !== 200) return fail(status);
    const s = status.data as unknown as ConsoleStatus;
    if (s.operations.twoPersonReset) {
      const res = await target.call('POST', '/api/reset/request', { reason: values.reason, scope: values.scope });
      if (res.status !== 200) return fail(res);
      const p = res.data.pendingReset as { requestId: string; expiresAtMs: number };
      process.stdout.write(
        `Reset requested by ${String(res.data.actor)} (${target.where}); nothing is re-armed yet.\n` +
          `Two-person rule: a different operator approves before ${new Date(p.expiresAtMs).toISOString()} with\n` +
          `  breaker reset --approve ${p.requestId}\n`,
      );
      return 0;
    }
    // The trips on screen are the ones reviewed: a trip that lands meanwhile rejects the reset.
    const reviewedTripIds = s.trips.map((t) => t.tripId);
    const res = await target.call('POST', '/api/reset', {
      reason: values.reason,
      scope: values.scope,
      reviewedTripIds,
    });
    if (res.status !== 200) return fail(res);
    return done(res.data, `Re-armed by ${String(res.data.actor)} (${target.where}).`);
  } finally {
    await target.close();
  }
}

function done(data: Record<string, unknown>, headline: string): number {
  const still = data.tripped as string[];
  process.stdout.write(
    `${headline} ${still.length ? `Still tripped: ${still.join(', ')}` : 'The breaker is armed.'}\n`,
  );
  if (data.warning) process.stderr.write(`warning: ${String(data.warning)}\n`);
  return 0;
}
