import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_ACCESS } from '../../infra/constructs/table-access.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';
import { deniedCalls, startRecordingProxy, type TableCall } from '../support/dynamo-access.ts';
import type { FaultProxy } from '../support/fault-proxy.ts';
import { type LocalSns, startLocalSns } from '../support/local-sns.ts';

/**
 * The deploy-time initialisation (seccore: an absent state is halted; only an audited initialisation arms): the
 * custom resource's handler against dynalite and local SNS, answering CloudFormation on a local ResponseURL.
 */
const context = { awsRequestId: 'req-init', logStreamName: 'init-stream', functionName: 'init' } as Context;

describe('initialise-breaker custom resource handler', () => {
  let db: TestStore;
  let sns: LocalSns;
  let recorder: FaultProxy;
  let recorded: TableCall[] = [];
  let cfn: Server;
  let responseUrl: string;
  const answers: Record<string, unknown>[] = [];
  let handler: (event: unknown, ctx: Context) => Promise<void>;

  beforeAll(async () => {
    db = await startTestStore();
    sns = await startLocalSns();
    recorder = await startRecordingProxy(db, (calls) => recorded.push(...calls));
    cfn = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      answers.push({ method: req.method, ...JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(200).end();
    });
    cfn.listen(0, '127.0.0.1');
    await once(cfn, 'listening');
    responseUrl = `http://127.0.0.1:${(cfn.address() as AddressInfo).port}/cfn-response?X-Amz-Signature=x`;
    const configFile = join(mkdtempSync(join(tmpdir(), 'hwb-init-')), 'breaker-config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        name: 'init-test',
        chains: {
          devnet: {
            kind: 'evm',
            chainId: 31337,
            rpc: ['http://127.0.0.1:1'],
            confirmations: 0,
            blockTimeSeconds: 1,
            hotWallets: ['0x2222222222222222222222222222222222222222'],
            native: { symbol: 'ETH', decimals: 18, usdPrice: 2000 },
          },
        },
        limits: { global: { usd: { '1h': 10000 } } },
      }),
    );
    Object.assign(process.env, {
      BREAKER_CONFIG_FILE: configFile,
      BREAKER_TABLE: db.tableName,
      PAGE_TOPIC_ARN: await sns.createTopic('pages'),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: recorder.url,
      AWS_ENDPOINT_URL_SNS: sns.endpoint,
      POWERTOOLS_TRACE_ENABLED: 'false',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    });
    ({ handler } = (await import('../../functions/handlers/initialise-breaker.ts')) as unknown as {
      handler: typeof handler;
    });
  });
  afterAll(async () => {
    cfn?.close();
    await recorder?.stop();
    await sns?.close();
    await db?.close();
  });

  const request = (RequestType: string) => ({
    RequestType,
    ResponseURL: responseUrl,
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/hot-wallet-breaker-init-test/abc',
    RequestId: `cfn-${RequestType}`,
    LogicalResourceId: 'InitialiseBreaker',
    ResourceType: 'Custom::BreakerInitialisation',
    ResourceProperties: {},
  });

  it('Create arms an absent breaker, audited as the deploy, and answers SUCCESS', async () => {
    expect((await db.store.getState()).version).toBe(0);
    recorded = [];
    await handler(request('Create'), context);
    const state = await db.store.getState();
    expect(state.version).toBeGreaterThan(0); // created, then its outbox flushed
    expect(state.tripped).toEqual({});
    expect(await db.store.getInitMarker()).toBeDefined();
    const [audit] = await db.store.listAudit(1);
    expect(audit).toMatchObject({ action: 'init', actor: expect.stringContaining('deploy:arn:aws:cloudformation') });
    expect(answers.at(-1)).toMatchObject({
      method: 'PUT',
      Status: 'SUCCESS',
      RequestId: 'cfn-Create',
      LogicalResourceId: 'InitialiseBreaker',
      Data: { Outcome: 'created' },
    });
    expect(deniedCalls(TABLE_ACCESS.init, recorded)).toEqual([]);
  });

  it('Update leaves an existing state as it is (a redeploy never re-arms), Delete does nothing', async () => {
    const before = await db.store.getState();
    await handler(request('Update'), context);
    expect(answers.at(-1)).toMatchObject({ Status: 'SUCCESS', Data: { Outcome: 'already-initialised' } });
    await handler(request('Delete'), context);
    expect(answers.at(-1)).toMatchObject({ Status: 'SUCCESS', Data: { Outcome: 'none' } });
    expect(await db.store.getState()).toEqual(before);
  });

  it('answers FAILED, with the reason, when the table cannot be written', async () => {
    recorder.set(() => ({
      kind: 'answer',
      status: 400,
      body: { __type: 'com.amazon.coral.service#AccessDeniedException', message: 'not authorized' },
      headers: { 'content-type': 'application/x-amz-json-1.0' },
    }));
    await handler(request('Update'), context);
    expect(answers.at(-1)).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringContaining('initialising the breaker failed'),
    });
  });
});
