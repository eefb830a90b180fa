import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { applyBreaches } from '../../functions/core/breaker.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import { ConfigError } from '../../functions/core/errors.ts';
import { evaluateRules } from '../../functions/core/evaluate.ts';
import type { OutflowRecord } from '../../functions/core/model.ts';
import type { ApprovedWithdrawal } from '../../functions/core/reconciliation/approved-withdrawal.ts';
import { reconciliationRuleId } from '../../functions/core/reconciliation/config.ts';
import { markUnapprovedOutflows } from '../../functions/core/reconciliation/mark-unapproved.ts';
import { reconcile, withinTolerance } from '../../functions/core/reconciliation/reconcile.ts';
import type { OutflowMarks } from '../../functions/core/rules/breach.ts';
import { IncrementalEvaluator } from '../../functions/core/rules/incremental.ts';
import { initialState } from '../../functions/core/state.ts';
import { ADDR, configInput, outflow, spanOf } from '../support/fixtures.ts';

const SWEEP = '0x5eeb5eeb5eeb5eeb5eeb5eeb5eeb5eeb5eeb5eeb';
const CUSTOMER = '0xc057c057c057c057c057c057c057c057c057c057';
const T = 1_800_000_000;

function compile(reconciliation: Record<string, unknown> = {}, limits?: Record<string, unknown>): BreakerConfig {
  return compileConfig(
    {
      ...configInput(limits as never),
      reconciliation: {
        enabled: true,
        toleranceBps: 10,
        windowSeconds: 600,
        allowedDestinations: { ethereum: [SWEEP] },
        ...reconciliation,
      },
    },
    'test',
  );
}

function approval(overrides: Partial<ApprovedWithdrawal> = {}): ApprovedWithdrawal {
  return {
    withdrawalId: 'w-1',
    chain: 'ethereum',
    asset: 'USDT',
    destination: CUSTOMER,
    amount: 1_000_000_000n, // 1,000 USDT
    approvedAtMs: T * 1000,
    ...overrides,
  };
}

describe('reconcile: matching outflows to approved withdrawals', () => {
  const config = compile();
  const cfg = config.reconciliation;
  const usdt = (units: string, extra: Record<string, unknown> = {}) =>
    outflow(config, { t: T, asset: 'USDT', units, to: CUSTOMER, ...extra });

  const cases: [string, OutflowRecord, ApprovedWithdrawal[], 'approved' | 'unapproved' | 'exempt', string?][] = [
    ['exact amount, same time', usdt('1000'), [approval()], 'approved'],
    ['+10 bps (the tolerance)', usdt('1001'), [approval()], 'approved'],
    ['−10 bps', usdt('999'), [approval()], 'approved'],
    ['+10 bps and one base unit', usdt('1001.000001'), [approval()], 'unapproved', 'by 11 bps, tolerance 10 bps'],
    [
      'approved exactly one window before the block',
      usdt('1000'),
      [approval({ approvedAtMs: (T - 600) * 1000 })],
      'approved',
    ],
    [
      'approved one window and 1 ms before',
      usdt('1000'),
      [approval({ approvedAtMs: (T - 600) * 1000 - 1 })],
      'unapproved',
      'outside the 600 s window',
    ],
    [
      'approved one window after the block (clock skew)',
      usdt('1000'),
      [approval({ approvedAtMs: (T + 600) * 1000 })],
      'approved',
    ],
    [
      'approved one window and 1 ms after',
      usdt('1000'),
      [approval({ approvedAtMs: (T + 600) * 1000 + 1 })],
      'unapproved',
      'after the block',
    ],
    [
      'another destination',
      usdt('1000', { to: ADDR.stranger }),
      [approval()],
      'unapproved',
      'no approved withdrawal of this asset to this destination',
    ],
    [
      'another asset',
      outflow(config, { t: T, asset: 'USDC', units: '1000', to: CUSTOMER }),
      [approval()],
      'unapproved',
    ],
    [
      'the token contract as the approved asset',
      usdt('1000'),
      [approval({ asset: ADDR.ethUsdt.toUpperCase().replace('0X', '0x') })],
      'approved',
    ],
    ['another chain', usdt('1000'), [approval({ chain: 'bsc' })], 'unapproved'],
    [
      'a destination in other case',
      usdt('1000', { to: CUSTOMER.toUpperCase().replace('0X', '0x') }),
      [approval()],
      'approved',
    ],
    ['no approvals at all, 1 base unit', usdt('0.000001'), [], 'unapproved'],
    ['to the cold wallet (own)', usdt('5000', { to: ADDR.cold }), [], 'exempt'],
    ['to another hot wallet (own)', usdt('5000', { to: ADDR.bscHot }), [], 'exempt'],
    ['to a configured sweep destination', usdt('5000', { to: SWEEP }), [], 'exempt'],
  ];
  for (const [name, r, approvals, expected, reason] of cases) {
    it(`${name} → ${expected}`, () => {
      const verdict = reconcile(cfg, [r], approvals).get(r.id);
      expect(verdict?.kind).toBe(expected);
      if (reason) expect(verdict?.kind === 'unapproved' && verdict.reason).toContain(reason);
    });
  }

  it('an approval accounts for one outflow: the second identical transfer is unapproved', () => {
    const a = usdt('1000', { tx: 9001 });
    const b = outflow(config, { t: T + 1, asset: 'USDT', units: '1000', to: CUSTOMER, tx: 9002 });
    const verdicts = reconcile(cfg, [b, a], [approval()]);
    expect(verdicts.get(a.id)).toEqual({ kind: 'approved', withdrawalId: 'w-1' });
    expect(verdicts.get(b.id)?.kind).toBe('unapproved');
    expect(verdicts.get(b.id)?.kind === 'unapproved' && verdicts.get(b.id)).toMatchObject({
      reason: expect.stringContaining('already accounts for an earlier transfer'),
    });
  });

  it('two approvals to the same customer each take the closest transfer', () => {
    const small = usdt('100', { tx: 9101 });
    const big = outflow(config, { t: T + 1, asset: 'USDT', units: '1000', to: CUSTOMER, tx: 9102 });
    const verdicts = reconcile(
      cfg,
      [small, big],
      [approval({ withdrawalId: 'big' }), approval({ withdrawalId: 'small', amount: 100_000_000n })],
    );
    expect(verdicts.get(small.id)).toEqual({ kind: 'approved', withdrawalId: 'small' });
    expect(verdicts.get(big.id)).toEqual({ kind: 'approved', withdrawalId: 'big' });
  });

  it('withinTolerance is exact in integers at the edge', () => {
    expect(withinTolerance(10_010n, 10_000n, 10)).toBe(true);
    expect(withinTolerance(10_011n, 10_000n, 10)).toBe(false);
    expect(withinTolerance(1n, 1n, 0)).toBe(true);
    expect(withinTolerance(2n, 1n, 0)).toBe(false);
  });
});

describe('reconciliation rules in the same evaluation as every other rule', () => {
  it('an unapproved outflow trips at once, whatever its size, with the stolen-key page', async () => {
    const config = compile({}, { global: { usd: { '1h': 1_000_000_000 } } });
    const tiny = outflow(config, { t: T, asset: 'USDT', units: '0.01', to: ADDR.stranger });
    const store = { outflowsSince: async () => [], recordOutflows: async () => {}, removeOutflowsAfter: async () => 0 };
    const approvals = {
      approvedWithdrawalsBetween: async () => [],
      recordApprovedWithdrawal: async (w: ApprovedWithdrawal) => w,
    };
    const marked = await markUnapprovedOutflows({ config, store, approvals }, [tiny]);
    expect((marked[0] as OutflowMarks).unapproved?.reason).toContain('no approved withdrawal');

    const breaches = evaluateRules(config.rules, marked, spanOf(marked));
    expect(breaches.map((b) => [b.rule.id, b.level])).toEqual([[reconciliationRuleId('ethereum'), 'trip']]);
    // The replay's incremental evaluator agrees.
    const incremental = new IncrementalEvaluator(config.rules);
    incremental.add(marked);
    expect(incremental.evaluate(spanOf(marked)).map((b) => b.rule.id)).toEqual([reconciliationRuleId('ethereum')]);

    const t = applyBreaches(initialState(), breaches, { config, history: marked, nowMs: T * 1000 });
    expect(t.trips).toHaveLength(1);
    expect(t.trips[0]!.scope).toEqual({ kind: 'global' });
    const page = t.state.outbox.find((e) => e.kind === 'page');
    expect(page?.kind === 'page' && page.page.subject).toBe(
      '[HALT] test-exchange: UNAPPROVED outflow, hot key may be stolen — global halted',
    );
    const text = page?.kind === 'page' ? page.page.text : '';
    expect(text).toContain('STOLEN-KEY SIGNAL');
    expect(text).toContain(tiny.txHash);
    expect(text).toContain('no approved withdrawal of this asset to this destination');
    expect(page?.kind === 'page' && page.page.details).toMatchObject({ stolenKeySignal: true });
  });

  it('approved outflows, own transfers and sweeps never count; halt: chain halts only that chain', async () => {
    const config = compile({ halt: 'chain' });
    const approved = outflow(config, { t: T, asset: 'USDT', units: '1000', to: CUSTOMER });
    const sweep = outflow(config, { t: T, asset: 'ETH', units: '100', to: SWEEP });
    const own = outflow(config, { t: T, asset: 'ETH', units: '100', to: ADDR.cold });
    const stolen = outflow(config, { t: T, chain: 'bsc', asset: 'BNB', units: '0.1', to: ADDR.stranger });
    const store = { outflowsSince: async () => [], recordOutflows: async () => {}, removeOutflowsAfter: async () => 0 };
    const approvals = {
      approvedWithdrawalsBetween: async () => [approval()],
      recordApprovedWithdrawal: async (w: ApprovedWithdrawal) => w,
    };
    const marked = await markUnapprovedOutflows({ config, store, approvals }, [approved, sweep, own, stolen]);
    const breaches = evaluateRules(
      config.rules,
      marked.filter((r) => !r.own),
      spanOf(marked),
    );
    expect(breaches.map((b) => b.rule.id)).toEqual([reconciliationRuleId('bsc')]);
    expect(breaches[0]!.rule.halt).toEqual({ kind: 'chain', chain: 'bsc' });
    expect(breaches[0]!.outflows.map((r) => r.id)).toEqual([stolen.id]);
  });

  it('without an approval log every outflow that needs approval is unapproved (fails safe)', async () => {
    const config = compile();
    const store = { outflowsSince: async () => [], recordOutflows: async () => {}, removeOutflowsAfter: async () => 0 };
    const marked = await markUnapprovedOutflows({ config, store }, [
      outflow(config, { t: T, asset: 'USDT', units: '1', to: CUSTOMER }),
    ]);
    expect((marked[0] as OutflowMarks).unapproved?.reason).toContain('no approved-withdrawal log');
  });
});

describe('reconciliation config', () => {
  it('is off by default: no rules, existing configs unchanged', () => {
    const config = compileConfig(configInput(), 'test');
    expect(config.reconciliation.enabled).toBe(false);
    expect(config.rules.some((r) => r.subject.kind === 'unapproved')).toBe(false);
  });

  it('enabled: one per-transfer rule per chain, halting globally by default; can run in shadow mode', () => {
    const config = compileConfig(
      {
        ...configInput({ global: { usd: { '1h': 1000 } }, shadow: ['reconciliation-bsc-unapproved'] }),
        reconciliation: { enabled: true },
      },
      'test',
    );
    const rules = config.rules.filter((r) => r.subject.kind === 'unapproved');
    expect(rules.map((r) => [r.id, r.windowSeconds, r.limit, r.halt.kind, r.shadow ?? false])).toEqual([
      ['reconciliation-ethereum-unapproved', 0, 0n, 'global', false],
      ['reconciliation-bsc-unapproved', 0, 0n, 'global', true],
    ]);
    expect(config.reconciliation).toMatchObject({ toleranceBps: 0, windowSeconds: 3600 });
  });

  it('chains: only the listed chains are reconciled (rolled out signer by signer)', async () => {
    const config = compile({ chains: ['bsc'] });
    expect(config.rules.filter((r) => r.subject.kind === 'unapproved').map((r) => r.id)).toEqual([
      'reconciliation-bsc-unapproved',
    ]);
    const eth = outflow(config, { t: T, asset: 'USDT', units: '1', to: ADDR.stranger });
    expect(reconcile(config.reconciliation, [eth], []).get(eth.id)).toEqual({ kind: 'exempt', why: 'not-reconciled' });
    const store = { outflowsSince: async () => [], recordOutflows: async () => {}, removeOutflowsAfter: async () => 0 };
    const [marked] = await markUnapprovedOutflows({ config, store }, [eth]);
    expect((marked as OutflowMarks).unapproved).toBeUndefined();
  });

  const bad: [string, Record<string, unknown>, string][] = [
    ['an unknown chain in chains', { chains: ['solana'] }, 'reconciliation.chains[0]: no chain "solana"'],
    ['a negative tolerance', { toleranceBps: -1 }, 'reconciliation.toleranceBps: must be ≥ 0'],
    ['a fractional window', { windowSeconds: 1.5 }, 'reconciliation.windowSeconds: must be an integer'],
    ['an unknown key', { tolerance: 5 }, 'reconciliation'],
    [
      'an unknown chain',
      { allowedDestinations: { solana: [SWEEP] } },
      'reconciliation.allowedDestinations.solana: no chain "solana"',
    ],
    [
      'a bad address',
      { allowedDestinations: { ethereum: ['0x123'] } },
      'reconciliation.allowedDestinations.ethereum[0]: not a 20-byte 0x address',
    ],
    ['a hot wallet', { allowedDestinations: { ethereum: [ADDR.ethHot] } }, 'is a hot wallet of this chain'],
  ];
  for (const [name, reconciliation, message] of bad) {
    it(`rejects ${name}, naming the field`, () => {
      let error: unknown;
      try {
        compileConfig({ ...configInput(), reconciliation: { enabled: true, ...reconciliation } }, 'test');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).issues.join('\n')).toContain(message);
    });
  }
});
