import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbBreakerStore } from '../../functions/adapters/dynamodb/dynamodb-breaker-store.ts';
import { localDynamoClient } from '../../functions/adapters/dynamodb/local-dynamo.ts';
import { createBreakerGuard, type GuardStore } from '../../functions/guard/guard.ts';
import {
  createGuardHttpHandler,
  type GuardHttpOptions,
  guardFunctionUrlHandler,
  guardHttpListener,
} from '../../functions/guard/http-endpoint.ts';
import { SIGNATURE_HEADER, signBody } from '../../functions/kill-switch-protocol/index.ts';
import { actuatorConfig, haltedGlobal, stateAt } from '../actuators/support.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';

const CUSTOMER = '0x2222222222222222222222222222222222222222';
const SECRET = 'callback-secret-0123456789abcdef';
const quiet = { warn() {}, error() {} };
const config = actuatorConfig('http://127.0.0.1:1/hook', {});

const body = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({
    requestId: 'fb-req-1',
    withdrawalId: 'w-9',
    chain: 'devnet',
    asset: 'ETH',
    destination: CUSTOMER,
    amount: '1500000000000000000',
    ...overrides,
  });

describe('guard HTTP endpoint (co-signer callback / webhook policy)', () => {
  let db: TestStore;
  let server: Server | undefined;
  beforeEach(async () => {
    db = await startTestStore();
    await db.store.saveState(stateAt(1), 0);
  });
  afterEach(async () => {
    if (server) {
      server.closeAllConnections();
      server.close();
      server = undefined;
    }
    await db.close();
  });

  async function serve(store: GuardStore, options: Partial<GuardHttpOptions> = {}): Promise<string> {
    const guard = createBreakerGuard({ store, config, logger: quiet });
    server = createServer(
      guardHttpListener(createGuardHttpHandler({ guard, upstreamAuthentication: 'mutual-tls-proxy', ...options })),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async function post(url: string, text: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${url}/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: text,
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  it('answers APPROVE (200) while armed, and records the approval', async () => {
    const url = await serve(db.store);
    const { status, json } = await post(url, body());
    expect(status).toBe(200);
    expect(json).toEqual({ action: 'APPROVE', requestId: 'fb-req-1', withdrawalId: 'w-9', stateVersion: 1 });
    expect(await db.store.approvedWithdrawalsBetween('devnet', 0, Date.now() + 1000)).toHaveLength(1);
  });

  it('answers REJECT (403) while halted, with the reason', async () => {
    await db.store.saveState(haltedGlobal(2), 1);
    const url = await serve(db.store);
    const { status, json } = await post(url, body());
    expect(status).toBe(403);
    expect(json).toMatchObject({
      action: 'REJECT',
      requestId: 'fb-req-1',
      withdrawalId: 'w-9',
      failedClosed: false,
      rejection: 'halted',
    });
    expect(String(json.rejectionReason)).toContain('breaker tripped (global)');
  });

  it('answers REJECT (400) to a malformed request and (503) when the store is down', async () => {
    const url = await serve(db.store);
    expect((await post(url, '{not json')).status).toBe(400);
    expect((await post(url, body({ amount: 1.5 }))).json).toMatchObject({
      action: 'REJECT',
      rejection: 'invalid-withdrawal',
    });
    const down = new DynamoDbBreakerStore({ client: localDynamoClient(db.endpoint), tableName: db.tableName });
    await db.close();
    server?.closeAllConnections();
    server?.close();
    const url2 = await serve(down);
    const { status, json } = await post(url2, body());
    expect(status).toBe(503);
    expect(json).toMatchObject({ action: 'REJECT', failedClosed: true, rejection: 'state-unreadable' });
  });

  it('times out to REJECT (503) well before the platform would give up', async () => {
    const hung: GuardStore = {
      getState: () => new Promise(() => {}),
      unreleasedTrips: async () => [],
      recordApprovedWithdrawal: async (w) => w,
      approvedWithdrawalsBetween: async () => [],
    };
    const url = await serve(hung, { timeoutMs: 300 });
    const started = Date.now();
    const { status, json } = await post(url, body());
    expect(status).toBe(503);
    expect(json).toMatchObject({ action: 'REJECT', rejection: 'timeout', failedClosed: true });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(() =>
      createGuardHttpHandler({
        guard: createBreakerGuard({ store: db.store, config }),
        secrets: ['a-secret-of-sixteen-or-more'],
        timeoutMs: 30_000,
      }),
    ).toThrow(RangeError);
  });

  it('with secrets, requires a valid X-Breaker-Signature', async () => {
    const url = await serve(db.store, { secrets: [SECRET] });
    expect((await post(url, body())).status).toBe(401);
    const text = body();
    expect(
      (await post(url, text, { [SIGNATURE_HEADER]: signBody('another-secret-0123456789', text, Date.now()) })).status,
    ).toBe(401);
    expect(
      (await post(url, text, { [SIGNATURE_HEADER]: signBody(SECRET, text, Date.now() - 600_000) })).json,
    ).toMatchObject({
      rejectionReason: 'request signature expired',
    });
    expect((await post(url, text, { [SIGNATURE_HEADER]: signBody(SECRET, text, Date.now()) })).status).toBe(200);
  });

  it('only POST /authorize decides; GET /healthz answers without checking the breaker', async () => {
    const url = await serve(db.store);
    expect((await fetch(`${url}/authorize`)).status).toBe(405);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('serves a Lambda Function URL event the same way', async () => {
    await db.store.saveState(haltedGlobal(2), 1);
    const handler = guardFunctionUrlHandler(
      createGuardHttpHandler({
        guard: createBreakerGuard({ store: db.store, config, logger: quiet }),
        upstreamAuthentication: 'aws-iam-function-url',
      }),
    );
    const event = {
      rawPath: '/authorize',
      headers: { 'Content-Type': 'application/json' },
      requestContext: {
        http: { method: 'POST' },
        authorizer: { iam: { userArn: 'arn:aws:iam::123456789012:role/signer' } },
      },
      body: Buffer.from(body()).toString('base64'),
      isBase64Encoded: true,
    } as unknown as LambdaFunctionURLEvent;
    const result = await handler(event);
    expect(result.statusCode).toBe(403);
    expect(JSON.parse(String(result.body))).toMatchObject({ action: 'REJECT', rejection: 'halted' });
  });
});
