import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { CachedSecrets } from '../../functions/adapters/secrets/cached-secrets.ts';
import { ConfigError } from '../../functions/core/errors.ts';
import { composeFromEnv } from '../../functions/runtime/compose.ts';
import { configDigest } from '../../functions/runtime/config-digest.ts';
import {
  type LocalAwsJson,
  localClientConfig,
  type StoredParameter,
  type StoredSecret,
  secretsManagerHandlers,
  ssmParameterHandlers,
  startLocalAwsJson,
} from '../support/local-aws-json.ts';

/**
 * Issue 11 item 11: an RPC API key is written into the config as a placeholder and read at cold start from
 * Secrets Manager or an SSM SecureString — real SDK clients against the local AWS-JSON stand-ins — so the
 * bundle carries no key. The recorded config digest is of the config as written: a rotated key is not a
 * config change, and no secret value feeds the digest. infra/constructs/config-secrets.ts grants the reads.
 */
const KEY = 'alchemy-key-0123456789abcdef';
const PARAM = 'param-key-fedcba9876543210';

describe('secret placeholders resolved at cold start', () => {
  const secrets = new Map<string, StoredSecret>();
  const parameters = new Map<string, StoredParameter>();
  let aws: LocalAwsJson;
  let file: string;
  // biome-ignore lint/suspicious/noExplicitAny: the example config as parsed YAML, edited in place
  let raw: Record<string, any>;
  const cache = () =>
    new CachedSecrets({
      secretsManager: new SecretsManagerClient(localClientConfig(aws.endpoint)),
      ssm: new SSMClient(localClientConfig(aws.endpoint)),
    });

  beforeAll(async () => {
    aws = await startLocalAwsJson({
      handlers: { ...secretsManagerHandlers(secrets), ...ssmParameterHandlers(parameters) },
    });
    secrets.set('rpc/alchemy-eth', { value: KEY, versionId: 'v1' });
    parameters.set('/rpc/bsc-key', {
      name: '/rpc/bsc-key',
      tier: 'Standard',
      value: PARAM,
      type: 'SecureString',
      version: 1,
      dataType: 'text',
      lastModifiedMs: 0,
    });
    raw = parse(readFileSync(new URL('../../config/example.yaml', import.meta.url), 'utf8'));
    raw.chains.ethereum.rpc = ['https://eth-mainnet.g.alchemy.com/v2/$' + '{secret:rpc/alchemy-eth}'];
    raw.chains.bsc.rpc = ['https://bsc.example/rpc?key=$' + '{ssm:/rpc/bsc-key}'];
    file = join(mkdtempSync(join(tmpdir(), 'deployed-config-')), 'config.yaml');
    writeFileSync(file, stringify(raw));
  });
  afterAll(async () => {
    await aws.close();
  });

  const env = () => ({ BREAKER_TABLE: 't', BREAKER_CONFIG_FILE: file });

  it('replaces each placeholder with its value; the digest is of the config as written', async () => {
    const c = await composeFromEnv(env(), { secrets: cache() });
    expect(c.config.chains.get('ethereum')?.raw.rpc).toEqual([`https://eth-mainnet.g.alchemy.com/v2/${KEY}`]);
    expect(c.config.chains.get('bsc')?.raw.rpc).toEqual([`https://bsc.example/rpc?key=${PARAM}`]);
    expect(c.configDigest).toBe(configDigest(compileConfig(raw, file)));

    // Rotation: a new key is read by the next cold start, and the digest does not move (no [CONFIG] page).
    secrets.set('rpc/alchemy-eth', { value: 'rotated-key-00000000', versionId: 'v2' });
    const next = await composeFromEnv(env(), { secrets: cache() });
    expect(next.config.chains.get('ethereum')?.raw.rpc).toEqual([
      'https://eth-mainnet.g.alchemy.com/v2/rotated-key-00000000',
    ]);
    expect(next.configDigest).toBe(c.configDigest);
    secrets.set('rpc/alchemy-eth', { value: KEY, versionId: 'v3' });
  });

  it('a secret that cannot be read stops the cold start, naming the placeholder and never a value', async () => {
    parameters.delete('/rpc/bsc-key');
    const error = await composeFromEnv(env(), { secrets: cache() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('$' + '{ssm:/rpc/bsc-key}: cannot be read (ParameterNotFound');
    expect((error as Error).message).not.toContain(KEY);
  });

  it('a config with no placeholder reads no secret', async () => {
    const before = aws.calls.length;
    const c = await composeFromEnv(
      { BREAKER_TABLE: 't', BREAKER_CONFIG_FILE: 'config/example.yaml' },
      { secrets: cache() },
    );
    expect(c.config.name).toBe('example-exchange');
    expect(aws.calls.length).toBe(before);
  });
});
