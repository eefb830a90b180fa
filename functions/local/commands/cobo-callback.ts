import { parseArgs } from 'node:util';
import { ConfigError } from '../../core/errors.ts';
import { createCoboCallback } from '../../custody/cobo.ts';
import {
  custodyCommandHelp,
  custodyCommandOptions,
  custodyLogger,
  openCustodyTarget,
  serveCustody,
} from '../custody-command.ts';

export const summary = 'answer Cobo WaaS withdrawal callbacks (ok/deny) with the guard (docs/CUSTODY.md)';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: custodyCommandOptions });
  if (values.help || !values.config) {
    process.stderr.write(`breaker cobo-callback --config <file> [--port n]\n${custodyCommandHelp}\n`);
    return values.help ? 0 : 2;
  }
  const target = await openCustodyTarget(values);
  const settings = target.custody.cobo;
  if (!settings) throw new ConfigError(target.config.name, ['custody.cobo: missing']);
  const handler = createCoboCallback({ store: target.store, config: target.config, settings, logger: custodyLogger });
  return serveCustody(
    handler,
    values,
    (base) => `Cobo callback: POST ${base}/ (register it as the callback endpoint)`,
    target,
  );
}
