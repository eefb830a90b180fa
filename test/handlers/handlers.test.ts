import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { parseUnits, Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Anvil, deployTestToken, startAnvil } from '../support/anvil.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';
import { initialiseForTest } from '../support/initialise.ts';
import {
  bodyFor,
  type HttpSubscriber,
  type LocalSns,
  startHttpSubscriber,
  startLocalSns,
} from '../support/local-sns.ts';

/**
 * The Lambda handlers themselves — middy, Powertools, the AWS SDK clients they build from the
 * environment — invoked as Lambda would, against local stand-ins: anvil, dynalite and local SNS.
 * The SDK reaches them through the standard AWS_ENDPOINT_URL_<SERVICE> variables.
 */
function lambdaContext(remainingMs: number, requestId = `req-${Math.random().toString(16).slice(2)}`): Context {
  const deadline = Date.now() + remainingMs;
  return {
    awsRequestId: requestId,
    functionName: 'test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:test',
    memoryLimitInMB: '256',
    logGroupName: '/aws/lambda/test',
    logStreamName: 'test',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

describe('Lambda handlers against local stand-ins', () => {
  let anvil: Anvil;
  let db: TestStore;
  let sns: LocalSns;
  let subscriber: HttpSubscriber;
  let hot: Wallet;
  let usdt: Awaited<ReturnType<typeof deployTestToken>>;

  beforeAll(async () => {
    anvil = await startAnvil();
    db = await startTestStore();
    await initialiseForTest(db.store);
    sns = await startLocalSns();
    subscriber = await startHttpSubscriber();
    const topicArn = await sns.createTopic('pages');
    await sns.subscribeHttp(topicArn, subscriber.url);
    hot = anvil.accounts[1]!;
    usdt = await deployTestToken(anvil, { symbol: 'USDT', decimals: 6 });
    await (await usdt.getFunction('mint')(hot.address, parseUnits('1000000', 6))).wait();
    const dir = mkdtempSync(join(tmpdir(), 'hwb-handlers-'));
    const configFile = join(dir, 'breaker-config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        name: 'handler-test',
        chains: {
          devnet: {
            kind: 'evm',
            chainId: 31337,
            rpc: [anvil.url],
            confirmations: 0,
            blockTimeSeconds: 1,
            pollIntervalSeconds: 0.2,
            startBlock: (await anvil.provider.getBlockNumber()) + 1,
            hotWallets: [hot.address],
            native: { symbol: 'ETH', decimals: 18, usdPrice: 2000 },
            tokens: [{ symbol: 'USDT', contract: await usdt.getAddress(), decimals: 6, usdPrice: 1 }],
          },
        },
        limits: { global: { usd: { '1h': 10000 } } },
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
      POWERTOOLS_METRICS_NAMESPACE: 'HotWalletBreakerTest',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    });
  });

  afterAll(async () => {
    await subscriber?.close();
    await sns?.close();
    await db?.close();
    await anvil?.stop();
  });

  it('poll-chain records, trips and pages through SNS; status shows it; reset-breaker via function URL re-arms with the IAM identity', async () => {
    const { handler: poll } = await import('../../functions/handlers/poll-chain.ts');
    const { handler: status } = await import('../../functions/handlers/breaker-status.ts');
    const { handler: reset } = await import('../../functions/handlers/reset-breaker.ts');

    await expect(poll({ chain: 'nope' }, lambdaContext(12_000))).rejects.toThrow(/"nope" is not in the config/);

    await (
      await usdt.connect(hot).getFunction('transfer')(Wallet.createRandom().address, parseUnits('12000', 6))
    ).wait();
    const result = await poll({ chain: 'devnet' }, lambdaContext(11_000));
    expect(result).toMatchObject({ chain: 'devnet', outflows: 1 });

    const [delivery] = await subscriber.waitFor(1, 10_000);
    expect(delivery!.notification.Subject).toContain('[HALT] handler-test');
    expect(bodyFor(delivery!.notification, 'email')).toContain('global-usd-1h');

    const s = (await status({}, lambdaContext(5000))) as { armed: boolean; tripped: { ruleId: string }[] };
    expect(s.armed).toBe(false);
    expect(s.tripped[0]!.ruleId).toBe('global-usd-1h');

    const urlEvent = (body: unknown) => ({
      requestContext: { authorizer: { iam: { userArn: 'arn:aws:iam::123456789012:user/alice' } } },
      body: JSON.stringify(body),
      isBase64Encoded: false,
    });
    const rejected = (await reset(urlEvent({ reason: 'short' }), lambdaContext(5000))) as {
      statusCode: number;
      body: string;
    };
    expect(rejected.statusCode).toBe(409);
    expect(rejected.body).toContain('reason');
    const bad = (await reset(urlEvent({ reasn: 'typo in the field name' }), lambdaContext(5000))) as {
      statusCode: number;
      body: string;
    };
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('reason');

    const ok = (await reset(urlEvent({ reason: 'reviewed: handler test transfer' }), lambdaContext(5000))) as {
      statusCode: number;
      body: string;
    };
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({
      ok: true,
      actor: 'arn:aws:iam::123456789012:user/alice',
      stillTripped: [],
    });
    const audit = await db.store.listAudit(5);
    expect(audit[0]).toMatchObject({ action: 'reset', actor: 'arn:aws:iam::123456789012:user/alice' });

    // A direct (console) invocation records the request id, which CloudTrail ties to the caller.
    await (
      await usdt.connect(hot).getFunction('transfer')(Wallet.createRandom().address, parseUnits('15000', 6))
    ).wait();
    await poll({ chain: 'devnet' }, lambdaContext(11_000));
    const direct = (await reset(
      { reason: 'reviewed from the Lambda console' },
      lambdaContext(5000, 'console-req-1'),
    )) as Record<string, unknown>;
    expect(direct).toMatchObject({ statusCode: 200, ok: true, actor: 'lambda-invoke:console-req-1' });
  }, 60_000);
});
