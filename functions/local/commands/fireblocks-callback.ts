import {
  createFireblocksCallback,
  FIREBLOCKS_CONFIG_CHANGE_PATH,
  FIREBLOCKS_TX_PATH,
} from '../../custody/fireblocks.ts';
import { custodyLogger, readKeyFile, runCustodyCommand } from '../custody-command.ts';

export const summary = 'answer the Fireblocks API co-signer callback with the guard (docs/CUSTODY.md)';

export function run(argv: string[]): Promise<number> {
  return runCustodyCommand(argv, 'fireblocks-callback', 'fireblocks', async (target, settings) => ({
    handler: await createFireblocksCallback({
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
    }),
    describe: (base) =>
      `Fireblocks co-signer callback: POST ${base}${settings.pathPrefix}${FIREBLOCKS_TX_PATH} and ${FIREBLOCKS_CONFIG_CHANGE_PATH} (set ${base}${settings.pathPrefix} as the callback URL)`,
  }));
}
