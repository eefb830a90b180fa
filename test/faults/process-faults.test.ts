/**
 * Fault matrix, pollers: several pollers of one chain at once (overlapping Lambda runs), a crash
 * between any two writes, and blindness under Lambda (short invocations that share only the table)
 * and under the local runtime (one long-running poller).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pollOnce } from '../../functions/core/use-cases/poll-chain.ts';
import { createKillSwitch } from '../../functions/guard/kill-switch.ts';
import { dynamoFaults, everyNth, FORWARD, isDynamoWrite, rpcFaults } from '../support/fault-proxy.ts';
import { expectExact, runFault } from './scenario.ts';
import { CHAIN, recordRow, startWorld, type World } from './world.ts';

let w: World | undefined;
afterEach(async () => {
  await w?.stop();
  w = undefined;
});

const name = () => expect.getState().currentTestName ?? 'unnamed';

describe('pollers', () => {
  it('three pollers of one chain at once, over a flaky endpoint', async () => {
    w = await startWorld({ endpoints: 2 });
    await runFault(w, name(), {
      row: {
        component: 'process',
        fault: 'three pollers at once (overlapping invocations) with HTTP 502 on every 4th RPC request',
        expected: 'leases and conditional writes: each outflow recorded once, one trip page',
      },
      on: (w) => {
        for (const p of w.rpc) p.set(everyNth(4, rpcFaults.status(502)));
      },
      pollers: 3,
      blocks: 16,
    });
  });

  it('a crash between any two writes: at every write of a tripping poll', async () => {
    w = await startWorld();
    const world = w;
    await world.traffic(2);
    await world.settle();
    const deps = (owner: string) => ({
      config: world.config,
      chain: world.chain,
      reader: world.reader,
      store: world.store,
      publisher: world.publisher,
      clock: world.clock,
      owner,
      leaseMs: 1_000,
    });

    // How many writes one poll that records outflows and trips makes.
    let writes = 0;
    world.db.set((req) => {
      if (isDynamoWrite(req)) writes++;
      return FORWARD;
    });
    await world.traffic(2, { breachAt: 0 });
    const first = await pollOnce(deps('counting'));
    expect(first.result.kind).toBe('advanced');
    world.db.set(undefined);
    expect(writes).toBeGreaterThanOrEqual(5);
    await world.reset();

    const crashes: string[] = [];
    for (let n = 1; n <= writes; n++) {
      await world.traffic(2, { breachAt: 0 });
      world.db.set(dynamoFaults.crashAfterWrites(n));
      const crashed = await pollOnce(deps(`crashing-${n}`)).then(
        () => false,
        () => true,
      );
      if (crashed) crashes.push(`after write ${n}`);
      world.db.set(undefined);
      // The process is gone; its lease expires; the next invocation recovers the range.
      await world.advance(2);
      await world.settle();
      expectExact(await world.audit());
      const state = await world.direct.getState();
      expect(state.tripped.global, `crash after write ${n}: the breach must still trip`).toBeDefined();
      expect(state.outbox).toEqual([]);
      expect(new Set(world.pages('trip').map((p) => p.id)).size).toBe(n + 1);
      await world.reset();
    }
    expect(crashes.length).toBe(writes);
    const counts = await world.audit();
    recordRow(
      name(),
      {
        component: 'process',
        fault: `crash between any two writes: killed after each of the ${writes} writes of a tripping poll`,
        expected:
          'the expired lease is recovered (its writes undone and redone): nothing missed or doubled, the breach trips every time',
        observed: `${crashes.length} crash positions; ${counts.outflows} outflows; one trip page per round (${writes + 1})`,
      },
      counts,
    );
    expectExact(counts);
  });
});

describe('blindness', () => {
  it('Lambda: two overlapping pollers, halt-chain — one blind page, the chain halted, one recovered page', async () => {
    w = await startWorld({ blindAction: 'halt-chain' });
    const o = await runFault(w, name(), {
      row: {
        component: 'RPC',
        fault: 'endpoint down past blindAfterSeconds; two overlapping Lambda-style pollers; blindAction: halt-chain',
        expected:
          'one blind page (conditional write), chain halted for the signer, one recovered page; halt stays until reset',
      },
      on: (w) => w.rpc[0]!.set(rpcFaults.status(503)),
      off: async (w) => {
        const decision = await createKillSwitch(w.direct).isHalted({ chain: CHAIN });
        expect(decision.halted).toBe(true);
        w.rpc[0]!.set(undefined);
      },
      pollers: 2,
      blocks: 6,
      blindFor: 40,
    });
    expect(o.blindPages).toBe(1);
    expect(o.recoveredPages).toBe(1);
    const state = await w.direct.getState();
    expect(state.tripped[`chain:${CHAIN}`]?.ruleId).toBe(`blind-${CHAIN}`);
    expect(state.blind?.[CHAIN]).toBeUndefined();
    const audit = await w.direct.listAudit(50);
    expect(audit.filter((a) => a.action === 'blind')).toHaveLength(1);
    expect(audit.filter((a) => a.action === 'blind-recovered')).toHaveLength(1);
  });

  it('local runtime: one long-running poller — one blind page, one recovered page', async () => {
    w = await startWorld();
    const o = await runFault(w, name(), {
      row: {
        component: 'RPC',
        fault: 'endpoint down past blindAfterSeconds; one long-running poller (local runtime)',
        expected: 'one blind page, one recovered page; nothing halted (blindAction: page)',
      },
      on: (w) => w.rpc[0]!.set(rpcFaults.timeout()),
      off: (w) => w.rpc[0]!.set(undefined),
      invocationMs: 3_600_000,
      blocks: 6,
      blindFor: 40,
    });
    expect(o.blindPages).toBe(1);
    expect(o.recoveredPages).toBe(1);
    expect((await w.direct.getState()).tripped[`chain:${CHAIN}`]).toBeUndefined();
  });
});
