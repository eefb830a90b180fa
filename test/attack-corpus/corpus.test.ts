import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { compileConfig, loadConfigFile } from '../../functions/adapters/config/config-file.ts';
import { parseScenario } from '../../functions/core/replay/scenario.ts';
import { CORPUS_SEED, generateCorpus, SHAPES } from './corpus.ts';
import { scoreCorpus, scoreMultichainDrain, scoreNormalWeeks, shapeRows } from './score-corpus.ts';

const EXAMPLE = join('config', 'example.yaml');
const example = loadConfigFile(EXAMPLE);
const corpus = generateCorpus();

describe('the attack corpus', () => {
  it('is deterministic from its seed, valid scenario@1, and spans every shape with attack and ordinary traffic', () => {
    expect(JSON.stringify(generateCorpus())).toBe(JSON.stringify(corpus));
    expect(JSON.stringify(generateCorpus(CORPUS_SEED + 1))).not.toBe(JSON.stringify(corpus));
    expect(new Set(corpus.map((e) => e.shape))).toEqual(new Set(SHAPES.map((s) => s.id)));
    for (const entry of corpus) {
      const scenario = parseScenario(entry.scenario, entry.scenario.name);
      const attack = scenario.events.filter((e) => e.label === 'attack');
      expect(attack.length, entry.scenario.name).toBeGreaterThan(0);
      // Ordinary withdrawals come first: a trip before the attack would be a false one.
      const firstAttack = Math.min(...attack.map((e) => e.t));
      expect(
        scenario.events.some((e) => e.label === 'legit' && e.t < firstAttack),
        entry.scenario.name,
      ).toBe(true);
    }
  });

  it('shapes are what they claim: unlisted tokens are unlisted, approved withdrawals go through the signer', () => {
    const listed = new Set(
      [...example.chains.values()].flatMap((c) => [c.native.symbol, ...[...c.tokens.values()].map((t) => t.symbol)]),
    );
    for (const entry of corpus.filter((e) => e.shape === 'unlisted-tokens'))
      for (const e of entry.scenario.events.filter((x) => x.label === 'attack'))
        expect(listed.has(e.asset)).toBe(false);
    for (const entry of corpus.filter((e) => e.shape === 'approved-withdrawals'))
      for (const e of entry.scenario.events.filter((x) => x.label === 'attack'))
        expect(e).toMatchObject({ via: 'signer', approved: true });
    for (const entry of corpus.filter((e) => e.shape === 'one-huge-transfer'))
      expect(entry.scenario.events.filter((x) => x.label === 'attack')).toHaveLength(1);
  });
});

describe('config/example.yaml against the corpus and the normal weeks', () => {
  it('every variant of every shape trips, never before its attack began', async () => {
    const scores = await scoreCorpus(example, corpus);
    for (const s of scores) {
      expect(s.score.tripped, `${s.shape}-${s.variant}`).toBe(true);
      expect(s.firstTripAfterAttackS, `${s.shape}-${s.variant}`).toBeGreaterThanOrEqual(0);
      // Ordinary withdrawals before the attack were never blocked by a false trip.
      expect(s.score.legitBlockedUsd, `${s.shape}-${s.variant}`).toBeLessThan(s.score.legitUsd);
    }
    const rows = shapeRows(scores);
    for (const row of rows) expect(row.tripped, row.shape).toBe(row.variants);
    // The halt stops the signer: a drain through the exchange's own withdrawal system is mostly prevented.
    const approved = scores.filter((s) => s.shape === 'approved-withdrawals');
    for (const s of approved)
      expect(s.score.preventedUsd, `variant ${s.variant}`).toBeGreaterThan(s.score.attackUsd * 0.8);
  }, 120_000);

  it('the normal weeks trip nothing and block no withdrawal', async () => {
    const rows = await scoreNormalWeeks(example);
    const replayed = rows.filter((r) => r.tripped !== null);
    // normal-week.json always parses; normal-week-balances.json once the parser reads balances and inflows.
    expect(replayed.map((r) => r.file)).toContain('normal-week.json');
    for (const row of replayed) {
      expect(row, row.file).toMatchObject({ tripped: false, legitBlockedUsd: 0 });
      // The README's headroom claim: no rule comes within half of its trip level, so no warning page.
      expect(row.peakRatio, row.file).toBeLessThan(0.5);
    }
  }, 120_000);

  it('the synthetic multi-chain drain loses at most 5 % before the trip', async () => {
    const score = await scoreMultichainDrain(example);
    expect(score.tripped).toBe(true);
    expect(score.detection.attackOutBeforeTripShare).toBeLessThanOrEqual(0.05);
  });

  it('without reconciliation and the watermark, the limits and patterns alone still catch the loud shapes', async () => {
    // The table's right-hand columns: the defence before any signer records approvals and nonces.
    const raw = parseYaml(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>;
    delete raw.reconciliation;
    delete raw.watermark;
    const limitsOnly = compileConfig(raw, 'example, limits and patterns only');
    const loud = corpus.filter((e) =>
      ['stablecoins-first', 'many-assets-at-once', 'one-huge-transfer', 'approved-withdrawals'].includes(e.shape),
    );
    for (const s of await scoreCorpus(limitsOnly, loud)) expect(s.score.tripped, `${s.shape}-${s.variant}`).toBe(true);
    // Unlisted tokens have no price the config knows: the balance-drawdown rule (no price needed) catches them.
    const unlisted = await scoreCorpus(
      limitsOnly,
      corpus.filter((e) => e.shape === 'unlisted-tokens'),
    );
    for (const s of unlisted)
      expect(s.score.rule, `unlisted-tokens-${s.variant}`).toMatch(/^pattern-(drawdown|emptied)-/);
  }, 120_000);
});
