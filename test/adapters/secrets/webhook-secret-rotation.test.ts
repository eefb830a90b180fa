import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKillSwitchActuators } from '../../../functions/adapters/actuators/build.ts';
import { compileConfig } from '../../../functions/adapters/config/config-file.ts';
import { CachedSecrets } from '../../../functions/adapters/secrets/cached-secrets.ts';
import { initialState } from '../../../functions/core/state.ts';
import { SIGNATURE_HEADER, verifySignature } from '../../../functions/kill-switch-protocol/index.ts';
import {
  type LocalAwsJson,
  localClientConfig,
  type StoredSecret,
  secretsManagerHandlers,
  startLocalAwsJson,
} from '../../support/local-aws-json.ts';

/**
 * Security review §7: in AWS the webhook's HMAC secret is read from Secrets Manager at run time (the stack sets
 * WEBHOOK_SECRET_ID, never the value), so rotating it needs no redeploy: a signing service that already verifies
 * with the new secret answers 401 to the cached one, and the breaker re-reads the secret and delivers.
 */
describe('webhook secret from Secrets Manager, rotated without a redeploy', () => {
  let aws: LocalAwsJson;
  let receiver: Server;
  let url: string;
  const secrets = new Map<string, StoredSecret>();
  let receiverSecret = 'original-secret-0123456789';
  const accepted: number[] = [];

  beforeAll(async () => {
    aws = await startLocalAwsJson({ handlers: secretsManagerHandlers(secrets) });
    secrets.set('hot-wallet-breaker/rot/signer-webhook-secret', { value: receiverSecret, versionId: 'v1' });
    receiver = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const check = verifySignature(
        receiverSecret,
        Buffer.concat(chunks).toString('utf8'),
        req.headers[SIGNATURE_HEADER],
        Date.now(),
      );
      if (!check.ok) {
        res.writeHead(401).end();
        return;
      }
      accepted.push(Date.now());
      res.writeHead(204).end();
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/breaker`;
  });
  afterAll(async () => {
    receiver?.close();
    await aws?.close();
  });

  it('signs with the secret read at run time, and re-reads it once when the receiver refuses it', async () => {
    const config = compileConfig(
      {
        name: 'rot',
        chains: {
          devnet: {
            kind: 'evm',
            chainId: 31337,
            rpc: ['http://127.0.0.1:1'],
            confirmations: 0,
            blockTimeSeconds: 1,
            hotWallets: ['0x0000000000000000000000000000000000000001'],
            native: { symbol: 'ETH', decimals: 18, usdPrice: 1 },
          },
        },
        limits: { global: { usd: { '1h': 1000 } } },
        actuators: { ssmParameter: { enabled: false }, webhook: { url, secretEnv: 'UNUSED_IN_AWS', retries: 0 } },
      },
      'test',
    );
    const pages: unknown[] = [];
    const mirror = createKillSwitchActuators({
      config,
      audit: { appendAudit: async () => undefined, listAudit: async () => [] },
      publisher: { publish: async (p) => void pages.push(p) },
      memory: { getMemo: async () => undefined, putMemo: async () => true },
      secrets: new CachedSecrets({ secretsManager: new SecretsManagerClient(localClientConfig(aws.endpoint)) }),
      env: { WEBHOOK_SECRET_ID: 'hot-wallet-breaker/rot/signer-webhook-secret' },
    });
    expect(mirror).toBeDefined();

    const tripped = (version: number) => ({
      ...initialState(),
      version,
      tripped: {
        global: {
          tripId: `t${version}`,
          atMs: 1,
          ruleId: 'global-usd-1h',
          scope: { kind: 'global' as const },
          evidence: {
            ruleId: 'global-usd-1h',
            summary: 's',
            measure: 'usd' as const,
            value: '2',
            limit: '1',
            windowSeconds: 3600,
            windowEnd: 1,
            outflowIds: [],
          },
        },
      },
    });
    await mirror!.mirror(tripped(1));
    expect(accepted).toHaveLength(1);

    // Rotation: Secrets Manager and the signing service move to a new secret; the breaker's cached copy is stale.
    receiverSecret = 'rotated-secret-ABCDEFGHIJ';
    secrets.set('hot-wallet-breaker/rot/signer-webhook-secret', { value: receiverSecret, versionId: 'v2' });
    const reads = aws.callsTo('secretsmanager.GetSecretValue').length;
    await mirror!.mirror({ ...initialState(), version: 2 });
    expect(pages).toEqual([]);
    expect(accepted).toHaveLength(2);
    expect(aws.callsTo('secretsmanager.GetSecretValue').length).toBe(reads + 1);
    expect(pages).toEqual([]);
  });
});
