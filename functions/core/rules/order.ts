import type { OutflowRecord } from '../model.ts';

/** The order every evaluator walks history in: window time, then block, then id. */
export function byWindowTime(a: OutflowRecord, b: OutflowRecord): number {
  return a.t - b.t || a.block - b.block || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Largest USD first; ties keep their (window-time) order. */
export function largestFirst(records: readonly OutflowRecord[]): OutflowRecord[] {
  return [...records].sort((a, b) => (b.usdMicros > a.usdMicros ? 1 : b.usdMicros < a.usdMicros ? -1 : 0));
}

/** First index in `times` (ascending) whose value is > x. */
export function upperBound(times: readonly number[], x: number, lo = 0, hi = times.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((times[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index in `records` (ascending by window time) whose window time is ≥ t. */
export function firstAtOrAfter(records: readonly Pick<OutflowRecord, 't'>[], t: number): number {
  let lo = 0;
  let hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((records[mid] as Pick<OutflowRecord, 't'>).t < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index in `times` (ascending) whose value is ≥ x. */
export function lowerBound(times: readonly number[], x: number, lo = 0, hi = times.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((times[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
