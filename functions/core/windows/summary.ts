import type { BreakerConfig } from '../config/types.ts';
import type { OutflowRecord } from '../model.ts';
import type { Rule } from '../rules/rule.ts';

/**
 * Per-chain window summaries (docs/SCALE.md). A global rule adds up every chain's outflows; reading
 * every chain's ledger on every poll made the poll cost grow with the number of chains. Instead each
 * chain's poller keeps, for every window length a global USD or count limit uses, bucketed totals of
 * its own outflows (width = window / BUCKETS_PER_WINDOW) in one item, and a poll reads all chains'
 * items in one batch. A bucket sum over-counts a window by at most the buckets cut by its edges, so
 * the sum of the buckets a window touches is an upper bound of every window total: when that bound
 * stays at or under the rule's warn level, no window can warn or trip and the rule needs no ledger.
 * Only a global limit within reach of its warn level is evaluated exactly, from every chain's ledger
 * (the exact sliding window, unchanged).
 *
 * Bounds are upper bounds only because every measure is ≥ 0 and a summary counts every outflow that
 * can count: it leaves out own transfers (a state with an own address whose loosening waits makes
 * them count: then nothing is skipped), and it keeps outflows a reset reviewed or a reorg removed
 * until it is next rebuilt (over-counting is safe).
 */

export const BUCKETS_PER_WINDOW = 12;
/**
 * How far back past one window a summary reaches: another chain's poll, up to this far behind in
 * chain time, still finds its windows covered; a poll further behind reads the ledgers.
 */
export const SUMMARY_LAG_SECONDS = 900;

export interface SummarySeries {
  /** Bucket width in seconds; bucket i holds window times in [i·width, (i+1)·width). */
  width: number;
  /** Index of the first bucket; every outflow of the chain from its start on is counted. */
  from: number;
  /** Micro-USD per bucket (decimal strings: a DynamoDB number holds 38 digits, enough, but one codec for bigints). */
  usd: string[];
  count: number[];
}

/** A chain's ledger version (ledger-version.ts explains it). */
export interface LedgerLog {
  /**
   * Who started this log (`<lease version>:<ms>` of the write that found no log to continue). A log
   * is continued only by a write conditional on its (epoch, version); a writer that does not know
   * the stored log starts a new epoch, which every cache takes as "anything may have changed".
   */
  epoch: string;
  version: number;
  /**
   * The earliest window time each of the last versions wrote or deleted: `changes[i]` belongs to
   * version `version − changes.length + 1 + i`. A cache older than the oldest entry re-reads all.
   */
  changes: number[];
}

/** Where a cached copy of a ledger stands. */
export interface LedgerStamp {
  epoch: string;
  version: number;
}

export interface ChainSummary {
  chain: string;
  /**
   * The cursor version of the lease the summary was written under: a poller that lost its lease
   * (an older version) cannot overwrite a newer poller's summary.
   */
  leaseVersion: number;
  /** Window length (seconds, as a string key) → its buckets. */
  series: Record<string, SummarySeries>;
  updatedAtMs: number;
  /**
   * The version of the chain's ledger (ledger-version.ts): what another chain's poller checks its
   * cached copy of this chain's records against. Absent in items of older builds: no cache then.
   */
  ledger?: LedgerLog;
}

/** A global rule over a window adds up other chains' outflows; a single-transfer one only judges the new ones. */
export function readsOtherChains(rule: Rule): boolean {
  return rule.subject.kind === 'global' && rule.windowSeconds > 0;
}

function summarisable(rule: Rule): boolean {
  return readsOtherChains(rule) && (rule.measure.kind === 'usd' || rule.measure.kind === 'count');
}

/** Global USD/count window limits: the rules a summary can bound. */
export function summarisedRules(rules: readonly Rule[]): Rule[] {
  return rules.filter(summarisable);
}

/** Global window rules no summary bounds (drain patterns): every poll with outflows reads every chain's ledger for them. */
export function ledgerOnlyGlobalRules(rules: readonly Rule[]): Rule[] {
  return rules.filter((r) => readsOtherChains(r) && !summarisable(r));
}

export function summaryWindows(config: BreakerConfig): number[] {
  return [...new Set(summarisedRules(config.rules).map((r) => r.windowSeconds))].sort((a, b) => a - b);
}

export function bucketWidth(windowSeconds: number): number {
  return Math.max(1, Math.ceil(windowSeconds / BUCKETS_PER_WINDOW));
}

/** How much earlier than a rule window a poller must hold its own outflows to write its summary. */
export function summaryReachSeconds(config: BreakerConfig): number {
  const widest = Math.max(0, ...summaryWindows(config).map(bucketWidth));
  return SUMMARY_LAG_SECONDS + widest;
}

/**
 * The summary of one chain from its outflows: `records` must hold every outflow of the chain with
 * window time ≥ `completeFromT`. Each series starts at the first whole bucket from there, and no
 * earlier than one window plus SUMMARY_LAG_SECONDS before the newest outflow (bounded size).
 */
export function buildSummary(
  chain: string,
  records: readonly OutflowRecord[],
  completeFromT: number,
  windows: readonly number[],
  leaseVersion: number,
  nowMs: number,
): ChainSummary {
  const counted = records.filter((r) => r.chain === chain && !r.own && r.t >= completeFromT);
  const newest = Math.max(completeFromT, ...counted.map((r) => r.t));
  const series: Record<string, SummarySeries> = {};
  for (const w of windows) {
    const width = bucketWidth(w);
    const from = Math.max(Math.ceil(completeFromT / width), Math.floor((newest - w - SUMMARY_LAG_SECONDS) / width));
    const length = Math.max(0, Math.floor(newest / width) - from + 1);
    const usd = new Array<bigint>(length).fill(0n);
    const count = new Array<number>(length).fill(0);
    for (const r of counted) {
      const i = Math.floor(r.t / width) - from;
      if (i < 0) continue;
      usd[i] = (usd[i] as bigint) + r.usdMicros;
      count[i] = (count[i] as number) + 1;
    }
    series[String(w)] = { width, from, usd: usd.map(String), count };
  }
  return { chain, leaseVersion, series, updatedAtMs: nowMs };
}

/**
 * An upper bound of the rule's total over every window ending in [fromT, toT + W) — the windows a
 * batch with window times in [fromT, toT] can change — summed over `summaries` (every chain's,
 * the polling chain's included). Undefined when some summary does not cover them: use the ledger.
 */
export function windowBound(
  rule: Rule,
  summaries: readonly ChainSummary[],
  span: { fromT: number; toT: number },
): bigint | undefined {
  const w = rule.windowSeconds;
  const width = bucketWidth(w);
  // Window times the windows can hold lie in (fromT − W, toT + W); buckets first..last hold them.
  const first = Math.floor((span.fromT - w + 1) / width);
  const last = Math.floor((span.toT + w - 1) / width);
  const totals = new Array<bigint>(last - first + 1).fill(0n);
  for (const s of summaries) {
    const series = s.series[String(w)];
    if (!series || series.width !== width || series.from > first) return undefined;
    for (let i = Math.max(first, series.from); i <= Math.min(last, series.from + series.usd.length - 1); i++) {
      const k = i - series.from;
      totals[i - first] =
        (totals[i - first] as bigint) +
        (rule.measure.kind === 'count' ? BigInt(series.count[k] ?? 0) : BigInt(series.usd[k] ?? '0'));
    }
  }
  // One window (T − W, T] touches at most BUCKETS_PER_WINDOW + 1 consecutive buckets.
  const run = Math.ceil(w / width) + 1;
  let best = 0n;
  let sum = 0n;
  for (let i = 0; i < totals.length; i++) {
    sum += totals[i] as bigint;
    if (i >= run) sum -= totals[i - run] as bigint;
    if (sum > best) best = sum;
  }
  return best;
}
