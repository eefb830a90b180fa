/**
 * .local/runtime.json tells the CLI where the running runtime's store is and holds the store's
 * per-run secret: only the owner may read it, and the secret in it is what lets the CLI in.
 */
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoDbBreakerStore } from '../../functions/adapters/dynamodb/dynamodb-breaker-store.ts';
import { localDynamoClient, startLocalDynamo } from '../../functions/adapters/dynamodb/local-dynamo.ts';
import { announceRuntime, readRuntime, withdrawRuntime } from '../../functions/local/runtime-file.ts';
import { haltedGlobal } from '../actuators/support.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('the runtime file', () => {
  it('is written mode 0600 in a 0700 folder, and its secret is what lets another process into the store', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'breaker-runtime-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, '.local', 'runtime.json');
    const dynamo = await startLocalDynamo();
    cleanups.push(() => dynamo.close());
    await new DynamoDbBreakerStore({ client: dynamo.client, tableName: dynamo.tableName }).saveState(
      haltedGlobal(1),
      0,
    );

    announceRuntime(
      {
        pid: process.pid,
        endpoint: dynamo.endpoint,
        token: dynamo.token,
        tableName: dynamo.tableName,
        configPath: 'config/demo.yaml',
        startedAt: new Date().toISOString(),
      },
      file,
    );

    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, '.local'))).mode & 0o777).toBe(0o700);
    const info = readRuntime(file)!;
    expect(info.token).toBe(dynamo.token);
    // What `breaker status` in another terminal does (functions/local/connect.ts).
    const client = localDynamoClient(info.endpoint, info.token);
    cleanups.push(async () => client.destroy());
    const state = await new DynamoDbBreakerStore({ client, tableName: info.tableName }).getState();
    expect(Object.keys(state.tripped)).toEqual(['global']);

    // Re-announcing over a file that someone made world-readable puts the mode back.
    await chmod(file, 0o644);
    announceRuntime({ ...info, startedAt: new Date().toISOString() }, file);
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    withdrawRuntime(process.pid, file);
    expect(readRuntime(file)).toBeUndefined();
  });
});
