import { loadConsoleAssets } from './assets.ts';
import { inProcessApi, type LocalConsole, localOperator, startLocalConsole } from './local-server.ts';
import { type ConsoleDeps, OpsConsole } from './service.ts';

/**
 * The web console of a local runtime (`npm start`, `breaker watch`, `breaker console`): the runtime's
 * parts (runtime/compose.ts `consoleDeps`: its store, its pager, its kill-switch layers so console
 * resets and trips actuate them too, its chain readers for the health view), acting as this
 * process's OS user.
 */
export async function startRuntimeConsole(deps: ConsoleDeps, opts: { port?: number } = {}): Promise<LocalConsole> {
  const ops = new OpsConsole(deps);
  const assets = loadConsoleAssets();
  return startLocalConsole({ api: inProcessApi(ops, localOperator(), assets), assets, port: opts.port });
}
