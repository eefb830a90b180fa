import { parseArgs } from 'node:util';
import { exitCodeFor, openTarget, targetHelp, targetOptions } from '../operator-target.ts';

export const summary =
  'approve a loosened config before its delay ends: --digest <digest from the [CONFIG] page>; two different people must approve';

/**
 * A loosened config waits operations.loosenDelaySeconds. Two approvals by different people end the wait
 * early (core/config-approval.ts). The operator is the identity of the credentials, never an argument.
 */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...targetOptions, digest: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help || !values.digest) {
    process.stderr.write(
      `breaker approve-config --digest <the loosened config's digest, as the [CONFIG] page names it>\n  A different person approves too before the loosening takes effect early.\n  ${targetHelp}\n`,
    );
    return values.help ? 0 : 2;
  }
  const target = await openTarget(values);
  try {
    const res = await target.call('POST', '/api/config/approve', { digest: values.digest });
    if (res.status !== 200) {
      process.stderr.write(`breaker approve-config: ${String(res.data.error)}\n`);
      return exitCodeFor(res.status);
    }
    const waitingUntil = res.data.looseningWaitsUntil as number | null;
    process.stdout.write(
      waitingUntil === null
        ? `Approved by ${String(res.data.actor)} (${target.where}): the loosened config is in effect now.\n`
        : `Approved by ${String(res.data.actor)} (${target.where}). A different person must approve too, or it takes effect at ${new Date(waitingUntil).toISOString()}.\n`,
    );
    if (res.data.warning) process.stderr.write(`warning: ${String(res.data.warning)}\n`);
    return 0;
  } finally {
    await target.close();
  }
}
