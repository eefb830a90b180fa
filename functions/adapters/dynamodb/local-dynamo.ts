/**
 * An in-process DynamoDB stand-in (dynalite) for `npm start`, the `breaker` CLI and the tests.
 * No AWS account, no Docker: a loopback HTTP server speaking the DynamoDB protocol to the real SDK.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { TTL_ATTRIBUTE, tableDefinition } from './table.ts';

export const DEFAULT_LOCAL_TABLE_NAME = 'hot-wallet-breaker';

export interface LocalDynamoOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** Directory for on-disk persistence (LevelDB; one process at a time). @default in memory */
  readonly path?: string;
  /** @default DEFAULT_LOCAL_TABLE_NAME */
  readonly tableName?: string;
}

export interface LocalDynamo {
  /** e.g. http://127.0.0.1:41234 — other processes (the CLI) connect with `localDynamoClient`. */
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Destroys the client and stops the server; safe to call twice. */
  close(): Promise<void>;
}

export async function startLocalDynamo(options: LocalDynamoOptions = {}): Promise<LocalDynamo> {
  const tableName = options.tableName ?? DEFAULT_LOCAL_TABLE_NAME;
  // Tables become ACTIVE at once instead of after dynalite's default 500 ms.
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, path: options.path });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = localDynamoClient(endpoint);
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      client.destroy();
      await stopServer(server);
    })();
    return closing;
  };
  try {
    await createTableIfMissing(client, tableName);
  } catch (e) {
    await close();
    throw e;
  }
  return { endpoint, client, tableName, close };
}

/** A client for a local DynamoDB-compatible endpoint: fixed fake credentials, fixed region, short timeouts. */
export function localDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 3,
    // A local server answers in milliseconds; a hung one should surface as STORE_UNAVAILABLE quickly.
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 10_000 },
  });
}

/** Create the breaker table (as tableDefinition describes it) unless it exists, and wait until it is ACTIVE. */
export async function createTableIfMissing(client: DynamoDBClient, tableName: string): Promise<void> {
  if ((await tableStatus(client, tableName)) === undefined) {
    try {
      await client.send(new CreateTableCommand(tableDefinition(tableName)));
    } catch (e) {
      // Another process created it between our describe and create.
      if (!(e instanceof Error && e.name === 'ResourceInUseException')) throw e;
    }
    await enableTtl(client, tableName);
  }
  for (let waited = 0; (await tableStatus(client, tableName)) !== 'ACTIVE'; waited += 20) {
    if (waited > 10_000) throw new Error(`table ${tableName} did not become ACTIVE within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function tableStatus(client: DynamoDBClient, tableName: string): Promise<string | undefined> {
  try {
    const out = await client.send(new DescribeTableCommand({ TableName: tableName }));
    return out.Table?.TableStatus ?? 'ACTIVE';
  } catch (e) {
    if (e instanceof Error && e.name === 'ResourceNotFoundException') return undefined;
    throw e;
  }
}

/**
 * DynamoDB Local honours TTL like the cloud table; dynalite has no UpdateTimeToLive. Expiry is only
 * housekeeping (queries bound by time anyway), so a server without it is fine.
 */
async function enableTtl(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      }),
    );
  } catch (e) {
    if (!(e instanceof Error && e.name === 'UnknownOperationException')) throw e;
  }
}

function stopServer(server: Server): Promise<void> {
  // Idle keep-alive sockets would otherwise hold close() open.
  server.closeAllConnections();
  return new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
}
