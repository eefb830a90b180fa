// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${secret:…}/${ssm:…} is the config placeholder syntax under test, not a template.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CachedSecrets } from '../../../functions/adapters/secrets/cached-secrets.ts';
import { resolveSecretReferences, secretReferencesIn } from '../../../functions/adapters/secrets/secret-reference.ts';
import {
  type LocalAwsJson,
  localClientConfig,
  type StoredParameter,
  type StoredSecret,
  secretsManagerHandlers,
  ssmParameterHandlers,
  startLocalAwsJson,
} from '../../support/local-aws-json.ts';

/**
 * Secrets read at run time (security review §7): Secrets Manager and SSM SecureString through the real SDK clients,
 * against the local AWS-JSON stand-in; a rotation lands without a redeploy (TTL, or refresh when refused).
 */
describe('CachedSecrets against local Secrets Manager and SSM', () => {
  let aws: LocalAwsJson;
  const secrets = new Map<string, StoredSecret>();
  const parameters = new Map<string, StoredParameter>();
  let now = 1_000_000;
  const clock = { now: () => now };
  let cache: CachedSecrets;

  beforeAll(async () => {
    aws = await startLocalAwsJson({
      handlers: { ...secretsManagerHandlers(secrets), ...ssmParameterHandlers(parameters) },
    });
    secrets.set('hot-wallet-breaker/x/signer-webhook-secret', { value: 'first-secret-0123456789', versionId: 'v1' });
    parameters.set('/rpc/alchemy-key', {
      name: '/rpc/alchemy-key',
      type: 'SecureString',
      value: 'alch-KEY-123',
      version: 1,
      tier: 'Standard',
      dataType: 'text',
      lastModifiedMs: 0,
    });
    cache = new CachedSecrets({
      secretsManager: new SecretsManagerClient(localClientConfig(aws.endpoint)),
      ssm: new SSMClient(localClientConfig(aws.endpoint)),
      ttlMs: 60_000,
      clock,
    });
  });
  afterAll(async () => aws?.close());

  const webhook = { store: 'secretsmanager', name: 'hot-wallet-breaker/x/signer-webhook-secret' } as const;

  it('reads a Secrets Manager secret once per TTL and picks up a rotation after it, without a restart', async () => {
    const reads = () => aws.callsTo('secretsmanager.GetSecretValue').length;
    const before = reads();
    expect(await cache.get(webhook)).toBe('first-secret-0123456789');
    expect(await cache.get(webhook)).toBe('first-secret-0123456789');
    expect(reads() - before).toBe(1);

    secrets.set(webhook.name, { value: 'rotated-secret-abcdefgh', versionId: 'v2' });
    expect(await cache.get(webhook)).toBe('first-secret-0123456789'); // within the TTL
    now += 60_000;
    expect(await cache.get(webhook)).toBe('rotated-secret-abcdefgh');
    expect(reads() - before).toBe(2);
  });

  it('refresh() reads again at once (a receiver refused the cached value)', async () => {
    secrets.set(webhook.name, { value: 'rotated-again-ABCDEFGH', versionId: 'v3' });
    const supplier = cache.supplier(webhook);
    expect(await supplier.current()).not.toBe('rotated-again-ABCDEFGH');
    expect(await supplier.refresh()).toBe('rotated-again-ABCDEFGH');
    expect(await supplier.current()).toBe('rotated-again-ABCDEFGH');
  });

  it('decrypts an SSM SecureString (asks WithDecryption)', async () => {
    expect(await cache.get({ store: 'ssm', name: '/rpc/alchemy-key' })).toBe('alch-KEY-123');
    expect(aws.callsTo('AmazonSSM.GetParameter').at(-1)?.body).toMatchObject({ WithDecryption: true });
  });

  it('names the reference and the AWS error when a secret cannot be read, and never a value', async () => {
    const missing = cache.get({ store: 'secretsmanager', name: 'nope' });
    await expect(missing).rejects.toThrow(/\$\{secret:nope\}: cannot be read \(ResourceNotFoundException/);
    const noClient = new CachedSecrets({});
    await expect(noClient.get({ store: 'ssm', name: '/rpc/alchemy-key' })).rejects.toThrow(
      /\$\{ssm:\/rpc\/alchemy-key\}: no ssm client configured/,
    );
  });

  it('resolves ${secret:…} and ${ssm:…} placeholders anywhere in a config, each secret read once', async () => {
    const raw = {
      chains: {
        ethereum: {
          rpc: [
            'https://eth-mainnet.g.alchemy.com/v2/${ssm:/rpc/alchemy-key}',
            { url: 'https://rpc.example/${ssm:/rpc/alchemy-key}?plain=1' },
            'https://public.example',
          ],
        },
      },
      limit: 5,
    };
    expect(secretReferencesIn(raw)).toEqual([{ store: 'ssm', name: '/rpc/alchemy-key' }]);
    now += 120_000;
    const before = aws.callsTo('AmazonSSM.GetParameter').length;
    const resolved = await resolveSecretReferences(raw, (r) => cache.get(r));
    expect(resolved).toEqual({
      chains: {
        ethereum: {
          rpc: [
            'https://eth-mainnet.g.alchemy.com/v2/alch-KEY-123',
            { url: 'https://rpc.example/alch-KEY-123?plain=1' },
            'https://public.example',
          ],
        },
      },
      limit: 5,
    });
    expect(aws.callsTo('AmazonSSM.GetParameter').length - before).toBe(1);
    // The input is left as it was: the bundled config keeps its placeholders.
    expect(JSON.stringify(raw)).toContain('${ssm:/rpc/alchemy-key}');
  });
});
