/**
 * Issue 11 item 2: the component that halts cannot resume. A trip is also a record in the TRIP
 * partition (scope in the sort key); only the reset/console roles write RELEASE records. A
 * compromised poller can rewrite BREAKER/STATE and overwrite trip records, and the guard still
 * halts. Real store (dynalite); the "compromised poller" is raw PutItems with a poller's rights.
 */
import { PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { documentToItem } from '../../functions/adapters/dynamodb/item-codec.ts';
import { RELEASE_PARTITION, STATE_KEY, TRIP_PARTITION, tripKey } from '../../functions/adapters/dynamodb/table.ts';
import type { Page } from '../../functions/core/state.ts';
import { initialiseBreaker } from '../../functions/core/use-cases/initialise-breaker.ts';
import { manualTripUseCase } from '../../functions/core/use-cases/manual-trip.ts';
import { resetBreakerUseCase } from '../../functions/core/use-cases/reset-breaker.ts';
import { WithdrawalHaltedError } from '../../functions/guard/errors.ts';
import { createBreakerGuard } from '../../functions/guard/guard.ts';
import { createKillSwitch } from '../../functions/guard/kill-switch.ts';
import { actuatorConfig, trip } from '../actuators/support.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';

const config = actuatorConfig('http://127.0.0.1:1/hook', {});
const withdrawal = (chain = 'devnet') => ({
  withdrawalId: `w-${chain}`,
  chain,
  asset: 'ETH',
  destination: '0x1111111111111111111111111111111111111111',
  amount: 10n ** 18n,
});
const clock = { now: () => Date.UTC(2026, 11, 5, 2) };
const pages = { publish: async (_p: Page) => {} };
const REASON = 'reviewed the outflows, keys rotated';

async function rejectionOf(p: Promise<unknown>): Promise<WithdrawalHaltedError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(WithdrawalHaltedError);
  return e as WithdrawalHaltedError;
}

describe('a poller cannot un-trip', () => {
  let db: TestStore;
  beforeEach(async () => {
    db = await startTestStore();
    await initialiseBreaker({ store: db.store, publisher: pages, clock }, { actor: 'deploy', reason: 'deployed' });
  });
  afterEach(async () => {
    await db.close();
  });
  const deps = () => ({ store: db.store, publisher: pages, clock, config });
  const guard = () => createBreakerGuard({ store: db.store, config, logger: { warn() {}, error() {} } });
  const put = (item: Parameters<typeof documentToItem>) =>
    db.client.send(new PutItemCommand({ TableName: db.tableName, Item: documentToItem(...item) }));

  it('a trip writes a TRIP record whose sort key holds the scope', async () => {
    await manualTripUseCase(deps(), { scope: 'global', reason: REASON, actor: 'local:alice@host' });
    const out = await db.client.send(
      new QueryCommand({
        TableName: db.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: TRIP_PARTITION } },
      }),
    );
    expect(out.Items?.map((i) => i.sk?.S)).toEqual([expect.stringMatching(/^global#/)]);
  });

  it('rewriting BREAKER/STATE as armed (what a poller role may PutItem) does not re-arm the guard or the kill switch', async () => {
    const { state } = await manualTripUseCase(deps(), { scope: 'global', reason: REASON, actor: 'local:alice@host' });
    await put([STATE_KEY, { ...state, tripped: {}, outbox: [], version: state.version + 1 }]);
    expect((await rejectionOf(guard().check(withdrawal()))).rejection).toBe('halted');
    expect(await createKillSwitch(db.store).isHalted({ chain: 'devnet' })).toMatchObject({ halted: true });
  });

  it('overwriting a trip record cannot change what it halts: the scope comes from the sort key', async () => {
    const { state } = await manualTripUseCase(deps(), { scope: 'global', reason: REASON, actor: 'local:alice@host' });
    const t = state.tripped.global;
    if (!t) throw new Error('expected a global trip');
    await put([STATE_KEY, { ...state, tripped: {}, outbox: [], version: state.version + 1 }]);
    // Same key, body claims a harmless chain scope on another chain.
    await put([
      tripKey({ scope: 'global', atMs: t.atMs, tripId: t.tripId }),
      { ...t, scope: { kind: 'chain', chain: 'other' } },
    ]);
    const e = await rejectionOf(guard().check(withdrawal('devnet')));
    expect(e).toMatchObject({ rejection: 'halted', scope: 'global' });
  });

  it('a chain trip record halts that chain only, even after the state forgets it', async () => {
    const { state } = await manualTripUseCase(deps(), {
      scope: 'chain:devnet',
      reason: REASON,
      actor: 'local:alice@host',
    });
    await put([STATE_KEY, { ...state, tripped: {}, outbox: [], version: state.version + 1 }]);
    expect((await rejectionOf(guard().check(withdrawal()))).rejection).toBe('halted');
    await expect(guard().check(withdrawal('other'))).resolves.toMatchObject({ approved: true });
  });

  it('a trip record with no trip in the state (orphan, or a tamper trip) halts until an operator resets it', async () => {
    await put([
      tripKey({ scope: 'chain:devnet', atMs: 1, tripId: 'trip-orphan' }),
      trip({ kind: 'chain', chain: 'devnet' }, 'tamper:test'),
    ]);
    expect((await rejectionOf(guard().check(withdrawal()))).rejection).toBe('halted');
    const reset = await resetBreakerUseCase(deps(), { reason: REASON, actor: 'local:alice@host' });
    expect(reset.tripped).toEqual({});
    await expect(guard().check(withdrawal())).resolves.toMatchObject({ approved: true });
  });

  it('a reset writes RELEASE records, so the guard approves again', async () => {
    await manualTripUseCase(deps(), { scope: 'global', reason: REASON, actor: 'local:alice@host' });
    await resetBreakerUseCase(deps(), { reason: REASON, actor: 'local:bob@host' });
    await expect(guard().check(withdrawal())).resolves.toMatchObject({ approved: true });
    const out = await db.client.send(
      new QueryCommand({
        TableName: db.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: RELEASE_PARTITION } },
      }),
    );
    expect(out.Items?.map((i) => i.actor?.S)).toEqual(['local:bob@host']);
  });
});
