import type { OutflowRecord } from '../model.ts';
import { percentileOf } from '../rules/patterns.ts';

/**
 * Limits proposed from an exchange's own outflow history (`breaker tune`).
 *
 * For each scope (global, each chain, each chain's asset) and window W, the history is cut into
 * aligned W-long windows (quiet ones count as 0). A target false-trip rate r per year allows a
 * window to exceed the limit with probability p = r × W / year; the base is the (1 − p) percentile
 * of those window totals — when the history has at least 1 / p windows to resolve it. A shorter
 * history cannot tell how rare a rare window is: the base is then the highest *sliding* window total
 * seen, and the proposal says so. The proposed limit is base × headroom, rounded up to two
 * significant digits. Single transfers work alike, over transfers instead of windows.
 *
 * Pure: the history is given (a replayed scenario or the store's ledger), time comes from it.
 */

export const SECONDS_PER_YEAR = 365 * 86_400;

export interface TuneOptions {
  /** Windows to propose limits for, in seconds. */
  windowsSeconds: readonly number[];
  /** Proposed = base × headroom (≥ 1). */
  headroom: number;
  /** Target false trips per year per limit (> 0). */
  falseTripsPerYear: number;
}

export const DEFAULT_TUNE_OPTIONS: TuneOptions = {
  windowsSeconds: [600, 3600, 86_400],
  headroom: 2,
  falseTripsPerYear: 1,
};

export type TuneScope =
  | { kind: 'global' }
  | { kind: 'chain'; chain: string }
  | { kind: 'asset'; chain: string; asset: string; decimals: number };

export type TuneMeasure = 'usd' | 'count' | 'units';

export interface LimitProposal {
  /** The rule id the config compiles this limit to (config/compile.ts), to compare with the current one. */
  ruleId: string;
  scope: TuneScope;
  measure: TuneMeasure;
  /** 0 for a single-transfer limit. */
  windowSeconds: number;
  /** Highest sliding-window total (or largest single transfer) in the history. */
  peak: bigint;
  /** The target percentile of the window totals; undefined when the history is too short to resolve it. */
  percentileValue: bigint | undefined;
  proposed: bigint;
  /** Aligned windows (or transfers) in the history. */
  samples: number;
  /** Aligned windows (or transfers) of the history above the proposed limit. */
  historyAbove: number;
}

export interface TuneResult {
  options: TuneOptions;
  historySeconds: number;
  outflows: number;
  proposals: LimitProposal[];
}

/** Propose limits from counted outflows (own-address transfers are left out: they are never losses). */
export function proposeLimits(history: readonly OutflowRecord[], options: TuneOptions): TuneResult {
  if (!(options.headroom >= 1)) throw new RangeError(`headroom must be ≥ 1 (got ${options.headroom})`);
  if (!(options.falseTripsPerYear > 0))
    throw new RangeError(`falseTripsPerYear must be > 0 (got ${options.falseTripsPerYear})`);
  const counted = history.filter((r) => !r.own).sort((a, b) => a.t - b.t);
  const first = counted[0]?.t ?? 0;
  const last = counted.at(-1)?.t ?? 0;
  const span = Math.max(1, last - first);
  const proposals: LimitProposal[] = [];

  const scopes = new Map<string, { scope: TuneScope; records: OutflowRecord[] }>();
  const add = (key: string, scope: TuneScope, r: OutflowRecord) => {
    const entry = scopes.get(key);
    if (entry) entry.records.push(r);
    else scopes.set(key, { scope, records: [r] });
  };
  for (const r of counted) {
    add('global', { kind: 'global' }, r);
    add(`chain:${r.chain}`, { kind: 'chain', chain: r.chain }, r);
    // Units of an asset the config does not know have no meaning to limit.
    if (r.known && r.decimals !== null)
      add(`asset:${r.chain}:${r.asset}`, { kind: 'asset', chain: r.chain, asset: r.asset, decimals: r.decimals }, r);
  }

  for (const { scope, records } of scopes.values()) {
    const measures: TuneMeasure[] =
      scope.kind === 'asset' ? ['units'] : scope.kind === 'global' ? ['usd', 'count'] : ['usd'];
    for (const measure of measures) {
      const value = measureValue(measure);
      for (const w of options.windowsSeconds) {
        proposals.push(windowProposal(scope, measure, w, records, value, first, span, options));
      }
      if (measure !== 'count') proposals.push(singleProposal(scope, measure, records, value, span, options));
    }
  }
  return { options, historySeconds: span, outflows: counted.length, proposals };
}

function measureValue(measure: TuneMeasure): (r: OutflowRecord) => bigint {
  if (measure === 'usd') return (r) => r.usdMicros;
  if (measure === 'count') return () => 1n;
  return (r) => r.amount;
}

function windowProposal(
  scope: TuneScope,
  measure: TuneMeasure,
  w: number,
  records: readonly OutflowRecord[],
  value: (r: OutflowRecord) => bigint,
  first: number,
  span: number,
  options: TuneOptions,
): LimitProposal {
  const buckets = new Map<number, bigint>();
  for (const r of records) {
    const b = Math.floor((r.t - first) / w);
    buckets.set(b, (buckets.get(b) ?? 0n) + value(r));
  }
  const samples = Math.max(1, Math.ceil(span / w));
  const totals = [...buckets.values()];
  while (totals.length < samples) totals.push(0n);
  const p = (options.falseTripsPerYear * w) / SECONDS_PER_YEAR;
  const percentileValue = samples * p >= 1 ? percentileOf(totals, ppm(1 - p)) : undefined;
  const peak = slidingPeak(records, w, value);
  const proposed = roundUp2(scale(percentileValue ?? peak, options.headroom));
  return {
    ruleId: ruleId(scope, measure, w),
    scope,
    measure,
    windowSeconds: w,
    peak,
    percentileValue,
    proposed,
    samples,
    historyAbove: totals.filter((t) => t > proposed).length,
  };
}

function singleProposal(
  scope: TuneScope,
  measure: TuneMeasure,
  records: readonly OutflowRecord[],
  value: (r: OutflowRecord) => bigint,
  span: number,
  options: TuneOptions,
): LimitProposal {
  const values = records.map(value);
  let peak = 0n;
  for (const v of values) if (v > peak) peak = v;
  // Transfers per year at the history's rate; the target allows r of them above the limit.
  const p = options.falseTripsPerYear / ((values.length * SECONDS_PER_YEAR) / span);
  const percentileValue = values.length * p >= 1 && p < 1 ? percentileOf(values, ppm(1 - p)) : undefined;
  const proposed = roundUp2(scale(percentileValue ?? peak, options.headroom));
  return {
    ruleId: ruleId(scope, measure, 0),
    scope,
    measure,
    windowSeconds: 0,
    peak,
    percentileValue,
    proposed,
    samples: values.length,
    historyAbove: values.filter((v) => v > proposed).length,
  };
}

/** Highest total over any window (T − W, T] ending at an outflow, by two pointers over ascending t. */
export function slidingPeak(records: readonly OutflowRecord[], w: number, value: (r: OutflowRecord) => bigint): bigint {
  let peak = 0n;
  let sum = 0n;
  let start = 0;
  for (const r of records) {
    sum += value(r);
    while ((records[start] as OutflowRecord).t <= r.t - w) sum -= value(records[start++] as OutflowRecord);
    if (sum > peak) peak = sum;
  }
  return peak;
}

/** The rule id config/compile.ts gives the same limit. */
export function ruleId(scope: TuneScope, measure: TuneMeasure, windowSeconds: number): string {
  const prefix =
    scope.kind === 'global'
      ? 'global'
      : scope.kind === 'chain'
        ? `chain-${scope.chain}`
        : `asset-${scope.chain}-${scope.asset}`;
  if (windowSeconds === 0) return scope.kind === 'asset' ? `${prefix}-single-tx` : `${prefix}-single-tx-usd`;
  return `${prefix}-${measure}-${windowLabel(windowSeconds)}`;
}

/** 600 → "10m", 3600 → "1h", 86400 → "24h", 604800 → "7d": the config's window keys. */
export function windowLabel(seconds: number): string {
  if (seconds % 86_400 === 0 && seconds > 86_400) return `${seconds / 86_400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

function ppm(fraction: number): number {
  return Math.min(1_000_000, Math.max(1, Math.round(fraction * 1_000_000)));
}

/** value × factor, rounded up, in integers (factor to 1e-6). */
function scale(value: bigint, factor: number): bigint {
  const f = BigInt(Math.round(factor * 1_000_000));
  return (value * f + 999_999n) / 1_000_000n;
}

/** Rounded up to two significant digits (1234 → 1300), so a proposal reads like a limit a person set. */
export function roundUp2(value: bigint): bigint {
  if (value <= 0n) return 1n;
  const digits = value.toString().length;
  if (digits <= 2) return value;
  const unit = 10n ** BigInt(digits - 2);
  return ((value + unit - 1n) / unit) * unit;
}
