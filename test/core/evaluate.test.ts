import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import { evaluateRules, windowTotalsAt } from '../../functions/core/evaluate.ts';
import type { OutflowRecord } from '../../functions/core/model.ts';
import type { Breach } from '../../functions/core/rules/breach.ts';
import { ADDR, compile, configInput, outflow, spanOf, usd } from '../support/fixtures.ts';

/** A 10-minute boundary (1_700_000_400 = 600 × 2_833_334): where a bucketed counter would reset. */
const BOUNDARY = 1_700_000_400;

/** Evaluate as a poll does: `fresh` is the new batch, `older` what the ledger already held. */
function evaluate(config: BreakerConfig, fresh: OutflowRecord[], older: OutflowRecord[] = []): Breach[] {
  return evaluateRules(config.rules, [...older, ...fresh], spanOf(fresh));
}

function only(breaches: Breach[], ruleId: string): Breach | undefined {
  return breaches.find((b) => b.rule.id === ruleId);
}

describe('sliding windows are exact', () => {
  const config = compile({ global: { usd: { '10m': 1_000_000 } } });

  it('trips on two transfers 1 s apart straddling a 10-minute boundary, fed in separate polls', () => {
    const before = outflow(config, { t: BOUNDARY - 1, units: '600' }); // $600k
    const after = outflow(config, { t: BOUNDARY, units: '600' }); // $600k
    // each half alone is under the $1M limit (and the $800k warn level)
    expect(evaluate(config, [before])).toEqual([]);
    expect(evaluate(config, [after])).toEqual([]);
    // together, in one 10-minute window, they are $1.2M: no 2× leak at the boundary
    const [breach] = evaluate(config, [after], [before]);
    expect(breach).toMatchObject({ level: 'trip', value: usd(1_200_000), windowEnd: BOUNDARY });
    expect(breach?.rule.id).toBe('global-usd-10m');
    expect(breach?.outflows.map((r) => r.id).sort()).toEqual([before.id, after.id].sort());
  });

  it.each([
    [599, 'trip'],
    [600, undefined], // the window ending at T is (T − 600, T]: an outflow at exactly T − 600 has left it
    [601, undefined],
  ])('two $600k outflows %i s apart: %s', (gap, level) => {
    const first = outflow(config, { t: 1_000_000, units: '600' });
    const second = outflow(config, { t: 1_000_000 + gap, units: '600' });
    const breach = only(evaluate(config, [second], [first]), 'global-usd-10m');
    expect(breach?.level).toBe(level);
  });

  it('counts every outflow that shares one window time (same block)', () => {
    const a = outflow(config, { t: 5_000, units: '600' });
    const b = outflow(config, { t: 5_000, units: '600' });
    expect(evaluate(config, [a, b])[0]).toMatchObject({ level: 'trip', value: usd(1_200_000) });
  });

  it('finds the breach when the new outflow lands before older ones in the window (a late chain)', () => {
    // Ethereum already recorded $600k at t=10_300; BSC's poller is behind and now records $500k at t=10_000.
    const eth = outflow(config, { t: 10_300, units: '600' });
    const bsc = outflow(config, { chain: 'bsc', t: 10_000, units: '1000' }); // 1000 BNB = $500k
    const [breach] = evaluate(config, [bsc], [eth]);
    expect(breach).toMatchObject({ level: 'trip', value: usd(1_100_000), windowEnd: 10_300 });
  });

  it('reports the first window that breaks, not a later one', () => {
    const history = [1_000, 1_010, 5_000, 5_010].map((t) => outflow(config, { t, units: '600' }));
    const [breach] = evaluate(config, history);
    expect(breach).toMatchObject({ level: 'trip', windowEnd: 1_010 });
  });

  it('ignores windows the new outflows cannot affect (old evidence is not re-reported)', () => {
    const oldBreach = [1_000, 1_010].map((t) => outflow(config, { t, units: '600' }));
    const fresh = outflow(config, { t: 1_010 + 600, units: '1' });
    expect(evaluate(config, [fresh], oldBreach)).toEqual([]);
  });
});

describe('warn levels', () => {
  const config = compile({ warnRatio: 0.8, global: { usd: { '10m': 1_000_000 } } });

  it.each([
    ['790', undefined], // $790k: under the $800k warn level
    ['800', undefined], // exactly at the warn level: not above it
    ['850', 'warn'],
    ['1000', 'warn'], // exactly at the limit: warns, does not trip
    ['1000.001', 'trip'], // $1 over the limit
  ])('%s ETH ($1,000 each) in 10 minutes → %s', (units, level) => {
    const breach = only(evaluate(config, [outflow(config, { t: 1_000, units })]), 'global-usd-10m');
    expect(breach?.level).toBe(level);
  });

  it('a warning carries the highest window above the warn level', () => {
    const history = [
      outflow(config, { t: 1_000, units: '810' }),
      outflow(config, { t: 2_000, units: '850' }),
      outflow(config, { t: 3_000, units: '820' }),
    ];
    expect(evaluate(config, history)[0]).toMatchObject({ level: 'warn', value: usd(850_000), windowEnd: 2_000 });
  });
});

describe('single-transaction rules', () => {
  const config = compile({
    global: { singleTxUsd: 500_000 },
    chains: { ethereum: { assets: { ETH: { singleTx: '250' } } } },
  });

  it.each([
    {
      name: 'one $600k USDT transfer trips the USD rule',
      spec: { asset: 'USDT', units: '600000' },
      rule: 'global-single-tx-usd',
      level: 'trip',
    },
    {
      name: 'one $450k transfer warns',
      spec: { asset: 'USDT', units: '450000' },
      rule: 'global-single-tx-usd',
      level: 'warn',
    },
    {
      name: '300 ETH trips the ETH unit rule',
      spec: { units: '300' },
      rule: 'asset-ethereum-ETH-single-tx',
      level: 'trip',
    },
    {
      name: '249 ETH stays under 250 (warns at 200)',
      spec: { units: '249' },
      rule: 'asset-ethereum-ETH-single-tx',
      level: 'warn',
    },
  ])('$name', ({ spec, rule, level }) => {
    const r = outflow(config, { t: 1_000, ...spec });
    const breach = only(evaluate(config, [r]), rule);
    expect(breach).toMatchObject({ level, windowEnd: 1_000 });
    expect(breach?.outflows).toEqual([r]);
  });

  it('does not add transfers up: two $300k transfers are not a $600k transfer', () => {
    const fresh = [
      outflow(config, { t: 1_000, asset: 'USDT', units: '300000' }),
      outflow(config, { t: 1_001, asset: 'USDT', units: '300000' }),
    ];
    expect(only(evaluate(config, fresh), 'global-single-tx-usd')).toBeUndefined();
  });

  it('looks only at new outflows: an old large transfer is not re-tripped by every later poll', () => {
    const old = outflow(config, { t: 1_000, asset: 'USDT', units: '600000' });
    const fresh = outflow(config, { t: 1_012, asset: 'USDT', units: '1' });
    expect(evaluate(config, [fresh], [old])).toEqual([]);
  });
});

describe('which outflows a rule counts', () => {
  it('count rules include transfers of unknown tokens', () => {
    const config = compile({ global: { count: { '10m': 3 } }, chains: { bsc: { count: { '1h': 3 } } } });
    const fresh = [1, 2, 3, 4].map((i) =>
      outflow(config, { chain: 'bsc', t: 1_000 + i, asset: 'UNKNOWN', units: '5' }),
    );
    const breaches = evaluate(config, fresh);
    expect(only(breaches, 'global-count-10m')).toMatchObject({ level: 'trip', value: 4n });
    expect(only(breaches, 'chain-bsc-count-1h')).toMatchObject({ level: 'trip', value: 4n });
  });

  it('USD rules value unknown tokens at unknownAssets.usdPerTransfer', () => {
    const config = compile({ global: { usd: { '1h': 2_500 } } });
    const fresh = [1, 2, 3].map((i) => outflow(config, { t: 1_000 + i, asset: 'UNKNOWN', units: '1' }));
    expect(evaluate(config, fresh)[0]).toMatchObject({ level: 'trip', value: usd(3_000) });
  });

  it('unit rules count only their own asset on their own chain', () => {
    const config = compile({ chains: { ethereum: { assets: { ETH: { units: { '1h': '100' } } } } } });
    const others = [
      outflow(config, { t: 1_000, asset: 'USDT', units: '5000000' }),
      outflow(config, { t: 1_001, asset: 'UNKNOWN', units: '1000000000000000000000' }),
      outflow(config, { chain: 'bsc', t: 1_002, asset: 'BNB', units: '500' }),
      outflow(config, { chain: 'bsc', t: 1_003, asset: 'USDT', units: '500' }),
    ];
    expect(evaluate(config, others)).toEqual([]);
    const eth = [outflow(config, { t: 1_010, units: '60' }), outflow(config, { t: 1_020, units: '50' })];
    expect(evaluate(config, eth, others)[0]).toMatchObject({ level: 'trip', value: 110n * 10n ** 18n });
    expect(evaluate(config, eth, others)[0]?.outflows).toHaveLength(2);
  });

  it('a configured token whose symbol is literally UNKNOWN does not absorb unconfigured tokens', () => {
    const input = configInput({ chains: { ethereum: { assets: { UNKNOWN: { units: { '1h': '10' } } } } } });
    const eth = input.chains.ethereum as {
      tokens: { symbol: string; contract: string; decimals: number; usdPrice: number }[];
    };
    eth.tokens.push({
      symbol: 'UNKNOWN',
      contract: '0x7777777777777777777777777777777777777777',
      decimals: 0,
      usdPrice: 1,
    });
    const config = compileConfig(input);
    const unconfigured = [1, 2].map((i) => outflow(config, { t: 1_000 + i, asset: 'UNKNOWN', units: '100' }));
    expect(unconfigured.every((r) => !r.known)).toBe(true);
    expect(evaluate(config, unconfigured)).toEqual([]);
  });

  it('chain rules count only their chain; global rules count every chain', () => {
    const config = compile({
      global: { usd: { '1h': 1_000_000 } },
      chains: { ethereum: { usd: { '1h': 1_000_000 } } },
    });
    const fresh = [
      outflow(config, { chain: 'bsc', t: 1_000, units: '1500' }),
      outflow(config, { t: 1_001, units: '700' }),
    ];
    const breaches = evaluate(config, fresh);
    expect(only(breaches, 'global-usd-1h')).toMatchObject({ level: 'trip', value: usd(1_450_000) });
    expect(only(breaches, 'chain-ethereum-usd-1h')).toBeUndefined(); // $700k on Ethereum: under its 80% warn level
  });

  it('own transfers (cold-wallet sweeps, rebalancing) never count toward any rule', () => {
    const config = compile({
      global: { usd: { '10m': 1_000_000 }, count: { '10m': 1 }, singleTxUsd: 100_000 },
      chains: { ethereum: { assets: { ETH: { units: { '1h': '10' }, singleTx: '1' } } } },
    });
    const sweeps = [
      outflow(config, { t: 1_000, units: '5000', to: ADDR.cold }),
      outflow(config, { t: 1_001, units: '5000', to: ADDR.ethHot2 }),
      outflow(config, { chain: 'bsc', t: 1_002, units: '5000', to: ADDR.ethHot }),
    ];
    expect(sweeps.every((r) => r.own)).toBe(true);
    expect(
      evaluateRules(config.rules, sweeps, { fromT: 1_000, toT: 1_002, newIds: new Set(sweeps.map((r) => r.id)) }),
    ).toEqual([]);
  });
});

describe('breach evidence', () => {
  const config = compile({ global: { usd: { '10m': 1_000_000 } } });

  it("lists the breaching window's outflows, largest first, and nothing outside the window", () => {
    const outside = outflow(config, { t: 1_000, units: '900' });
    const small = outflow(config, { t: 1_700, units: '200' });
    const large = outflow(config, { t: 1_710, asset: 'USDT', units: '500000' });
    const medium = outflow(config, { chain: 'bsc', t: 1_720, units: '800' }); // $400k
    const [breach] = evaluate(config, [small, large, medium], [outside]);
    expect(breach?.level).toBe('trip');
    expect(breach?.value).toBe(usd(1_100_000));
    expect(breach?.outflows.map((r) => r.usdMicros)).toEqual([usd(500_000), usd(400_000), usd(200_000)]);
  });
});

describe('windowTotalsAt (the totals table of a page)', () => {
  it('sums each windowed rule over (t − W, t] and skips single-transaction rules', () => {
    const config = compile({ global: { usd: { '10m': 1_000_000, '1h': 2_000_000 }, singleTxUsd: 1 } });
    const history = [
      outflow(config, { t: 1_000, units: '100' }),
      outflow(config, { t: 3_000, units: '50' }),
      outflow(config, { t: 3_500, units: '1', to: ADDR.cold }),
    ];
    const totals = windowTotalsAt(config.rules, history, 3_500);
    expect(totals.map((x) => [x.rule.id, x.value])).toEqual([
      ['global-usd-10m', usd(50_000)],
      ['global-usd-1h', usd(150_000)],
    ]);
  });
});
