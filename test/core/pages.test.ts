import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { applyBreaches, resetBreaker } from '../../functions/core/breaker.ts';
import { evaluateRules } from '../../functions/core/evaluate.ts';
import { describeRule, txLink } from '../../functions/core/pages/breach-pages.ts';
import { initialState, type Page } from '../../functions/core/state.ts';
import { ADDR, compile, configInput, outflow, spanOf } from '../support/fixtures.ts';

const config = compile({
  global: { usd: { '1h': 1_000_000 } },
  chains: { ethereum: { usd: { '10m': 500_000 }, halt: 'chain' } },
});

function tripPages(cfg = config, history = defaultHistory()): Page[] {
  const breaches = evaluateRules(cfg.rules, history, spanOf(history));
  const { state } = applyBreaches(initialState(), breaches, { config: cfg, history, nowMs: 1_700_000_500_000 });
  return state.outbox.flatMap((e) => (e.kind === 'page' ? [e.page] : []));
}

function defaultHistory() {
  return [
    outflow(config, { t: 1_700_000_000, asset: 'UNKNOWN', units: '123456', tx: 0xccc, index: 1 }),
    outflow(config, { t: 1_700_000_012, units: '350', tx: 0xaaa }),
    outflow(config, { t: 1_700_000_024, asset: 'USDT', units: '200000', tx: 0xbbb, index: 4 }),
  ];
}

describe('trip page', () => {
  const [page] = tripPages();
  if (!page) throw new Error('expected a trip page');

  it('is one trip page naming the rule and the halted scope in a short subject', () => {
    expect(page.kind).toBe('trip');
    expect(page.subject).toBe('[HALT] test-exchange: chain-ethereum-usd-10m broke, chain:ethereum halted');
    expect(page.subject.length).toBeLessThanOrEqual(100);
  });

  it('shows the measured value against the limit', () => {
    expect(page.text).toContain(
      'Rule chain-ethereum-usd-10m: USD out of ethereum per 10m: $551,000.00 > limit $500,000.00',
    );
    expect(page.details).toMatchObject({
      rule: 'chain-ethereum-usd-10m',
      value: '551000000000',
      limit: '500000000000',
      windowSeconds: 600,
    });
  });

  it('lists every transaction of the window, largest first, with explorer links', () => {
    const lines = page.text.split('\n').filter((l) => l.includes('/tx/'));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain(
      `350 ETH ($350,000.00) ${ADDR.ethHot} → ${ADDR.stranger}  https://etherscan.io/tx/0x${'aaa'.padStart(64, '0')}`,
    );
    expect(lines[1]).toContain(`200000 USDT ($200,000.00)`);
    expect(lines[1]).toContain(`https://etherscan.io/tx/0x${'bbb'.padStart(64, '0')}`);
    // an unknown token is shown as such, with its contract, not silently dropped
    expect(lines[2]).toContain(`123456 base units of unknown token ${ADDR.unknownToken} ($1,000.00)`);
    expect(page.details.transactionCount).toBe(3);
    expect((page.details.transactions as { link: string }[]).map((t) => t.link)).toEqual([
      `https://etherscan.io/tx/0x${'aaa'.padStart(64, '0')}`,
      `https://etherscan.io/tx/0x${'bbb'.padStart(64, '0')}`,
      `https://etherscan.io/tx/0x${'ccc'.padStart(64, '0')}`,
    ]);
  });

  it('shows totals against the other limits too', () => {
    expect(page.text).toMatch(/global-usd-1h\s+\$551,000\.00 of \$1,000,000\.00 \(55\.1%\)/);
  });

  it('says what is halted and how to reset (with a reason)', () => {
    expect(page.text).toContain('signing halted for withdrawals on ethereum');
    expect(page.text).toContain('Halted: chain:ethereum (withdrawals on ethereum).');
    expect(page.text).toContain('npx breaker reset --scope chain:ethereum --reason "<what you reviewed>"');
    expect(page.text).toMatch(/a reason is required/);
  });

  it('a global trip says every chain is halted', () => {
    const cfg = compile({ global: { usd: { '1h': 100_000 } } });
    const [global] = tripPages(cfg, [outflow(cfg, { t: 1_000, units: '200' })]);
    expect(global?.text).toContain('signing halted for ALL withdrawals on every chain');
    expect(global?.text).toContain('--scope global');
  });

  it('keeps the subject within 100 characters for long names and rule ids', () => {
    const input = configInput({
      chains: { ethereum: { assets: { ETH: { units: { '10m': '1' } } } } },
    });
    input.name = `a${'-long-name'.repeat(4)}`;
    const chains = input.chains as Record<string, { native: { symbol: string } }>;
    (chains.ethereum as { native: { symbol: string } }).native.symbol = 'WRAPPED-STAKED-ETHER-LIQUID-RESTAKING-TOKEN';
    (input.limits as { chains: Record<string, { assets: Record<string, unknown> }> }).chains.ethereum!.assets = {
      'WRAPPED-STAKED-ETHER-LIQUID-RESTAKING-TOKEN': { units: { '10m': '1' } },
    };
    const cfg = compileConfig(input);
    const [long] = tripPages(cfg, [outflow(cfg, { t: 1_000, units: '2' })]);
    expect(long?.subject.length).toBeLessThanOrEqual(100);
    expect(long?.subject.startsWith('[HALT] a-long-name')).toBe(true);
  });

  it('falls back to chain and hash when a chain has no explorer', () => {
    const input = configInput();
    delete (input.chains.bsc as { explorer?: string }).explorer;
    const cfg = compileConfig(input);
    expect(txLink(cfg, { chain: 'bsc', txHash: '0xabc' })).toBe('bsc tx 0xabc');
    expect(txLink(cfg, { chain: 'ethereum', txHash: '0xabc' })).toBe('https://etherscan.io/tx/0xabc');
  });

  it('lists at most 25 transactions in the text, and says so', () => {
    const cfg = compile({ global: { count: { '1h': 30 } } });
    const many = Array.from({ length: 40 }, (_, i) => outflow(cfg, { t: 1_000 + i, units: '0.01' }));
    const [p] = tripPages(cfg, many);
    expect(p?.text).toContain('Transactions in the breaching window (31, largest first, first 25 shown)');
    expect(p?.text.split('\n').filter((l) => l.includes('/tx/'))).toHaveLength(25);
  });
});

describe('describeRule', () => {
  it.each([
    ['global-usd-1h', 'USD out of all chains per 1h'],
    ['chain-ethereum-usd-10m', 'USD out of ethereum per 10m'],
  ])('%s reads as "%s"', (id, text) => {
    expect(describeRule(config.rules.find((r) => r.id === id)!)).toBe(text);
  });

  it('single-transfer and unit rules', () => {
    const cfg = compile({
      global: { singleTxUsd: 10 },
      chains: { ethereum: { assets: { USDT: { units: { '24h': '5' } } } } },
    });
    const [single, units] = cfg.rules.map(describeRule);
    expect(single).toBe('single transfer USD, all chains');
    expect(units).toMatch(/USDT .*ethereum per 1d/);
  });
});

describe('warn and reset pages', () => {
  it('a warning says nothing is halted yet', () => {
    const cfg = compile({ global: { usd: { '1h': 1_000_000 } } });
    const [warn] = tripPages(cfg, [outflow(cfg, { t: 1_000, units: '900' })]);
    expect(warn?.kind).toBe('warn');
    expect(warn?.subject).toBe('[WARN] test-exchange: global-usd-1h at warn level');
    expect(warn?.text).toContain('global-usd-1h is at 90% of its limit. Nothing is halted yet.');
  });

  it('a reset page names who re-armed what and why, and that limits are unchanged', () => {
    const history = defaultHistory();
    const breaches = evaluateRules(config.rules, history, spanOf(history));
    const tripped = applyBreaches(initialState(), breaches, { config, history, nowMs: 1 }).state;
    const reset = resetBreaker(
      tripped,
      { reason: 'treasury rebalancing, ticket OPS-42', actor: 'bob', nowMs: 2, processedThrough: {} },
      config,
    );
    const page = reset.outbox.flatMap((e) => (e.kind === 'page' ? [e.page] : [])).at(-1);
    expect(page?.kind).toBe('reset');
    expect(page?.subject).toBe('[RESET] test-exchange: breaker re-armed (chain:ethereum) by bob');
    expect(page?.text).toContain('Reason: treasury rebalancing, ticket OPS-42');
    expect(page?.text).toContain('Limits are unchanged');
  });
});
