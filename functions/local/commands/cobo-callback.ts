import { createCoboCallback } from '../../custody/cobo.ts';
import { custodyLogger, runCustodyCommand } from '../custody-command.ts';

export const summary = 'answer Cobo WaaS withdrawal callbacks (ok/deny) with the guard (docs/CUSTODY.md)';

export function run(argv: string[]): Promise<number> {
  return runCustodyCommand(argv, 'cobo-callback', 'cobo', async (target, settings) => ({
    handler: createCoboCallback({ store: target.store, config: target.config, settings, logger: custodyLogger }),
    describe: (base) => `Cobo callback: POST ${base}/ (register it as the callback endpoint)`,
  }));
}
