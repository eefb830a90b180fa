import { parseArgs } from 'node:util';
import { ConfigError } from '../../core/errors.ts';
import {
  createFireblocksCallback,
  FIREBLOCKS_CONFIG_CHANGE_PATH,
  FIREBLOCKS_TX_PATH,
} from '../../custody/fireblocks.ts';
import {
  custodyCommandHelp,
  custodyCommandOptions,
  custodyLogger,
  openCustodyTarget,
  readKeyFile,
  serveCustody,
} from '../custody-command.ts';

export const summary = 'answer the Fireblocks API co-signer callback with the guard (docs/CUSTODY.md)';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: custodyCommandOptions });
  if (values.help || !values.config) {
    process.stderr.write(`breaker fireblocks-callback --config <file> [--port n]\n${custodyCommandHelp}\n`);
    return values.help ? 0 : 2;
  }
  const target = await openCustodyTarget(values);
  const settings = target.custody.fireblocks;
  if (!settings) throw new ConfigError(target.config.name, ['custody.fireblocks: missing']);
  const handler = await createFireblocksCallback({
    store: target.store,
    config: target.config,
    settings,
    logger: custodyLogger,
    cosignerPublicKeyPem: readKeyFile(
      target.configDir,
      settings.cosignerPublicKeyFile,
      'custody.fireblocks.cosignerPublicKeyFile',
    ),
    callbackPrivateKeyPem: readKeyFile(
      target.configDir,
      settings.callbackPrivateKeyFile,
      'custody.fireblocks.callbackPrivateKeyFile',
    ),
  });
  return serveCustody(
    handler,
    values,
    (base) =>
      `Fireblocks co-signer callback: POST ${base}${settings.pathPrefix}${FIREBLOCKS_TX_PATH} and ${FIREBLOCKS_CONFIG_CHANGE_PATH} (set ${base}${settings.pathPrefix} as the callback URL)`,
    target,
  );
}
