import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { generateCorpus } from '../attack-corpus/corpus.ts';

const run = promisify(execFile);
const SCENARIOS = join('..', 'shared', 'scenarios');
const NORMAL_WEEK = join(SCENARIOS, 'normal-week.json');
const DRAIN = join(SCENARIOS, 'synthetic-multichain-drain.json');
const dir = mkdtempSync(join(tmpdir(), 'tune-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tune(args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'functions/local/cli.ts', 'tune', ...args], { timeout: 120_000 });
}

interface TuneJson {
  outflows: number;
  headroom: number;
  proposals: { ruleId: string; peak: string; proposed: string; percentileValue: string | null; historyAbove: number }[];
  limits: { global: { usd: Record<string, number> } };
  scores: {
    scenario: string;
    current: { tripped: boolean };
    proposed: { tripped: boolean; legitBlockedUsd: number; rule: string | null };
  }[];
}

describe('breaker tune on real scenario files', () => {
  it('proposes limits from normal-week.json that the week itself never trips, and that trip on the attacks given', async () => {
    // One corpus shape that slips under the example's chain limits, to show tuning can tighten what matters.
    const chains = generateCorpus().find((e) => e.shape === 'chains-within-minutes');
    const chainsFile = join(dir, 'chains-within-minutes.json');
    writeFileSync(chainsFile, JSON.stringify(chains?.scenario));
    const { stdout } = await tune([
      NORMAL_WEEK,
      '--attack',
      DRAIN,
      '--attack',
      chainsFile,
      '--headroom',
      '2',
      '--json',
    ]);
    const out = JSON.parse(stdout) as TuneJson;
    expect(out.outflows).toBe(20_072);
    expect(out.headroom).toBe(2);
    // A week cannot resolve one false trip a year: every limit is the week's peak × 2, rounded up.
    for (const p of out.proposals) {
      expect(p.percentileValue, p.ruleId).toBeNull();
      expect(BigInt(p.proposed), p.ruleId).toBeGreaterThanOrEqual(2n * BigInt(p.peak));
      expect(p.historyAbove, p.ruleId).toBe(0);
    }
    // normal-week's busiest 10 minutes were $480,276.83: × 2 → $960,553.66 → $970,000.
    expect(out.limits.global.usd['10m']).toBe(970_000);
    // BSC's busiest hour was $84,741.06: × 2 → $170,000 (the example allows $800,000).
    expect(out.proposals.find((p) => p.ruleId === 'chain-bsc-usd-1h')?.proposed).toBe(String(170_000n * 1_000_000n));
    const [week, drain, chainsScore] = out.scores;
    expect(week).toMatchObject({ scenario: 'normal-week', proposed: { tripped: false, legitBlockedUsd: 0 } });
    expect(drain?.proposed.tripped).toBe(true);
    expect(chainsScore?.current.tripped).toBe(false);
    expect(chainsScore?.proposed.tripped).toBe(true);
  }, 180_000);

  it('prints the change and a YAML snippet of limits that the config accepts', async () => {
    const { stdout } = await tune([NORMAL_WEEK, '--windows', '10m,1h']);
    expect(stdout).toMatch(/global-usd-10m\s+\$1,500,000\.00\s+\$970,000\.00\s+peak \$480,276\.83/);
    const yaml = stdout.slice(stdout.indexOf('  limits:'), stdout.indexOf('Scored by replay'));
    const snippet = parseYaml(yaml.replace(/^ {2}/gm, '')) as { limits: { global: { usd: Record<string, number> } } };
    expect(snippet.limits.global.usd).toEqual({ '10m': 970_000, '1h': 1_800_000 });
  }, 120_000);

  it('rejects bad options with a message naming them', async () => {
    const failure = await tune([NORMAL_WEEK, '--headroom', '0.5', '--false-trips-per-year=-1']).catch((e) => e);
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain('--headroom: expected a number ≥ 1, got "0.5"');
    expect(failure.stderr).toContain('--false-trips-per-year: expected a number > 0, got "-1"');
    const none = await tune([]).catch((e) => e);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('give one history scenario file, or --store');
  }, 60_000);
});
