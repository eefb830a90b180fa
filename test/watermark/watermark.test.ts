import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { initialState } from '../../functions/core/state.ts';
import {
  outpointBreaches,
  outpointWatermarkStep,
  REPORTED_TXIDS_KEPT,
} from '../../functions/core/watermark/outpoints.ts';
import { outpointRuleId, watermarkRuleId } from '../../functions/core/watermark/rule-ids.ts';
import { nonceBreaches, watermarkStep } from '../../functions/core/watermark/watermark.ts';
import { MAX_OUTPOINTS, parseWithdrawal } from '../../functions/guard/withdrawal.ts';

const HOT = '0x1111111111111111111111111111111111111111';
const OTHER = '0x2222222222222222222222222222222222222222';

function config(watermark: object) {
  return compileConfig(
    {
      name: 'wm',
      chains: {
        eth: {
          kind: 'evm',
          chainId: 1,
          rpc: ['http://127.0.0.1:1'],
          confirmations: 0,
          blockTimeSeconds: 12,
          hotWallets: [HOT, OTHER],
          native: { symbol: 'ETH', decimals: 18, usdPrice: 3000 },
        },
        btc: {
          kind: 'bitcoin',
          network: 'regtest',
          rpc: ['http://u:p@127.0.0.1:1'],
          confirmations: 1,
          blockTimeSeconds: 600,
          hotWallets: ['bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080'],
          native: { symbol: 'BTC', decimals: 8, usdPrice: 100000 },
        },
      },
      limits: { global: { usd: { '10m': 1000000 } } },
      watermark,
    },
    'wm.yaml',
  );
}

describe('nonce breaches', () => {
  const marks = new Map([[HOT, 9n]]);
  it.each([
    [10n, false, 'the next nonce is one past the highest approved'],
    [11n, true, 'nonce 10 was never approved'],
    [0n, false, 'a wallet that never sent anything'],
  ])('next nonce %s → breach %s (%s)', (next, breach) => {
    expect(nonceBreaches('eth', [{ wallet: HOT, nextNonce: next }], marks, undefined, 'latest').length > 0).toBe(
      breach,
    );
  });
  it('a wallet the guard never recorded a nonce for breaches at its first transaction', () => {
    expect(nonceBreaches('eth', [{ wallet: OTHER, nextNonce: 1n }], marks, undefined, 'pending')).toEqual([
      { chain: 'eth', wallet: OTHER, highestUsed: 0n, approved: undefined, tag: 'pending' },
    ]);
  });
  it('nonces an earlier trip reported do not breach again; a higher one does', () => {
    const reported = { [HOT]: '12' };
    expect(nonceBreaches('eth', [{ wallet: HOT, nextNonce: 13n }], marks, reported, 'latest')).toEqual([]);
    expect(nonceBreaches('eth', [{ wallet: HOT, nextNonce: 14n }], marks, reported, 'latest')).toHaveLength(1);
  });
});

describe('the watermark step', () => {
  const cfg = config({ enabled: true, halt: 'chain' });
  const breach = { chain: 'eth', wallet: HOT, highestUsed: 10n, approved: 9n, tag: 'latest' as const };
  it('trips the configured scope with an audit record and the stolen-key page, and remembers the nonce', () => {
    const next = watermarkStep(initialState(), [breach], cfg, 1_000_000)!;
    expect(next.tripped['chain:eth']?.ruleId).toBe(watermarkRuleId('eth'));
    expect(next.nonceReported).toEqual({ eth: { [HOT]: '10' } });
    expect(next.outbox.map((e) => e.kind)).toEqual(['audit', 'page']);
    // Applied again to its own result: nothing new to say.
    expect(watermarkStep(next, [breach], cfg, 1_000_001)).toBeUndefined();
  });
  it('after its own trip, later stolen nonces are remembered without another page', () => {
    const halted = watermarkStep(initialState(), [breach], cfg, 1)!;
    const again = watermarkStep(halted, [{ ...breach, highestUsed: 11n }], cfg, 2)!;
    expect(Object.keys(again.tripped)).toEqual(['chain:eth']);
    expect(again.outbox).toEqual(halted.outbox);
    expect(again.nonceReported).toEqual({ eth: { [HOT]: '11' } });
  });
  it("while another rule's halt holds the scope, pages the signal once, as that halt's escalation", () => {
    const limitTrip = {
      tripId: 'trip-1-chain:eth',
      atMs: 0,
      ruleId: 'chain-eth-usd-10m',
      scope: { kind: 'chain' as const, chain: 'eth' },
      evidence: {
        ruleId: 'chain-eth-usd-10m',
        summary: '',
        measure: 'usd' as const,
        value: '0',
        limit: '0',
        windowSeconds: 600,
        windowEnd: 0,
        outflowIds: [],
      },
    };
    const tripped = { ...initialState(), version: 1, tripped: { 'chain:eth': limitTrip } };
    const signal = watermarkStep(tripped, [breach], cfg, 5)!;
    expect(signal.tripped['chain:eth']).toMatchObject({ ruleId: 'chain-eth-usd-10m', escalatedAtMs: 5 });
    const page = signal.outbox.at(-1);
    expect(page?.kind === 'page' && page.page).toMatchObject({
      kind: 'escalation',
      details: { stolenKeySignal: true },
    });
    const later = watermarkStep(signal, [{ ...breach, highestUsed: 12n }], cfg, 6)!;
    expect(later.outbox).toEqual(signal.outbox);
  });
});

describe('config and the guard request', () => {
  it('watermarks every EVM chain by default; a Bitcoin chain only when listed', () => {
    expect([...config({ enabled: true }).watermark.chains]).toEqual(['eth']);
    expect([...config({ enabled: true, chains: ['btc', 'eth'] }).watermark.chains]).toEqual(['btc', 'eth']);
    expect(() => config({ enabled: true, chains: ['bsc'] })).toThrow(
      'watermark.chains[0]: no chain "bsc" under chains',
    );
  });
  const base = { withdrawalId: 'w1', chain: 'eth', asset: 'ETH', destination: OTHER, amount: '5' };
  it('with the watermark on, a withdrawal without its nonce is refused (fail closed)', () => {
    const parsed = parseWithdrawal(base, config({ enabled: true }));
    expect(parsed).toMatchObject({ ok: false, rejection: 'invalid-withdrawal' });
    expect(!parsed.ok && parsed.problem).toContain('nonce: required on eth');
    expect(parseWithdrawal(base, config({ enabled: false })).ok).toBe(true);
  });
  it('carries nonce and hotWallet (lower-cased) and checks them', () => {
    const parsed = parseWithdrawal(
      { ...base, nonce: '42', hotWallet: HOT.toUpperCase().replace('0X', '0x') },
      config({ enabled: true }),
    );
    expect(parsed.ok && [parsed.withdrawal.nonce, parsed.withdrawal.hotWallet]).toEqual([42n, HOT]);
    expect(parseWithdrawal({ ...base, nonce: 1 }, config({ enabled: true }))).toMatchObject({ ok: false });
    const stranger = parseWithdrawal(
      { ...base, nonce: 1, hotWallet: '0x3333333333333333333333333333333333333333' },
      config({ enabled: true }),
    );
    expect(!stranger.ok && stranger.problem).toContain('is not a hot wallet of eth');
    expect(parseWithdrawal({ ...base, nonce: -1, hotWallet: HOT }).ok).toBe(false);
  });
});

describe('the guard request on a Bitcoin chain', () => {
  const TXID = 'ab'.repeat(32);
  const base = {
    withdrawalId: 'b1',
    chain: 'btc',
    asset: 'BTC',
    destination: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
    amount: '5000',
  };
  const watermarked = config({ enabled: true, chains: ['btc'] });
  it('carries the outpoints, canonical (lower-case txid, plain vout)', () => {
    const parsed = parseWithdrawal({ ...base, outpoints: [`${TXID.toUpperCase()}:007`, `${TXID}:1`] }, watermarked);
    expect(parsed.ok && parsed.withdrawal.outpoints).toEqual([`${TXID}:7`, `${TXID}:1`]);
  });
  it.each([
    [[`${TXID}`], 'is not an outpoint "<64-hex txid>:<vout>"'],
    [[`${TXID.slice(2)}:0`], 'is not an outpoint'],
    [[`${TXID}:-1`], 'is not an outpoint'],
    [[`${TXID}:1.5`], 'is not an outpoint'],
    [[`${TXID}:4294967296`], 'vout 4294967296 is above 4294967295'],
    [[`${TXID}:0`, `${TXID.toUpperCase()}:0`], 'an outpoint is listed twice'],
    [[], 'expected at least one outpoint'],
    ['x', 'expected a list of outpoints'],
    [Array.from({ length: MAX_OUTPOINTS + 1 }, (_, i) => `${TXID}:${i}`), `at most ${MAX_OUTPOINTS} outpoints`],
  ])('refuses outpoints %#: %s', (outpoints, message) => {
    const parsed = parseWithdrawal({ ...base, outpoints });
    expect(parsed).toMatchObject({ ok: false, rejection: 'invalid-withdrawal' });
    expect(!parsed.ok && parsed.problem).toContain(message);
  });
  it('with the watermark on for the chain, a withdrawal without outpoints is refused (fail closed)', () => {
    const parsed = parseWithdrawal(base, watermarked);
    expect(!parsed.ok && parsed.problem).toBe(
      'outpoints: required on btc, where the spent-outpoint watermark is on (send every "<txid>:<vout>" the transaction spends)',
    );
    expect(parseWithdrawal(base, config({ enabled: true })).ok).toBe(true);
  });
  it('refuses a nonce on Bitcoin and outpoints on EVM: each chain kind has its own watermark field', () => {
    const nonce = parseWithdrawal({ ...base, nonce: 1, hotWallet: base.destination }, watermarked);
    expect(!nonce.ok && nonce.problem).toBe('nonce: btc (kind bitcoin) has no account nonces; send outpoints');
    const evm = parseWithdrawal(
      { withdrawalId: 'e1', chain: 'eth', asset: 'ETH', destination: OTHER, amount: '5', outpoints: [`${TXID}:0`] },
      watermarked,
    );
    expect(!evm.ok && evm.problem).toBe('outpoints: eth (kind evm) spends no outpoints; send nonce and hotWallet');
  });
});

describe('the outpoint watermark', () => {
  const cfg = config({ enabled: true, chains: ['btc'], halt: 'chain' });
  const hot = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';
  const op = (n: number) => `${'cd'.repeat(32)}:${n}`;
  const spend = (txid: string, ...outpoints: string[]) => ({
    txid,
    inputs: outpoints.map((outpoint) => ({ outpoint, wallet: hot })),
    tag: 'latest' as const,
  });
  it('a transaction is a breach when any hot outpoint it spends was not approved; it names only those', () => {
    const approved = new Set([op(0), op(1)]);
    expect(outpointBreaches('btc', [spend('t1', op(0), op(1))], approved, undefined)).toEqual([]);
    expect(outpointBreaches('btc', [spend('t2', op(1), op(2))], approved, undefined)).toEqual([
      { chain: 'btc', txid: 't2', unapproved: [op(2)], wallets: [hot], tag: 'latest' },
    ]);
    // Reported before (a reset reviewed it), or listed twice (pending and mined in one poll): once.
    expect(outpointBreaches('btc', [spend('t2', op(2))], approved, ['t2'])).toEqual([]);
    expect(outpointBreaches('btc', [spend('t3', op(3)), spend('t3', op(3))], approved, undefined)).toHaveLength(1);
  });
  it('trips with the stolen-key page naming the transaction, remembers it, and keeps the memory bounded', () => {
    const breach = {
      chain: 'btc',
      txid: 'aa'.repeat(32),
      unapproved: [op(5)],
      wallets: [hot],
      tag: 'pending' as const,
    };
    const next = outpointWatermarkStep(initialState(), [breach], cfg, 1_000)!;
    expect(next.tripped['chain:btc']?.ruleId).toBe(outpointRuleId('btc'));
    expect(next.outpointReported).toEqual({ btc: [breach.txid] });
    const page = next.outbox.at(-1);
    expect(page?.kind === 'page' && page.page.subject).toContain('UNAPPROVED UTXO SPEND');
    expect(page?.kind === 'page' && page.page.text).toContain(`${breach.txid} pending in the mempool: spends ${op(5)}`);
    expect(outpointWatermarkStep(next, [breach], cfg, 1_001)).toBeUndefined();
    const many = Array.from({ length: REPORTED_TXIDS_KEPT + 5 }, (_, i) => ({ ...breach, txid: `t${i}` }));
    const later = outpointWatermarkStep(next, many, cfg, 1_002)!;
    expect(later.outpointReported?.btc).toHaveLength(REPORTED_TXIDS_KEPT);
    expect(later.outpointReported?.btc?.at(-1)).toBe(`t${REPORTED_TXIDS_KEPT + 4}`);
    // Its own trip holds the scope: remembered, no second page.
    expect(later.outbox).toEqual(next.outbox);
  });
});

describe('watermark rules in limits.shadow (the roll-out week)', () => {
  const shadowed = (shadow: string[]) =>
    compileConfig(
      {
        name: 'wm',
        chains: {
          eth: {
            kind: 'evm',
            chainId: 1,
            rpc: ['http://127.0.0.1:1'],
            confirmations: 0,
            blockTimeSeconds: 12,
            hotWallets: [HOT],
            native: { symbol: 'ETH', decimals: 18, usdPrice: 3000 },
          },
        },
        limits: { global: { usd: { '10m': 1000000 } }, shadow },
        watermark: { enabled: true },
      },
      'wm.yaml',
    );
  const breach = { chain: 'eth', wallet: HOT, highestUsed: 10n, approved: 9n, tag: 'latest' as const };
  it("accepts a watermarked chain's rule id, refuses one of a chain it does not watermark", () => {
    expect([...shadowed(['watermark-eth-nonce']).watermark.shadow]).toEqual(['watermark-eth-nonce']);
    expect(() => shadowed(['watermark-eth-outpoint'])).toThrow('limits.shadow[0]: no rule "watermark-eth-outpoint"');
  });
  it('a shadowed watermark pages "would have tripped" once until a reset, audits it, and halts nothing', () => {
    const cfg = shadowed(['watermark-eth-nonce']);
    const next = watermarkStep(initialState(), [breach], cfg, 1_000)!;
    expect(next.tripped).toEqual({});
    const page = next.outbox.find((e) => e.kind === 'page');
    expect(page?.kind === 'page' && page.page.subject).toContain('[SHADOW]');
    expect(page?.kind === 'page' && page.page.subject).toContain('watermark-eth-nonce would have tripped');
    expect(next.outbox.find((e) => e.kind === 'audit')).toMatchObject({ record: { action: 'shadow-trip' } });
    // A later stolen nonce is remembered without another page until a reset clears the shadow mark.
    const later = watermarkStep(next, [{ ...breach, highestUsed: 11n }], cfg, 1_001)!;
    expect(later.outbox).toEqual(next.outbox);
    expect(later.nonceReported).toEqual({ eth: { [HOT]: '11' } });
  });
});
