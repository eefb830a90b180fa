/**
 * Scores the attack corpus and the normal weeks against a config: per shape, how many variants
 * tripped, and the median and worst share of the attack already in blocks when the halt came
 * (detection: a halt stops the signer, not a thief with stolen keys — score.ts). `npm run corpus`
 * prints it and writes it into BENCHMARKS.md; corpus.test.ts asserts on the same numbers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryBreakerStore } from '../../functions/adapters/memory/memory-breaker-store.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import { isBreakerError } from '../../functions/core/errors.ts';
import { type ReplayScore, replayScenario } from '../../functions/core/replay/replay.ts';
import { parseScenario, parseScenarioText, type Scenario } from '../../functions/core/replay/scenario.ts';
import { type CorpusEntry, generateCorpus, SHAPES, type ShapeId } from './corpus.ts';

export const SHARED_SCENARIOS = join('..', 'shared', 'scenarios');
export const NORMAL_WEEKS = ['normal-week.json', 'normal-week-balances.json'] as const;
export const MULTICHAIN_DRAIN = 'synthetic-multichain-drain.json';

export interface VariantScore {
  shape: ShapeId;
  variant: number;
  score: ReplayScore;
  /** First attack outflow to the first trip, seconds; null when it never tripped. */
  firstTripAfterAttackS: number | null;
}

export interface ShapeRow {
  shape: ShapeId;
  description: string;
  variants: number;
  tripped: number;
  /** Share of the attack in blocks before the halt of its chain, 0…1. */
  medianShare: number;
  worstShare: number;
  rules: string[];
}

export interface NormalRow {
  file: string;
  /** null when the scenario parser does not accept the file yet (and why). */
  tripped: boolean | null;
  rule: string | null;
  legitBlockedUsd: number | null;
  /** The highest any rule came to its trip level (1 = trips), for the headroom claim in the README. */
  peakRatio: number | null;
  note?: string;
}

export async function replayOne(config: BreakerConfig, scenario: Scenario): Promise<ReplayScore> {
  return (await replayScenario(config, scenario, { store: new MemoryBreakerStore() })).score;
}

export async function scoreCorpus(
  config: BreakerConfig,
  corpus: CorpusEntry[] = generateCorpus(),
): Promise<VariantScore[]> {
  const scores: VariantScore[] = [];
  for (const entry of corpus) {
    const score = await replayOne(config, parseScenario(entry.scenario, entry.scenario.name));
    scores.push({
      shape: entry.shape,
      variant: entry.variant,
      score,
      firstTripAfterAttackS: score.detection.timeToTripS,
    });
  }
  return scores;
}

export function shapeRows(scores: readonly VariantScore[]): ShapeRow[] {
  return SHAPES.map((shape) => {
    const mine = scores.filter((s) => s.shape === shape.id);
    // A variant that never tripped lost all of it: share 1.
    const shares = mine.map((s) => (s.score.tripped ? (s.score.detection.attackOutBeforeTripShare ?? 1) : 1));
    return {
      shape: shape.id,
      description: shape.description,
      variants: mine.length,
      tripped: mine.filter((s) => s.score.tripped).length,
      medianShare: median(shares),
      worstShare: Math.max(...shares),
      rules: [...new Set(mine.map((s) => s.score.rule).filter((r): r is string => r !== null))].sort(),
    };
  });
}

export async function scoreNormalWeeks(config: BreakerConfig): Promise<NormalRow[]> {
  const rows: NormalRow[] = [];
  for (const file of NORMAL_WEEKS) {
    const path = join(SHARED_SCENARIOS, file);
    let scenario: Scenario;
    try {
      scenario = parseScenarioText(readFileSync(path, 'utf8'), path);
    } catch (e) {
      if (!isBreakerError(e, 'SCENARIO_INVALID')) throw e;
      const first = (e as Error).message.split('\n')[1]?.replace(/^\s*- /, '') ?? '';
      rows.push({
        file,
        tripped: null,
        rule: null,
        legitBlockedUsd: null,
        peakRatio: null,
        note: `not replayable yet: ${first}`,
      });
      continue;
    }
    const result = await replayScenario(config, scenario, { store: new MemoryBreakerStore() });
    rows.push({
      file,
      tripped: result.score.tripped,
      rule: result.score.rule,
      legitBlockedUsd: result.score.legitBlockedUsd,
      peakRatio: Math.max(0, ...result.peaks.map((p) => p.ratio)),
    });
  }
  return rows;
}

export async function scoreMultichainDrain(config: BreakerConfig): Promise<ReplayScore> {
  const path = join(SHARED_SCENARIOS, MULTICHAIN_DRAIN);
  return replayOne(config, parseScenarioText(readFileSync(path, 'utf8'), path));
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function percent(share: number): string {
  return `${(Math.round(share * 1000) / 10).toFixed(1)} %`;
}
