/**
 * A fresh store per test: its own in-memory dynalite on a free loopback port, the breaker table,
 * and the real DynamoDbBreakerStore on top. Call `close()` in afterEach/afterAll.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDbBreakerStore,
  type UnprocessedRetryOptions,
} from '../../functions/adapters/dynamodb/dynamodb-breaker-store.ts';
import { startLocalDynamo } from '../../functions/adapters/dynamodb/local-dynamo.ts';

export interface TestStore {
  readonly store: DynamoDbBreakerStore;
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly endpoint: string;
  close(): Promise<void>;
}

export interface TestStoreOptions {
  /** Fast retries by default, so fault tests do not wait seconds. */
  readonly unprocessedRetry?: UnprocessedRetryOptions;
}

export async function startTestStore(options: TestStoreOptions = {}): Promise<TestStore> {
  const local = await startLocalDynamo({ tableName: 'breaker-test' });
  const store = new DynamoDbBreakerStore({
    client: local.client,
    tableName: local.tableName,
    unprocessedRetry: options.unprocessedRetry ?? { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
  });
  return { store, client: local.client, tableName: local.tableName, endpoint: local.endpoint, close: local.close };
}
