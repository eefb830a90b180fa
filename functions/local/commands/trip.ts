import { parseArgs } from 'node:util';
import { exitCodeFor, openTarget, targetHelp, targetOptions } from '../operator-target.ts';

export const summary = 'halt signing by hand: --reason "..." [--scope global|chain:<id>] (default global)';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...targetOptions,
      reason: { type: 'string' },
      scope: { type: 'string', default: 'global' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || !values.reason) {
    process.stderr.write(`breaker trip --reason "<what you saw>" [--scope global|chain:<id>]\n  ${targetHelp}\n`);
    return values.help ? 0 : 2;
  }
  const target = await openTarget(values);
  try {
    const res = await target.call('POST', '/api/trip', { reason: values.reason, scope: values.scope });
    if (res.status !== 200) {
      process.stderr.write(`breaker trip: ${String(res.data.error)}\n`);
      return exitCodeFor(res.status);
    }
    process.stdout.write(
      `Halted ${values.scope} by ${String(res.data.actor)} (${target.where}). Tripped: ${(res.data.tripped as string[]).join(', ')}.\n`,
    );
    if (res.data.warning) process.stderr.write(`warning: ${String(res.data.warning)}\n`);
    return 0;
  } finally {
    await target.close();
  }
}
