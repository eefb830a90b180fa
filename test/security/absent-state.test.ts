/**
 * Issue 11 item 1: an absent breaker state is halted, never armed; the armed state is created only
 * by an audited initialisation; a state item that disappears after it pages [TAMPER] and halts by
 * a trip record that no re-created state can clear. Real DynamoDB-compatible store (dynalite).
 */
import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { documentToItem } from '../../functions/adapters/dynamodb/item-codec.ts';
import { STATE_KEY } from '../../functions/adapters/dynamodb/table.ts';
import { isBreakerError } from '../../functions/core/errors.ts';
import { initialState, type Page } from '../../functions/core/state.ts';
import { commitTransition } from '../../functions/core/use-cases/commit-transition.ts';
import { initialiseBreaker } from '../../functions/core/use-cases/initialise-breaker.ts';
import { manualTripUseCase } from '../../functions/core/use-cases/manual-trip.ts';
import { WithdrawalHaltedError } from '../../functions/guard/errors.ts';
import { createBreakerGuard } from '../../functions/guard/guard.ts';
import { createKillSwitch } from '../../functions/guard/kill-switch.ts';
import { actuatorConfig } from '../actuators/support.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';

const config = actuatorConfig('http://127.0.0.1:1/hook', {});
const withdrawal = {
  withdrawalId: 'w-1',
  chain: 'devnet',
  asset: 'ETH',
  destination: '0x1111111111111111111111111111111111111111',
  amount: 10n ** 18n,
};
const clock = { now: () => Date.UTC(2026, 11, 5, 2) };

class Pages {
  readonly sent: Page[] = [];
  async publish(page: Page) {
    this.sent.push(page);
  }
}

async function rejectionOf(p: Promise<unknown>): Promise<WithdrawalHaltedError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(WithdrawalHaltedError);
  return e as WithdrawalHaltedError;
}

describe('absent breaker state = halted', () => {
  let db: TestStore;
  let pages: Pages;
  beforeEach(async () => {
    db = await startTestStore();
    pages = new Pages();
  });
  afterEach(async () => {
    await db.close();
  });
  const guard = () => createBreakerGuard({ store: db.store, config, logger: { warn() {}, error() {} } });

  it('the guard and the kill switch refuse while no state item exists (never initialised)', async () => {
    const e = await rejectionOf(guard().check(withdrawal));
    expect(e.rejection).toBe('state-missing');
    expect(e.failedClosed).toBe(true);
    expect(e.message).toContain('not initialised');
    expect(await createKillSwitch(db.store).isHalted({ chain: 'devnet' })).toMatchObject({
      halted: true,
      failedClosed: true,
    });
  });

  it('no transition creates the state implicitly: a commit onto an absent state is refused and writes nothing', async () => {
    const err = await commitTransition({ store: db.store, publisher: pages, clock }, (s, nowMs) => ({
      ...s,
      version: s.version + 1,
      updatedAtMs: nowMs,
    })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isBreakerError(err, 'STATE_MISSING')).toBe(true);
    expect((await db.store.getState()).version).toBe(0);
  });

  it('initialisation is explicit, audited and idempotent; afterwards the guard approves', async () => {
    const first = await initialiseBreaker(
      { store: db.store, publisher: pages, clock },
      { actor: 'local:alice@host', reason: 'first run of breaker watch' },
    );
    expect(first).toBe('created');
    const again = await initialiseBreaker(
      { store: db.store, publisher: pages, clock },
      { actor: 'local:mallory@host', reason: 'second attempt' },
    );
    expect(again).toBe('already-initialised');
    const audit = await db.store.listAudit(10);
    expect(audit.filter((r) => r.action === 'init')).toEqual([
      expect.objectContaining({ actor: 'local:alice@host', reason: 'first run of breaker watch' }),
    ]);
    await expect(guard().check(withdrawal)).resolves.toMatchObject({ approved: true, stateVersion: 2 });
  });

  it('a state item deleted after initialisation pages [TAMPER] once and halts by a trip record that a re-created armed state does not clear', async () => {
    await initialiseBreaker({ store: db.store, publisher: pages, clock }, { actor: 'deploy', reason: 'deployed' });
    await db.client.send(
      new DeleteItemCommand({
        TableName: db.tableName,
        Key: { pk: { S: STATE_KEY.pk }, sk: { S: STATE_KEY.sk } },
      }),
    );
    // The next transition (any writer: a poll, an operator) notices.
    for (let i = 0; i < 2; i++) {
      const err = await manualTripUseCase(
        { store: db.store, publisher: pages, clock, config },
        { scope: 'chain:devnet', reason: 'checking the chain', actor: 'local:bob@host' },
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isBreakerError(err, 'STATE_MISSING')).toBe(true);
      expect((err as Error).message).toContain('TAMPER');
    }
    const tamper = pages.sent.filter((p) => p.subject.startsWith('[TAMPER]'));
    expect(tamper).toHaveLength(1);
    expect(tamper[0]?.text).toContain('BREAKER/STATE');

    // The attacker now writes an armed state back: the guard still halts on the trip record.
    await db.client.send(
      new PutItemCommand({
        TableName: db.tableName,
        Item: documentToItem(STATE_KEY, { ...initialState(), version: 50, updatedAtMs: clock.now() }),
      }),
    );
    const e = await rejectionOf(guard().check(withdrawal));
    expect(e.rejection).toBe('halted');
    expect(e.trip?.ruleId).toBe('tamper:state-missing');
  });
});
