import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { compileConfig, loadConfigFile } from '../../functions/adapters/config/config-file.ts';
import { MemoryBreakerStore } from '../../functions/adapters/memory/memory-breaker-store.ts';
import { usdToMicros } from '../../functions/core/amounts.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import { type ReplayOptions, replayScenario } from '../../functions/core/replay/replay.ts';
import { parseScenario, parseScenarioText, type Scenario } from '../../functions/core/replay/scenario.ts';

const SCENARIOS = join('..', 'shared', 'scenarios');
const NORMAL_WEEK = join(SCENARIOS, 'normal-week.json');
const DRAIN = join(SCENARIOS, 'synthetic-multichain-drain.json');
const EXAMPLE = join('test', 'fixtures', 'config', 'limits-only.yaml');
const out = mkdtempSync(join(tmpdir(), 'replay-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const example = loadConfigFile(EXAMPLE);

function scenarioFile(path: string): Scenario {
  return parseScenarioText(readFileSync(path, 'utf8'), path);
}

async function replay(
  config: BreakerConfig,
  scenario: Scenario,
  options: ReplayOptions = {},
  store = new MemoryBreakerStore(),
) {
  return { result: await replayScenario(config, scenario, { store }, options), store };
}

/** The example config with edits to its parsed YAML. */
type RawConfig = { limits: Record<string, unknown> } & Record<string, unknown>;

function exampleWith(edit: (raw: RawConfig) => void): BreakerConfig {
  const raw = parseYaml(readFileSync(EXAMPLE, 'utf8')) as RawConfig;
  edit(raw);
  return compileConfig(raw, 'edited example');
}

/** The smallest global USD limit of a config, in dollars (windowed or single-transaction). */
function smallestGlobalUsdLimit(config: BreakerConfig): number {
  const limits = config.rules
    .filter((r) => r.subject.kind === 'global' && r.measure.kind === 'usd')
    .map((r) => Number(r.limit) / 1e6);
  return Math.min(...limits);
}

function largestAttackTransferUsd(scenario: Scenario): number {
  return Math.max(
    ...scenario.events
      .filter((e) => e.label === 'attack')
      .map(
        (e) =>
          Number(
            e.usdMicros ??
              (BigInt(Math.round(Number(e.amount) * 1e6)) * (scenario.prices.get(e.asset) ?? 0n)) / 1_000_000n,
          ) / 1e6,
      ),
  );
}

const tiny = (
  events: object[],
  prices: Record<string, number> = { ETH: 3300, USDT: 1, BNB: 650, SOL: 200 },
): Scenario => parseScenario({ format: 'hot-wallet-breaker/scenario@1', name: 'tiny', prices, events });

describe('expected results with the limits-only example (test/fixtures/config/limits-only.yaml)', () => {
  it('normal-week.json does not trip, and no legit withdrawal is blocked', async () => {
    const scenario = scenarioFile(NORMAL_WEEK);
    const { result } = await replay(example, scenario);
    expect(result.score).toMatchObject({
      scenario: 'normal-week',
      tripped: false,
      trippedAtS: null,
      rule: null,
      attackUsd: 0,
      lostUsd: 0,
      preventedUsd: 0,
      legitBlockedUsd: 0,
      events: 20_072,
    });
    expect(result.score.legitUsd).toBeGreaterThan(60_000_000);
    expect(result.trips).toEqual([]);
    // Headroom: no rule reached its trip level.
    for (const peak of result.peaks) expect(peak.ratio, peak.rule.id).toBeLessThan(1);
  });

  it('synthetic-multichain-drain.json (stolen keys) is detected at its first large transfer, and a halt prevents none of it', async () => {
    const scenario = scenarioFile(DRAIN);
    const { result, store } = await replay(example, scenario);
    const s = result.score;
    expect(s.tripped).toBe(true);
    expect(s.rule).toMatch(/^global-/);
    // The first large transfer (t = 10805.9 s on Ethereum) is seen after 2 confirmations × 12 s + a 12 s poll.
    expect(s.trippedAtS).toBeCloseTo(10_805.9 + 36, 6);
    // The thief signs with the hot keys, not through the halted signer: everything is lost.
    expect(s.stolenKeyAttackUsd).toBe(s.attackUsd);
    expect(s.preventedUsd).toBe(0);
    expect(s.lostUsd).toBe(s.attackUsd);
    // Detection: an hour after the $50 test transfer (t = 7200 s); what was in blocks by then, under a quarter.
    expect(s.detection.firstAttackAtS).toBe(7200);
    expect(s.detection.timeToTripS).toBeCloseTo(10_805.9 + 36 - 7200, 6);
    expect(s.detection.attackOutBeforeTripUsd).toBeLessThanOrEqual(
      smallestGlobalUsdLimit(example) + 36 * largestAttackTransferUsd(scenario),
    );
    expect(s.detection.attackOutBeforeTripShare).toBeCloseTo(s.detection.attackOutBeforeTripUsd / s.attackUsd, 3);
    expect(s.detection.attackOutBeforeTripShare).toBeLessThan(0.25);
    // Attack outflows after the halt still happened: the breaker observed every one of them.
    const seen = new Set(result.evaluator.recordsSince(Number.NEGATIVE_INFINITY).map((r) => r.index));
    const attacks = scenario.events.filter((e) => e.label === 'attack');
    expect(attacks.filter((e) => !seen.has(e.index))).toEqual([]);
    // …so production's escalation page (outflows continue after the halt: the keys are compromised) goes out.
    expect(result.pages.filter((p) => p.kind === 'escalation')).toHaveLength(1);
    // The production effects happened on the store: the global halt, its audit record, one trip page.
    const state = await store.getState();
    expect(Object.keys(state.tripped)).toEqual(['global']);
    expect(state.outbox).toEqual([]);
    const audit = await store.listAudit(10);
    expect(audit.map((a) => a.action)).toContain('trip');
    const trips = result.pages.filter((p) => p.kind === 'trip');
    expect(trips).toHaveLength(1);
    expect(trips[0]?.subject).toContain(s.rule as string);
    expect(trips[0]?.text).toContain('https://etherscan.io/tx/0x');
  });

  it('the same drain through the exchange signer (attackVia: signer) is stopped by the halt: lost ≤ the smallest global USD limit plus one transfer', async () => {
    const raw = JSON.parse(readFileSync(DRAIN, 'utf8'));
    const scenario = parseScenario({ ...raw, attackVia: 'signer' }, 'drain via signer');
    const { result } = await replay(example, scenario);
    const s = result.score;
    expect(s.trippedAtS).toBeCloseTo(10_805.9 + 36, 6);
    expect(s.stolenKeyAttackUsd).toBe(0);
    expect(s.lostUsd).toBeLessThanOrEqual(smallestGlobalUsdLimit(example) + largestAttackTransferUsd(scenario));
    expect(s.lostUsd + s.preventedUsd).toBeCloseTo(s.attackUsd, 2);
    expect(s.preventedUsd).toBeGreaterThan(0.9 * s.attackUsd);
    // Through the halted signer nothing continues after the halt: no escalation page.
    expect(result.pages.filter((p) => p.kind === 'escalation')).toEqual([]);
    // Detection does not depend on who signed: same trip, same share out before it.
    const stolen = (await replay(example, scenarioFile(DRAIN))).result.score;
    expect(s.detection).toEqual(stolen.detection);
  });

  it('the batch evaluator (evaluateRules over the ledger) gives the same result, pages and audit', async () => {
    const scenario = scenarioFile(DRAIN);
    const incremental = await replay(example, scenario);
    const batch = await replay(example, scenario, { evaluator: 'batch' });
    expect(batch.result.score).toEqual(incremental.result.score);
    expect(batch.result.trips).toEqual(incremental.result.trips);
    expect(batch.result.warnings).toEqual(incremental.result.warnings);
    expect(batch.result.pages).toEqual(incremental.result.pages);
    expect(await batch.store.listAudit(100)).toEqual(await incremental.store.listAudit(100));
  });

  it('gives the same results through the CLI (breaker replay --json)', async () => {
    const run = promisify(execFile);
    const cli = (scenario: string) =>
      run(
        process.execPath,
        ['--import', 'tsx', 'functions/local/cli.ts', 'replay', scenario, '--config', EXAMPLE, '--json'],
        {
          timeout: 60_000,
        },
      );
    const [week, drain] = await Promise.all([cli(NORMAL_WEEK), cli(DRAIN)]);
    const weekScore = JSON.parse(week.stdout);
    const drainScore = JSON.parse(drain.stdout);
    expect(Object.keys(drainScore)).toEqual([
      'scenario',
      'tripped',
      'trippedAtS',
      'rule',
      'attackUsd',
      'lostUsd',
      'preventedUsd',
      'stolenKeyAttackUsd',
      'legitUsd',
      'legitBlockedUsd',
      'events',
      'detection',
    ]);
    expect(weekScore.tripped).toBe(false);
    expect(drainScore).toEqual((await replay(example, scenarioFile(DRAIN))).result.score);
  });

  it('writes the rolling totals against limits as an SVG chart', async () => {
    const { run } = await import('../../functions/local/commands/replay.ts');
    const svg = join(out, 'drain.svg');
    const write = process.stdout.write;
    let printed = '';
    process.stdout.write = ((chunk: string) => {
      printed += chunk;
      return true;
    }) as typeof process.stdout.write;
    try {
      expect(await run([DRAIN, '--config', EXAMPLE, '--svg', svg])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    const text = readFileSync(svg, 'utf8');
    expect(text).toMatch(/^<svg /);
    expect(text).toContain('<polyline');
    expect(text).toContain('TRIP global-');
    expect(printed).toContain('TRIPPED');
    expect(printed).toContain('global-usd-10m');
  });
});

describe('replay semantics (FORMAT.md)', () => {
  it('never reads label: relabelling every event changes the score, not the breaker', async () => {
    const scenario = scenarioFile(DRAIN);
    const flipped: Scenario = {
      ...scenario,
      events: scenario.events.map((e) => ({ ...e, label: e.label === 'attack' ? 'legit' : 'attack' })),
    };
    const a = await replay(example, scenario);
    const b = await replay(example, flipped);
    expect(b.result.trips).toEqual(a.result.trips);
    expect(b.result.pages).toEqual(a.result.pages);
    expect(await b.store.getState()).toEqual(await a.store.getState());
    expect(b.result.score.attackUsd).toBeCloseTo(a.result.score.legitUsd, 2);
  });

  it('observes each event at t plus its chain detection delay, in any file order', async () => {
    // Ethereum: 2 × 12 s + 12 s = 36 s; BSC: 3 × 0.45 s + a 3 s poll = 4.35 s. $1.2M in one transfer breaks the $1M single-transfer limit.
    const eth = await replay(
      example,
      tiny([{ t: 100, chain: 'ethereum', asset: 'USDT', amount: '1200000', to: '0xbad' }]),
    );
    expect(eth.result.score.trippedAtS).toBe(136);
    const bsc = await replay(example, tiny([{ t: 100, chain: 'bsc', asset: 'USDT', amount: '1200000', to: '0xbad' }]));
    expect(bsc.result.score.trippedAtS).toBe(104.35);
    const events = [
      { t: 900, chain: 'ethereum', asset: 'ETH', amount: '1', label: 'attack', via: 'signer' },
      { t: 100, chain: 'ethereum', asset: 'USDT', usd: 1_200_000, label: 'attack', via: 'signer' },
      { t: 120, chain: 'ethereum', asset: 'ETH', amount: '2', label: 'attack', via: 'signer' },
      { t: 136, chain: 'ethereum', asset: 'ETH', amount: '3', label: 'attack', via: 'signer' },
    ];
    const { result } = await replay(example, tiny(events));
    expect(result.score.trippedAtS).toBe(136);
    // Lost: what was observed at or before the trip (FORMAT.md) — only the t = 100 transfer; the ETH at
    // t = 120 and 136 is seen at 156 and 172, after the halt, so it counts as prevented…
    expect(result.score.lostUsd).toBe(1_200_000);
    expect(result.score.preventedUsd).toBe(6 * 3300);
    // …though it was already in blocks when the halt came: detection counts it as out before the trip.
    expect(result.score.detection).toEqual({
      firstAttackAtS: 100,
      timeToTripS: 36,
      attackOutBeforeTripUsd: 1_200_000 + 2 * 3300 + 3 * 3300,
      attackOutBeforeTripShare: Math.floor(((1_200_000 + 5 * 3300) / (1_200_000 + 6 * 3300)) * 10_000) / 10_000,
    });
    // The same events signed with stolen keys: the halt stops nothing, and the breaker sees every one.
    const stolen = await replay(example, tiny(events.map(({ via: _, ...e }) => e)));
    expect(stolen.result.score).toMatchObject({ trippedAtS: 136, preventedUsd: 0, lostUsd: 1_200_000 + 6 * 3300 });
    expect(stolen.result.score.stolenKeyAttackUsd).toBe(1_200_000 + 6 * 3300);
    expect(stolen.result.counts).toMatchObject({ observed: 4, prevented: 0 });
  });

  it('scores events on chains the config does not watch: lost before the trip, prevented after a global halt', async () => {
    // Tron is not a chain the example config watches.
    const events = [
      { t: 50, chain: 'tron', asset: 'TRX', usd: 100_000, label: 'attack' },
      { t: 100, chain: 'ethereum', asset: 'USDT', amount: '1200000', label: 'attack' },
      { t: 200, chain: 'tron', asset: 'TRX', usd: 200_000, label: 'attack' },
    ];
    const viaSigner = await replay(example, tiny(events.map((e) => ({ ...e, via: 'signer' }))));
    expect(viaSigner.result.counts).toMatchObject({ observed: 1, unobserved: 2 });
    expect(viaSigner.result.score).toMatchObject({ trippedAtS: 136, lostUsd: 1_300_000, preventedUsd: 200_000 });
    // With stolen keys (the default for attack events) the halt stops the Tron transfer no more than any other.
    const { result } = await replay(example, tiny(events));
    expect(result.score).toMatchObject({ trippedAtS: 136, lostUsd: 1_500_000, preventedUsd: 0 });
  });

  it('--observe-all-chains: unwatched chains are seen 60 s after t and count toward global USD rules only', async () => {
    // 4000 SOL = $800k and 4000 SOL more: neither is a single transfer over $1M; together $1.6M > the $1.5M
    // 10-minute limit. 200 transfers of $1 each would break the 150-transfer count limit if counted — they must not be.
    const dust = Array.from({ length: 200 }, (_, i) => ({ t: 10 + i, chain: 'tron', asset: 'TRX', usd: 1 }));
    const events = [
      ...dust,
      { t: 400, chain: 'solana', asset: 'SOL', amount: '4000', label: 'attack' },
      { t: 450, chain: 'solana', asset: 'SOL', amount: '4000', label: 'attack' },
    ];
    const watchedOnly = await replay(example, tiny(events));
    expect(watchedOnly.result.score.tripped).toBe(false);
    const all = await replay(example, tiny(events), { observeAllChains: true });
    expect(all.result.score).toMatchObject({
      tripped: true,
      trippedAtS: 510,
      rule: 'global-usd-10m',
      lostUsd: 1_600_000,
    });
  });

  it('an aggregate row counts toward windows but is not one transfer for single-transaction rules', async () => {
    const row = { t: 100, chain: 'bsc', asset: 'USDT', usd: 1_100_000, label: 'attack' };
    const single = await replay(example, tiny([row]));
    expect(single.result.score.rule).toBe('global-single-tx-usd');
    const aggregate = await replay(example, tiny([{ ...row, aggregate: true }]));
    // Not a single $1.1M transfer — but $1.1M in 10 minutes is still over BSC's $400k limit.
    expect(aggregate.result.trips.map((t) => t.ruleId)).toEqual(['chain-bsc-usd-10m']);
  });

  it('values unknown assets as configured, and usd overrides the scenario prices', async () => {
    const { result } = await replay(
      example,
      tiny([
        { t: 1, chain: 'ethereum', asset: 'PEPE', amount: '1000000', label: 'legit' },
        { t: 2, chain: 'ethereum', asset: 'ETH', amount: '10', usd: 50_000 },
      ]),
    );
    const records = result.evaluator.recordsSince(0);
    expect(records.map((r) => [r.asset, r.usdMicros, r.priceSource])).toEqual([
      ['UNKNOWN', usdToMicros(10_000), 'unknown-asset'],
      ['ETH', usdToMicros(50_000), 'scenario'],
    ]);
    // Scoring uses the scenario's own figure when it has one; PEPE has none, so the configured value.
    expect(result.score.legitUsd).toBe(60_000);
  });

  it('defaults from to the chain first hot wallet; events from wallets the config does not watch are not observed', async () => {
    const { result } = await replay(
      example,
      tiny([
        { t: 1, chain: 'ethereum', asset: 'ETH', amount: '1' },
        { t: 2, chain: 'ethereum', asset: 'ETH', amount: '1', from: '0x21a31ee1afc51d94c2efccaa2092ad1028285549' },
        { t: 3, chain: 'ethereum', asset: 'ETH', amount: '1', from: '0x0000000000000000000000000000000000000bad' },
      ]),
    );
    expect(result.evaluator.recordsSince(0).map((r) => r.from)).toEqual([
      '0x28c6c06298d514db089934071355e5743bf21d60',
      '0x21a31ee1afc51d94c2efccaa2092ad1028285549',
    ]);
    expect(result.counts).toMatchObject({ observed: 2, unobserved: 1 });
  });

  it('synthesises a unique transaction id per event and carries approved', async () => {
    const scenario = tiny([
      { t: 1, chain: 'ethereum', asset: 'ETH', amount: '1', tx: '0xabc' },
      { t: 1, chain: 'ethereum', asset: 'ETH', amount: '1', tx: '0xabc' },
      { t: 1, chain: 'ethereum', asset: 'ETH', amount: '1' },
      { t: 1, chain: 'ethereum', asset: 'ETH', amount: '1', label: 'attack' },
    ]);
    expect(scenario.events.map((e) => e.approved)).toEqual([true, true, true, false]);
    // Who signed: legit always the signer; attack by via, else attackVia, else stolen keys. The guard
    // records what it approves, so an attack through the signer is approved by default.
    const attack = { t: 1, chain: 'ethereum', asset: 'ETH', amount: '1', label: 'attack' };
    const signed = parseScenario({
      format: 'hot-wallet-breaker/scenario@1',
      name: 'via',
      attackVia: 'signer',
      events: [attack, { ...attack, via: 'stolen-key' }, { ...attack, approved: false }],
    });
    expect(signed.events.map((e) => [e.via, e.approved])).toEqual([
      ['signer', true],
      ['stolen-key', false],
      ['signer', false],
    ]);
    expect(scenario.events.map((e) => e.via)).toEqual(['signer', 'signer', 'signer', 'stolen-key']);
    const { result } = await replay(example, scenario);
    const ids = result.evaluator.recordsSince(0).map((r) => r.id);
    expect(new Set(ids).size).toBe(4);
    expect(result.counts.unapprovedObserved).toBe(1);
  });

  it('with reconciliation on, an outflow the scenario marks unapproved trips at any size', async () => {
    const config = exampleWith((raw) => {
      raw.reconciliation = { enabled: true };
    });
    const { result } = await replay(config, scenarioFile(DRAIN));
    // The thief's $50 test transfer (label attack, so approved defaults to false) is the first unapproved outflow:
    // detected with $50 out, an hour before the main wave — which a halt does not stop (stolen keys).
    expect(result.score).toMatchObject({ tripped: true, trippedAtS: 7200 + 36, preventedUsd: 0 });
    expect(result.score.detection).toMatchObject({ timeToTripS: 36, attackOutBeforeTripUsd: 50 });
    expect(result.score.lostUsd).toBe(result.score.attackUsd);
    expect(result.score.rule).toMatch(/unapproved|reconcil/);
    // The thief keeps sending after the halt, so every attack outflow is observed, unapproved.
    const attacks = scenarioFile(DRAIN).events.filter((e) => e.label === 'attack');
    expect(result.counts.unapprovedObserved).toBe(attacks.length);
  });

  it('with the nonce watermark on, the first stolen-key transaction trips one poll after its block; signer traffic never does', async () => {
    const config = exampleWith((raw) => {
      raw.watermark = { enabled: true };
    });
    const { result } = await replay(config, scenarioFile(DRAIN));
    // The thief's $50 test transfer at t = 7200 s on Ethereum, seen by the next 12 s poll of the latest block.
    expect(result.score).toMatchObject({ tripped: true, trippedAtS: 7200 + 12, rule: 'watermark-ethereum-nonce' });
    expect(result.score.detection).toMatchObject({ timeToTripS: 12, attackOutBeforeTripUsd: 50 });
    expect(result.score.preventedUsd).toBe(0);
    expect(result.pages.find((p) => p.kind === 'trip')?.details).toMatchObject({ stolenKeySignal: true });
    // The same timeline through the signer: every transaction had its nonce approved, so no watermark trip.
    const raw = JSON.parse(readFileSync(DRAIN, 'utf8'));
    const viaSigner = await replay(config, parseScenario({ ...raw, attackVia: 'signer' }, 'via signer'));
    expect(viaSigner.result.trips.map((t) => t.ruleId)).not.toContain('watermark-ethereum-nonce');
    const week = await replay(config, scenarioFile(NORMAL_WEEK));
    expect(week.result.score.tripped).toBe(false);
  });

  it('with the outpoint watermark on Bitcoin, the first stolen-key spend trips when its block is read; pending: at its block time', async () => {
    const bitcoinOnly = (pending: boolean) =>
      exampleWith((raw) => {
        raw.watermark = { enabled: true, chains: ['bitcoin'], halt: 'chain', pending };
      });
    const drain = scenarioFile(DRAIN);
    const first = drain.events.find((e) => e.chain === 'bitcoin' && e.via === 'stolen-key');
    const chain = bitcoinOnly(false).chains.get('bitcoin')!;
    for (const [pending, delay] of [
      [false, chain.confirmations * chain.blockTimeSeconds + chain.pollIntervalSeconds],
      [true, 0],
    ] as const) {
      const { result } = await replay(bitcoinOnly(pending), drain);
      const trip = result.trips.find((t) => t.ruleId === 'watermark-bitcoin-outpoint');
      expect(trip, `pending ${pending}`).toMatchObject({ scope: 'chain:bitcoin' });
      expect(trip?.atS).toBeCloseTo(first!.t + delay, 6);
      const page = result.pages.find((p) => p.details.rule === 'watermark-bitcoin-outpoint');
      expect(page?.details).toMatchObject({ stolenKeySignal: true, transactionCount: 1 });
    }
    // Through the signer every spend's outpoints were approved: no outpoint trip.
    const raw = JSON.parse(readFileSync(DRAIN, 'utf8'));
    const viaSigner = await replay(bitcoinOnly(false), parseScenario({ ...raw, attackVia: 'signer' }, 'via signer'));
    expect(viaSigner.result.trips.map((t) => t.ruleId)).not.toContain('watermark-bitcoin-outpoint');
  });

  it('a shadow rule pages "would have tripped" and is audited, but halts nothing', async () => {
    const config = exampleWith((raw) => {
      raw.limits.shadow = [
        'global-usd-10m',
        'global-single-tx-usd',
        'chain-ethereum-usd-10m',
        'asset-ethereum-USDT-units-1h',
      ];
    });
    const { result, store } = await replay(config, scenarioFile(DRAIN));
    const shadowed = result.shadowTrips.map((t) => t.ruleId);
    expect(shadowed).toEqual(expect.arrayContaining(['global-usd-10m', 'global-single-tx-usd']));
    const state = await store.getState();
    for (const id of shadowed) expect(Object.values(state.tripped).map((t) => t.ruleId)).not.toContain(id);
    const audit = await store.listAudit(100);
    expect(audit.filter((a) => a.action === 'shadow-trip').map((a) => a.details.ruleId)).toEqual(
      expect.arrayContaining(shadowed),
    );
    const page = result.pages.find((p) => p.subject.startsWith('[SHADOW]'));
    expect(page?.text).toContain('would have tripped');
    // Enforced rules still trip (later), so the shadow trips came first.
    expect(result.score.tripped).toBe(true);
    expect(result.score.trippedAtS).toBeGreaterThan(result.shadowTrips[0]?.atS as number);
  });
});

describe('malformed scenarios: each error names the event and the field', () => {
  const base = { t: 0, chain: 'ethereum', asset: 'ETH', amount: '1' };
  it.each([
    [{ ...base, amount: 12.5 }, 'events[1].amount: not a decimal string'],
    [{ ...base, amount: '1e5' }, 'events[1].amount: not a decimal string'],
    [{ ...base, amount: '-3' }, 'events[1].amount: not a decimal string'],
    [{ ...base, t: -1 }, 'events[1].t: must be a finite number ≥ 0'],
    [{ ...base, t: '5' }, 'events[1].t: expected a number of seconds since the scenario start'],
    [{ t: 0, chain: 'ethereum', asset: 'ETH' }, 'events[1]: needs amount or usd (or both)'],
    [{ ...base, usd: -5 }, 'events[1].usd: not a non-negative USD amount'],
    [{ ...base, label: 'thief' }, 'events[1].label: expected "legit" or "attack"'],
    [{ ...base, approved: 'yes' }, 'events[1].approved: expected true or false'],
    [{ ...base, label: 'attack', via: 'thief' }, 'events[1].via: expected "signer" or "stolen-key"'],
    [{ ...base, via: 'stolen-key' }, 'events[1].via: a customer withdrawal (label legit) goes through the signer'],
    [{ ...base, aggregate: 1 }, 'events[1].aggregate: expected true or false'],
    [{ ...base, chain: '' }, 'events[1].chain: must not be empty'],
    [{ ...base, lable: 'attack' }, 'events[1].lable: unknown field'],
    [{ amount: '1' }, 'events[1].t: expected a number of seconds since the scenario start'],
    ['not an event', 'events[1]: expected an event object'],
  ])('%j → %s', (bad, message) => {
    const doc = { format: 'hot-wallet-breaker/scenario@1', name: 'bad', events: [base, bad] };
    expect(() => parseScenario(doc, 'bad.json')).toThrow(message);
  });

  it('reports every bad event at once, and the file-level fields', () => {
    try {
      parseScenario(
        { format: 'scenario@0', name: 'x', prices: { ETH: 0 }, events: [{ t: 1 }, base, { ...base, amount: 'one' }] },
        'f.json',
      );
      expect.unreachable();
    } catch (e) {
      const issues = (e as { issues: string[] }).issues;
      expect(issues).toEqual(
        expect.arrayContaining([
          'format: expected "hot-wallet-breaker/scenario@1"',
          'prices.ETH: must be > 0',
          'events[0].chain: expected a chain id string',
          'events[2].amount: not a decimal string',
        ]),
      );
      expect((e as Error).message).toMatch(/^f\.json: invalid scenario/);
    }
  });

  it('the CLI prints the error naming event and field and exits 2', async () => {
    const file = join(out, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({
        format: 'hot-wallet-breaker/scenario@1',
        name: 'bad',
        events: [base, base, { ...base, amount: 'x' }],
      }),
    );
    const { run } = await import('../../functions/local/commands/replay.ts');
    const write = process.stderr.write;
    let printed = '';
    process.stderr.write = ((chunk: string) => {
      printed += chunk;
      return true;
    }) as typeof process.stderr.write;
    try {
      expect(await run([file, '--json'])).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(printed).toContain('events[2].amount: not a decimal string');
  });

  it('rejects text that is not JSON', () => {
    expect(() => parseScenarioText('{ nope', 's.json')).toThrow(/s\.json: invalid scenario\n {2}- not valid JSON/);
  });
});
