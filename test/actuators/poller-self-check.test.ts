/**
 * The poll loop reads every kill-switch layer back on each caught-up poll: a layer someone re-armed
 * by hand while the breaker is halted is rewritten and paged within one poll interval, by the same
 * runPoller every runtime uses. Real SDK client against the local SSM endpoint; the chain is a
 * scripted idle chain (no node is needed: nothing happens on it).
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InMemoryActuatorMemory } from '../../functions/adapters/actuators/memo.ts';
import { SsmParameterActuator } from '../../functions/adapters/actuators/ssm-parameter-actuator.ts';
import { MemoryBreakerStore } from '../../functions/adapters/memory/memory-breaker-store.ts';
import { SsmKillSwitchMirror } from '../../functions/adapters/ssm/ssm-kill-switch-mirror.ts';
import { KillSwitchActuators } from '../../functions/core/actuators/kill-switch-actuators.ts';
import type { ChainReader } from '../../functions/core/chain-kind.ts';
import type { BlockRef, RangeRead } from '../../functions/core/model.ts';
import { runPoller } from '../../functions/core/use-cases/run-poller.ts';
import { parseKillSwitchValue } from '../../functions/kill-switch-protocol/index.ts';
import { compile } from '../support/fixtures.ts';
import { initialiseForTest } from '../support/initialise.ts';
import {
  type LocalAwsJson,
  localClientConfig,
  type StoredParameter,
  ssmParameterHandlers,
  startLocalAwsJson,
} from '../support/local-aws-json.ts';
import { haltedGlobal, RecordingPublisher } from './support.ts';

const PARAMETER = '/hot-wallet-breaker/test/kill-switch';
const HEAD = 100;
const ref = (n: number): BlockRef => ({
  number: n,
  hash: `0x${n.toString(16).padStart(64, '0')}`,
  parentHash: `0x${(n - 1).toString(16).padStart(64, '0')}`,
  time: 1_700_000_000 + n * 12,
});

class IdleChain implements ChainReader {
  readonly chain = 'ethereum';
  async head() {
    return HEAD;
  }
  async readRange(from: number, to: number): Promise<RangeRead> {
    const blocks: BlockRef[] = [];
    for (let n = from; n <= to; n++) blocks.push(ref(n));
    return { blocks, transfers: [] };
  }
  async blockRefs(numbers: number[]) {
    return numbers.map(ref);
  }
}

describe('runPoller self-checks the kill-switch layers every poll', () => {
  const parameters = new Map<string, StoredParameter>();
  let aws: LocalAwsJson;
  let client: SSMClient;

  beforeEach(async () => {
    parameters.clear();
    aws = await startLocalAwsJson({ handlers: ssmParameterHandlers(parameters) });
    client = new SSMClient(localClientConfig(aws.endpoint));
  });
  afterEach(async () => {
    client.destroy();
    await aws.close();
  });

  /** The initialised state, tripped globally by the next version. */
  async function haltOnTop(store: MemoryBreakerStore) {
    const current = await store.getState();
    const tripped = { ...current, ...haltedGlobal(current.version + 1), outbox: [] };
    await store.saveState(tripped, current.version);
    return tripped;
  }

  function parts(store: MemoryBreakerStore) {
    const config = compile();
    const chain = { ...config.chains.get('ethereum')!, startBlock: HEAD - 2, confirmations: 2 };
    const publisher = new RecordingPublisher();
    const clock = { now: () => Date.UTC(2026, 10, 5, 12) };
    const mirror = new KillSwitchActuators({
      deploymentName: 'test',
      actuators: [new SsmParameterActuator(new SsmKillSwitchMirror({ client, parameterName: PARAMETER }))],
      audit: store,
      publisher,
      clock,
      memory: new InMemoryActuatorMemory(),
      everyFlush: new Set(['ssm-parameter']),
    });
    return { config, chain, publisher, mirror };
  }

  async function runFor(store: MemoryBreakerStore, p: ReturnType<typeof parts>, sleep: () => void = () => {}) {
    let now = Date.UTC(2026, 10, 5, 12);
    await runPoller(
      { ...p, reader: new IdleChain(), store, clock: { now: () => now }, owner: 'p' },
      {
        deadlineMs: now + 60_000,
        intervalMs: 10_000,
        sleep: async (ms) => {
          sleep();
          now += ms;
        },
      },
    );
  }

  it('a halt held only by a trip record (the state item rewritten "armed") stays on every layer', async () => {
    const store = new MemoryBreakerStore();
    await initialiseForTest(store);
    const tripped = await haltOnTop(store);
    await store.recordTrips(Object.values(tripped.tripped));
    // A compromised poller rewrites the state item without the trip: the record still halts.
    await store.saveState({ ...tripped, tripped: {}, version: tripped.version + 1 }, tripped.version);
    const p = parts(store);
    await runFor(store, p);

    expect(parseKillSwitchValue(parameters.get(PARAMETER)!.value)).toMatchObject({ halted: true, scopes: ['global'] });
    expect(p.publisher.ofKind('actuator-failure')).toEqual([]);
  });

  it('an absent state item (deleted) never makes the self-check release a layer', async () => {
    const store = new MemoryBreakerStore();
    const p = parts(store);
    parameters.set(PARAMETER, {
      name: PARAMETER,
      type: 'String',
      value: JSON.stringify({ halted: true, scopes: ['global'], version: 9, updatedAt: null, trips: [] }),
      version: 1,
      tier: 'Standard',
      dataType: 'text',
      lastModifiedMs: 0,
    });
    expect(await p.mirror.verify(() => store.getState())).toEqual([]);
    expect(parseKillSwitchValue(parameters.get(PARAMETER)!.value)).toMatchObject({ halted: true, version: 9 });
  });

  it('a parameter forged to "armed" while halted is rewritten and paged at the next poll', async () => {
    const config = compile();
    const chain = { ...config.chains.get('ethereum')!, startBlock: HEAD - 2, confirmations: 2 };
    const store = new MemoryBreakerStore();
    await initialiseForTest(store);
    await haltOnTop(store);
    const publisher = new RecordingPublisher();
    let now = 1_700_000_000_000;
    const clock = { now: () => now };
    const mirror = new KillSwitchActuators({
      deploymentName: 'test',
      actuators: [new SsmParameterActuator(new SsmKillSwitchMirror({ client, parameterName: PARAMETER }))],
      audit: store,
      publisher,
      clock,
      memory: new InMemoryActuatorMemory(),
      everyFlush: new Set(['ssm-parameter']),
    });
    const forged = JSON.stringify({ halted: false, scopes: [], version: 1_000_000, updatedAt: null, trips: [] });
    let sleeps = 0;
    const seen: boolean[] = [];

    await runPoller(
      { config, chain, reader: new IdleChain(), store, publisher, clock, owner: 'p', mirror },
      {
        deadlineMs: now + 60_000,
        intervalMs: 10_000,
        sleep: async (ms) => {
          seen.push(parseKillSwitchValue(parameters.get(PARAMETER)!.value).halted);
          // After the first poll, someone with ssm:PutParameter re-arms the signers' parameter.
          if (sleeps++ === 0) parameters.get(PARAMETER)!.value = forged;
          now += ms;
        },
      },
    );

    expect(seen.length).toBeGreaterThan(2);
    expect(seen.every((halted) => halted)).toBe(true); // at every sleep the parameter halts again
    expect(parseKillSwitchValue(parameters.get(PARAMETER)!.value)).toMatchObject({ halted: true, scopes: ['global'] });
    const pages = publisher.ofKind('actuator-failure');
    expect(pages).toHaveLength(1);
    expect(pages[0]!.text).toContain('does not stop signing, but the breaker state halts global');
  });
});
