import { parseArgs } from 'node:util';
import type { ConsoleStatus } from '../../console/service.ts';
import type { AuditRecord } from '../../core/state.ts';
import { auditLine, consoleStatusText } from '../console-format.ts';
import { exitCodeFor, openTarget, targetHelp, targetOptions } from '../operator-target.ts';

export const summary = 'show the breaker state, evidence, chains and recent audit (local store, --stack or --table)';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...targetOptions, json: { type: 'boolean' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    process.stdout.write(`breaker status [--json]\n  ${targetHelp}\n`);
    return 0;
  }
  const target = await openTarget(values);
  try {
    const status = await target.call('GET', '/api/status');
    if (status.status !== 200) {
      process.stderr.write(`breaker status: ${String(status.data.error)}\n`);
      return exitCodeFor(status.status);
    }
    const history = await target.call('GET', '/api/history?limit=10');
    const records = (history.data.records ?? []) as AuditRecord[];
    const { ok: _ok, ...s } = status.data as unknown as ConsoleStatus & { ok: boolean };
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ ...s, recentAudit: records }, null, 2)}\n`);
    } else {
      const audit = records.length ? ['', 'Recent audit:', ...records.map((a) => `  ${auditLine(a)}`)] : [];
      process.stdout.write(`${consoleStatusText(s)}\n${audit.join('\n')}\n(from ${target.where}, as ${s.operator})\n`);
    }
    return s.armed ? 0 : 3;
  } finally {
    await target.close();
  }
}
