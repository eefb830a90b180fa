/**
 * Review §7: endpoint labels leaked API keys into errors, blindness pages (email, SMS, PagerDuty),
 * the console's chain-health view and logs. Here every chain's endpoints carry secrets in the user
 * info, the query and a path segment and all of them fail (refused, or answering too much), and
 * nothing the breaker writes or shows may contain any of the secrets. Real readers, real HTTP.
 */
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createChainReader } from '../../../functions/adapters/chain-readers.ts';
import { compileConfig } from '../../../functions/adapters/config/config-file.ts';
import { MemoryBreakerStore } from '../../../functions/adapters/memory/memory-breaker-store.ts';
import { OpsConsole } from '../../../functions/console/service.ts';
import type { Page } from '../../../functions/core/state.ts';
import { runPoller } from '../../../functions/core/use-cases/run-poller.ts';
import { initialiseForTest } from '../../support/initialise.ts';
import { hugeAnswerServer } from '../bitcoin/helpers.ts';

const SECRETS = [
  'SeCrEtKeY0123456789',
  'QuErYkEy42',
  'PaSsWoRd9',
  'pa55word',
  'Xk2pQ9zzKEY',
  't0ken77',
  'short-key-123',
];

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function deadOrigin(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe('no endpoint secret reaches errors, logs, pages or the console', () => {
  it('with every endpoint failing on both chain kinds', async () => {
    const dead = await deadOrigin();
    const huge = await hugeAnswerServer(8 * 1024 * 1024, true);
    cleanups.push(huge.close);
    const config = compileConfig(
      {
        name: 'leak-test',
        chains: {
          ethereum: {
            kind: 'evm',
            chainId: 1,
            rpc: [
              `${dead}/v3/SeCrEtKeY0123456789?apikey=QuErYkEy42`,
              `${huge.origin.replace('://', '://user:PaSsWoRd9@')}/v3/short-key-123`,
            ],
            rpcTimeoutMs: 2000,
            rpcMaxResponseBytes: 1024 * 1024,
            confirmations: 0,
            blockTimeSeconds: 1,
            blindAfterSeconds: 1,
            hotWallets: ['0x1111111111111111111111111111111111111111'],
            native: { symbol: 'ETH', decimals: 18, usdPrice: 3000 },
          },
          bitcoin: {
            kind: 'bitcoin',
            network: 'regtest',
            rpc: [`${dead.replace('://', '://watcher:pa55word@')}/wallet/hot`],
            esplora: [`${huge.origin}/api/Xk2pQ9zzKEY?token=t0ken77`],
            rpcTimeoutMs: 2000,
            rpcMaxResponseBytes: 1024 * 1024,
            confirmations: 0,
            blockTimeSeconds: 1,
            blindAfterSeconds: 1,
            hotWallets: ['bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080'],
            native: { symbol: 'BTC', decimals: 8, usdPrice: 100_000 },
          },
        },
        limits: { global: { usd: { '1h': 1_000_000 } } },
      },
      'leak-test.yaml',
    );
    const store = new MemoryBreakerStore();
    await initialiseForTest(store);
    const pages: Page[] = [];
    const publisher = { publish: async (p: Page) => void pages.push(p) };
    const logged: string[] = [];
    let now = 1_700_000_000_000;
    const clock = { now: () => now };

    for (const chain of config.chains.values()) {
      await runPoller(
        { config, chain, reader: createChainReader(chain), store, publisher, clock, owner: `p-${chain.id}` },
        {
          deadlineMs: now + 5_000,
          intervalMs: 1_000,
          sleep: async (ms) => {
            now += ms;
          },
          // What the Lambda handler and the local runtime log.
          onError: (e) => logged.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e)),
        },
      ).catch((e: unknown) => logged.push(String((e as Error).message)));
    }

    const console = new OpsConsole({
      config,
      store,
      publisher,
      clock,
      probeHead: (chain) => createChainReader(config.chains.get(chain)!).head(),
    });
    const status = await console.status('local:test');

    const blind = pages.filter((p) => p.kind === 'blind');
    expect(blind.map((p) => p.details.chain ?? p.subject).length).toBe(2);
    expect(logged.length).toBeGreaterThan(0);
    expect(status.chains.every((c) => c.rpc.status === 'error')).toBe(true);
    // The evidence names the endpoints, redacted, so an operator can still tell which one failed.
    const everything = JSON.stringify({ pages, logged, chains: status.chains, audit: await store.listAudit(100) });
    expect(everything).toContain(`${dead}/v3/***`);
    expect(everything).toContain(`${huge.origin}/api/***`);
    for (const secret of SECRETS) expect(everything, secret).not.toContain(secret);
  }, 60_000);
});
