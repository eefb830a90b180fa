import { parseArgs } from 'node:util';
import type { AuditRecord } from '../../core/state.ts';
import { auditLine } from '../console-format.ts';
import { exitCodeFor, openTarget, targetHelp, targetOptions } from '../operator-target.ts';

export const summary =
  'the audit history, newest first: trips, resets and reset requests (who, why) [--limit N] [--json]';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...targetOptions,
      limit: { type: 'string', default: '50' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`breaker history [--limit N] [--json]\n  ${targetHelp}\n`);
    return 0;
  }
  const target = await openTarget(values);
  try {
    const res = await target.call('GET', `/api/history?limit=${encodeURIComponent(values.limit)}`);
    if (res.status !== 200) {
      process.stderr.write(`breaker history: ${String(res.data.error)}\n`);
      return exitCodeFor(res.status);
    }
    const records = res.data.records as AuditRecord[];
    if (values.json) process.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
    else {
      process.stdout.write(records.length ? `${records.map(auditLine).join('\n')}\n` : 'No audit records yet.\n');
      process.stdout.write(`(from ${target.where})\n`);
    }
    return 0;
  } finally {
    await target.close();
  }
}
