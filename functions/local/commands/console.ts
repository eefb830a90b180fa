import { parseArgs } from 'node:util';
import { loadConsoleAssets } from '../../console/assets.ts';
import { localOperator, startLocalConsole } from '../../console/local-server.ts';
import { startRuntimeConsole } from '../../console/runtime-console.ts';
import { systemClock } from '../../core/time.ts';
import { chainReaders, consoleDeps } from '../../runtime/compose.ts';
import { resolveStackApi } from '../aws-target.ts';
import { connectLocal } from '../connect.ts';
import { localPublisher } from '../publishers.ts';
import { waitForSignal } from './watch.ts';

export const summary = 'open the web console on 127.0.0.1 (local store, or --stack <name> through its IAM API)';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      store: { type: 'string' },
      port: { type: 'string' },
      stack: { type: 'string' },
      region: { type: 'string' },
      url: { type: 'string' },
    },
  });
  const port = values.port === undefined ? 0 : Number(values.port);
  const assets = loadConsoleAssets();

  if (values.stack || values.url) {
    // The deployed console API, SigV4-signed with this shell's AWS credentials: AWS verifies who you are.
    const remote = await resolveStackApi({ stack: values.stack, url: values.url, region: values.region });
    const server = await startLocalConsole({ api: remote.proxy, assets, port });
    process.stdout.write(
      `Console for stack ${remote.label}, as ${await remote.whoami()} (from your AWS credentials):\n  ${server.url}\nCtrl-C to stop.\n`,
    );
    await waitForSignal();
    await server.close();
    return 0;
  }

  const conn = await connectLocal(values);
  // No kill-switch layers here: they run in the runtime's pollers (as before this console existed).
  const server = await startRuntimeConsole(
    consoleDeps({
      config: conn.config,
      store: conn.store,
      publisher: localPublisher(conn.config),
      mirror: undefined,
      readers: chainReaders(conn.config),
      clock: systemClock,
    }),
    { port },
  );
  process.stdout.write(
    `Console for ${conn.config.name} (${conn.where}), operator ${localOperator()}:\n  ${server.url}\nCtrl-C to stop.\n`,
  );
  try {
    await waitForSignal();
  } finally {
    await server.close();
    await conn.close();
  }
  return 0;
}
