import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKillSwitchActuators } from '../../functions/adapters/actuators/build.ts';
import { DynamoDbApprovedWithdrawals } from '../../functions/adapters/dynamodb/dynamodb-approved-withdrawals.ts';
import { SsmKillSwitchMirror } from '../../functions/adapters/ssm/ssm-kill-switch-mirror.ts';
import type { KillSwitchActuators } from '../../functions/core/actuators/kill-switch-actuators.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import { isBreakerError } from '../../functions/core/errors.ts';
import type { BreakerState } from '../../functions/core/state.ts';
import { flushOutbox, mirroredView } from '../../functions/core/use-cases/outbox.ts';
import { parseKillSwitchValue } from '../../functions/kill-switch-protocol/index.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';
import {
  AwsJsonError,
  type LocalAwsJson,
  localClientConfig,
  type StoredParameter,
  ssmParameterHandlers,
  startLocalAwsJson,
} from '../support/local-aws-json.ts';
import { type LocalLambda, startLocalLambda } from '../support/local-lambda.ts';
import { kmsKeyHandlers, type LocalKey } from './local-kms.ts';
import {
  actuatorConfig,
  haltedChain,
  haltedGlobal,
  KEY_1,
  KEY_2,
  RecordingPublisher,
  startWebhookReceiver,
  stateAt,
  WEBHOOK_SECRET,
} from './support.ts';

const PARAMETER = '/hot-wallet-breaker/act-test/kill-switch';

describe('kill-switch actuators with the real AWS SDK clients against local endpoints', () => {
  let db: TestStore;
  let aws: LocalAwsJson;
  let lambda: LocalLambda;
  let webhook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let parameters: Map<string, StoredParameter>;
  let keys: Map<string, LocalKey>;
  let publisher: RecordingPublisher;
  let config: BreakerConfig;
  let memory: DynamoDbApprovedWithdrawals;

  beforeEach(async () => {
    db = await startTestStore();
    parameters = new Map();
    keys = new Map([
      [KEY_1, { state: 'Enabled' }],
      [KEY_2, { state: 'Disabled' }], // an operator had disabled this one before any halt
    ]);
    aws = await startLocalAwsJson({ handlers: { ...ssmParameterHandlers(parameters), ...kmsKeyHandlers(keys) } });
    lambda = await startLocalLambda({ 'signer-eth': { reserved: 5 }, 'signer-btc': {} });
    webhook = await startWebhookReceiver();
    publisher = new RecordingPublisher();
    config = actuatorConfig(webhook.url);
    memory = new DynamoDbApprovedWithdrawals({ client: db.client, tableName: db.tableName });
  });
  afterEach(async () => {
    await Promise.all([db.close(), aws.close(), lambda.close(), webhook.close()]);
  });

  /** A fresh process's actuators (a Lambda cold start): new clients, nothing cached but the table. */
  function actuators(overrides: { config?: BreakerConfig } = {}): KillSwitchActuators {
    const local = localClientConfig(aws.endpoint);
    const mirror = createKillSwitchActuators({
      config: overrides.config ?? config,
      audit: db.store,
      publisher,
      memory,
      ssm: new SsmKillSwitchMirror({ client: new SSMClient(local), parameterName: PARAMETER }),
      kms: new KMSClient(local),
      lambda: new LambdaClient(localClientConfig(lambda.endpoint)),
      env: { TEST_WEBHOOK_SECRET: WEBHOOK_SECRET },
      fetch,
    });
    return mirror as KillSwitchActuators;
  }

  async function commit(state: BreakerState, previous: number): Promise<void> {
    await db.store.saveState(state, previous);
  }

  async function audits(action: string) {
    return (await db.store.listAudit(100)).filter((r) => r.action === action);
  }

  it('a trip engages every layer and a reset releases them, restoring what was there before; each result is audited', async () => {
    const mirror = actuators();
    const tripped = haltedGlobal(1);
    await commit(tripped, 0);
    await flushOutbox({ store: db.store, publisher, mirror }, tripped);

    // SSM parameter: the signer-side parser reads halted.
    expect(parseKillSwitchValue(parameters.get(PARAMETER)!.value)).toMatchObject({
      halted: true,
      scopes: ['global'],
      version: 1,
    });
    // Webhook: one delivery (received again only if an attempt timed out), verified with the shared
    // secret, telling the signer to stop.
    expect(webhook.deliveries()).toHaveLength(1);
    expect(webhook.received.every((r) => r.parsed.ok)).toBe(true);
    const delivered = webhook.deliveries()[0]!.parsed;
    expect(delivered.ok).toBe(true);
    if (delivered.ok) {
      expect(delivered.body.mode).toBe('engaged');
      expect(delivered.decide('devnet')).toMatchObject({ halted: true, scope: 'global' });
    }
    // Lambda: both signers at reserved concurrency 0; the previous values are remembered in the table.
    expect(lambda.functions.get('signer-eth')!.reserved).toBe(0);
    expect(lambda.functions.get('signer-btc')!.reserved).toBe(0);
    expect((await memory.getMemo('lambda-concurrency:signer-eth'))!.data).toMatchObject({ engaged: true, previous: 5 });
    // KMS: the enabled key is disabled; the already-disabled one stays disabled.
    expect(keys.get(KEY_1)!.state).toBe('Disabled');
    expect(keys.get(KEY_2)!.state).toBe('Disabled');

    const engaged = await audits('actuator');
    expect(engaged.map((r) => r.details.actuator).sort()).toEqual([
      'kms-keys',
      'lambda-concurrency',
      'ssm-parameter',
      'webhook',
    ]);
    expect(engaged.every((r) => r.details.mode === 'engaged' && r.details.ok === true && r.scope === 'global')).toBe(
      true,
    );
    expect(publisher.ofKind('actuator-failure')).toEqual([]);

    const reset = stateAt(2);
    await commit(reset, 1);
    await flushOutbox({ store: db.store, publisher, mirror }, reset);

    expect(parseKillSwitchValue(parameters.get(PARAMETER)!.value)).toMatchObject({ halted: false, version: 2 });
    expect(webhook.deliveries()).toHaveLength(2);
    const released = webhook.deliveries()[1]!.parsed;
    expect(released.ok && released.body.mode).toBe('released');
    expect(lambda.functions.get('signer-eth')!.reserved).toBe(5); // put back
    expect(lambda.functions.get('signer-btc')!.reserved).toBeUndefined(); // unreserved again
    expect(lambda.callsTo('DeleteFunctionConcurrency').map((c) => c.functionName)).toEqual(['signer-btc']);
    expect(keys.get(KEY_1)!.state).toBe('Enabled');
    expect(keys.get(KEY_2)!.state).toBe('Disabled'); // it was disabled before the halt: not our key to enable
    const all = await audits('actuator');
    expect(
      all
        .filter((r) => r.details.mode === 'released')
        .map((r) => r.details.actuator)
        .sort(),
    ).toEqual(['kms-keys', 'lambda-concurrency', 'ssm-parameter', 'webhook']);
  });

  it('is idempotent: repeated flushes, a cold start and two processes engaging at once never re-apply or lose the previous setting', async () => {
    const tripped = haltedGlobal(1);
    await commit(tripped, 0);
    const first = actuators();
    await flushOutbox({ store: db.store, publisher, mirror: first }, tripped);
    const callsAfterTrip =
      lambda.calls.length + aws.callsTo('TrentService.DisableKey').length + webhook.received.length;

    await flushOutbox({ store: db.store, publisher, mirror: first }, tripped);
    // A cold start (new process, same table) with the same state: the memo says it is applied.
    await flushOutbox({ store: db.store, publisher, mirror: actuators() }, tripped);
    expect(lambda.calls.length + aws.callsTo('TrentService.DisableKey').length + webhook.received.length).toBe(
      callsAfterTrip,
    );
    expect((await audits('actuator')).length).toBe(4);

    // Two processes engaging a new trip concurrently: the remembered previous value stays 5, never 0.
    const again = haltedChain(3, 'devnet');
    await db.store.saveState(stateAt(2), 1);
    await Promise.all([actuators().mirror(stateAt(2)), actuators().mirror(stateAt(2))]);
    expect(lambda.functions.get('signer-eth')!.reserved).toBe(5);
    await db.store.saveState(again, 2);
    await Promise.all([actuators().mirror(again), actuators().mirror(again)]);
    expect(lambda.functions.get('signer-eth')!.reserved).toBe(0);
    expect((await memory.getMemo('lambda-concurrency:signer-eth'))!.data).toMatchObject({ engaged: true, previous: 5 });
    await actuators().mirror(stateAt(4));
    expect(lambda.functions.get('signer-eth')!.reserved).toBe(5);
  });

  it('an older release never undoes a newer halt already applied', async () => {
    await actuators().mirror(haltedGlobal(5));
    await actuators().mirror(stateAt(4)); // a stale process still holding the armed version 4
    expect(lambda.functions.get('signer-eth')!.reserved).toBe(0);
    expect(keys.get(KEY_1)!.state).toBe('Disabled');
    expect(parseKillSwitchValue(parameters.get(PARAMETER)!.value)).toMatchObject({ halted: true, version: 5 });
  });

  it('a halt at a lower state version than one already applied still engages every layer (state item deleted or restored)', async () => {
    await actuators().mirror(stateAt(40)); // armed at version 40, remembered in the table
    await actuators().mirror(haltedGlobal(1)); // the state item was re-created: versions start again
    expect(lambda.functions.get('signer-eth')!.reserved).toBe(0);
    expect(keys.get(KEY_1)!.state).toBe('Disabled');
    expect(parseKillSwitchValue(parameters.get(PARAMETER)!.value)).toMatchObject({ halted: true, version: 1 });
  });

  describe('the per-poll self-check reads every layer back', () => {
    const readState = () => mirroredView(db.store);

    it('a layer changed behind the breaker is paged, audited and rewritten; the next check is quiet', async () => {
      const mirror = actuators();
      const tripped = haltedGlobal(1);
      await commit(tripped, 0);
      await flushOutbox({ store: db.store, publisher, mirror }, tripped);
      // Someone with the rights re-arms every layer by hand: a forged parameter with a huge version,
      // the signer's concurrency put back, the signing key re-enabled.
      parameters.get(PARAMETER)!.value = JSON.stringify({
        halted: false,
        scopes: [],
        version: 1_000_000,
        updatedAt: null,
        trips: [],
      });
      lambda.functions.get('signer-eth')!.reserved = 5;
      keys.get(KEY_1)!.state = 'Enabled';

      const outcomes = await mirror.verify(readState);

      expect(outcomes.map((o) => o.actuator).sort()).toEqual(['kms-keys', 'lambda-concurrency', 'ssm-parameter']);
      expect(outcomes.every((o) => o.repaired && o.paged)).toBe(true);
      expect(parseKillSwitchValue(parameters.get(PARAMETER)!.value)).toMatchObject({ halted: true, version: 1 });
      expect(lambda.functions.get('signer-eth')!.reserved).toBe(0);
      expect(keys.get(KEY_1)!.state).toBe('Disabled');
      const pages = publisher.ofKind('actuator-failure');
      expect(pages.map((p) => p.details.actuator).sort()).toEqual(['kms-keys', 'lambda-concurrency', 'ssm-parameter']);
      const ssmPage = pages.find((p) => p.details.actuator === 'ssm-parameter')!;
      expect(ssmPage.subject).toContain('kill-switch layer ssm-parameter disagreed with the breaker state');
      expect(ssmPage.text).toContain('does not stop signing, but the breaker state halts global');
      expect(ssmPage.text).toContain("state version 1000000, ahead of the breaker state's version 1");
      expect(pages.find((p) => p.details.actuator === 'lambda-concurrency')!.text).toContain('signer-eth: reserved 5');
      expect((await audits('actuator-disagreement')).map((r) => r.details.actuator).sort()).toEqual([
        'kms-keys',
        'lambda-concurrency',
        'ssm-parameter',
      ]);

      expect(await mirror.verify(readState)).toEqual([]);
      expect(publisher.ofKind('actuator-failure')).toHaveLength(3);

      // Changed again later: paged again.
      keys.get(KEY_1)!.state = 'Enabled';
      expect((await mirror.verify(readState)).map((o) => o.actuator)).toEqual(['kms-keys']);
      expect(publisher.ofKind('actuator-failure')).toHaveLength(4);
    });

    it('agreeing layers cost reads only: no write, no page, no audit', async () => {
      const mirror = actuators();
      const tripped = haltedGlobal(1);
      await commit(tripped, 0);
      await flushOutbox({ store: db.store, publisher, mirror }, tripped);
      const puts = () =>
        aws.callsTo('AmazonSSM.PutParameter').length +
        aws.callsTo('TrentService.DisableKey').length +
        lambda.callsTo('PutFunctionConcurrency').length;
      const before = puts();
      expect(await mirror.verify(readState)).toEqual([]);
      expect(puts()).toBe(before);
      expect(publisher.pages).toEqual([]);
      expect(await audits('actuator-disagreement')).toEqual([]);
      // Released layers are not held to "not throttled": an operator may throttle a signer on their own.
      await commit(stateAt(2), 1);
      await flushOutbox({ store: db.store, publisher, mirror }, stateAt(2));
      lambda.functions.get('signer-btc')!.reserved = 0;
      expect(await mirror.verify(readState)).toEqual([]);
    });

    it('a deleted parameter is unreadable: paged and re-created', async () => {
      const mirror = actuators();
      await commit(haltedChain(1, 'devnet'), 0);
      await flushOutbox({ store: db.store, publisher, mirror }, haltedChain(1, 'devnet'));
      parameters.delete(PARAMETER);
      const [outcome] = await mirror.verify(readState);
      expect(outcome).toMatchObject({ actuator: 'ssm-parameter', repaired: true, paged: true });
      expect(outcome!.problems[0]).toContain('not found');
      expect(parseKillSwitchValue(parameters.get(PARAMETER)!.value)).toMatchObject({ scopes: ['chain:devnet'] });
    });

    it('a disagreement that cannot be paged fails the check (the poller run then alarms)', async () => {
      const mirror = actuators();
      await commit(haltedGlobal(1), 0);
      await flushOutbox({ store: db.store, publisher, mirror }, haltedGlobal(1));
      keys.get(KEY_1)!.state = 'Enabled';
      publisher.failNext = 1;
      const error = await mirror.verify(readState).catch((e: unknown) => e);
      expect(isBreakerError(error, 'ACTUATOR_FAILED')).toBe(true);
      expect(String((error as Error).message)).toContain('kms-keys');
      expect(keys.get(KEY_1)!.state).toBe('Disabled'); // repaired all the same
      expect(publisher.ofKind('actuator-failure')).toEqual([]);
      // The next check has nothing to repair, and publishes the page it still owes.
      expect(await mirror.verify(readState)).toEqual([]);
      expect(publisher.ofKind('actuator-failure').map((p) => p.details.actuator)).toEqual(['kms-keys']);
    });
  });

  it('layers limited to chains engage only for halts covering those chains', async () => {
    const scoped = actuatorConfig(webhook.url, {
      lambdaConcurrency: { functions: ['signer-btc'], chains: ['other'] },
      kmsKeys: { keys: [KEY_1], chains: ['devnet'] },
    });
    const mirror = actuators({ config: scoped });
    await mirror.mirror(haltedChain(1, 'devnet'));
    expect(keys.get(KEY_1)!.state).toBe('Disabled');
    expect(lambda.functions.get('signer-btc')!.reserved).toBeUndefined();
    await mirror.mirror(stateAt(2, { ...haltedChain(2, 'devnet').tripped, ...haltedChain(2, 'other').tripped }));
    expect(lambda.functions.get('signer-btc')!.reserved).toBe(0);
  });

  describe('each layer failing is paged and audited, does not stop the flush, and is retried at the next flush', () => {
    const cases: { layer: string; inject: () => void; check: () => void }[] = [
      {
        layer: 'ssm-parameter',
        inject: () => aws.failNext('AmazonSSM.PutParameter', 1),
        check: () => expect(parseKillSwitchValue(parameters.get(PARAMETER)!.value).halted).toBe(true),
      },
      {
        layer: 'webhook',
        inject: () => webhook.statuses.push(503, 503, 503), // the first attempt and both retries
        check: () => expect(webhook.received.at(-1)!.parsed.ok).toBe(true),
      },
      {
        layer: 'lambda-concurrency',
        inject: () =>
          lambda.failNext('PutFunctionConcurrency', 2, {
            status: 429,
            type: 'TooManyRequestsException',
            message: 'Rate exceeded',
          }),
        check: () => expect(lambda.functions.get('signer-eth')!.reserved).toBe(0),
      },
      {
        layer: 'kms-keys',
        inject: () =>
          aws.failNext(
            'TrentService.DisableKey',
            1,
            new AwsJsonError('DependencyTimeoutException', 'KMS is slow', 503),
          ),
        check: () => expect(keys.get(KEY_1)!.state).toBe('Disabled'),
      },
    ];
    for (const c of cases) {
      it(`${c.layer}`, async () => {
        const mirror = actuators();
        const tripped = haltedGlobal(1);
        await commit(tripped, 0);
        c.inject();
        await flushOutbox({ store: db.store, publisher, mirror }, tripped); // does not throw: the failure is paged

        const pages = publisher.ofKind('actuator-failure');
        expect(pages).toHaveLength(1);
        expect(pages[0]!.subject).toContain(`kill-switch layer ${c.layer} failed to halt`);
        expect(pages[0]!.text).toContain('does NOT stop signing yet');
        expect(pages[0]!.details).toMatchObject({ actuator: c.layer, mode: 'engaged', stateVersion: 1 });
        const failures = await audits('actuator-failure');
        expect(failures.map((r) => r.details.actuator)).toEqual([c.layer]);
        expect(String(failures[0]!.details.error)).not.toBe('');
        // The other layers went through.
        expect((await audits('actuator')).map((r) => r.details.actuator)).not.toContain(c.layer);
        expect((await audits('actuator')).length).toBe(3);

        // The next flush (the next poll's, or the next poller start) retries it; no second page.
        await flushOutbox({ store: db.store, publisher, mirror }, tripped);
        c.check();
        expect((await audits('actuator')).map((r) => r.details.actuator)).toContain(c.layer);
        expect(publisher.ofKind('actuator-failure')).toHaveLength(1);
      });
    }

    it('a failure to release (re-arm) is paged too: the signer stays blocked until it is fixed', async () => {
      const mirror = actuators();
      await commit(haltedGlobal(1), 0);
      await flushOutbox({ store: db.store, publisher, mirror }, haltedGlobal(1));
      lambda.failNext('DeleteFunctionConcurrency', 1, {
        status: 404,
        type: 'ResourceNotFoundException',
        message: 'Function not found',
      });
      await commit(stateAt(2), 1);
      await flushOutbox({ store: db.store, publisher, mirror }, stateAt(2));
      const page = publisher.ofKind('actuator-failure')[0]!;
      expect(page.subject).toContain('lambda-concurrency failed to re-arm');
      expect(page.text).toContain('ResourceNotFoundException');
      expect(page.text).toContain('aws lambda delete-function-concurrency --function-name');
      expect(lambda.functions.get('signer-btc')!.reserved).toBe(0);
      await flushOutbox({ store: db.store, publisher, mirror }, stateAt(2));
      expect(lambda.functions.get('signer-btc')!.reserved).toBeUndefined();
    });

    it('when the failure cannot even be paged, the flush fails (PUBLISH_FAILED) so it is retried', async () => {
      const mirror = actuators();
      await commit(haltedGlobal(1), 0);
      lambda.failNext('PutFunctionConcurrency', 2);
      publisher.failNext = 1; // the failure page itself (the outbox is empty: no other page is sent)
      const error = await flushOutbox({ store: db.store, publisher, mirror }, haltedGlobal(1)).catch((e: unknown) => e);
      expect(isBreakerError(error, 'PUBLISH_FAILED')).toBe(true);
      expect(String((error as Error).message)).toContain('lambda-concurrency');
      await flushOutbox({ store: db.store, publisher, mirror }, haltedGlobal(1));
      expect(publisher.ofKind('actuator-failure')).toHaveLength(0); // retried and succeeded: nothing left to page
      expect(lambda.functions.get('signer-eth')!.reserved).toBe(0);
    });
  });

  it('a KMS key pending deletion is left alone (it cannot sign) instead of failing the layer', async () => {
    keys.set(KEY_2, { state: 'PendingDeletion' });
    const mirror = actuators();
    await mirror.mirror(haltedGlobal(1));
    expect(publisher.ofKind('actuator-failure')).toEqual([]);
    expect(keys.get(KEY_1)!.state).toBe('Disabled');
  });

  it('refuses to build a webhook layer without its secret (a cold-start config error naming the variable)', () => {
    expect(() => createKillSwitchActuators({ config, audit: db.store, publisher, memory, env: {} })).toThrow(
      /TEST_WEBHOOK_SECRET is not set/,
    );
  });
});
