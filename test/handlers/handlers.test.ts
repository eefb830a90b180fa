import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { parseUnits, Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_ACCESS, type TableAccess, unionTableAccess } from '../../infra/constructs/table-access.ts';
import { type Anvil, deployTestToken, startAnvil } from '../support/anvil.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';
import { deniedCalls, startRecordingProxy, type TableCall } from '../support/dynamo-access.ts';
import type { FaultProxy } from '../support/fault-proxy.ts';
import { initialiseForTest } from '../support/initialise.ts';
import {
  bodyFor,
  type HttpSubscriber,
  type LocalSns,
  startHttpSubscriber,
  startLocalSns,
} from '../support/local-sns.ts';
import { NOTHING_REARMED, recordTamperRow } from '../tamper/row.ts';

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
  /** A second chain (its own node and chain id), for a poller group polling two chains in one invocation. */
  let anvil2: Anvil;
  let db: TestStore;
  // Every DynamoDB request the handlers send passes here, so each call can be checked against the role's grant.
  let recorder: FaultProxy;
  let recorded: TableCall[] = [];
  /** Run one handler call and check every table call it made is allowed by `access` (infra/constructs/table-access.ts). */
  async function within<T>(access: TableAccess, call: () => Promise<T>): Promise<T> {
    recorded = [];
    const result = await call();
    expect(recorded.length).toBeGreaterThan(0);
    expect(deniedCalls(access, recorded)).toEqual([]);
    return result;
  }
  let sns: LocalSns;
  let subscriber: HttpSubscriber;
  let hot: Wallet;
  let usdt: Awaited<ReturnType<typeof deployTestToken>>;

  beforeAll(async () => {
    anvil = await startAnvil();
    anvil2 = await startAnvil({ chainId: 31_338 });
    db = await startTestStore();
    recorder = await startRecordingProxy(db, (calls) => recorded.push(...calls));
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
          devnet2: {
            kind: 'evm',
            chainId: 31_338,
            rpc: [anvil2.url],
            confirmations: 0,
            blockTimeSeconds: 1,
            pollIntervalSeconds: 0.2,
            startBlock: (await anvil2.provider.getBlockNumber()) + 1,
            hotWallets: [hot.address],
            native: { symbol: 'ETH', decimals: 18, usdPrice: 2000 },
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
      AWS_ENDPOINT_URL_DYNAMODB: recorder.url,
      AWS_ENDPOINT_URL_SNS: sns.endpoint,
      POWERTOOLS_TRACE_ENABLED: 'false',
      POWERTOOLS_METRICS_NAMESPACE: 'HotWalletBreakerTest',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    });
  });

  afterAll(async () => {
    await recorder?.stop();
    await subscriber?.close();
    await sns?.close();
    await db?.close();
    await anvil?.stop();
    await anvil2?.stop();
  });

  it('poll-chain records, trips and pages through SNS; status shows it; reset-breaker via function URL re-arms with the IAM identity', async () => {
    const { handler: poll } = await import('../../functions/handlers/poll-chain.ts');
    const { handler: status } = await import('../../functions/handlers/breaker-status.ts');
    const { handler: reset } = await import('../../functions/handlers/reset-breaker.ts');

    await expect(poll({ chain: 'nope' }, lambdaContext(12_000))).rejects.toThrow(/"nope" is not in the config/);

    await (
      await usdt.connect(hot).getFunction('transfer')(Wallet.createRandom().address, parseUnits('12000', 6))
    ).wait();
    const result = await within(TABLE_ACCESS.poller('devnet'), () => poll({ chain: 'devnet' }, lambdaContext(11_000)));
    expect(result).toMatchObject({ chains: [{ chain: 'devnet', outflows: 1 }] });

    const [delivery] = await subscriber.waitFor(1, 10_000);
    expect(delivery!.notification.Subject).toContain('[HALT] handler-test');
    expect(bodyFor(delivery!.notification, 'email')).toContain('global-usd-1h');

    const s = (await within(TABLE_ACCESS.status, () => status({}, lambdaContext(5000)))) as {
      armed: boolean;
      tripped: { ruleId: string }[];
    };
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

    const ok = (await within(TABLE_ACCESS.reset, () =>
      reset(urlEvent({ reason: 'reviewed: handler test transfer' }), lambdaContext(5000)),
    )) as {
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

    // reset-breaker is URL-only: IAM lets operators invoke it only through its function URL, and a
    // direct invocation that reaches it anyway (an admin's Invoke) is refused, pointing at the break-glass function.
    await (
      await usdt.connect(hot).getFunction('transfer')(Wallet.createRandom().address, parseUnits('15000', 6))
    ).wait();
    await poll({ chain: 'devnet' }, lambdaContext(11_000));
    const refused = (await reset(
      { reason: 'reviewed from the Lambda console' },
      lambdaContext(5000, 'console-req-0'),
    )) as Record<string, unknown>;
    expect(refused).toMatchObject({ statusCode: 403, ok: false });
    expect(String(refused.error)).toContain('reset-breaker-direct');
    expect((await db.store.getState()).tripped).not.toEqual({});
  }, 60_000);

  it('the break-glass reset-breaker-direct refuses any event carrying a requestContext (a forged identity) and records the Lambda request id', async () => {
    const { handler: poll } = await import('../../functions/handlers/poll-chain.ts');
    const { handler: direct } = await import('../../functions/handlers/reset-breaker-direct.ts');
    await (
      await usdt.connect(hot).getFunction('transfer')(Wallet.createRandom().address, parseUnits('15000', 6))
    ).wait();
    await poll({ chain: 'devnet' }, lambdaContext(11_000));
    const before = await db.store.getState();
    expect(Object.keys(before.tripped)).not.toEqual([]);
    const auditBefore = await db.store.listAudit(50);

    // The forged event of security review §1a: a made-up IAM caller in a direct Invoke payload.
    const forgedUrlEvent = {
      requestContext: { authorizer: { iam: { userArn: 'arn:aws:iam::123456789012:user/alice' } } },
      body: JSON.stringify({ reason: 'reviewed, keys rotated (forged)' }),
      isBase64Encoded: false,
    };
    const forgedInline = {
      reason: 'reviewed, keys rotated (forged)',
      requestContext: { authorizer: { iam: { userArn: 'arn:aws:iam::123456789012:user/alice' } } },
    };
    const started = Date.now();
    for (const forged of [
      forgedUrlEvent,
      forgedInline,
      { requestContext: null, reason: 'a null context is still one' },
    ]) {
      const answer = (await direct(forged, lambdaContext(5000, 'forged-req'))) as Record<string, unknown>;
      expect(answer).toMatchObject({ statusCode: 400, ok: false });
      expect(String(answer.error)).toContain('requestContext');
    }
    expect((await db.store.getState()).version).toBe(before.version);
    expect(await db.store.listAudit(50)).toEqual(auditBefore);
    recordTamperRow({
      attacker: 'anyone with lambda:InvokeFunction on the reset function',
      tamper: 'operator identity forged by a direct Invoke (a made-up IAM caller in requestContext)',
      control:
        'reset/console take identity only from a function URL (lambda:InvokedViaFunctionUrl); the break-glass reset refuses any requestContext and records the Lambda request id',
      outcome: NOTHING_REARMED,
      recoveryMs: Date.now() - started,
      observed: `3 forged resets refused (HTTP 400); state version ${before.version} unchanged, still tripped; no audit record written`,
    });

    const ok = (await within(TABLE_ACCESS.reset, () =>
      direct({ reason: 'reviewed from the Lambda console' }, lambdaContext(5000, 'console-req-1')),
    )) as Record<string, unknown>;
    expect(ok).toMatchObject({ statusCode: 200, ok: true, actor: 'lambda-invoke:console-req-1', stillTripped: [] });
    const [latest] = await db.store.listAudit(1);
    expect(latest).toMatchObject({ action: 'reset', actor: 'lambda-invoke:console-req-1' });

    const bad = (await direct({ reason: 'reviewed', scoop: 'typo' }, lambdaContext(5000))) as Record<string, unknown>;
    expect(bad).toMatchObject({ statusCode: 400, ok: false });
  }, 60_000);

  it('poll-chain with {"chains": [...]} polls each chain in its own loop, emits each chain\'s block age under its own Chain dimension, and names what is wrong with a bad event', async () => {
    const { handler: poll } = await import('../../functions/handlers/poll-chain.ts');
    const bad = async (event: unknown) => {
      try {
        await poll(event, lambdaContext(12_000));
      } catch (e) {
        return (e as { issues?: string[] }).issues;
      }
      throw new Error('the event was accepted');
    };
    expect(await bad({})).toEqual([
      'expected {"chains": ["<chain id>", …]} (a poller group) or {"chain": "<chain id>"}',
    ]);
    expect(await bad({ chain: 'devnet', chains: ['devnet'] })).toHaveLength(1);
    expect(await bad({ chains: ['devnet', 'nope', 'devnet'] })).toEqual([
      'chains[1]: "nope" is not in the config (known: devnet, devnet2)',
      'chains[2]: "devnet" is listed twice',
    ]);

    await anvil.mine(1);
    await anvil2.mine(1);
    // Powertools writes each metric as one EMF line on stdout; CloudWatch reads the same lines.
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      lines.push(String(chunk));
      return write(chunk, ...rest);
    }) as typeof process.stdout.write;
    let report: unknown;
    try {
      // The group's role is the union of its chains' grants; every call the run made falls within it.
      report = await within(unionTableAccess([TABLE_ACCESS.poller('devnet'), TABLE_ACCESS.poller('devnet2')]), () =>
        poll({ chains: ['devnet', 'devnet2'] }, lambdaContext(11_000)),
      );
    } finally {
      process.stdout.write = write;
    }
    expect(report).toMatchObject({ chains: [{ chain: 'devnet' }, { chain: 'devnet2' }] });
    expect((report as { chains: { polls: number }[] }).chains.every((c) => c.polls > 0)).toBe(true);
    const ages = lines
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.includes('LastProcessedBlockAgeSeconds'))
      .map(
        (l) => JSON.parse(l) as Record<string, unknown> & { _aws: { CloudWatchMetrics: { Dimensions: string[][] }[] } },
      );
    expect(ages.map((m) => m.Chain).sort()).toEqual(['devnet', 'devnet2']);
    for (const m of ages) {
      expect(m._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service', 'Chain']]);
      expect(m.LastProcessedBlockAgeSeconds).toBeGreaterThanOrEqual(0);
    }
    expect((await db.store.getCursor('devnet2'))?.lastBlock).toBe(await anvil2.provider.getBlockNumber());

    // devnet2's node goes away: devnet still polls, and the invocation fails naming devnet2 only.
    await anvil2.stop();
    await anvil.mine(1);
    const failed = await poll({ chains: ['devnet', 'devnet2'] }, lambdaContext(11_000)).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(AggregateError);
    expect((failed as Error).message).toMatch(/^polling failed on devnet2 — devnet2: /);
    expect((await db.store.getCursor('devnet'))?.lastBlock).toBe(await anvil.provider.getBlockNumber());
  }, 60_000);
});
