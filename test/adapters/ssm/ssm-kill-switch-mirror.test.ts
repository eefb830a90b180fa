import { DeleteParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  checkKillSwitchParameter,
  KillSwitchParameterError,
  readKillSwitchParameter,
  SsmKillSwitchMirror,
} from '../../../functions/adapters/ssm/ssm-kill-switch-mirror.ts';
import { isBreakerError, PublishError } from '../../../functions/core/errors.ts';
import type { HaltScope } from '../../../functions/core/model.ts';
import { type BreakerState, initialState, type TripInfo } from '../../../functions/core/state.ts';
import {
  encodeKillSwitchValue,
  isHaltedFromParameter,
  KILL_SWITCH_MAX_VALUE_BYTES,
  parseKillSwitchValue,
} from '../../../functions/kill-switch-protocol/index.ts';
import {
  AwsJsonError,
  type LocalAwsJson,
  localClientConfig,
  type StoredParameter,
  ssmParameterHandlers,
  startLocalAwsJson,
} from '../../support/local-aws-json.ts';

const NAME = '/hot-wallet-breaker/test/kill-switch';
/** What infra/constructs/kill-switch.ts deploys the parameter with. */
const DEPLOYED_VALUE = JSON.stringify({ halted: false, scopes: [], version: 0, updatedAt: null });
const GET = 'AmazonSSM.GetParameter';
const PUT = 'AmazonSSM.PutParameter';

function trip(scope: HaltScope, ruleId: string): TripInfo {
  return {
    tripId: `trip-${ruleId}`,
    atMs: Date.UTC(2026, 10, 5, 10),
    ruleId,
    scope,
    evidence: {
      ruleId,
      summary: `${ruleId} over limit`,
      measure: 'usd',
      value: '3120000000000',
      limit: '3000000000000',
      windowSeconds: 3600,
      windowEnd: 1_700_000_000,
      outflowIds: ['ethereum:0xabc:0'],
    },
  };
}

function state(version: number, tripped: Record<string, TripInfo> = {}): BreakerState {
  return { ...initialState(), version, tripped, updatedAtMs: Date.UTC(2026, 10, 5, 10, 0, version) };
}

const armed = (version: number) => state(version);
const haltedGlobal = (version: number) => state(version, { global: trip({ kind: 'global' }, 'global-usd-1h') });
const haltedChain = (version: number, chain = 'ethereum') =>
  state(version, { [`chain:${chain}`]: trip({ kind: 'chain', chain }, `${chain}-usd-10m`) });

describe('SsmKillSwitchMirror against a local SSM endpoint', () => {
  const parameters = new Map<string, StoredParameter>();
  let ssm: LocalAwsJson;
  let client: SSMClient;

  beforeAll(async () => {
    ssm = await startLocalAwsJson({ handlers: ssmParameterHandlers(parameters) });
    client = new SSMClient(localClientConfig(ssm.endpoint));
  });
  afterAll(async () => {
    client?.destroy();
    await ssm?.close();
  });
  beforeEach(() => {
    parameters.clear();
    ssm.calls.length = 0;
  });

  const stored = () => JSON.parse(parameters.get(NAME)!.value) as Record<string, unknown>;
  const seed = (value: string) =>
    parameters.set(NAME, {
      name: NAME,
      type: 'String',
      value,
      version: 1,
      tier: 'Standard',
      dataType: 'text',
      lastModifiedMs: Date.now(),
    });

  it('writes the tripped scopes, version, time and trips as a String parameter a signer can read', async () => {
    seed(DEPLOYED_VALUE);
    const s = state(7, {
      'chain:ethereum': trip({ kind: 'chain', chain: 'ethereum' }, 'eth-usd-10m'),
      global: trip({ kind: 'global' }, 'global-usd-1h'),
    });
    await new SsmKillSwitchMirror({ client, parameterName: NAME }).mirror(s);

    expect(stored()).toEqual({
      halted: true,
      scopes: ['global', 'chain:ethereum'],
      version: 7,
      updatedAt: '2026-11-05T10:00:07.000Z',
      trips: [
        { scope: 'global', tripId: 'trip-global-usd-1h', ruleId: 'global-usd-1h' },
        { scope: 'chain:ethereum', tripId: 'trip-eth-usd-10m', ruleId: 'eth-usd-10m' },
      ],
    });
    const [put] = ssm.callsTo(PUT);
    expect(put?.body).toMatchObject({ Name: NAME, Type: 'String', Overwrite: true });
    expect(isHaltedFromParameter(parameters.get(NAME)!.value, 'bitcoin')).toMatchObject({
      halted: true,
      scope: 'global',
      ruleId: 'global-usd-1h',
    });
  });

  it('writes an armed state after a reset, and the signer sees it armed', async () => {
    const mirror = new SsmKillSwitchMirror({ client, parameterName: NAME });
    await mirror.mirror(haltedChain(3));
    await mirror.mirror(armed(4));

    expect(stored()).toMatchObject({ halted: false, scopes: [], version: 4, trips: [] });
    expect(isHaltedFromParameter(parameters.get(NAME)!.value, 'ethereum')).toEqual({ halted: false, version: 4 });
  });

  it('makes no request at all when the same version is mirrored again', async () => {
    const mirror = new SsmKillSwitchMirror({ client, parameterName: NAME });
    await mirror.mirror(haltedGlobal(5));
    const callsAfterFirst = ssm.calls.length;
    await mirror.mirror(haltedGlobal(5));
    await mirror.mirror(haltedGlobal(5));

    expect(ssm.callsTo(PUT)).toHaveLength(1);
    expect(ssm.calls).toHaveLength(callsAfterFirst);
    expect(parameters.get(NAME)!.version).toBe(1);
  });

  it('learns the mirrored version from the parameter the first time, and does not rewrite it', async () => {
    seed(encodeKillSwitchValue(haltedGlobal(9)));
    const mirror = new SsmKillSwitchMirror({ client, parameterName: NAME });
    await mirror.mirror(haltedGlobal(9));
    await mirror.mirror(haltedGlobal(9));

    expect(ssm.callsTo(GET)).toHaveLength(1);
    expect(ssm.callsTo(PUT)).toHaveLength(0);
  });

  it('an older release never undoes a newer halt another function mirrored', async () => {
    const poller = new SsmKillSwitchMirror({ client, parameterName: NAME });
    const tripFn = new SsmKillSwitchMirror({ client, parameterName: NAME });
    await poller.mirror(haltedChain(5));
    // Another function commits and mirrors a global trip (v7) while this poller still holds v6 (armed).
    await tripFn.mirror(haltedGlobal(7));
    await poller.mirror(armed(6));

    expect(stored()).toMatchObject({ version: 7, halted: true, scopes: ['global'] });
    expect(ssm.callsTo(PUT)).toHaveLength(2);
  });

  it('an older halt is written over a newer armed value: a halt is never skipped for its version', async () => {
    const poller = new SsmKillSwitchMirror({ client, parameterName: NAME });
    const resetFn = new SsmKillSwitchMirror({ client, parameterName: NAME });
    await resetFn.mirror(armed(7));
    await poller.mirror(haltedGlobal(6));

    // Halted until the self-check reads it back against the state (v7, armed) and repairs it.
    expect(stored()).toMatchObject({ version: 6, halted: true, scopes: ['global'] });
    expect(await resetFn.readBack()).toMatchObject({ readable: true, engaged: true, scopes: ['global'], version: 6 });
    await resetFn.mirror(armed(7), { repair: true });
    expect(stored()).toMatchObject({ version: 7, halted: false });
  });

  it('a forged value with a huge version does not freeze the parameter: the next trip is written (review §4b)', async () => {
    seed(JSON.stringify({ halted: false, scopes: [], version: 1_000_000, updatedAt: null, trips: [] }));
    await new SsmKillSwitchMirror({ client, parameterName: NAME }).mirror(haltedGlobal(7));

    expect(ssm.callsTo(PUT)).toHaveLength(1);
    expect(stored()).toMatchObject({ halted: true, scopes: ['global'], version: 7 });
    expect(isHaltedFromParameter(parameters.get(NAME)!.value, 'ethereum')).toMatchObject({ halted: true });
  });

  it('a state version that dropped (item deleted or restored) still reaches the parameter when it halts', async () => {
    const mirror = new SsmKillSwitchMirror({ client, parameterName: NAME });
    await mirror.mirror(armed(40));
    await mirror.mirror(haltedChain(1, 'bitcoin'));

    expect(stored()).toMatchObject({ halted: true, scopes: ['chain:bitcoin'], version: 1 });
  });

  it('a value from another epoch is replaced whatever its version: versions compare within one epoch only', async () => {
    seed(encodeKillSwitchValue({ ...haltedGlobal(90), epoch: 'epoch-old' }));
    await new SsmKillSwitchMirror({ client, parameterName: NAME }).mirror({
      ...armed(2),
      epoch: 'epoch-new',
    } as BreakerState);

    expect(stored()).toMatchObject({ halted: false, version: 2, epoch: 'epoch-new' });
  });

  it('readBack reports what signers see, and a missing or malformed parameter as unreadable', async () => {
    const mirror = new SsmKillSwitchMirror({ client, parameterName: NAME });
    expect(await mirror.readBack()).toMatchObject({ readable: false, problem: expect.stringContaining('not found') });
    seed('{"halted":true}');
    expect(await mirror.readBack()).toMatchObject({ readable: false, problem: expect.stringContaining('malformed') });
    seed(encodeKillSwitchValue(haltedChain(3)));
    expect(await mirror.readBack()).toEqual({
      readable: true,
      engaged: true,
      scopes: ['chain:ethereum'],
      version: 3,
      detail: 'halted chain:ethereum at version 3',
    });
  });

  it('creates the parameter when it is missing at the first read', async () => {
    await new SsmKillSwitchMirror({ client, parameterName: NAME }).mirror(haltedChain(1, 'bitcoin'));

    expect(ssm.callsTo(GET)[0]?.status).toBe(400);
    expect(stored()).toMatchObject({ halted: true, scopes: ['chain:bitcoin'], version: 1 });
  });

  it('repairs a parameter whose value is not a kill switch value', async () => {
    seed('edited by hand');
    await new SsmKillSwitchMirror({ client, parameterName: NAME }).mirror(haltedGlobal(2));

    expect(stored()).toMatchObject({ halted: true, version: 2 });
  });

  it('a failed PutParameter is PUBLISH_FAILED naming the parameter, with the SDK error as cause; a retry writes', async () => {
    const mirror = new SsmKillSwitchMirror({ client, parameterName: NAME });
    ssm.failNext(PUT, 1);
    const error = await mirror.mirror(haltedGlobal(3)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PublishError);
    expect(isBreakerError(error, 'PUBLISH_FAILED')).toBe(true);
    expect((error as Error).message).toContain(NAME);
    expect((error as Error).message).toContain('version 3');
    expect((error as Error).cause).toMatchObject({ name: 'InternalFailure', $metadata: { httpStatusCode: 500 } });
    expect(parameters.has(NAME)).toBe(false);

    // Not remembered as written: the next call (the next poll) tries again.
    await mirror.mirror(haltedGlobal(3));
    expect(stored()).toMatchObject({ halted: true, version: 3 });
  });

  it('a failed read (throttled) is PUBLISH_FAILED too, and nothing is written blind', async () => {
    ssm.failNext(GET, 1, new AwsJsonError('ThrottlingException', 'Rate exceeded'));
    const error = await new SsmKillSwitchMirror({ client, parameterName: NAME })
      .mirror(haltedGlobal(3))
      .catch((e: unknown) => e);

    expect(isBreakerError(error, 'PUBLISH_FAILED')).toBe(true);
    expect((error as Error).message).toMatch(/ThrottlingException: Rate exceeded/);
    expect(ssm.callsTo(PUT)).toHaveLength(0);
  });

  it('a dropped connection is PUBLISH_FAILED', async () => {
    ssm.failNext(GET, 1, 'reset');
    const error = await new SsmKillSwitchMirror({ client, parameterName: NAME })
      .mirror(haltedGlobal(3))
      .catch((e: unknown) => e);

    expect(isBreakerError(error, 'PUBLISH_FAILED')).toBe(true);
    expect((error as Error).message).toContain(NAME);
  });

  it('an unreachable endpoint is PUBLISH_FAILED naming the parameter', async () => {
    const dead = await startLocalAwsJson({ handlers: ssmParameterHandlers() });
    await dead.close();
    const deadClient = new SSMClient(localClientConfig(dead.endpoint));
    const error = await new SsmKillSwitchMirror({ client: deadClient, parameterName: NAME })
      .mirror(haltedGlobal(1))
      .catch((e: unknown) => e);
    deadClient.destroy();

    expect(isBreakerError(error, 'PUBLISH_FAILED')).toBe(true);
    expect((error as Error).message).toContain(NAME);
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('keeps every halted scope when the trips would not fit in a standard parameter', async () => {
    const tripped: Record<string, TripInfo> = {};
    for (let i = 0; i < 40; i++) {
      const chain = `chain-${String(i).padStart(2, '0')}`;
      tripped[`chain:${chain}`] = { ...trip({ kind: 'chain', chain }, `${chain}-${'r'.repeat(60)}`) };
    }
    await new SsmKillSwitchMirror({ client, parameterName: NAME }).mirror(state(4, tripped));

    const value = parameters.get(NAME)!.value;
    expect(value.length).toBeLessThanOrEqual(KILL_SWITCH_MAX_VALUE_BYTES);
    expect(stored()).toMatchObject({ halted: true, version: 4, trips: [], tripsOmitted: 40 });
    expect(isHaltedFromParameter(value, 'chain-17')).toMatchObject({ halted: true, scope: 'chain:chain-17' });
    expect(isHaltedFromParameter(value, 'ethereum')).toEqual({ halted: false, version: 4 });
  });

  it('rejects a parameter name SSM would refuse', () => {
    expect(() => new SsmKillSwitchMirror({ client, parameterName: 'has spaces' })).toThrow(/parameterName/);
  });
});

describe('reading the kill switch parameter (signer side)', () => {
  const parameters = new Map<string, StoredParameter>();
  let ssm: LocalAwsJson;
  let client: SSMClient;

  beforeAll(async () => {
    ssm = await startLocalAwsJson({ handlers: ssmParameterHandlers(parameters) });
    client = new SSMClient(localClientConfig(ssm.endpoint));
  });
  afterAll(async () => {
    client?.destroy();
    await ssm?.close();
  });
  beforeEach(async () => {
    parameters.clear();
  });

  async function mirrored(s: BreakerState): Promise<void> {
    await client.send(new DeleteParameterCommand({ Name: NAME })).catch(() => undefined);
    await new SsmKillSwitchMirror({ client, parameterName: NAME }).mirror(s);
  }

  it('global halt: every chain is halted, with the trip named', async () => {
    await mirrored(haltedGlobal(3));
    const value = await readKillSwitchParameter(client, NAME);

    expect(value).toMatchObject({ halted: true, scopes: ['global'], version: 3 });
    for (const chain of ['ethereum', 'bitcoin']) {
      expect(isHaltedFromParameter(value, chain)).toEqual({
        halted: true,
        reason: 'breaker tripped: global-usd-1h (trip-global-usd-1h)',
        failedClosed: false,
        scope: 'global',
        tripId: 'trip-global-usd-1h',
        ruleId: 'global-usd-1h',
        version: 3,
      });
    }
  });

  it('chain halt: that chain is halted, the others may sign', async () => {
    await mirrored(haltedChain(4, 'ethereum'));
    const value = await readKillSwitchParameter(client, NAME);

    expect(isHaltedFromParameter(value, 'ethereum')).toMatchObject({
      halted: true,
      failedClosed: false,
      scope: 'chain:ethereum',
    });
    expect(isHaltedFromParameter(value, 'bitcoin')).toEqual({ halted: false, version: 4 });
    expect(await checkKillSwitchParameter(client, NAME, 'ethereum')).toMatchObject({ halted: true });
    expect(await checkKillSwitchParameter(client, NAME, 'bitcoin')).toEqual({ halted: false, version: 4 });
  });

  it('armed, including the value the parameter is deployed with', async () => {
    await mirrored(armed(2));
    expect(isHaltedFromParameter(await readKillSwitchParameter(client, NAME), 'ethereum')).toEqual({
      halted: false,
      version: 2,
    });
    expect(isHaltedFromParameter(DEPLOYED_VALUE, 'ethereum')).toEqual({ halted: false, version: 0 });
  });

  it('missing parameter: readKillSwitchParameter throws, and the signer is halted', async () => {
    const error = await readKillSwitchParameter(client, NAME).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KillSwitchParameterError);
    expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE', reason: 'missing', parameterName: NAME });
    expect((error as Error).message).toContain(NAME);

    expect(isHaltedFromParameter(undefined, 'ethereum')).toEqual({
      halted: true,
      reason: 'kill switch parameter is missing',
      failedClosed: true,
    });
    expect(await checkKillSwitchParameter(client, NAME, 'ethereum')).toMatchObject({
      halted: true,
      failedClosed: true,
    });
  });

  it('unreadable parameter (SSM failing): the signer is halted', async () => {
    await mirrored(armed(2));
    ssm.failNext(GET, 1);
    const error = await readKillSwitchParameter(client, NAME).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'unreadable', code: 'STORE_UNAVAILABLE' });

    ssm.failNext(GET, 1, 'reset');
    expect(await checkKillSwitchParameter(client, NAME, 'ethereum')).toMatchObject({
      halted: true,
      failedClosed: true,
    });
  });

  const malformed: [string, string, RegExp][] = [
    ['not JSON', 'halted', /not JSON/],
    ['empty object', '{}', /halted: expected true or false/],
    ['halted as a string', '{"halted":"false","scopes":[],"version":1,"updatedAt":null}', /halted/],
    [
      'halted flag disagrees with scopes',
      '{"halted":false,"scopes":["global"],"version":1,"updatedAt":null}',
      /halted: is false but scopes has 1/,
    ],
    [
      'unknown scope form',
      '{"halted":true,"scopes":["ethereum"],"version":1,"updatedAt":null}',
      /scopes\.0: not a halt scope/,
    ],
    ['negative version', '{"halted":false,"scopes":[],"version":-1,"updatedAt":null}', /version/],
    ['bad time', '{"halted":false,"scopes":[],"version":1,"updatedAt":"yesterday"}', /updatedAt/],
    [
      'trip outside scopes',
      '{"halted":true,"scopes":["global"],"version":1,"updatedAt":null,"trips":[{"scope":"chain:x","tripId":"t","ruleId":"r"}]}',
      /trips\.0\.scope/,
    ],
    ['JSON array', '[]', /expected a JSON object/],
  ];

  it.each(malformed)('malformed (%s): parse names the problem, the signer is halted', async (_label, raw, problem) => {
    expect(() => parseKillSwitchValue(raw, NAME)).toThrow(problem);
    const decision = isHaltedFromParameter(raw, 'ethereum');
    expect(decision).toMatchObject({ halted: true, failedClosed: true });
    expect(decision.halted && decision.reason).toMatch(problem);
  });

  it('a malformed stored value: readKillSwitchParameter throws naming the parameter; check halts', async () => {
    parameters.set(NAME, {
      name: NAME,
      type: 'String',
      value: '{"halted":false}',
      version: 1,
      tier: 'Standard',
      dataType: 'text',
      lastModifiedMs: Date.now(),
    });
    const error = await readKillSwitchParameter(client, NAME).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'malformed', code: 'STORE_UNAVAILABLE' });
    expect((error as Error).message).toMatch(new RegExp(`kill switch parameter "${NAME}": malformed value: scopes`));
    expect(await checkKillSwitchParameter(client, NAME, 'ethereum')).toMatchObject({
      halted: true,
      failedClosed: true,
    });
  });

  it('no chain given: halted', () => {
    expect(isHaltedFromParameter(DEPLOYED_VALUE, '')).toMatchObject({ halted: true, failedClosed: true });
  });
});
