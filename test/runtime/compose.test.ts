import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDynamo, startLocalDynamo } from '../../functions/adapters/dynamodb/local-dynamo.ts';
import type { ChainReader } from '../../functions/core/chain-kind.ts';
import { ConfigError } from '../../functions/core/errors.ts';
import { DEFAULT_LEASE_MS } from '../../functions/core/use-cases/cursor-lease.ts';
import {
  composeFromEnv,
  composeLocal,
  consoleDeps,
  parseLambdaEnv,
  pollerDeps,
} from '../../functions/runtime/compose.ts';
import { actuatorConfig, RecordingPublisher, WEBHOOK_SECRET } from '../actuators/support.ts';

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('the Lambda environment', () => {
  it('names the missing variable (an empty one counts as missing)', () => {
    expect(configErrorOf(() => parseLambdaEnv({})).message).toContain('BREAKER_TABLE: not set (the CDK stack sets it)');
    expect(configErrorOf(() => parseLambdaEnv({ BREAKER_TABLE: '' })).message).toContain('BREAKER_TABLE');
  });

  it('names a lease that is not a number of milliseconds, and defaults to the short lease', async () => {
    expect(configErrorOf(() => parseLambdaEnv({ BREAKER_TABLE: 't', POLL_LEASE_MS: 'soon' })).message).toContain(
      'POLL_LEASE_MS: not a number of milliseconds',
    );
    expect(configErrorOf(() => parseLambdaEnv({ BREAKER_TABLE: 't', POLL_LEASE_MS: '50' })).message).toContain(
      'POLL_LEASE_MS: at least 1000',
    );
    expect(parseLambdaEnv({ BREAKER_TABLE: 't', POLL_LEASE_MS: '20000' }).POLL_LEASE_MS).toBe(20_000);
    const c = await composeFromEnv({ BREAKER_TABLE: 't', BREAKER_CONFIG_FILE: 'config/example.yaml' });
    expect(c.leaseMs).toBe(DEFAULT_LEASE_MS);
    const longer = await composeFromEnv({
      BREAKER_TABLE: 't',
      BREAKER_CONFIG_FILE: 'config/example.yaml',
      POLL_LEASE_MS: '20000',
    });
    expect(pollerDeps({ ...longer, publisher: { publish: async () => undefined } }, 'ethereum', 'o').leaseMs).toBe(
      20_000,
    );
  });

  it('a read-only function (no topic) gets neither a pager nor kill-switch layers', async () => {
    const c = await composeFromEnv({ BREAKER_TABLE: 't', BREAKER_CONFIG_FILE: 'config/example.yaml' });
    expect(c.config.name).toBe('example-exchange');
    expect(c.publisher).toBeUndefined();
    expect(c.mirror).toBeUndefined();
    expect(() => pollerDeps(c, 'ethereum', 'x')).toThrow(/PAGE_TOPIC_ARN/);
  });
});

describe('a local composition', () => {
  let dynamo: LocalDynamo;
  beforeAll(async () => {
    dynamo = await startLocalDynamo();
  });
  afterAll(async () => {
    await dynamo.close();
  });

  it('gives every poller and the console the same store, pager, kill-switch layers and reader', () => {
    const config = actuatorConfig('http://127.0.0.1:1/hook', { lambdaConcurrency: undefined, kmsKeys: undefined });
    const reader: ChainReader = {
      chain: 'devnet',
      head: async () => 1,
      readRange: async () => ({ blocks: [], transfers: [] }),
      blockRefs: async () => [],
    };
    const c = composeLocal({
      config,
      table: { client: dynamo.client, tableName: dynamo.tableName },
      publisher: new RecordingPublisher(),
      readers: new Map([['devnet', reader]]),
      env: { TEST_WEBHOOK_SECRET: WEBHOOK_SECRET },
    });
    expect(c.mirror).toBeDefined();
    const poller = pollerDeps(c, 'devnet', 'owner-1');
    expect(poller.mirror).toBe(c.mirror);
    expect(poller.store).toBe(c.store);
    expect(poller.publisher).toBe(c.publisher);
    expect(poller.reader).toBe(reader);
    expect(poller.leaseMs).toBe(DEFAULT_LEASE_MS);
    // The console's health probe and the poller of a chain share one reader (one cache per runtime).
    expect(c.readers.get('other')).toBe(pollerDeps(c, 'other', 'owner-1').reader);
    // One cache of the other chains' ledgers per runtime, whatever chain a poller watches (core/windows/ledger-cache.ts).
    expect(poller.ledgers).toBeDefined();
    expect(pollerDeps(c, 'other', 'owner-2').ledgers).toBe(poller.ledgers);
    // Each chain's own history is kept per runtime too, for every run (invocation) of that chain alone.
    expect(poller.history).toBeDefined();
    expect(pollerDeps(c, 'devnet', 'owner-2').history).toBe(poller.history);
    expect(pollerDeps(c, 'other', 'owner-1').history).not.toBe(poller.history);
    const ops = consoleDeps(c);
    expect(ops.mirror).toBe(c.mirror);
    expect(ops.store).toBe(c.store);
  });

  it('an unknown chain is a ConfigError naming the known ones', () => {
    const config = actuatorConfig('http://127.0.0.1:1/hook', { webhook: undefined });
    const c = composeLocal({
      config,
      table: { client: dynamo.client, tableName: dynamo.tableName },
      publisher: new RecordingPublisher(),
    });
    expect(configErrorOf(() => pollerDeps(c, 'nope', 'o')).message).toContain(
      '"nope" is not in the config (known: devnet, other)',
    );
  });
});
