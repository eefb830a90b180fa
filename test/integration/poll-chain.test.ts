import { parseUnits } from 'ethers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKillSwitch } from '../../functions/guard/kill-switch.ts';
import { customer, type Harness, startHarness, USD } from './harness.ts';

describe('poll → ledger, exactly once (anvil + dynalite + EVM reader)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.stop();
  });

  it('records native and ERC-20 outflows once, own-wallet sweeps as own, unknown tokens as UNKNOWN', async () => {
    const a = customer();
    const b = customer();
    await h.hot.sendTransaction({ to: a, value: parseUnits('1.5', 18) });
    await h.usdt.connect(h.hot).getFunction('transfer')(b, parseUnits('2500', 6));
    await h.unknownToken.connect(h.hot).getFunction('transfer')(b, parseUnits('7', 18));
    await h.hot.sendTransaction({ to: h.cold, value: parseUnits('100', 18) });
    // Noise: another account paying the hot wallet, and someone else's transfer.
    await h.anvil.accounts[5]!.sendTransaction({ to: h.hot.address, value: parseUnits('3', 18) });
    await h.anvil.accounts[6]!.sendTransaction({ to: a, value: parseUnits('3', 18) });
    await h.anvil.mine(1);

    const results = await h.catchUp();
    expect(results.filter((r) => r.kind === 'advanced')).toHaveLength(1);
    // A retried invocation and a second poller see nothing new: no duplicate.
    expect((await h.poll('poller-a')).kind).toBe('idle');
    expect((await h.poll('poller-b')).kind).toBe('idle');

    const out = await h.outflows();
    const summary = out.map((r) => `${r.asset}:${r.amount}:${r.own}:${r.to.toLowerCase()}`).sort();
    expect(summary).toEqual(
      [
        `ETH:${parseUnits('1.5', 18)}:false:${a.toLowerCase()}`,
        `ETH:${parseUnits('100', 18)}:true:${h.cold.toLowerCase()}`,
        `UNKNOWN:${parseUnits('7', 18)}:false:${b.toLowerCase()}`,
        `USDT:${parseUnits('2500', 6)}:false:${b.toLowerCase()}`,
      ].sort(),
    );
    const eth = out.find((r) => r.asset === 'ETH' && !r.own)!;
    expect(eth.usdMicros).toBe(3000n * USD);
    expect(out.find((r) => r.asset === 'UNKNOWN')!.usdMicros).toBe(100n * USD);
  });

  it('two pollers of the same chain at once record every outflow exactly once', async () => {
    const expected: string[] = [];
    for (let block = 0; block < 12; block++) {
      for (let i = 0; i < 3; i++) {
        const tx = await h.usdt.connect(h.hot).getFunction('transfer')(
          customer(),
          parseUnits(String(100 + block * 3 + i), 6),
        );
        expected.push(tx.hash as string);
      }
      await h.anvil.mine(1);
    }
    await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        for (let k = 0; k < 10; k++) await h.poll(`poller-${i}`);
      }),
    );
    await h.catchUp('poller-c');
    const out = await h.outflows();
    expect(out.map((r) => r.txHash).sort()).toEqual(expected.sort());
    expect(new Set(out.map((r) => r.id)).size).toBe(out.length);
  });

  it('a reorg removes orphaned outflows and records the canonical ones', async () => {
    const snapshot = await h.anvil.snapshot();
    const orphanTo = customer();
    await h.hot.sendTransaction({ to: orphanTo, value: parseUnits('5', 18) });
    await h.anvil.mine(1);
    await h.catchUp();
    expect((await h.outflows()).map((r) => r.to.toLowerCase())).toEqual([orphanTo.toLowerCase()]);

    await h.anvil.revert(snapshot);
    const canonicalTo = customer();
    await h.hot.sendTransaction({ to: canonicalTo, value: parseUnits('2', 18) });
    await h.anvil.mine(3);
    const results = await h.catchUp();
    expect(results.some((r) => r.kind === 'reorg')).toBe(true);
    const out = await h.outflows();
    expect(out.map((r) => `${r.to.toLowerCase()}:${r.amount}`)).toEqual([
      `${canonicalTo.toLowerCase()}:${parseUnits('2', 18)}`,
    ]);
    const audit = await h.store.listAudit(10);
    expect(audit.some((a) => a.action === 'reorg')).toBe(true);
  });
});

describe('trip, warn and reset', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ globalUsd10m: 10_000 });
  });
  afterEach(async () => {
    await h.stop();
  });

  const sendUsdt = async (usd: number) => {
    await h.usdt.connect(h.hot).getFunction('transfer')(customer(), parseUnits(String(usd), 6));
    await h.anvil.mine(1);
  };

  it('trips once: the kill switch reads halted and exactly one trip page is sent', async () => {
    const killSwitch = createKillSwitch(h.store);
    await sendUsdt(6000);
    await h.catchUp();
    expect(await killSwitch.isHalted({ chain: 'devnet' })).toEqual({ halted: false });
    await sendUsdt(6000);
    await h.catchUp();
    const decision = await killSwitch.isHalted({ chain: 'devnet', asset: 'USDT' });
    expect(decision.halted).toBe(true);
    // More outflows while tripped: no second trip page.
    await sendUsdt(7000);
    await h.catchUp();
    const trips = h.publisher.ofKind('trip');
    expect(trips).toHaveLength(1);
    expect(trips[0]!.text).toContain('global-usd-10m');
    expect(trips[0]!.text).toContain('$12,000.00');
    expect(trips[0]!.text).toContain('https://explorer.invalid/tx/0x');
    expect(trips[0]!.text).toContain('breaker reset');
    const audit = await h.store.listAudit(10);
    expect(audit.filter((a) => a.action === 'trip')).toHaveLength(1);
    expect((await h.store.getState()).outbox).toEqual([]);
  });

  it('warns at the warn ratio once per window, then trips', async () => {
    await sendUsdt(8500);
    await h.catchUp();
    await sendUsdt(100);
    await h.catchUp();
    expect(h.publisher.ofKind('warn')).toHaveLength(1);
    expect(h.publisher.ofKind('trip')).toHaveLength(0);
    await sendUsdt(2000);
    await h.catchUp();
    expect(h.publisher.ofKind('trip')).toHaveLength(1);
  });

  it('reset needs a reason, re-arms without re-tripping on reviewed outflows, and never loosens limits', async () => {
    const { resetBreakerUseCase } = await import('../../functions/core/use-cases/reset-breaker.ts');
    const deps = { config: h.config, store: h.store, publisher: h.publisher, clock: h.clock };
    await sendUsdt(11_000);
    await h.catchUp();
    expect(h.publisher.ofKind('trip')).toHaveLength(1);

    await expect(resetBreakerUseCase(deps, { reason: 'ok', actor: 'alice' })).rejects.toThrow(/reason/);
    await resetBreakerUseCase(deps, { reason: 'reviewed: test drain, keys fine', actor: 'arn:aws:iam::1:user/alice' });
    expect(Object.keys((await h.store.getState()).tripped)).toEqual([]);
    const audit = await h.store.listAudit(10);
    const reset = audit.find((a) => a.action === 'reset')!;
    expect(reset.actor).toBe('arn:aws:iam::1:user/alice');
    expect(reset.reason).toBe('reviewed: test drain, keys fine');

    // Reviewed outflows no longer count: polling and a small new outflow do not re-trip.
    await sendUsdt(500);
    await h.catchUp();
    expect(h.publisher.ofKind('trip')).toHaveLength(1);
    // The limit itself is unchanged: a new breach trips again.
    await sendUsdt(10_000);
    await h.catchUp();
    expect(h.publisher.ofKind('trip')).toHaveLength(2);
    expect(h.config.rules.find((r) => r.id === 'global-usd-10m')!.limit).toBe(10_000n * USD);
  });
});
