/**
 * Tamper rows (issue 11) on the kill switch's outer layers and the poller's inputs, in wall-clock time:
 * the SSM parameter signers read, forged to "armed" with a huge version while the breaker is halted; and
 * an RPC endpoint answering far more than a poller can hold while a drain is under way. Real SSM wire
 * protocol (the local AWS-JSON stand-in), the real runPoller loop and real sleeps; the oversized answer
 * goes through the fault world (anvil, dynalite, fault proxies). Rows go to docs/RELIABILITY.md.
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryActuatorMemory } from '../../functions/adapters/actuators/memo.ts';
import { SsmParameterActuator } from '../../functions/adapters/actuators/ssm-parameter-actuator.ts';
import { MemoryBreakerStore } from '../../functions/adapters/memory/memory-breaker-store.ts';
import { SsmKillSwitchMirror } from '../../functions/adapters/ssm/ssm-kill-switch-mirror.ts';
import { KillSwitchActuators } from '../../functions/core/actuators/kill-switch-actuators.ts';
import type { ChainReader } from '../../functions/core/chain-kind.ts';
import type { BlockRef, RangeRead } from '../../functions/core/model.ts';
import { runPoller } from '../../functions/core/use-cases/run-poller.ts';
import { parseKillSwitchValue } from '../../functions/kill-switch-protocol/index.ts';
import { haltedGlobal, RecordingPublisher } from '../actuators/support.ts';
import { startWorld, type World } from '../faults/world.ts';
import { rpcFaults } from '../support/fault-proxy.ts';
import { compile } from '../support/fixtures.ts';
import { initialiseForTest } from '../support/initialise.ts';
import {
  localClientConfig,
  type StoredParameter,
  ssmParameterHandlers,
  startLocalAwsJson,
} from '../support/local-aws-json.ts';
import { NOTHING_REARMED, recordTamperRow } from './row.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A chain with nothing on it: the poller polls, catches up at once and self-checks the layers. */
class IdleChain implements ChainReader {
  readonly chain = 'ethereum';
  private readonly ref = (n: number): BlockRef => ({
    number: n,
    hash: `0x${n.toString(16).padStart(64, '0')}`,
    parentHash: `0x${(n - 1).toString(16).padStart(64, '0')}`,
    time: Math.floor(Date.now() / 1000),
  });
  async head() {
    return 100;
  }
  async readRange(from: number, to: number): Promise<RangeRead> {
    const blocks: BlockRef[] = [];
    for (let n = from; n <= to; n++) blocks.push(this.ref(n));
    return { blocks, transfers: [] };
  }
  async blockRefs(numbers: number[]) {
    return numbers.map(this.ref);
  }
}

describe('tamper', () => {
  it('the SSM kill-switch parameter is forged "armed" with a huge version while halted', async () => {
    const PARAMETER = '/hot-wallet-breaker/tamper/kill-switch';
    const parameters = new Map<string, StoredParameter>();
    const aws = await startLocalAwsJson({ handlers: ssmParameterHandlers(parameters) });
    const client = new SSMClient(localClientConfig(aws.endpoint));
    cleanups.push(aws.close, async () => client.destroy());
    const store = new MemoryBreakerStore();
    await initialiseForTest(store);
    const current = await store.getState();
    await store.saveState({ ...current, ...haltedGlobal(current.version + 1), outbox: [] }, current.version);
    const config = compile();
    const chain = { ...config.chains.get('ethereum')!, startBlock: 98, confirmations: 2 };
    const publisher = new RecordingPublisher();
    const clock = { now: () => Date.now() };
    const mirror = new KillSwitchActuators({
      deploymentName: 'tamper',
      actuators: [new SsmParameterActuator(new SsmKillSwitchMirror({ client, parameterName: PARAMETER }))],
      audit: store,
      publisher,
      clock,
      memory: new InMemoryActuatorMemory(),
      everyFlush: new Set(['ssm-parameter']),
    });
    const halted = () => parseKillSwitchValue(parameters.get(PARAMETER)!.value).halted;
    const forged = JSON.stringify({ halted: false, scopes: [], version: 1_000_000_000, updatedAt: null, trips: [] });
    let forgedAt: number | undefined;
    let restoredAt: number | undefined;
    const done = new AbortController();

    await runPoller(
      { config, chain, reader: new IdleChain(), store, publisher, clock, owner: 'tamper', mirror },
      {
        deadlineMs: Date.now() + 5000,
        intervalMs: 200,
        sleep: async (ms) => {
          if (forgedAt === undefined) {
            // After the first poll mirrored the halt, someone with ssm:PutParameter re-arms the signers.
            expect(halted()).toBe(true);
            parameters.get(PARAMETER)!.value = forged;
            forgedAt = Date.now();
          } else if (restoredAt === undefined && halted() && publisher.ofKind('actuator-failure').length > 0) {
            restoredAt = Date.now();
            done.abort();
          }
          if (restoredAt === undefined) await delay(ms);
        },
        signal: done.signal,
      },
    );

    expect(forgedAt).toBeDefined();
    expect(restoredAt, 'the forged parameter must be rewritten halted and paged').toBeDefined();
    expect(parseKillSwitchValue(parameters.get(PARAMETER)!.value)).toMatchObject({ halted: true, scopes: ['global'] });
    recordTamperRow({
      attacker: 'anyone with ssm:PutParameter on the kill-switch parameter',
      tamper: 'SSM kill-switch parameter forged "armed" with a version far ahead, while halted',
      control:
        'the mirror converges whatever the stored version; each caught-up poll reads every layer back, rewrites and pages a disagreement',
      outcome: NOTHING_REARMED,
      recoveryMs: (restoredAt as number) - (forgedAt as number),
      observed: `parameter halted again at the next poll (interval 200 ms); actuator-failure pages ${publisher.ofKind('actuator-failure').length}`,
    });
  });

  describe('in the fault world', () => {
    let w: World | undefined;
    afterEach(async () => {
      await w?.stop();
      w = undefined;
    });

    it('an RPC endpoint answers 4 MiB (over the 1 MiB cap) while a drain is under way', async () => {
      const world = await startWorld({ endpoints: 2, rpcMaxResponseBytes: 1024 * 1024 });
      w = world;
      await world.traffic(2);
      await world.settle();
      world.rpc[0]!.set(rpcFaults.oversized(4 * 1024 * 1024));
      const poller = world.keepPolling({ maxMs: 400 });
      const started = Date.now();
      await world.traffic(4, { breachAt: 1, pauseMs: 30 });
      let trippedAt: number | undefined;
      for (const deadline = Date.now() + 15_000; Date.now() < deadline; await delay(20)) {
        if (world.pages('trip').length > 0) {
          trippedAt = Date.now();
          break;
        }
      }
      await poller.stop();
      world.rpc[0]!.set(undefined);
      await world.settle();

      expect(world.rpc[0]!.stats.injected, 'the oversized answer must actually have been sent').toBeGreaterThan(0);
      expect(trippedAt, 'the breach sent while the endpoint answered oversized must trip').toBeDefined();
      expect((await world.direct.getState()).tripped.global).toBeDefined();
      expect(await world.audit()).toMatchObject({ missed: 0, doubleCounted: 0, phantom: 0, wrongAmount: 0 });
      recordTamperRow({
        attacker: 'whoever runs or intercepts an RPC endpoint',
        tamper: 'the preferred of two endpoints answers 4 MiB to every request (memory exhaustion)',
        control:
          'answers are read with a byte cap (rpcMaxResponseBytes); over it the endpoint has failed and the next one answers',
        outcome: NOTHING_REARMED,
        recoveryMs: (trippedAt as number) - started,
        observed: `${world.rpc[0]!.stats.injected} oversized answers refused; the breach mined during them tripped (time from the first breach block to the trip page); nothing missed or double-counted`,
      });
    }, 60_000);
  });
});
