import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoDbBreakerStore } from '../../../functions/adapters/dynamodb/dynamodb-breaker-store.ts';
import {
  createTableIfMissing,
  type LocalDynamo,
  startLocalDynamo,
} from '../../../functions/adapters/dynamodb/local-dynamo.ts';
import { initialState } from '../../../functions/core/state.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: Parameters<typeof startLocalDynamo>[0] = {}): Promise<LocalDynamo> {
  const local = await startLocalDynamo(options);
  cleanups.push(() => local.close());
  return local;
}

describe('startLocalDynamo', () => {
  it('serves the breaker table on a loopback port, keyed as tableDefinition says', async () => {
    const local = await start({ tableName: 'breaker-local' });

    expect(local.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { Table } = await local.client.send(new DescribeTableCommand({ TableName: 'breaker-local' }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
  });

  it('keeps the state across a restart when given a directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'breaker-dynalite-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const first = await startLocalDynamo({ path: dir });
    const saved = { ...initialState(), version: 1, reviewedThrough: { ethereum: 42 } };
    await new DynamoDbBreakerStore({ client: first.client, tableName: first.tableName }).saveState(saved, 0);
    await first.close();

    const second = await start({ path: dir });
    const store = new DynamoDbBreakerStore({ client: second.client, tableName: second.tableName });

    expect(await store.getState()).toEqual(saved);
  });

  it('createTableIfMissing leaves an existing table and its items alone', async () => {
    const local = await start();
    const store = new DynamoDbBreakerStore({ client: local.client, tableName: local.tableName });
    await store.saveState({ ...initialState(), version: 1 }, 0);

    await createTableIfMissing(local.client, local.tableName);

    expect((await store.getState()).version).toBe(1);
  });

  it('close() is safe to call twice and frees the port', async () => {
    const local = await startLocalDynamo();
    const port = Number(new URL(local.endpoint).port);
    await local.close();
    await local.close();

    const again = await start({ port });
    expect(again.endpoint).toBe(local.endpoint);
  });
});
