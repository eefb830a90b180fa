import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../functions/local/anvil-process.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';
import { initialiseForTest } from '../support/initialise.ts';
import { type HttpSubscriber, type LocalSns, startHttpSubscriber, startLocalSns } from '../support/local-sns.ts';

/**
 * The console-api Lambda as its function URL invokes it (payload 2.0), against dynalite and local SNS.
 * With AuthType AWS_IAM, Lambda rejects unsigned requests with 403 before the handler runs; what the
 * handler must do is take the operator from requestContext.authorizer.iam and refuse a request without one.
 */
const context = { awsRequestId: 'req-console-1', functionName: 'test' } as Context;
const ALICE = 'arn:aws:sts::123456789012:assumed-role/OnCall/alice';
const BOB = 'arn:aws:iam::123456789012:user/bob';

function urlEvent(
  method: string,
  rawPath: string,
  opts: { body?: unknown; caller?: string; query?: string; base64?: boolean } = {},
): Record<string, unknown> {
  const text = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return {
    version: '2.0',
    rawPath,
    rawQueryString: opts.query ?? '',
    headers: { 'content-type': 'application/json', host: 'abc.lambda-url.us-east-1.on.aws' },
    requestContext: {
      http: { method, path: rawPath, sourceIp: '203.0.113.7' },
      ...(opts.caller ? { authorizer: { iam: { userArn: opts.caller, accountId: '123456789012' } } } : {}),
    },
    body: text === undefined ? undefined : opts.base64 ? Buffer.from(text).toString('base64') : text,
    isBase64Encoded: opts.base64 ?? false,
  };
}

type Reply = { statusCode: number; headers: Record<string, string>; body: string };

describe('console-api handler behind the IAM function URL', () => {
  let db: TestStore;
  let sns: LocalSns;
  let subscriber: HttpSubscriber;
  let handler: (event: unknown, ctx: Context) => Promise<Reply>;
  const call = async (event: unknown) => {
    const r = await handler(event, context);
    // biome-ignore lint/suspicious/noExplicitAny: JSON answers are checked field by field.
    return { status: r.statusCode, headers: r.headers, text: r.body, json: () => JSON.parse(r.body) as any };
  };

  beforeAll(async () => {
    db = await startTestStore();
    await initialiseForTest(db.store);
    sns = await startLocalSns();
    subscriber = await startHttpSubscriber();
    const topicArn = await sns.createTopic('pages');
    await sns.subscribeHttp(topicArn, subscriber.url);
    const dir = mkdtempSync(join(tmpdir(), 'hwb-console-'));
    const configFile = join(dir, 'breaker-config.json');
    // Nothing listens on this port: the health view must say the RPC is unreachable, not hang.
    const deadRpc = `http://127.0.0.1:${await freePort()}`;
    writeFileSync(
      configFile,
      JSON.stringify({
        name: 'console-handler-test',
        chains: {
          devnet: {
            kind: 'evm',
            chainId: 31337,
            rpc: [deadRpc],
            confirmations: 0,
            blockTimeSeconds: 1,
            hotWallets: ['0x70997970C51812dc3A010C7d01b50e0d17dc79C8'],
            native: { symbol: 'ETH', decimals: 18, usdPrice: 2000 },
          },
        },
        limits: { global: { usd: { '1h': 10000 } } },
        operations: { twoPersonReset: true, approvalWindowSeconds: 900 },
      }),
    );
    Object.assign(process.env, {
      BREAKER_CONFIG_FILE: configFile,
      BREAKER_TABLE: db.tableName,
      PAGE_TOPIC_ARN: topicArn,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
      AWS_ENDPOINT_URL_SNS: sns.endpoint,
      POWERTOOLS_TRACE_ENABLED: 'false',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    });
    ({ handler } = (await import('../../functions/handlers/console-api.ts')) as unknown as {
      handler: typeof handler;
    });
  });

  afterAll(async () => {
    await subscriber?.close();
    await sns?.close();
    await db?.close();
  });

  it('refuses a request with no verified caller (401): no authoriser context, or a direct invocation', async () => {
    for (const event of [
      urlEvent('GET', '/api/status'),
      urlEvent('POST', '/api/trip', { body: { reason: 'no identity, no action', scope: 'global' } }),
      {},
      { reason: 'a console test event cannot name its caller', scope: 'global' },
    ]) {
      const r = await call(event);
      expect(r.status).toBe(401);
      expect(r.json().error).toMatch(/^not authenticated/);
    }
    // Still the state the initialisation left (version 2 after its audit record went out).
    expect((await db.store.getState()).version).toBe(2);
  });

  it('serves the page to a signed caller and answers status with the IAM principal and RPC health', async () => {
    const page = await call(urlEvent('GET', '/', { caller: ALICE }));
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.text).toContain('hot-wallet-breaker console');
    const status = await call(urlEvent('GET', '/api/status', { caller: ALICE }));
    expect(status.status).toBe(200);
    expect(status.json()).toMatchObject({ operator: ALICE, armed: true, operations: { twoPersonReset: true } });
    expect(status.json().chains[0].rpc).toMatchObject({ status: 'error' });
  });

  it('records the IAM principal on a manual trip and runs the two-person rule across two principals', async () => {
    const trip = await call(
      urlEvent('POST', '/api/trip', {
        caller: ALICE,
        body: { reason: 'signer logs look wrong', scope: 'global' },
        base64: true,
      }),
    );
    expect(trip.status).toBe(200);
    expect(trip.json()).toMatchObject({ actor: ALICE, tripped: ['global'] });
    const [delivery] = await subscriber.waitFor(1, 10_000);
    expect(delivery!.notification.Subject).toContain('[HALT] console-handler-test: halted by hand');

    const single = await call(
      urlEvent('POST', '/api/reset', { caller: BOB, body: { reason: 'reviewed, all fine now' } }),
    );
    expect(single.status).toBe(409);
    const request = await call(
      urlEvent('POST', '/api/reset/request', { caller: BOB, body: { reason: 'reviewed, all fine now' } }),
    );
    expect(request.status).toBe(200);
    const requestId = request.json().pendingReset.requestId as string;
    const selfApprove = await call(urlEvent('POST', '/api/reset/approve', { caller: BOB, body: { requestId } }));
    expect(selfApprove.status).toBe(409);
    const approve = await call(urlEvent('POST', '/api/reset/approve', { caller: ALICE, body: { requestId } }));
    expect(approve.json()).toMatchObject({ ok: true, actor: ALICE, tripped: [] });

    const history = await call(urlEvent('GET', '/api/history', { caller: BOB, query: 'limit=3' }));
    expect(history.json().records.map((r: { action: string; actor: string }) => [r.action, r.actor])).toEqual([
      ['reset', ALICE],
      ['reset-requested', BOB],
      ['trip', ALICE],
    ]);
    expect(history.json().records[0].details.twoPerson).toMatchObject({ requestedBy: BOB, approvedBy: ALICE });
  });
});
