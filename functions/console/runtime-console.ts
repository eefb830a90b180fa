import { createChainReader } from '../adapters/chain-readers.ts';
import type { BreakerConfig } from '../core/config/types.ts';
import type { BreakerStore, ChainReader, PagePublisher, StateMirror } from '../core/ports.ts';
import { systemClock } from '../core/time.ts';
import { loadConsoleAssets } from './assets.ts';
import { inProcessApi, type LocalConsole, localOperator, startLocalConsole } from './local-server.ts';
import { OpsConsole } from './service.ts';

/**
 * The web console of a local runtime (`npm start`, `breaker watch`, `breaker console`): the runtime's
 * store, its pager, the chains' RPC endpoints for the health view, acting as this process's OS user.
 */
export async function startRuntimeConsole(opts: {
  config: BreakerConfig;
  store: BreakerStore;
  publisher: PagePublisher;
  /** The runtime's kill-switch layers, so console resets and trips actuate them too. */
  mirror?: StateMirror;
  port?: number;
}): Promise<LocalConsole> {
  const readers = new Map<string, ChainReader>();
  const ops = new OpsConsole({
    config: opts.config,
    store: opts.store,
    publisher: opts.publisher,
    mirror: opts.mirror,
    clock: systemClock,
    probeHead: (chain) => {
      const cfg = opts.config.chains.get(chain);
      if (!cfg) return Promise.reject(new Error(`unknown chain ${chain}`));
      const reader = readers.get(chain) ?? createChainReader(cfg);
      readers.set(chain, reader);
      return reader.head();
    },
  });
  const assets = loadConsoleAssets();
  return startLocalConsole({ api: inProcessApi(ops, localOperator(), assets), assets, port: opts.port });
}
