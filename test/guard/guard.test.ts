import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { DynamoDbBreakerStore } from '../../functions/adapters/dynamodb/dynamodb-breaker-store.ts';
import { localDynamoClient } from '../../functions/adapters/dynamodb/local-dynamo.ts';
import { BreakerError, isBreakerError } from '../../functions/core/errors.ts';
import { WithdrawalHaltedError } from '../../functions/guard/errors.ts';
import { createBreakerGuard, type GuardStore, guardWithdrawal, MAX_CACHE_MS } from '../../functions/guard/guard.ts';
import { createKillSwitch } from '../../functions/guard/kill-switch.ts';
import { breakerGuard } from '../../functions/guard/middleware.ts';
import { HOT, haltedChain, haltedGlobal, stateAt } from '../actuators/support.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';

const CUSTOMER = '0x1111111111111111111111111111111111111111';
const USDT = '0x5fbdb2315678afecb367f032d93f642f64180aa3';

const config = compileConfig(
  {
    name: 'guard-test',
    chains: {
      devnet: {
        kind: 'evm',
        chainId: 31337,
        rpc: ['http://127.0.0.1:1'],
        confirmations: 0,
        blockTimeSeconds: 1,
        hotWallets: [HOT],
        native: { symbol: 'ETH', decimals: 18, usdPrice: 2000 },
        tokens: [{ symbol: 'USDT', contract: USDT, decimals: 6, usdPrice: 1 }],
      },
      other: {
        kind: 'evm',
        chainId: 31338,
        rpc: ['http://127.0.0.1:1'],
        confirmations: 0,
        blockTimeSeconds: 1,
        hotWallets: [HOT],
        native: { symbol: 'ETH', decimals: 18, usdPrice: 2000 },
      },
    },
    limits: { global: { usd: { '10m': 1_000_000 } } },
  },
  'guard-test',
);

function withdrawal(overrides: Record<string, unknown> = {}) {
  return {
    withdrawalId: 'w-1',
    chain: 'devnet',
    asset: 'USDT',
    destination: CUSTOMER,
    amount: 2_500_000_000n,
    ...overrides,
  };
}

class Metrics {
  readonly counts = new Map<string, number>();
  addMetric(name: string, _unit: 'Count', value: number) {
    this.counts.set(name, (this.counts.get(name) ?? 0) + value);
  }
}

class Logger {
  readonly lines: { level: string; message: string }[] = [];
  warn(message: string) {
    this.lines.push({ level: 'warn', message });
  }
  error(message: string) {
    this.lines.push({ level: 'error', message });
  }
}

async function rejection(p: Promise<unknown>): Promise<WithdrawalHaltedError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(WithdrawalHaltedError);
  expect(isBreakerError(e, 'WITHDRAWAL_HALTED')).toBe(true);
  return e as WithdrawalHaltedError;
}

describe('the guard against the DynamoDB store (dynalite)', () => {
  let db: TestStore;
  let metrics: Metrics;
  let logger: Logger;
  beforeEach(async () => {
    db = await startTestStore();
    // An initialised, armed breaker (an absent state is halted: test/security/absent-state.test.ts).
    await db.store.saveState(stateAt(1), 0);
    metrics = new Metrics();
    logger = new Logger();
  });
  afterEach(async () => {
    await db.close();
  });

  const guard = (extra: Partial<Parameters<typeof createBreakerGuard>[0]> = {}) =>
    createBreakerGuard({ store: db.store, config, metrics, logger, ...extra });

  it('approves while armed and records the approved withdrawal before returning, idempotent by withdrawal id', async () => {
    const approval = await guard().check(withdrawal());
    expect(approval).toMatchObject({ approved: true, stateVersion: 1 });
    expect(approval.record).toMatchObject({
      withdrawalId: 'w-1',
      chain: 'devnet',
      asset: 'USDT',
      destination: CUSTOMER,
      amount: 2_500_000_000n,
    });
    // A retried signing request with the same id: the same (first) record, not a second one.
    const again = await guardWithdrawal(
      db.store,
      { ...withdrawal(), destination: CUSTOMER.toUpperCase().replace('0X', '0x') },
      { config },
    );
    expect(again.record.approvedAtMs).toBe(approval.record.approvedAtMs);
    const stored = await db.store.approvedWithdrawalsBetween('devnet', 0, Date.now() + 1000);
    expect(stored).toEqual([approval.record]);
    expect(metrics.counts.get('GuardApproved')).toBe(1);
  });

  it('refuses a withdrawal id reused with other details (fail closed), keeping the first record', async () => {
    await guard().check(withdrawal());
    const e = await rejection(guard().check(withdrawal({ amount: '9999999999' })));
    expect(e.rejection).toBe('approval-conflict');
    expect(e.failedClosed).toBe(true);
    expect((await db.store.approvedWithdrawalsBetween('devnet', 0, Date.now() + 1000)).map((a) => a.amount)).toEqual([
      2_500_000_000n,
    ]);
  });

  it('rejects with WithdrawalHaltedError while halted, naming the trip; records nothing', async () => {
    await db.store.saveState(haltedGlobal(2), 1);
    const e = await rejection(guard().check(withdrawal()));
    expect(e).toMatchObject({ rejection: 'halted', failedClosed: false, scope: 'global', withdrawalId: 'w-1' });
    expect(e.trip?.ruleId).toBe('reconciliation-devnet-unapproved');
    expect(e.message).toContain('breaker tripped (global)');
    expect(await db.store.approvedWithdrawalsBetween('devnet', 0, Date.now() + 1000)).toEqual([]);
    expect(metrics.counts.get('GuardRejectedHalted')).toBe(1);
    expect(logger.lines.at(-1)?.level).toBe('warn');
  });

  it('a chain halt stops that chain only', async () => {
    await db.store.saveState(haltedChain(2, 'other'), 1);
    expect((await rejection(guard().check(withdrawal({ chain: 'other', asset: 'ETH' })))).scope).toBe('chain:other');
    await expect(guard().check(withdrawal())).resolves.toMatchObject({ approved: true });
  });

  it('fails closed when the store is unreachable (a closed dynalite port), with a metric and an error log', async () => {
    const client = localDynamoClient(db.endpoint);
    const store = new DynamoDbBreakerStore({ client, tableName: db.tableName });
    await db.close();
    const e = await rejection(createBreakerGuard({ store, config, metrics, logger }).check(withdrawal()));
    expect(e.rejection).toBe('state-unreadable');
    expect(e.failedClosed).toBe(true);
    // The state item and the trip records are read in parallel: whichever fails first is named.
    expect(e.message).toMatch(/DynamoDB (GetItem|Query)/);
    expect(metrics.counts.get('GuardFailedClosed')).toBe(1);
    expect(logger.lines.at(-1)).toMatchObject({ level: 'error' });
    expect(logger.lines.at(-1)?.message).toContain('FAILED CLOSED');
    client.destroy();
  });

  const malformed: [string, Record<string, unknown>, string][] = [
    ['tripped is not a map', { schema: 1, version: 3, tripped: 'yes' }, 'state-malformed'],
    [
      'a trip without its id',
      { schema: 1, version: 3, tripped: { global: { ruleId: 'x', atMs: 1, scope: { kind: 'global' } } } },
      'state-malformed',
    ],
    [
      'a scope key that is not a scope',
      { schema: 1, version: 3, tripped: { ethereum: haltedGlobal(3).tripped.global } },
      'state-malformed',
    ],
    ['a state from a newer schema', { schema: 2, version: 3, tripped: {} }, 'state-unreadable'],
  ];
  for (const [name, doc, expected] of malformed) {
    it(`fails closed on a malformed state item: ${name}`, async () => {
      await db.client.send(
        new PutItemCommand({
          TableName: db.tableName,
          Item: { pk: { S: 'BREAKER' }, sk: { S: 'STATE' }, ...marshallLoose(doc) },
        }),
      );
      const e = await rejection(guard().check(withdrawal()));
      expect(e.rejection).toBe(expected);
      expect(e.failedClosed).toBe(true);
      expect(await createKillSwitch(db.store).isHalted({ chain: 'devnet' })).toMatchObject({
        halted: true,
        failedClosed: true,
      });
    });
  }

  it('fails closed when the approval cannot be recorded', async () => {
    const store: GuardStore = {
      getState: () => db.store.getState(),
      unreleasedTrips: () => db.store.unreleasedTrips(),
      recordApprovedWithdrawal: async () => {
        throw new BreakerError('STORE_UNAVAILABLE', 'DynamoDB PutItem failed: ProvisionedThroughputExceededException');
      },
      approvedWithdrawalsBetween: async () => [],
    };
    const e = await rejection(createBreakerGuard({ store, config, metrics, logger }).check(withdrawal()));
    expect(e.rejection).toBe('approval-unrecorded');
    expect(e.message).toContain('ProvisionedThroughputExceededException');
  });

  it('fails closed when the check is slower than its timeout', async () => {
    const store: GuardStore = {
      getState: () => new Promise(() => {}),
      unreleasedTrips: async () => [],
      recordApprovedWithdrawal: async (w) => w,
      approvedWithdrawalsBetween: async () => [],
    };
    const started = Date.now();
    const e = await rejection(createBreakerGuard({ store, config, timeoutMs: 100, logger }).check(withdrawal()));
    expect(e.rejection).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ['a float amount', { amount: 12.5 }, 'invalid-withdrawal'],
    ['a decimal string amount', { amount: '12.5' }, 'invalid-withdrawal'],
    ['a zero amount', { amount: 0n }, 'invalid-withdrawal'],
    ['no withdrawal id', { withdrawalId: undefined }, 'invalid-withdrawal'],
    ['an unknown chain', { chain: 'eth' }, 'unknown-chain'],
    ['an asset the breaker does not watch', { asset: 'DOGE' }, 'unknown-asset'],
    [
      'a destination that is not an EVM address',
      { destination: 'bc1qxyz00000000000000000000000' },
      'invalid-withdrawal',
    ],
    ['an extra field', { memo: 'x' }, 'invalid-withdrawal'],
  ];
  for (const [name, overrides, expected] of invalid) {
    it(`refuses ${name}`, async () => {
      const e = await rejection(guard().check(withdrawal(overrides)));
      expect(e.rejection).toBe(expected);
      expect(e.failedClosed).toBe(true);
    });
  }

  it('accepts the token contract instead of the symbol', async () => {
    await expect(guard().check(withdrawal({ asset: USDT.toUpperCase().replace('0X', '0x') }))).resolves.toMatchObject({
      approved: true,
    });
  });

  it('a cache is bounded: a trip is seen once the cached read is older than cacheMs (≤ 500 ms)', async () => {
    let now = 1_000_000;
    const clock = { now: () => now };
    const g = guard({ cacheMs: 200, clock });
    await g.check(withdrawal({ withdrawalId: 'c-1' }));
    await db.store.saveState(haltedGlobal(2), 1);
    now += 150;
    await expect(g.check(withdrawal({ withdrawalId: 'c-2' }))).resolves.toMatchObject({ approved: true });
    now += 60;
    expect((await rejection(g.check(withdrawal({ withdrawalId: 'c-3' })))).rejection).toBe('halted');
    expect(() => guard({ cacheMs: MAX_CACHE_MS + 1 })).toThrow(RangeError);
  });
});

describe('breakerGuard middy middleware', () => {
  let db: TestStore;
  beforeEach(async () => {
    db = await startTestStore();
    await db.store.saveState(stateAt(1), 0);
  });
  afterEach(async () => {
    await db.close();
  });

  type SignEvent = { withdrawal: ReturnType<typeof withdrawal> };
  const context = {
    functionName: 'signer',
    awsRequestId: 'req-1',
    getRemainingTimeInMillis: () => 10_000,
  } as unknown as Context;

  function signer() {
    const signed: string[] = [];
    const handler = middy(async (event: SignEvent, ctx: Context) => {
      signed.push(event.withdrawal.withdrawalId);
      return {
        signed: true,
        stateVersion: (ctx as Context & { breakerApproval: { stateVersion: number } }).breakerApproval.stateVersion,
      };
    }).use(breakerGuard<SignEvent>({ store: db.store, config, logger: new Logger(), scopeOf: (e) => e.withdrawal }));
    return { handler, signed };
  }

  it('runs the handler with the approval on the context while armed', async () => {
    const { handler, signed } = signer();
    await expect(handler({ withdrawal: withdrawal() }, context)).resolves.toEqual({ signed: true, stateVersion: 1 });
    expect(signed).toEqual(['w-1']);
  });

  it('never runs the handler while halted: the invocation fails with WithdrawalHaltedError', async () => {
    await db.store.saveState(haltedGlobal(2), 1);
    const { handler, signed } = signer();
    const e = await rejection(handler({ withdrawal: withdrawal() }, context));
    expect(e.rejection).toBe('halted');
    expect(signed).toEqual([]);
  });

  it('rejects when scopeOf cannot name the withdrawal', async () => {
    const handler = middy(async () => 'signed').use(
      breakerGuard<{ body?: string }>({
        store: db.store,
        config,
        logger: new Logger(),
        scopeOf: (e) => JSON.parse(e.body ?? '') as ReturnType<typeof withdrawal>,
      }),
    );
    expect((await rejection(handler({}, context))).rejection).toBe('invalid-withdrawal');
  });

  it('validates its options up front', () => {
    expect(() => breakerGuard({} as never)).toThrow(/scopeOf/);
    expect(() => breakerGuard({ scopeOf: () => withdrawal(), store: db.store, config, cacheMs: 5000 })).toThrow(
      RangeError,
    );
    const saved = process.env.BREAKER_TABLE;
    delete process.env.BREAKER_TABLE;
    try {
      expect(() => breakerGuard({ scopeOf: () => withdrawal(), config })).toThrow(/BREAKER_TABLE/);
    } finally {
      if (saved !== undefined) process.env.BREAKER_TABLE = saved;
    }
  });
});

describe('createKillSwitch (the read-only flag) uses the same state validation', () => {
  it('reads armed and halted states', async () => {
    const db = await startTestStore();
    try {
      const ks = createKillSwitch(db.store);
      await db.store.saveState(stateAt(1), 0);
      expect(await ks.isHalted({ chain: 'devnet' })).toEqual({ halted: false });
      await db.store.saveState(stateAt(2, haltedChain(2, 'devnet').tripped), 1);
      expect(await ks.isHalted({ chain: 'devnet' })).toMatchObject({ halted: true, failedClosed: false });
      expect(await ks.isHalted({ chain: 'other' })).toEqual({ halted: false });
    } finally {
      await db.close();
    }
  });
});

/** A plain document as DynamoDB attributes (strings, numbers, maps), without the store's codec. */
function marshallLoose(
  doc: Record<string, unknown>,
): Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> {
  const one = (v: unknown): import('@aws-sdk/client-dynamodb').AttributeValue => {
    if (typeof v === 'string') return { S: v };
    if (typeof v === 'number') return { N: String(v) };
    if (typeof v === 'boolean') return { BOOL: v };
    if (Array.isArray(v)) return { L: v.map(one) };
    if (v && typeof v === 'object') return { M: marshallLoose(v as Record<string, unknown>) };
    return { NULL: true };
  };
  return Object.fromEntries(
    Object.entries(doc)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, one(v)]),
  );
}
