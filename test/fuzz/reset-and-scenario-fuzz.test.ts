/**
 * Fuzz: bad input at the other two doors — the reset-breaker Lambda handler (any payload, direct or
 * through its function URL) and replay scenario files. A reset request never makes the handler
 * throw, never re-arms without a proper reason, and a rejected one changes nothing recorded; a
 * scenario is either valid or a ScenarioError naming where it is wrong.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_REASON_LENGTH } from '../../functions/core/reason.ts';
import { parseScenario, ScenarioError } from '../../functions/core/replay/scenario.ts';
import type { BreakerState } from '../../functions/core/state.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';
import { type LocalSns, startLocalSns } from '../support/local-sns.ts';

function lambdaContext(): Context {
  return {
    awsRequestId: `req-${Math.random().toString(16).slice(2)}`,
    functionName: 'reset-fuzz',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:reset-fuzz',
    memoryLimitInMB: '256',
    logGroupName: '/aws/lambda/reset-fuzz',
    logStreamName: 'fuzz',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

describe('reset-breaker handler: any payload', () => {
  let db: TestStore;
  let sns: LocalSns;
  let handler: (event: unknown, context: Context) => Promise<unknown>;

  beforeAll(async () => {
    db = await startTestStore();
    sns = await startLocalSns();
    const topicArn = await sns.createTopic('reset-fuzz');
    const dir = mkdtempSync(join(tmpdir(), 'hwb-reset-fuzz-'));
    const configFile = join(dir, 'breaker-config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        name: 'reset-fuzz',
        chains: {
          devnet: {
            kind: 'evm',
            chainId: 31337,
            rpc: ['http://127.0.0.1:9'],
            confirmations: 0,
            blockTimeSeconds: 1,
            hotWallets: ['0x70997970C51812dc3A010C7d01b50e0d17dc79C8'],
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
      AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
      AWS_ENDPOINT_URL_SNS: sns.endpoint,
      POWERTOOLS_TRACE_ENABLED: 'false',
      POWERTOOLS_LOG_LEVEL: 'CRITICAL',
    });
    ({ handler } = (await import('../../functions/handlers/reset-breaker.ts')) as unknown as {
      handler: typeof handler;
    });
  });

  afterAll(async () => {
    await sns?.close();
    await db?.close();
  });

  /** Trip the breaker (global and the chain) as a poller would have, so every reset has something to re-arm. */
  async function tripped(): Promise<BreakerState> {
    const current = await db.store.getState();
    const trip = (key: string) => ({
      tripId: `trip-${current.version + 1}-${key}`,
      atMs: Date.now(),
      ruleId: 'global-usd-1h',
      scope: key === 'global' ? { kind: 'global' as const } : { kind: 'chain' as const, chain: 'devnet' },
      evidence: {
        ruleId: 'global-usd-1h',
        summary: 'fuzz',
        measure: 'usd' as const,
        value: '1',
        limit: '0',
        windowSeconds: 3600,
        windowEnd: 1,
        outflowIds: [],
      },
    });
    const next: BreakerState = {
      ...current,
      tripped: { global: trip('global'), 'chain:devnet': trip('chain:devnet') },
      outbox: [],
      version: current.version + 1,
    };
    await db.store.saveState(next, current.version);
    return next;
  }

  const goodReason = fc.constantFrom(
    'reviewed the drain with the security team',
    'false alarm: a planned hot-to-cold sweep',
  );
  const resetBody = fc.record(
    {
      reason: fc.oneof(
        fc.string({ maxLength: 30 }),
        goodReason,
        fc.constant(' '.repeat(20)),
        fc.constant('x'.repeat(2001)),
        fc.anything(),
      ),
      scope: fc.oneof(
        fc.constantFrom('global', 'chain:devnet', 'chain:nope', 'chain:', 'GLOBAL', ''),
        fc.string(),
        fc.anything(),
      ),
      reviewedTripIds: fc.oneof(fc.array(fc.string(), { maxLength: 3 }), fc.anything()),
      extra: fc.anything(),
    },
    { requiredKeys: [] },
  );
  const viaUrl = fc.record(
    {
      requestContext: fc.oneof(
        fc.record({
          authorizer: fc.record({
            iam: fc.record({ userArn: fc.oneof(fc.constant('arn:aws:iam::1:user/alice'), fc.string()) }),
          }),
        }),
        fc.anything(),
      ),
      body: fc.oneof(
        resetBody.map((b) => JSON.stringify(b)),
        fc.string(),
        fc.constant('not json {'),
        fc.anything(),
      ),
      isBase64Encoded: fc.oneof(fc.boolean(), fc.anything()),
    },
    { requiredKeys: [] },
  );
  const plausible = fc.record(
    { reason: goodReason, scope: fc.constantFrom('global', 'chain:devnet') },
    { requiredKeys: ['reason'] },
  );
  const payload = fc.oneof(
    plausible,
    plausible.map((b) => ({
      requestContext: { authorizer: { iam: { userArn: 'arn:aws:iam::1:user/bob' } } },
      body: JSON.stringify(b),
    })),
    resetBody,
    viaUrl,
    fc.anything(),
    fc.constantFrom(null, undefined, '', 0, [], 'reset'),
  );

  it('answers every payload with a status, never throws; a rejected reset changes nothing recorded', async () => {
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(payload, async (event) => {
        const before = await tripped();
        const auditBefore = (await db.store.listAudit(1000)).length;
        let reply: { statusCode?: unknown; body?: unknown; ok?: unknown };
        try {
          reply = (await handler(event, lambdaContext())) as typeof reply;
        } catch (e) {
          throw new Error(`the handler threw on ${JSON.stringify(event)?.slice(0, 200)}: ${(e as Error).message}`);
        }
        expect(Number.isInteger(reply.statusCode)).toBe(true);
        const status = reply.statusCode as number;
        seen.add(status);
        expect(status).toBeGreaterThanOrEqual(200);
        expect(status).toBeLessThan(500);
        const after = await db.store.getState();
        expect((await db.store.listAudit(1000)).length).toBeGreaterThanOrEqual(auditBefore);
        if (status >= 300) {
          expect(after.version).toBe(before.version);
          expect(Object.keys(after.tripped).sort()).toEqual(Object.keys(before.tripped).sort());
        } else if (Object.keys(after.tripped).length < Object.keys(before.tripped).length) {
          // Re-armed: only with a real reason, recorded with who and why.
          const audit = (await db.store.listAudit(5)).find((a) => a.action === 'reset');
          expect(audit?.reason?.trim().length ?? 0).toBeGreaterThanOrEqual(MIN_REASON_LENGTH);
          expect(audit?.actor).toBeTruthy();
        }
      }),
      { numRuns: 120 },
    );
    // The fuzz reached both sides: resets that re-armed and requests that were refused.
    expect(seen.has(200)).toBe(true);
    expect([...seen].some((s) => s >= 400)).toBe(true);
  });
});

describe('scenario files: any mutation', () => {
  const valid = {
    format: 'hot-wallet-breaker/scenario@1',
    name: 'fuzz',
    prices: { ETH: 3000, USDT: 1 },
    events: [
      { t: 0, chain: 'ethereum', asset: 'ETH', amount: '1.5', to: '0xabc', label: 'legit' },
      { t: 60, chain: 'ethereum', asset: 'USDT', usd: 2500, label: 'attack', approved: false },
      { t: 120, chain: 'bsc', asset: 'BNB', amount: '10', usd: '6500.5', aggregate: true },
    ],
  };
  const fields = ['t', 'chain', 'asset', 'amount', 'usd', 'to', 'from', 'tx', 'label', 'approved', 'aggregate', 'nope'];
  const value = fc.oneof(
    fc.anything(),
    fc.constantFrom(null, -1, Number.NaN, 1e21, '', '1e3', '0x10', 'attack', true, []),
  );
  const mutation = fc.oneof(
    fc.record({
      at: fc.constant('event' as const),
      index: fc.nat({ max: 4 }),
      field: fc.constantFrom(...fields),
      value,
    }),
    fc.record({
      at: fc.constant('top' as const),
      field: fc.constantFrom('format', 'name', 'prices', 'events', 'description', 'extra'),
      value,
    }),
    fc.record({ at: fc.constant('price' as const), field: fc.string({ maxLength: 5 }), value }),
  );

  it('only ScenarioError, and every issue says where (a field, or events[i].field)', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        const doc = structuredClone(valid) as Record<string, unknown>;
        for (const m of mutations) {
          if (m.at === 'top') doc[m.field] = m.value;
          const prices = doc.prices as Record<string, unknown> | null;
          if (m.at === 'price' && prices && typeof prices === 'object') prices[m.field] = m.value;
          const event = Array.isArray(doc.events) && m.at === 'event' ? (doc.events[m.index] as unknown) : undefined;
          if (m.at === 'event' && event && typeof event === 'object')
            (event as Record<string, unknown>)[m.field] = m.value;
        }
        try {
          parseScenario(doc, 'fuzz.json');
        } catch (e) {
          if (!(e instanceof ScenarioError))
            throw new Error(`threw ${(e as Error).constructor.name}: ${(e as Error).message}`);
          for (const issue of e.issues) expect(issue).toMatch(/^(\(root\)|[A-Za-z]+)(\[\d+\])?[.[:]/);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
