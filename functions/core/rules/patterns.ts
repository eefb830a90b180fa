import type { OutflowRecord } from '../model.ts';
import type { AffectedSpan, Breach } from './breach.ts';
import { type AssetWindow, balanceAssetKey, balanceMeasure } from './kinds/balance-drawdown.ts';
import { singleTransfer } from './kinds/single-transfer.ts';
import { windowSum } from './kinds/window-sum.ts';
import { largestFirst, lowerBound, upperBound } from './order.ts';
import type { DistinctAssetLimit, PatternMeasure, Rule } from './rule.ts';
import { ruleKindOf } from './rule-kinds.ts';

/**
 * Drain patterns: what a thief's outflows look like beyond any one fixed limit. Each is a window
 * measure evaluated exactly like the fixed limits (every window (T − W, T] ending at an outflow
 * time T the new outflows affect; the first window above the trip level trips, else the highest
 * above the warn level warns):
 *
 *  - distinct assets: how many assets each sent more than x% of their own units limit in the
 *    window. A drain empties stablecoins, then ETH, then BNB — each below its own limit.
 *  - new destinations: USD sent in the window to destinations that are new, i.e. received
 *    nothing in [t − lookback, t − W] before the outflow at t (first paid less than one window ago).
 *    "Seen" is per chain; EVM addresses compare case-insensitively.
 *  - wallet profile: a hot wallet's USD in the window against factor × the percentile of its own
 *    totals per aligned window-sized bucket over the trailing baseline (the n = baseline / W
 *    buckets before the one T falls in, quiet buckets counting as 0). Silent until the wallet has
 *    an outflow in the buckets at least minHistory old; never trips below the configured USD floor.
 *
 * This file is the reference: evaluateRules (evaluate.ts) calls it over a history; the incremental
 * evaluator (incremental.ts) must give the same breaches, which a property test checks.
 */

export type PatternRule = Rule & { measure: PatternMeasure };

/** A drain pattern: any rule that is not a fixed limit (the kind registry decides, rules/rule-kinds.ts). */
export function isPatternRule(rule: Rule): rule is PatternRule {
  const kind = ruleKindOf(rule);
  return kind !== windowSum && kind !== singleTransfer;
}

/** Which destination "seen" is tracked for (addresses are normalised by their chain's kind when classified). */
export function destinationKey(r: Pick<OutflowRecord, 'chain' | 'to'>): string {
  return `${r.chain}\u0000${r.to}`;
}

export function bucketOf(t: number, bucketSeconds: number): number {
  return Math.floor(t / bucketSeconds);
}

export function distinctAssetOf(
  measure: Extract<PatternMeasure, { kind: 'distinct-assets' }>,
  r: Pick<OutflowRecord, 'chain' | 'asset' | 'known'>,
): number {
  if (!r.known) return -1;
  return measure.assets.findIndex((a) => a.chain === r.chain && a.asset === r.asset);
}

/** Nearest-rank percentile (percentilePpm: 99 % = 990 000) of `values`; 0 for none. */
export function percentileOf(values: readonly bigint[], percentilePpm: number): bigint {
  if (values.length === 0) return 0n;
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const rank = Math.max(1, Math.floor((percentilePpm * sorted.length + 999_999) / 1_000_000));
  return sorted[Math.min(rank, sorted.length) - 1] as bigint;
}

type ProfileMeasure = Extract<PatternMeasure, { kind: 'profile-usd' }>;

export interface ProfileLevels {
  /** The percentile of the wallet's per-bucket totals over the baseline. */
  baseline: bigint;
  limit: bigint;
  warnAt: bigint;
}

/**
 * The wallet-profile levels for windows ending in bucket `bucket`, from per-bucket USD sums and
 * outflow counts; undefined while the wallet has too little history.
 */
export function profileLevels(
  rule: Rule & { measure: ProfileMeasure },
  bucket: number,
  sums: ReadonlyMap<number, bigint>,
  counts: ReadonlyMap<number, number>,
): ProfileLevels | undefined {
  const m = rule.measure;
  const w = rule.windowSeconds;
  const n = Math.floor(m.baselineSeconds / w);
  const youngest = bucket - Math.ceil(m.minHistorySeconds / w);
  let active = false;
  for (let h = bucket - n; h <= youngest && !active; h++) active = (counts.get(h) ?? 0) > 0;
  if (!active) return undefined;
  const values: bigint[] = [];
  for (let h = bucket - n; h < bucket; h++) values.push(sums.get(h) ?? 0n);
  const baseline = percentileOf(values, m.percentilePpm);
  const scaled = (ppm: bigint, floor: bigint) => {
    const v = (baseline * ppm + 999_999n) / 1_000_000n;
    return v > floor ? v : floor;
  };
  return { baseline, limit: scaled(m.tripFactorPpm, rule.limit), warnAt: scaled(m.warnFactorPpm, rule.warnAt) };
}

/** Per record of `applicable` (ascending), is its destination new? */
export function newDestinationFlags(
  rule: Rule & { measure: Extract<PatternMeasure, { kind: 'new-destination-usd' }> },
  applicable: readonly OutflowRecord[],
): boolean[] {
  const timesByKey = new Map<string, number[]>();
  for (const r of applicable) {
    const key = destinationKey(r);
    const times = timesByKey.get(key);
    if (times) times.push(r.t);
    else timesByKey.set(key, [r.t]);
  }
  return applicable.map((r) => isNewDestination(timesByKey.get(destinationKey(r)) as number[], r.t, rule));
}

/** Nothing sent to the destination in [t − lookback, t − W]? (`times`: all its outflow times, ascending) */
export function isNewDestination(
  times: readonly number[],
  t: number,
  rule: Rule & { measure: Extract<PatternMeasure, { kind: 'new-destination-usd' }> },
): boolean {
  const i = lowerBound(times, t - rule.measure.lookbackSeconds);
  return i >= times.length || (times[i] as number) > t - rule.windowSeconds;
}

/** What a pattern measures over one window, and the levels in force there. */
interface WindowMeasure {
  value: bigint;
  limit: bigint;
  warnAt: bigint;
  baseline?: bigint;
  /** The outflows that make up the value, ascending. */
  outflows: () => OutflowRecord[];
}

/**
 * Evaluate one pattern rule over `applicable` (that rule's outflows, ascending by window time)
 * for the windows `span` affects.
 */
export function evaluatePattern(
  rule: PatternRule,
  applicable: readonly OutflowRecord[],
  span: AffectedSpan,
): Breach | undefined {
  const measureAt = windowMeasure(rule, applicable);
  const times = applicable.map((r) => r.t);
  const lastEnd = span.toT + rule.windowSeconds;
  let best: { m: WindowMeasure; end: number } | undefined;
  for (let head = lowerBound(times, span.fromT); head < applicable.length; head++) {
    const end = times[head] as number;
    if (end >= lastEnd) break;
    if (times[head + 1] === end) continue;
    const m = measureAt(end);
    if (!m) continue;
    if (m.value > m.limit) return breachOf(rule, 'trip', m, end);
    if (m.value > m.warnAt && (!best || m.value > best.m.value)) best = { m, end };
  }
  return best && breachOf(rule, 'warn', best.m, best.end);
}

/** The pattern's measure of the window ending at `end` (for the totals in pages). */
export function patternValueAt(
  rule: PatternRule,
  applicable: readonly OutflowRecord[],
  end: number,
): WindowMeasure | undefined {
  return windowMeasure(rule, applicable)(end);
}

function breachOf(rule: PatternRule, level: 'warn' | 'trip', m: WindowMeasure, end: number): Breach {
  const breach: Breach = { rule, level, value: m.value, windowEnd: end, outflows: largestFirst(m.outflows()) };
  if (rule.measure.kind === 'profile-usd') {
    breach.limit = m.limit;
    breach.warnAt = m.warnAt;
    breach.baseline = m.baseline;
  }
  return breach;
}

function windowMeasure(
  rule: PatternRule,
  applicable: readonly OutflowRecord[],
): (end: number) => WindowMeasure | undefined {
  const times = applicable.map((r) => r.t);
  const w = rule.windowSeconds;
  const inWindow = (end: number): [number, number] => [upperBound(times, end - w), upperBound(times, end)];
  const measure = rule.measure;
  switch (measure.kind) {
    case 'new-destination-usd': {
      const flags = newDestinationFlags({ ...rule, measure }, applicable);
      return (end) => {
        const [lo, hi] = inWindow(end);
        let value = 0n;
        for (let i = lo; i < hi; i++) if (flags[i]) value += (applicable[i] as OutflowRecord).usdMicros;
        return {
          value,
          limit: rule.limit,
          warnAt: rule.warnAt,
          outflows: () => applicable.slice(lo, hi).filter((_, j) => flags[lo + j]),
        };
      };
    }
    case 'distinct-assets': {
      const assetIndex = applicable.map((r) => distinctAssetOf(measure, r));
      return (end) => {
        const [lo, hi] = inWindow(end);
        const sums = measure.assets.map(() => 0n);
        for (let i = lo; i < hi; i++) {
          const a = assetIndex[i] as number;
          sums[a] = (sums[a] as bigint) + (applicable[i] as OutflowRecord).amount;
        }
        const hot = measure.assets.map((a: DistinctAssetLimit, k) => (sums[k] as bigint) > a.threshold);
        return {
          value: BigInt(hot.filter(Boolean).length),
          limit: rule.limit,
          warnAt: rule.warnAt,
          outflows: () => applicable.slice(lo, hi).filter((_, j) => hot[assetIndex[lo + j] as number]),
        };
      };
    }
    case 'profile-usd': {
      const sums = new Map<number, bigint>();
      const counts = new Map<number, number>();
      for (const r of applicable) {
        const b = bucketOf(r.t, w);
        sums.set(b, (sums.get(b) ?? 0n) + r.usdMicros);
        counts.set(b, (counts.get(b) ?? 0) + 1);
      }
      const profileRule = { ...rule, measure };
      return (end) => {
        const levels = profileLevels(profileRule, bucketOf(end, w), sums, counts);
        if (!levels) return undefined;
        const [lo, hi] = inWindow(end);
        let value = 0n;
        for (let i = lo; i < hi; i++) value += (applicable[i] as OutflowRecord).usdMicros;
        return { value, ...levels, outflows: () => applicable.slice(lo, hi) };
      };
    }
    case 'balance-drawdown':
    case 'balance-emptied':
      return (end) => {
        const [lo, hi] = inWindow(end);
        const assets = new Map<string, AssetWindow>();
        for (let i = lo; i < hi; i++) {
          const r = applicable[i] as OutflowRecord;
          const key = balanceAssetKey(r);
          const w = assets.get(key) ?? { out: 0n, left: undefined };
          // Ascending order: the last outflow of the asset in the window leaves the balance after it.
          assets.set(key, { out: w.out + r.amount, left: r.balanceAfter });
        }
        const { value, keys } = balanceMeasure(measure, assets);
        const shown = new Set(keys);
        return {
          value,
          limit: rule.limit,
          warnAt: rule.warnAt,
          outflows: () => applicable.slice(lo, hi).filter((r) => shown.has(balanceAssetKey(r))),
        };
      };
  }
}
