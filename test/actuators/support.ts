/** Shared pieces for the actuator tests: states, a config with every layer, and a webhook receiver. */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import type { HaltScope } from '../../functions/core/model.ts';
import type { PagePublisher } from '../../functions/core/ports.ts';
import { type BreakerState, initialState, type Page, type TripInfo } from '../../functions/core/state.ts';
import {
  DELIVERY_HEADER,
  type KillSwitchWebhook,
  parseKillSwitchWebhook,
} from '../../functions/kill-switch-protocol/index.ts';

export const WEBHOOK_SECRET = 'test-webhook-secret-0123456789';
export const KEY_1 = '1234abcd-12ab-34cd-56ef-1234567890ab';
export const KEY_2 = '2234abcd-12ab-34cd-56ef-1234567890ab';
export const HOT = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8';

export function trip(scope: HaltScope, ruleId: string, version = 1): TripInfo {
  return {
    tripId: `trip-${version}-${scope.kind === 'global' ? 'global' : `chain:${scope.chain}`}`,
    atMs: Date.UTC(2026, 10, 5, 10),
    ruleId,
    scope,
    evidence: {
      ruleId,
      summary: `${ruleId} broke`,
      measure: 'count',
      value: '1',
      limit: '0',
      windowSeconds: 0,
      windowEnd: 1_700_000_000,
      outflowIds: ['devnet:0xabc:native'],
    },
  };
}

export function stateAt(version: number, tripped: Record<string, TripInfo> = {}): BreakerState {
  return { ...initialState(), version, tripped, updatedAtMs: Date.UTC(2026, 10, 5, 10, 0, version) };
}

export const haltedGlobal = (version: number) =>
  stateAt(version, { global: trip({ kind: 'global' }, 'reconciliation-devnet-unapproved', version) });
export const haltedChain = (version: number, chain: string) =>
  stateAt(version, { [`chain:${chain}`]: trip({ kind: 'chain', chain }, `chain-${chain}-usd-10m`, version) });

export function actuatorConfig(webhookUrl: string, actuators: Record<string, unknown> = {}): BreakerConfig {
  return compileConfig(
    {
      name: 'act-test',
      chains: {
        devnet: {
          kind: 'evm',
          chainId: 31337,
          rpc: ['http://127.0.0.1:1'],
          confirmations: 0,
          blockTimeSeconds: 1,
          hotWallets: [HOT],
          native: { symbol: 'ETH', decimals: 18, usdPrice: 2000 },
        },
        other: {
          kind: 'evm',
          chainId: 31338,
          rpc: ['http://127.0.0.1:1'],
          confirmations: 0,
          blockTimeSeconds: 1,
          hotWallets: [HOT],
          native: { symbol: 'ETH', decimals: 18, usdPrice: 2000 },
        },
      },
      limits: { global: { usd: { '10m': 1_000_000 } } },
      actuators: {
        webhook: { url: webhookUrl, secretEnv: 'TEST_WEBHOOK_SECRET', timeoutMs: 500, retries: 2 },
        lambdaConcurrency: { functions: ['signer-eth', 'arn:aws:lambda:us-east-1:123456789012:function:signer-btc'] },
        kmsKeys: { keys: [KEY_1, `arn:aws:kms:us-east-1:123456789012:key/${KEY_2}`] },
        ...actuators,
      },
    },
    'actuator-test',
  );
}

/** Records pages; `failNext` makes the next publishes throw. */
export class RecordingPublisher implements PagePublisher {
  readonly pages: Page[] = [];
  failNext = 0;
  async publish(page: Page): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('injected publish failure');
    }
    this.pages.push(page);
  }
  ofKind(kind: Page['kind']): Page[] {
    return this.pages.filter((p) => p.kind === kind);
  }
}

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  parsed: KillSwitchWebhook;
}

/**
 * The signing service's webhook endpoint, as docs/SIGNER.md tells a signer to write it: verify the
 * signature over the raw body, then act. `statuses` are answered in turn (then 200); 'hang' never answers.
 */
export async function startWebhookReceiver(secret = WEBHOOK_SECRET, deployment = 'act-test') {
  const received: Received[] = [];
  const statuses: (number | 'hang')[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const parsed = parseKillSwitchWebhook({ secrets: secret, deployment }, body, req.headers, Date.now());
    received.push({ headers: req.headers, body, parsed });
    const status = statuses.shift() ?? (parsed.ok ? 200 : 401);
    if (status === 'hang') return;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: status === 200 }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/breaker-webhook`,
    received,
    /**
     * One entry per delivery (the `x-breaker-delivery` id): delivery is at least once, so an attempt
     * that timed out on a loaded machine and was retried is the same delivery received twice.
     */
    deliveries: () => [...new Map(received.map((r) => [String(r.headers[DELIVERY_HEADER]), r])).values()],
    statuses,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
