/**
 * The embedded store of `npm start`, `breaker watch` and `breaker console` must answer only the
 * runtime's own processes. Review §1c: a web page (or any local process) sent a preflight, a
 * GetItem and a DeleteItem of the state item with a foreign Host and Origin and a syntactically
 * valid fake SigV4, and re-armed a tripped breaker. These are those requests, sent raw.
 */
import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbBreakerStore } from '../../../functions/adapters/dynamodb/dynamodb-breaker-store.ts';
import {
  LOCAL_TOKEN_HEADER,
  type LocalDynamo,
  localDynamoClient,
  startLocalDynamo,
} from '../../../functions/adapters/dynamodb/local-dynamo.ts';
import { isBreakerError } from '../../../functions/core/errors.ts';
import { haltedGlobal } from '../../actuators/support.ts';
import { NOTHING_REARMED, recordTamperRow } from '../../tamper/row.ts';

const FAKE_SIGV4 =
  'AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(endpoint: string, method: string, headers: Record<string, string>, body = ''): Promise<Answer> {
  const url = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: '/', method, headers, setHost: false, timeout: 5000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.end(body);
  });
}

const stateKey = (table: string) =>
  JSON.stringify({ TableName: table, Key: { pk: { S: 'BREAKER' }, sk: { S: 'STATE' } } });

describe('the local store refuses everyone but the runtime', () => {
  let local: LocalDynamo;
  let store: DynamoDbBreakerStore;
  let host: string;

  beforeEach(async () => {
    local = await startLocalDynamo({ tableName: 'breaker-local' });
    store = new DynamoDbBreakerStore({ client: local.client, tableName: local.tableName });
    await store.saveState(haltedGlobal(1), 0);
    host = new URL(local.endpoint).host;
  });
  afterEach(async () => {
    await local.close();
  });

  const dynamo = (target: string, extra: Record<string, string>) => ({
    'content-type': 'application/x-amz-json-1.0',
    'x-amz-target': `DynamoDB_20120810.${target}`,
    'x-amz-date': '20260101T000000Z',
    authorization: FAKE_SIGV4,
    ...extra,
  });
  const foreign = { host: 'evil.example', origin: 'http://evil.example' };

  it('a cross-origin preflight gets 403 and no CORS headers', async () => {
    const answer = await send(local.endpoint, 'OPTIONS', {
      host: `evil.example:${new URL(local.endpoint).port}`,
      origin: foreign.origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type,x-amz-target,x-amz-date',
    });
    expect(answer.status).toBe(403);
    expect(Object.keys(answer.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });

  it('a cross-origin GetItem of the state item reads nothing', async () => {
    const answer = await send(local.endpoint, 'POST', dynamo('GetItem', foreign), stateKey(local.tableName));
    expect(answer.status).toBe(403);
    expect(answer.body).not.toContain('BREAKER');
    expect(Object.keys(answer.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });

  it('a cross-origin DeleteItem of the state item changes nothing: the breaker stays tripped', async () => {
    const started = Date.now();
    const answer = await send(local.endpoint, 'POST', dynamo('DeleteItem', foreign), stateKey(local.tableName));
    expect(answer.status).toBe(403);
    expect(Object.keys((await store.getState()).tripped)).toEqual(['global']);
    recordTamperRow({
      attacker: 'a web page the operator opens (or any local process)',
      tamper: 'cross-origin DeleteItem of the state item on the local store (npm start, breaker watch)',
      control: 'per-run secret on every request, Host/Origin refused, no CORS (adapters/dynamodb/local-dynamo.ts)',
      outcome: NOTHING_REARMED,
      recoveryMs: Date.now() - started,
      observed: `HTTP ${answer.status}; the state item is still there and still tripped (never un-halted)`,
    });
  });

  const refused: [string, (host: string, port: string) => Record<string, string>][] = [
    ['the right Host but an Origin (a page on this machine)', (host) => ({ host, origin: 'http://127.0.0.1:1234' })],
    ['the right Host, no Origin, no token (another local process)', (host) => ({ host })],
    ['the right Host, no Origin, a wrong token', (host) => ({ host, [LOCAL_TOKEN_HEADER]: 'f'.repeat(64) })],
    [
      'a rebinding Host with the token',
      (_, port) => ({ host: `evil.example:${port}`, [LOCAL_TOKEN_HEADER]: local.token }),
    ],
  ];
  for (const [name, headersFor] of refused) {
    it(`refuses a DeleteItem with ${name}`, async () => {
      const headers = headersFor(host, new URL(local.endpoint).port);
      const answer = await send(local.endpoint, 'POST', dynamo('DeleteItem', headers), stateKey(local.tableName));
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body)).toMatchObject({ __type: expect.stringContaining('AccessDeniedException') });
      expect(Object.keys((await store.getState()).tripped)).toEqual(['global']);
    });
  }

  it('the health page that fingerprinted the port is refused too', async () => {
    const answer = await send(local.endpoint, 'GET', { host: 'evil.example' });
    expect(answer.status).toBe(403);
    expect(answer.body).not.toContain('healthy');
  });

  it('an SDK client without the run secret gets STORE_UNAVAILABLE; with it, the store works', async () => {
    const outsider = localDynamoClient(local.endpoint);
    try {
      const error = await new DynamoDbBreakerStore({ client: outsider, tableName: local.tableName })
        .getState()
        .catch((e: unknown) => e);
      expect(isBreakerError(error, 'STORE_UNAVAILABLE')).toBe(true);
      expect(String((error as Error).message)).toContain('refused');
    } finally {
      outsider.destroy();
    }
    const insider = localDynamoClient(local.endpoint, local.token);
    try {
      const state = await new DynamoDbBreakerStore({ client: insider, tableName: local.tableName }).getState();
      expect(Object.keys(state.tripped)).toEqual(['global']);
    } finally {
      insider.destroy();
    }
  });

  it('a test store without the secret requirement still refuses a foreign Host or any Origin', async () => {
    const open = await startLocalDynamo({ requireToken: false });
    try {
      const port = new URL(open.endpoint).port;
      const key = stateKey(open.tableName);
      const refused: Record<string, string>[] = [
        { host: `evil.example:${port}` },
        { host: `127.0.0.1:${port}`, origin: 'http://evil.example' },
      ];
      for (const headers of refused) {
        expect((await send(open.endpoint, 'POST', dynamo('GetItem', headers), key)).status).toBe(403);
      }
      expect((await send(open.endpoint, 'POST', dynamo('GetItem', { host: `127.0.0.1:${port}` }), key)).status).toBe(
        200,
      );
    } finally {
      await open.close();
    }
  });

  it('the run secret is random per run', async () => {
    const other = await startLocalDynamo();
    try {
      expect(other.token).toMatch(/^[0-9a-f]{64}$/);
      expect(other.token).not.toBe(local.token);
    } finally {
      await other.close();
    }
  });
});
