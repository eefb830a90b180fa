/**
 * An in-process DynamoDB stand-in (dynalite) for `npm start`, the `breaker` CLI and the tests.
 * No AWS account, no Docker: a loopback HTTP server speaking the DynamoDB protocol to the real SDK.
 *
 * It holds the kill switch, so only the runtime's own processes may reach it. dynalite alone
 * answers any origin (CORS `*`), never checks Host and checks SigV4 for syntax only: one
 * cross-origin DeleteItem from a web page re-armed a tripped breaker. Every request must therefore
 * carry this run's random secret (LOCAL_TOKEN_HEADER), name the loopback port as its Host (no DNS
 * rebinding) and carry no Origin header (no web page); anything else is refused
 * before dynalite sees it, with no CORS headers. Other processes (the CLI) find the secret in
 * .local/runtime.json, which only the runtime's OS user can read.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
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

/** The request header carrying the per-run secret of the local store. */
export const LOCAL_TOKEN_HEADER = 'x-breaker-local-token';

export interface LocalDynamoOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** Directory for on-disk persistence (LevelDB; one process at a time). @default in memory */
  readonly path?: string;
  /** @default DEFAULT_LOCAL_TABLE_NAME */
  readonly tableName?: string;
  /**
   * Require this run's secret on every request. Only tests that drive the Lambda handlers turn it
   * off: those build their SDK clients from the environment, as in Lambda, and cannot carry it.
   * Host and Origin are checked either way. @default true
   */
  readonly requireToken?: boolean;
}

export interface LocalDynamo {
  /** e.g. http://127.0.0.1:41234 — other processes (the CLI) connect with `localDynamoClient`. */
  readonly endpoint: string;
  /** This run's secret: another process's client needs it (`localDynamoClient(endpoint, token)`). */
  readonly token: string;
  /** A client that carries the token. */
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Destroys the client and stops the server; safe to call twice. */
  close(): Promise<void>;
}

export async function startLocalDynamo(options: LocalDynamoOptions = {}): Promise<LocalDynamo> {
  const tableName = options.tableName ?? DEFAULT_LOCAL_TABLE_NAME;
  // Tables become ACTIVE at once instead of after dynalite's default 500 ms.
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, path: options.path });
  const token = randomBytes(32).toString('hex');
  admitOnlyTheRuntime(server, options.requireToken === false ? undefined : token);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = localDynamoClient(endpoint, token);
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
  return { endpoint, token, client, tableName, close };
}

/** Put a check in front of dynalite's request handler: see the module comment for what it refuses. */
function admitOnlyTheRuntime(server: Server, token: string | undefined): void {
  const handlers = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  const expected = token === undefined ? undefined : Buffer.from(token);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const refusal = refusalOf(req, (server.address() as AddressInfo).port, expected);
    if (refusal === undefined) {
      for (const handler of handlers) handler.call(server, req, res);
      return;
    }
    req.resume();
    res.writeHead(403, { 'content-type': 'application/x-amz-json-1.0', connection: 'close' });
    res.end(JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', message: refusal }));
  });
}

function refusalOf(req: IncomingMessage, port: number, token: Buffer | undefined): string | undefined {
  const h = req.headers;
  // Browsers send Origin with every request a page could use to write (CORS, preflights, POSTs).
  if (h.origin !== undefined) return 'local breaker store: cross-origin (browser) requests are refused';
  if (h.host !== `127.0.0.1:${port}` && h.host !== `localhost:${port}`) {
    return `local breaker store: Host must be 127.0.0.1:${port} or localhost:${port}`;
  }
  if (token === undefined) return undefined;
  const header = h[LOCAL_TOKEN_HEADER];
  const given = Buffer.from(typeof header === 'string' ? header : '');
  if (given.length !== token.length || !timingSafeEqual(given, token)) {
    return `local breaker store: refused without this run's secret (${LOCAL_TOKEN_HEADER}; the CLI reads it from .local/runtime.json)`;
  }
  return undefined;
}

/**
 * A client for a local DynamoDB-compatible endpoint: fixed fake credentials, fixed region, short
 * timeouts; with `token`, it carries the embedded store's per-run secret on every request.
 */
export function localDynamoClient(endpoint: string, token?: string): DynamoDBClient {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 3,
    // A local server answers in milliseconds; a hung one should surface as STORE_UNAVAILABLE quickly.
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 10_000 },
  });
  if (token !== undefined) withLocalStoreToken(client, token);
  return client;
}

/** Make `client` (any DynamoDB client, e.g. one behind a test proxy) carry the store's secret. */
export function withLocalStoreToken(client: DynamoDBClient, token: string): DynamoDBClient {
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers[LOCAL_TOKEN_HEADER] = token;
      return next(args);
    },
    { step: 'build', name: 'localStoreToken' },
  );
  return client;
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
