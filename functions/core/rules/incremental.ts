import { measureOf, ruleApplies } from '../evaluate.ts';
import type { OutflowRecord } from '../model.ts';
import type { AffectedSpan, Breach } from './breach.ts';
import { type AssetWindow, balanceAssetKey, balanceMeasure } from './kinds/balance-drawdown.ts';
import { byWindowTime, largestFirst, lowerBound, upperBound } from './order.ts';
import {
  bucketOf,
  destinationKey,
  distinctAssetOf,
  isNewDestination,
  type ProfileLevels,
  profileLevels,
} from './patterns.ts';
import type { PatternMeasure, Rule } from './rule.ts';
import type { RuleKindId } from './rule-kind.ts';
import { ruleKindOf } from './rule-kinds.ts';

/**
 * The same evaluation as evaluateRules (evaluate.ts), kept up to date outflow by outflow instead of
 * recomputed from the whole history on every call: `add` the outflows a batch brings, then
 * `evaluate` that batch's span. After the same outflows, `evaluate(span)` returns exactly the
 * breaches `evaluateRules(rules, everythingAdded, span)` returns — same windows (T − W, T], same
 * first trip, same highest warning, same evidence — which test/replay/incremental-evaluator.test.ts
 * checks on random histories. Replay uses it to run a week of outflows in about a second; a window
 * sum is two binary searches in per-rule prefix sums, and outflows arriving in time order (the
 * normal case) append.
 *
 * `add` takes what evaluateRules would get as history: countable outflows (not own, not reviewed).
 * An outflow id already added is ignored (exactly once, as the ledger keys records by id); there is
 * no removal, so a chain reorg means building a new evaluator. Memory grows with the history.
 */
export class IncrementalEvaluator {
  private readonly trackers: Tracker[];
  private readonly all = new Series(false);
  private readonly byId = new Map<string, OutflowRecord>();

  constructor(readonly rules: readonly Rule[]) {
    this.trackers = rules.map(trackerFor);
  }

  get size(): number {
    return this.all.length;
  }

  add(records: readonly OutflowRecord[]): void {
    for (const r of records) {
      if (this.byId.has(r.id)) continue;
      this.byId.set(r.id, r);
      this.all.insert(r, 0n);
      for (const tracker of this.trackers) if (ruleApplies(tracker.rule, r)) tracker.add(r);
    }
  }

  evaluate(span: AffectedSpan): Breach[] {
    const fresh: OutflowRecord[] = [];
    for (const id of span.newIds) {
      const r = this.byId.get(id);
      if (r) fresh.push(r);
    }
    fresh.sort(byWindowTime);
    const breaches: Breach[] = [];
    for (const tracker of this.trackers) {
      const breach = tracker.evaluate(span, fresh);
      if (breach) breaches.push(breach);
    }
    return breaches;
  }

  /** A windowed rule's measure of the window ending at `end`, with the levels in force there. */
  measureAt(rule: Rule, end: number): { value: bigint; limit: bigint; warnAt: bigint } | undefined {
    const tracker = this.trackers[this.rules.indexOf(rule)];
    if (!tracker || rule.windowSeconds === 0) return undefined;
    return (tracker as WindowTracker).measureAt(end);
  }

  /** Times of the outflows that count toward `rule` (the ends of every window it evaluates). */
  outflowTimes(rule: Rule): readonly number[] {
    const tracker = this.trackers[this.rules.indexOf(rule)];
    return tracker ? tracker.times() : [];
  }

  /** Every added outflow with window time ≥ t, ascending (the history a page's totals need). */
  recordsSince(t: number): OutflowRecord[] {
    return this.all.records.slice(lowerBound(this.all.times, t));
  }
}

/** Outflows ascending by window time, with prefix sums of a per-outflow measure. */
class Series {
  readonly records: OutflowRecord[] = [];
  readonly times: number[] = [];
  private readonly measures: bigint[] = [];
  /** prefix[i] = sum of measures[0 .. i − 1]. */
  private readonly prefix: bigint[] = [0n];

  constructor(private readonly summed = true) {}

  get length(): number {
    return this.records.length;
  }

  insert(r: OutflowRecord, measure: bigint): void {
    let i = this.records.length;
    // Outflows come in time order almost always: compare with the tail before searching.
    if (i > 0 && byWindowTime(this.records[i - 1] as OutflowRecord, r) > 0) {
      let lo = 0;
      while (lo < i) {
        const mid = (lo + i) >>> 1;
        if (byWindowTime(this.records[mid] as OutflowRecord, r) <= 0) lo = mid + 1;
        else i = mid;
      }
    }
    if (i === this.records.length) {
      this.records.push(r);
      this.times.push(r.t);
      if (this.summed) {
        this.measures.push(measure);
        this.prefix.push((this.prefix[i] as bigint) + measure);
      }
      return;
    }
    this.records.splice(i, 0, r);
    this.times.splice(i, 0, r.t);
    if (this.summed) {
      this.measures.splice(i, 0, measure);
      this.prefix.splice(i + 1, 0, (this.prefix[i] as bigint) + measure);
      for (let j = i + 2; j < this.prefix.length; j++) this.prefix[j] = (this.prefix[j] as bigint) + measure;
    }
  }

  setMeasure(r: OutflowRecord, measure: bigint): void {
    const i = this.indexOf(r);
    const delta = measure - (this.measures[i] as bigint);
    if (delta === 0n) return;
    this.measures[i] = measure;
    for (let j = i + 1; j < this.prefix.length; j++) this.prefix[j] = (this.prefix[j] as bigint) + delta;
  }

  /** Sum of the measures of outflows with window time in (from, to]. */
  sum(from: number, to: number): bigint {
    return (this.prefix[upperBound(this.times, to)] as bigint) - (this.prefix[upperBound(this.times, from)] as bigint);
  }

  /** Outflows with window time in (from, to], ascending. */
  between(from: number, to: number): OutflowRecord[] {
    return this.records.slice(upperBound(this.times, from), upperBound(this.times, to));
  }

  private indexOf(r: OutflowRecord): number {
    for (let i = lowerBound(this.times, r.t); i < this.records.length; i++) if (this.records[i] === r) return i;
    throw new Error(`outflow ${r.id} is not in this series`);
  }
}

interface Tracker {
  readonly rule: Rule;
  add(r: OutflowRecord): void;
  /** `fresh`: the span's new outflows (all rules), ascending. */
  evaluate(span: AffectedSpan, fresh: readonly OutflowRecord[]): Breach | undefined;
  times(): readonly number[];
}

interface WindowMeasure {
  value: bigint;
  limit: bigint;
  warnAt: bigint;
  baseline?: bigint;
}

/** Each kind's incremental tracker (it must agree with the kind's reference evaluation in evaluate.ts). */
const TRACKERS: Record<RuleKindId, (rule: Rule) => Tracker> = {
  'window-sum': (rule) => new SumTracker(rule),
  'single-transfer': (rule) => new SingleTransferTracker(rule),
  'new-destinations': (rule) =>
    new NewDestinationTracker(rule as Rule & { measure: Extract<PatternMeasure, { kind: 'new-destination-usd' }> }),
  'distinct-assets': (rule) =>
    new DistinctAssetsTracker(rule as Rule & { measure: Extract<PatternMeasure, { kind: 'distinct-assets' }> }),
  'wallet-profile': (rule) =>
    new ProfileTracker(rule as Rule & { measure: Extract<PatternMeasure, { kind: 'profile-usd' }> }),
  'balance-drawdown': (rule) => new BalanceTracker(rule as Rule & { measure: BalanceMeasure }),
};

function trackerFor(rule: Rule): Tracker {
  return TRACKERS[ruleKindOf(rule).id](rule);
}

class SingleTransferTracker implements Tracker {
  private readonly seen: number[] = [];
  constructor(readonly rule: Rule) {}

  add(r: OutflowRecord): void {
    this.seen.push(r.t);
  }

  times(): readonly number[] {
    return [...this.seen].sort((a, b) => a - b);
  }

  evaluate(_span: AffectedSpan, fresh: readonly OutflowRecord[]): Breach | undefined {
    const rule = this.rule;
    let warn: Breach | undefined;
    for (const r of fresh) {
      if (!ruleApplies(rule, r)) continue;
      const value = measureOf(rule, r);
      if (value > rule.limit) return { rule, level: 'trip', value, windowEnd: r.t, outflows: [r] };
      if (value > rule.warnAt && (!warn || value > warn.value)) {
        warn = { rule, level: 'warn', value, windowEnd: r.t, outflows: [r] };
      }
    }
    return warn;
  }
}

/**
 * A sliding-window rule: walk the window ends the span affects, as evaluate.ts does — the first
 * window above the trip level trips, else the highest above the warn level warns.
 */
abstract class WindowTracker implements Tracker {
  protected readonly series = new Series();
  constructor(readonly rule: Rule) {}

  abstract add(r: OutflowRecord): void;
  /** The measure of the window ending at `end`. */
  protected abstract valueAt(end: number): bigint;
  /** The outflows behind the measure of the window ending at `end`, ascending. */
  protected abstract outflowsAt(end: number): OutflowRecord[];

  /** The levels in force for the window ending at `end`; undefined when the rule is silent there. */
  protected levelsAt(_end: number): Omit<WindowMeasure, 'value'> | undefined {
    return this.rule;
  }

  measureAt(end: number): WindowMeasure | undefined {
    const levels = this.levelsAt(end);
    return (
      levels && { limit: levels.limit, warnAt: levels.warnAt, baseline: levels.baseline, value: this.valueAt(end) }
    );
  }

  times(): readonly number[] {
    return this.series.times;
  }

  evaluate(span: AffectedSpan): Breach | undefined {
    const times = this.series.times;
    const lastEnd = span.toT + this.rule.windowSeconds;
    let best: { value: bigint; end: number } | undefined;
    // Allocation-free in the common case: replay calls this for every rule on every poll.
    for (let i = lowerBound(times, span.fromT); i < times.length; i++) {
      const end = times[i] as number;
      if (end >= lastEnd) break;
      if (times[i + 1] === end) continue;
      const levels = this.levelsAt(end);
      if (!levels) continue;
      const value = this.valueAt(end);
      if (value > levels.limit) return this.breach('trip', end);
      if (value > levels.warnAt && (!best || value > best.value)) best = { value, end };
    }
    return best && this.breach('warn', best.end);
  }

  private breach(level: 'warn' | 'trip', end: number): Breach {
    const m = this.measureAt(end) as WindowMeasure;
    // Ordering the window's outflows by size is the expensive part; do it only when someone reads them.
    const inWindow = this.outflowsAt(end);
    let sorted: OutflowRecord[] | undefined;
    const breach = { rule: this.rule, level, value: m.value, windowEnd: end } as Breach;
    Object.defineProperty(breach, 'outflows', {
      get: () => {
        sorted ??= largestFirst(inWindow);
        return sorted;
      },
      enumerable: true,
    });
    if (this.rule.measure.kind === 'profile-usd') {
      breach.limit = m.limit;
      breach.warnAt = m.warnAt;
      breach.baseline = m.baseline;
    }
    return breach;
  }
}

class SumTracker extends WindowTracker {
  add(r: OutflowRecord): void {
    this.series.insert(r, measureOf(this.rule, r));
  }

  protected valueAt(end: number): bigint {
    return this.series.sum(end - this.rule.windowSeconds, end);
  }

  protected outflowsAt(end: number): OutflowRecord[] {
    return this.series.between(end - this.rule.windowSeconds, end);
  }
}

class NewDestinationTracker extends WindowTracker {
  /** Per destination, its outflows ascending by time. */
  private readonly byDestination = new Map<string, { times: number[]; records: OutflowRecord[] }>();
  private readonly isNew = new Map<OutflowRecord, boolean>();

  constructor(override readonly rule: Rule & { measure: Extract<PatternMeasure, { kind: 'new-destination-usd' }> }) {
    super(rule);
  }

  add(r: OutflowRecord): void {
    const key = destinationKey(r);
    let dest = this.byDestination.get(key);
    if (!dest) {
      dest = { times: [], records: [] };
      this.byDestination.set(key, dest);
    }
    const fresh = isNewDestination(dest.times, r.t, this.rule);
    const at = upperBound(dest.times, r.t);
    dest.times.splice(at, 0, r.t);
    dest.records.splice(at, 0, r);
    this.isNew.set(r, fresh);
    this.series.insert(r, fresh ? r.usdMicros : 0n);
    // An outflow that arrives late makes later ones to the same destination (W to lookback after it) seen.
    const w = this.rule.windowSeconds;
    for (let i = lowerBound(dest.times, r.t + w); i < dest.times.length; i++) {
      if ((dest.times[i] as number) > r.t + this.rule.measure.lookbackSeconds) break;
      const q = dest.records[i] as OutflowRecord;
      if (this.isNew.get(q)) {
        this.isNew.set(q, false);
        this.series.setMeasure(q, 0n);
      }
    }
  }

  protected valueAt(end: number): bigint {
    return this.series.sum(end - this.rule.windowSeconds, end);
  }

  protected outflowsAt(end: number): OutflowRecord[] {
    return this.series.between(end - this.rule.windowSeconds, end).filter((r) => this.isNew.get(r));
  }
}

class DistinctAssetsTracker extends WindowTracker {
  private readonly perAsset: Series[];

  constructor(override readonly rule: Rule & { measure: Extract<PatternMeasure, { kind: 'distinct-assets' }> }) {
    super(rule);
    this.perAsset = rule.measure.assets.map(() => new Series());
  }

  add(r: OutflowRecord): void {
    this.series.insert(r, 0n);
    (this.perAsset[distinctAssetOf(this.rule.measure, r)] as Series).insert(r, r.amount);
  }

  private hot(end: number): boolean[] {
    const from = end - this.rule.windowSeconds;
    return this.rule.measure.assets.map((a, k) => (this.perAsset[k] as Series).sum(from, end) > a.threshold);
  }

  protected valueAt(end: number): bigint {
    return BigInt(this.hot(end).filter(Boolean).length);
  }

  protected outflowsAt(end: number): OutflowRecord[] {
    const hot = this.hot(end);
    return this.series
      .between(end - this.rule.windowSeconds, end)
      .filter((r) => hot[distinctAssetOf(this.rule.measure, r)]);
  }
}

class ProfileTracker extends WindowTracker {
  private readonly sums = new Map<number, bigint>();
  private readonly counts = new Map<number, number>();
  /** Levels by bucket; a bucket's levels depend only on the n buckets before it. */
  private readonly levels = new Map<number, ProfileLevels | null>();
  private newestCached = Number.NEGATIVE_INFINITY;
  private readonly baselineBuckets: number;

  constructor(override readonly rule: Rule & { measure: Extract<PatternMeasure, { kind: 'profile-usd' }> }) {
    super(rule);
    this.baselineBuckets = Math.floor(rule.measure.baselineSeconds / rule.windowSeconds);
  }

  add(r: OutflowRecord): void {
    this.series.insert(r, r.usdMicros);
    const b = bucketOf(r.t, this.rule.windowSeconds);
    this.sums.set(b, (this.sums.get(b) ?? 0n) + r.usdMicros);
    this.counts.set(b, (this.counts.get(b) ?? 0) + 1);
    if (b < this.newestCached) {
      for (const h of [...this.levels.keys()]) if (h > b && h <= b + this.baselineBuckets) this.levels.delete(h);
    }
  }

  protected override levelsAt(end: number): ProfileLevels | undefined {
    const bucket = bucketOf(end, this.rule.windowSeconds);
    let levels = this.levels.get(bucket);
    if (levels === undefined) {
      levels = profileLevels(this.rule, bucket, this.sums, this.counts) ?? null;
      if (this.levels.size > 256) this.levels.clear();
      this.levels.set(bucket, levels);
      this.newestCached = Math.max(this.newestCached, bucket);
    }
    return levels ?? undefined;
  }

  protected valueAt(end: number): bigint {
    return this.series.sum(end - this.rule.windowSeconds, end);
  }

  protected outflowsAt(end: number): OutflowRecord[] {
    return this.series.between(end - this.rule.windowSeconds, end);
  }
}

type BalanceMeasure = Extract<PatternMeasure, { kind: 'balance-drawdown' | 'balance-emptied' }>;

/** Balance drawdown and emptied assets (rules/kinds/balance-drawdown.ts): one series of outflows per asset. */
class BalanceTracker extends WindowTracker {
  private readonly perAsset = new Map<string, Series>();

  constructor(override readonly rule: Rule & { measure: BalanceMeasure }) {
    super(rule);
  }

  add(r: OutflowRecord): void {
    this.series.insert(r, 0n);
    const key = balanceAssetKey(r);
    let series = this.perAsset.get(key);
    if (!series) {
      series = new Series();
      this.perAsset.set(key, series);
    }
    series.insert(r, r.amount);
  }

  private measure(end: number): { value: bigint; keys: string[] } {
    const from = end - this.rule.windowSeconds;
    const assets = new Map<string, AssetWindow>();
    for (const [key, series] of this.perAsset) {
      const out = series.sum(from, end);
      if (out === 0n) continue;
      const last = series.records[upperBound(series.times, end) - 1] as OutflowRecord;
      assets.set(key, { out, left: last.balanceAfter });
    }
    return balanceMeasure(this.rule.measure, assets);
  }

  protected valueAt(end: number): bigint {
    return this.measure(end).value;
  }

  protected outflowsAt(end: number): OutflowRecord[] {
    const shown = new Set(this.measure(end).keys);
    return this.series.between(end - this.rule.windowSeconds, end).filter((r) => shown.has(balanceAssetKey(r)));
  }
}
