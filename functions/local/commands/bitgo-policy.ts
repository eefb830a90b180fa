import { parseArgs } from 'node:util';
import { ConfigError } from '../../core/errors.ts';
import { BITGO_PATH, createBitgoPolicy } from '../../custody/bitgo.ts';
import {
  custodyCommandHelp,
  custodyCommandOptions,
  custodyLogger,
  openCustodyTarget,
  serveCustody,
} from '../custody-command.ts';

export const summary = 'answer a BitGo webhook policy rule (200 continues) with the guard (docs/CUSTODY.md)';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: custodyCommandOptions });
  if (values.help || !values.config) {
    process.stderr.write(`breaker bitgo-policy --config <file> [--port n]\n${custodyCommandHelp}\n`);
    return values.help ? 0 : 2;
  }
  const target = await openCustodyTarget(values);
  const settings = target.custody.bitgo;
  if (!settings) throw new ConfigError(target.config.name, ['custody.bitgo: missing']);
  const pathToken = process.env[settings.pathTokenEnv];
  if (!pathToken)
    throw new ConfigError(target.config.name, [`custody.bitgo.pathTokenEnv: ${settings.pathTokenEnv} is not set`]);
  const handler = createBitgoPolicy({
    store: target.store,
    config: target.config,
    settings,
    pathToken,
    logger: custodyLogger,
  });
  return serveCustody(
    handler,
    values,
    (base) =>
      `BitGo webhook policy: POST ${base}${BITGO_PATH}<$${settings.pathTokenEnv}> (the rule's condition.url, behind TLS)`,
    target,
  );
}
