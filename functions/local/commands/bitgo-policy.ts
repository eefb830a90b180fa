import { ConfigError } from '../../core/errors.ts';
import { BITGO_PATH, createBitgoPolicy } from '../../custody/bitgo.ts';
import { custodyLogger, runCustodyCommand } from '../custody-command.ts';

export const summary = 'answer a BitGo webhook policy rule (200 continues) with the guard (docs/CUSTODY.md)';

export function run(argv: string[]): Promise<number> {
  return runCustodyCommand(argv, 'bitgo-policy', 'bitgo', async (target, settings) => {
    const pathToken = process.env[settings.pathTokenEnv];
    if (!pathToken) {
      throw new ConfigError(target.config.name, [`custody.bitgo.pathTokenEnv: ${settings.pathTokenEnv} is not set`]);
    }
    return {
      handler: createBitgoPolicy({
        store: target.store,
        config: target.config,
        settings,
        pathToken,
        logger: custodyLogger,
      }),
      describe: (base) =>
        `BitGo webhook policy: POST ${base}${BITGO_PATH}<$${settings.pathTokenEnv}> (the rule's condition.url, behind TLS)`,
    };
  });
}
