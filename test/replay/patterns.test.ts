import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { MemoryBreakerStore } from '../../functions/adapters/memory/memory-breaker-store.ts';
import type { ConfigInput } from '../../functions/core/config/schema.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import { replayScenario } from '../../functions/core/replay/replay.ts';
import { parseScenario } from '../../functions/core/replay/scenario.ts';

/**
 * Drain patterns through the real replay path: each trips where every fixed limit still holds,
 * pages explain it, and in shadow mode it pages "would have tripped" without halting.
 */

const HOT = ['0x28c6c06298d514db089934071355e5743bf21d60', '0x21a31ee1afc51d94c2efccaa2092ad1028285549'];
const USDT = '0xdac17f958d2ee523a2206206994597c13d831ec7';
const USDC = '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48';

/** Ethereum only (2 × 12 s + 12 s = 36 s to observe), fixed limits far out of the way. */
function config(
  patterns: NonNullable<ConfigInput['limits']['patterns']>,
  extra: Partial<ConfigInput['limits']> = {},
): BreakerConfig {
  return compileConfig(
    {
      name: 'pattern-test',
      chains: {
        ethereum: {
          kind: 'evm',
          chainId: 1,
          rpc: ['https://eth.example.test'],
          confirmations: 2,
          blockTimeSeconds: 12,
          explorer: 'https://etherscan.io',
          hotWallets: HOT,
          native: { symbol: 'ETH', decimals: 18, usdPrice: 3300 },
          tokens: [
            { symbol: 'USDT', contract: USDT, decimals: 6, usdPrice: 1 },
            { symbol: 'USDC', contract: USDC, decimals: 6, usdPrice: 1 },
          ],
        },
      },
      limits: {
        global: { usd: { '1h': 50_000_000 } },
        chains: {
          ethereum: {
            assets: {
              ETH: { units: { '1h': '600' } },
              USDT: { units: { '1h': '1500000' } },
              USDC: { units: { '1h': '1500000' } },
            },
          },
        },
        patterns,
        ...extra,
      },
    },
    'pattern-test',
  );
}

const scenario = (events: object[]) =>
  parseScenario({
    format: 'hot-wallet-breaker/scenario@1',
    name: 'patterns',
    prices: { ETH: 3300, USDT: 1, USDC: 1 },
    events,
  });

async function replay(cfg: BreakerConfig, events: object[]) {
  const store = new MemoryBreakerStore();
  const result = await replayScenario(cfg, scenario(events), { store });
  return { result, store, state: await store.getState(), audit: await store.listAudit(100) };
}

// Three assets, each a little over half its own 1-hour limit, 10 minutes apart: no fixed limit breaks.
const SPREAD = [
  { t: 100, chain: 'ethereum', asset: 'USDT', amount: '800000', to: '0xbad', label: 'attack' },
  { t: 700, chain: 'ethereum', asset: 'USDC', amount: '800000', to: '0xbad', label: 'attack' },
  { t: 1300, chain: 'ethereum', asset: 'ETH', amount: '350', to: '0xbad', label: 'attack' },
];

describe('distinct assets', () => {
  it('trips when three assets each exceed half their own limit in one hour, after a warning at two', async () => {
    const { result, state } = await replay(
      config({ distinctAssets: { window: '1h', percentOfLimit: 50, trip: 3 } }),
      SPREAD,
    );
    expect(result.score).toMatchObject({ tripped: true, trippedAtS: 1336, rule: 'pattern-distinct-assets-1h' });
    expect(Object.keys(state.tripped)).toEqual(['global']);
    expect(result.warnings).toEqual([{ atS: 736, ruleId: 'pattern-distinct-assets-1h' }]);
    const page = result.pages.find((p) => p.kind === 'trip');
    expect(page?.text).toContain('3 assets at once (trips at 3)');
    expect(page?.text).toContain('Drain pattern: several assets are leaving at once, each above 50% of its own limit');
    expect(page?.text).toContain('USDT on ethereum: 800000 in 1h (its limit: 1500000 per 1h)');
    expect(page?.text).toContain('ETH on ethereum: 350 in 1h (its limit: 600 per 1h)');
    const warn = result.pages.find((p) => p.kind === 'warn');
    expect(warn?.subject).toContain('pattern-distinct-assets-1h');
    expect(warn?.text).toContain('2 assets at once (warns at 2; trips at 3)');
  });

  it('does not trip when the same outflows are spread over more than the window', async () => {
    const slow = SPREAD.map((e, i) => ({ ...e, t: i * 2000 }));
    const { result } = await replay(config({ distinctAssets: { window: '1h', percentOfLimit: 50, trip: 3 } }), slow);
    expect(result.score.tripped).toBe(false);
  });

  it('in shadow mode pages "would have tripped" and audits it, but halts nothing', async () => {
    const { result, state, audit } = await replay(
      config({ distinctAssets: { window: '1h', percentOfLimit: 50, trip: 3, shadow: true } }),
      SPREAD,
    );
    expect(result.score.tripped).toBe(false);
    expect(result.score.lostUsd).toBe(result.score.attackUsd);
    expect(state.tripped).toEqual({});
    expect(result.shadowTrips).toEqual([{ atS: 1336, ruleId: 'pattern-distinct-assets-1h', wouldHalt: 'global' }]);
    expect(audit.find((a) => a.action === 'shadow-trip')).toMatchObject({
      scope: 'global',
      details: { ruleId: 'pattern-distinct-assets-1h' },
    });
    const page = result.pages.find((p) => p.subject.startsWith('[SHADOW]'));
    expect(page?.text).toContain('would have tripped and halted ALL withdrawals on every chain');
    expect(page?.text).toContain('nothing was halted');
    // A shadow rule does not send warnings (it is being evaluated, not relied on).
    expect(result.warnings).toEqual([]);
  });
});

describe('new destinations', () => {
  // Two hours of $100k withdrawals every 10 minutes to five regular customers, then a drain to a fresh address.
  const regular = Array.from({ length: 14 }, (_, i) => ({
    t: i * 600,
    chain: 'ethereum',
    asset: 'USDT',
    amount: '100000',
    to: `0x00000000000000000000000000000000000c0de${i % 5}`,
  }));
  const drain = [8000, 8300, 8600].map((t) => ({
    t,
    chain: 'ethereum',
    asset: 'USDT',
    amount: '400000',
    to: '0xfeed',
    label: 'attack',
  }));

  it('trips on USD to never-seen addresses while the same volume to known ones passes', async () => {
    const cfg = config({ newDestinations: { window: '1h', usd: 1_000_000 } });
    const { result } = await replay(cfg, [...regular, ...drain]);
    expect(result.score).toMatchObject({
      tripped: true,
      trippedAtS: 8636,
      rule: 'pattern-new-destinations-usd-1h',
      lostUsd: 1_200_000,
    });
    const page = result.pages.find((p) => p.kind === 'trip');
    // A regular customer first paid less than an hour before (at 2400 s, again at 5400 s) still counts as new.
    expect(page?.text).toContain(
      'USD to new destinations (not paid in the 14d before) per 1h, all chains: $1,300,000.00 > limit $1,000,000.00',
    );
    expect(page?.text).toContain('0xfeed on ethereum: $1,200,000.00 in 3 transfers');
    expect(page?.text).toContain('0x00000000000000000000000000000000000c0de4 on ethereum: $100,000.00 in 1 transfer');
    // The regular customers alone, at $600k an hour, stay under: after their first hour they are known.
    const alone = await replay(cfg, [...regular, ...regular.map((e) => ({ ...e, t: e.t + 8400 }))]);
    expect(alone.result.score.tripped).toBe(false);
  });
});

describe('wallet profile', () => {
  const DAY = 86_400;
  // Ten days of one withdrawal an hour ($10k–$16k) from the first hot wallet…
  const hourly = Array.from({ length: 240 }, (_, h) => ({
    t: h * 3600 + 600,
    chain: 'ethereum',
    asset: 'USDT',
    amount: String(10_000 + (h % 7) * 1000),
  }));
  // …a $150k burst on day 2 (too little history: the profile is silent), and $120k in half an hour on day 10.
  const burst = { t: 2 * DAY + 1200, chain: 'ethereum', asset: 'USDT', amount: '150000' };
  const drain = [1800, 2400].map((s) => ({
    t: 10 * DAY + s,
    chain: 'ethereum',
    asset: 'USDT',
    amount: '60000',
    label: 'attack',
  }));
  const profile = { walletProfile: { tripFactor: 4, minUsd: 100_000 } };

  it('trips when an hour exceeds 4× the wallet’s own p99, only once 7 days of history exist', async () => {
    const { result, state } = await replay(config(profile), [...hourly, burst, ...drain]);
    const rule = `pattern-profile-ethereum-${HOT[0]}-1h`;
    expect(result.score).toMatchObject({ tripped: true, trippedAtS: 10 * DAY + 2400 + 36, rule });
    expect(result.trips).toHaveLength(1);
    expect(Object.keys(state.tripped)).toEqual(['chain:ethereum']);
    const page = result.pages.find((p) => p.kind === 'trip');
    // p99 of 336 hourly buckets: the 4th largest, $16k; 4× that is $64k, under the $100k floor.
    expect(page?.text).toContain(
      '99th-percentile 1h total was $16,000.00; it trips at 4× that (never below $100,000.00): $100,000.00.',
    );
    expect(state.tripped['chain:ethereum']?.evidence).toMatchObject({ value: '120000000000', limit: '100000000000' });
  });

  it('a wallet that never had 7 days of history is not judged by its profile', async () => {
    const { result } = await replay(config(profile), [
      ...hourly.slice(0, 100),
      burst,
      ...drain.map((e) => ({ ...e, t: e.t - 6 * DAY })),
    ]);
    expect(result.score.tripped).toBe(false);
  });
});

describe('pattern config is validated, naming the field', () => {
  it.each([
    [
      { distinctAssets: { window: '1h', percentOfLimit: 50, trip: 4 } },
      'limits.patterns.distinctAssets.trip: 4 assets can never count at once',
    ],
    [
      { distinctAssets: { window: '1h', percentOfLimit: 50, trip: 3, warn: 3 } },
      'limits.patterns.distinctAssets.warn: warn must be below trip',
    ],
    [
      { distinctAssets: { window: '1h', percentOfLimit: 150, trip: 3 } },
      'limits.patterns.distinctAssets.percentOfLimit: must be ≤ 100',
    ],
    [
      { newDestinations: { window: '1h', usd: 1, lookback: '30m' } },
      'limits.patterns.newDestinations.lookback: lookback must be longer than window',
    ],
    [{ newDestinations: { window: 'an hour', usd: 1 } }, 'limits.patterns.newDestinations.window: not a duration'],
    [{ walletProfile: { tripFactor: 1, minUsd: 1 } }, 'limits.patterns.walletProfile.tripFactor: must be > 1'],
    [
      { walletProfile: { tripFactor: 3, warnFactor: 4, minUsd: 1 } },
      'limits.patterns.walletProfile.warnFactor: warnFactor must be below tripFactor',
    ],
    [
      { walletProfile: { tripFactor: 3, minUsd: 1, minHistory: '30d' } },
      'limits.patterns.walletProfile.minHistory: minHistory must not exceed baseline',
    ],
    [
      { walletProfile: { tripFactor: 3, minUsd: 1, halt: 'everything' } },
      'limits.patterns.walletProfile.halt: expected "global" or "chain"',
    ],
  ])('%j', (patterns, message) => {
    expect(() => config(patterns as never)).toThrow(message);
  });

  it('limits.shadow must name existing rules', () => {
    expect(() => config({}, { shadow: ['global-usd-10m'] })).toThrow('limits.shadow[0]: no rule "global-usd-10m"');
  });

  it('each pattern compiles to rules with trip and warn levels', () => {
    const cfg = config({
      distinctAssets: { window: '1h', percentOfLimit: 50, trip: 3 },
      newDestinations: { window: '1h', usd: 2_000_000, shadow: true },
      walletProfile: { tripFactor: 5, minUsd: 250_000 },
    });
    const byId = new Map(cfg.rules.map((r) => [r.id, r]));
    expect(byId.get('pattern-distinct-assets-1h')).toMatchObject({ limit: 2n, warnAt: 1n, halt: { kind: 'global' } });
    expect(byId.get('pattern-new-destinations-usd-1h')).toMatchObject({
      limit: 2_000_000_000_000n,
      warnAt: 1_600_000_000_000n,
      shadow: true,
    });
    expect(byId.get(`pattern-profile-ethereum-${HOT[1]}-1h`)).toMatchObject({
      limit: 250_000_000_000n,
      halt: { kind: 'chain', chain: 'ethereum' },
    });
    // Evaluation must read far enough back for the profile: 14 days + 1 hour.
    expect(cfg.maxWindowSeconds).toBe(14 * 86_400 + 3600);
  });
});
