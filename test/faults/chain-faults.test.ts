/**
 * Fault matrix, chain and downtime: a reorg deeper than the confirmations (anvil snapshot/revert)
 * and a breaker that was not running for 300 blocks. Each test: zero missed, zero double-counted
 * outflows against the chain, and the breach trips the breaker.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runFault } from './scenario.ts';
import { startWorld, type World } from './world.ts';

let w: World | undefined;
afterEach(async () => {
  await w?.stop();
  w = undefined;
});

const name = () => expect.getState().currentTestName ?? 'unnamed';

describe('chain faults', () => {
  it('a reorg deeper than the confirmations', async () => {
    w = await startWorld({ confirmations: 2 });
    let orphaned = 0;
    await runFault(w, name(), {
      row: {
        component: 'chain',
        fault: 'reorg 8 blocks deep with confirmations: 2 (anvil snapshot/revert), transfers on both branches',
        expected: "orphaned blocks' outflows removed, the canonical branch's recorded; reorg audited",
      },
      on: async (w) => {
        const snapshot = await w.snapshot();
        await w.traffic(8);
        await w.settle();
        orphaned = (await w.ledger()).length;
        await w.revert(snapshot);
      },
      blocks: 14,
      noProxyFault: true,
    });
    const reorgs = (await w.direct.listAudit(50)).filter((a) => a.action === 'reorg');
    expect(reorgs.length).toBeGreaterThanOrEqual(1);
    expect(reorgs.reduce((n, a) => n + Number(a.details.removedOutflows), 0)).toBeGreaterThan(0);
    expect(orphaned).toBeGreaterThan(0);
  });

  it('catching up after 300 blocks of downtime skips nothing', async () => {
    w = await startWorld({ maxBlocksPerPoll: 25 });
    const o = await runFault(w, name(), {
      row: {
        component: 'process',
        fault: 'no poller ran for 300 blocks (≈ 5 min) of traffic',
        expected: 'on restart every block is read in order, nothing skipped; the gap is paged as blind, then recovered',
      },
      on: () => {},
      pollers: 0,
      blocks: 300,
      noProxyFault: true,
      // Issue 20: at load 15 the catch-up itself took longer than half the 30 s blind limit, so the
      // newest block it reached was already too old to count as observed and no recovery was paged.
      slowRecoverySeconds: 20,
    });
    expect(o.counts.outflows).toBeGreaterThan(1200);
    expect(o.blindPages).toBe(1);
    expect(o.recoveredPages).toBe(1);
    // 300 blocks of traffic: 20 s idle, 60 s at load 20 on 2 cores (issue 20's soak); bounded work, so a
    // longer limit only costs time when something really hangs.
  }, 180_000);
});
