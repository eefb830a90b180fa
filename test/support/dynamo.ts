/**
 * Stores for tests, each a real DynamoDbBreakerStore against a real DynamoDB-compatible server.
 *
 * - `startTestStore()`: a fresh in-memory dynalite on a free loopback port (5 ms), for any test.
 * - `storeBackends()`: the servers an adapter contract test runs on: dynalite always, and AWS's
 *   DynamoDB Local (full fidelity, ~3 s JVM start) when DYNAMODB_LOCAL_JAR names its jar
 *   (`.ci/run` fetches it from the npm tarball amplify-dynamodb-simulator@2.9.30).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { type DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import {
  DynamoDbBreakerStore,
  type UnprocessedRetryOptions,
} from '../../functions/adapters/dynamodb/dynamodb-breaker-store.ts';
import {
  createTableIfMissing,
  localDynamoClient,
  startLocalDynamo,
} from '../../functions/adapters/dynamodb/local-dynamo.ts';
import { freePort } from '../../functions/local/anvil-process.ts';

export interface TestStore {
  readonly store: DynamoDbBreakerStore;
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly endpoint: string;
  /** The local store's per-run secret, for a client or proxy that is not `client` (dynalite only). */
  readonly token?: string;
  close(): Promise<void>;
}

export interface TestStoreOptions {
  /** Fast retries by default, so fault tests do not wait seconds. */
  readonly unprocessedRetry?: UnprocessedRetryOptions;
}

const FAST_RETRY: UnprocessedRetryOptions = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 };

export async function startTestStore(options: TestStoreOptions = {}): Promise<TestStore> {
  // The handler tests aim SDK clients built from the environment at it, which cannot carry the
  // run's secret; test/adapters/dynamodb/local-store-access.test.ts covers the secret.
  const local = await startLocalDynamo({ tableName: 'breaker-test', requireToken: false });
  const store = new DynamoDbBreakerStore({
    client: local.client,
    tableName: local.tableName,
    unprocessedRetry: options.unprocessedRetry ?? FAST_RETRY,
  });
  return {
    store,
    client: local.client,
    tableName: local.tableName,
    endpoint: local.endpoint,
    token: local.token,
    close: local.close,
  };
}

/** A server an adapter test suite runs against: `setUp` once per file, `start` a fresh store per test. */
export interface StoreBackend {
  readonly name: string;
  setUp(): Promise<void>;
  start(): Promise<TestStore>;
  tearDown(): Promise<void>;
}

export const dynaliteBackend: StoreBackend = {
  name: 'dynalite',
  setUp: async () => {},
  start: () => startTestStore(),
  tearDown: async () => {},
};

/** DynamoDB Local is too slow to start per test: one JVM per file, a fresh table and client per test. */
export function dynamoDbLocalBackend(jarPath: string): StoreBackend {
  let server: { endpoint: string; close(): Promise<void> } | undefined;
  let tables = 0;
  return {
    name: 'DynamoDB Local',
    setUp: async () => {
      server = await startDynamoDbLocal(jarPath);
    },
    start: async () => {
      if (!server) throw new Error('DynamoDB Local backend used before setUp()');
      const client = localDynamoClient(server.endpoint);
      const tableName = `breaker-test-${++tables}`;
      await createTableIfMissing(client, tableName);
      const store = new DynamoDbBreakerStore({ client, tableName, unprocessedRetry: FAST_RETRY });
      return { store, client, tableName, endpoint: server.endpoint, close: async () => client.destroy() };
    },
    tearDown: async () => {
      await server?.close();
    },
  };
}

/** Where DynamoDB Local is, when this run has it. */
export const dynamoDbLocalJar: string | undefined = process.env.DYNAMODB_LOCAL_JAR || undefined;

export function storeBackends(): StoreBackend[] {
  return dynamoDbLocalJar ? [dynaliteBackend, dynamoDbLocalBackend(dynamoDbLocalJar)] : [dynaliteBackend];
}

/** A DynamoDB Local JVM on a free loopback port (stopped by its own pid); `pid` lets a benchmark read its CPU. */
export async function startDynamoDbLocal(
  jar: string,
): Promise<{ endpoint: string; pid?: number; close(): Promise<void> }> {
  const jarPath = resolve(jar);
  const port = await freePort();
  const child = spawn(
    'java',
    [
      `-Djava.library.path=${join(dirname(jarPath), 'DynamoDBLocal_lib')}`,
      '-jar',
      jarPath,
      '-inMemory',
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    // cwd: DynamoDB Local writes dynamodb-local-metadata.json there even when in memory.
    { cwd: dirname(jarPath), env: { ...process.env, DDB_LOCAL_TELEMETRY: '0' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const close = () => stopChild(child);
  try {
    await waitUntilServing(endpoint, child, () => stderr);
  } catch (e) {
    await close();
    throw e;
  }
  return { endpoint, pid: child.pid, close };
}

async function waitUntilServing(endpoint: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const client = localDynamoClient(endpoint);
  try {
    for (const deadline = Date.now() + 30_000; ; ) {
      if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with ${child.exitCode}: ${stderr()}`);
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch (e) {
        if (Date.now() > deadline)
          throw new Error(`DynamoDB Local did not answer within 30 s: ${stderr()}`, { cause: e });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    client.destroy();
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** A loopback port nothing listens on right now (DynamoDB Local needs its port up front). */
export { freePort };
