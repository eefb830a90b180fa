import type { Rule } from './config/compile.ts';
import type { OutflowRecord } from './model.ts';

/**
 * Exact sliding-window rule evaluation.
 *
 * A rule with window W breaks when, for some time T, the outflows with window time in (T − W, T]
 * exceed its limit. The sum over such a window only grows at an outflow's time, so checking every
 * T that is an outflow time is exact — there is no bucket boundary for a drain to straddle.
 * New outflows can only change windows ending in [their earliest t, their latest t + W), so only
 * those are evaluated; totals are therefore independent of how polls batch the blocks.
 */

export interface Breach {
  rule: Rule;
  level: 'warn' | 'trip';
  /** Measure over the breaching window (micro-USD, count or base units). */
  value: bigint;
  /** End of the breaching window (chain time); for single-transaction rules, that outflow's time. */
  windowEnd: number;
  /** Outflows in the breaching window, largest USD first. */
  outflows: OutflowRecord[];
}

export interface AffectedSpan {
  /** Earliest window time among the new outflows. */
  fromT: number;
  /** Latest window time among the new outflows. */
  toT: number;
  /** Ids of the new outflows (single-transaction rules look only at these). */
  newIds: ReadonlySet<string>;
}

/** Does this outflow count toward this rule at all? */
export function ruleApplies(rule: Rule, r: OutflowRecord): boolean {
  if (r.own) return false;
  const s = rule.subject;
  if (s.kind === 'chain' && r.chain !== s.chain) return false;
  if (s.kind === 'asset' && (r.chain !== s.chain || !r.known || r.asset !== s.asset)) return false;
  return true;
}

export function measureOf(rule: Rule, r: OutflowRecord): bigint {
  switch (rule.measure.kind) {
    case 'usd':
      return r.usdMicros;
    case 'count':
      return 1n;
    case 'units':
      return r.amount;
  }
}

/**
 * Evaluate every rule over `history` (all countable outflows of all chains, any order, including
 * the new ones) for the windows the new outflows affect. At most one breach per rule: the first
 * window that exceeds the limit (a trip), else the highest window above the warn level.
 */
export function evaluateRules(rules: readonly Rule[], history: readonly OutflowRecord[], span: AffectedSpan): Breach[] {
  const sorted = [...history].sort(byWindowTime);
  const breaches: Breach[] = [];
  for (const rule of rules) {
    const applicable = sorted.filter((r) => ruleApplies(rule, r));
    const breach =
      rule.windowSeconds === 0 ? evaluateSingle(rule, applicable, span) : evaluateWindow(rule, applicable, span);
    if (breach) breaches.push(breach);
  }
  return breaches;
}

/** The measure of every rule's window ending at `t` (for pages and the console). */
export function windowTotalsAt(
  rules: readonly Rule[],
  history: readonly OutflowRecord[],
  t: number,
): { rule: Rule; value: bigint }[] {
  return rules
    .filter((rule) => rule.windowSeconds > 0)
    .map((rule) => {
      let value = 0n;
      for (const r of history) {
        if (r.t <= t && r.t > t - rule.windowSeconds && ruleApplies(rule, r)) value += measureOf(rule, r);
      }
      return { rule, value };
    });
}

function evaluateSingle(rule: Rule, applicable: OutflowRecord[], span: AffectedSpan): Breach | undefined {
  let warn: Breach | undefined;
  for (const r of applicable) {
    if (!span.newIds.has(r.id)) continue;
    const value = measureOf(rule, r);
    if (value > rule.limit) return { rule, level: 'trip', value, windowEnd: r.t, outflows: [r] };
    if (value > rule.warnAt && (!warn || value > warn.value)) {
      warn = { rule, level: 'warn', value, windowEnd: r.t, outflows: [r] };
    }
  }
  return warn;
}

function evaluateWindow(rule: Rule, applicable: OutflowRecord[], span: AffectedSpan): Breach | undefined {
  const w = rule.windowSeconds;
  const lastEnd = span.toT + w; // exclusive: windows ending at or after this no longer hold a new outflow
  let sum = 0n;
  let tail = 0; // first index inside the current window
  let best: { value: bigint; end: number; tail: number; head: number } | undefined;
  for (let head = 0; head < applicable.length; head++) {
    const end = (applicable[head] as OutflowRecord).t;
    if (end >= lastEnd) break;
    sum += measureOf(rule, applicable[head] as OutflowRecord);
    while ((applicable[tail] as OutflowRecord).t <= end - w) {
      sum -= measureOf(rule, applicable[tail] as OutflowRecord);
      tail++;
    }
    // Several outflows can share one time: only the last of them closes the window at `end`.
    const next = applicable[head + 1];
    if (next && next.t === end) continue;
    if (end < span.fromT) continue;
    if (sum > rule.limit) {
      return { rule, level: 'trip', value: sum, windowEnd: end, outflows: largestFirst(applicable.slice(tail, head + 1)) };
    }
    if (sum > rule.warnAt && (!best || sum > best.value)) best = { value: sum, end, tail, head };
  }
  if (!best) return undefined;
  return {
    rule,
    level: 'warn',
    value: best.value,
    windowEnd: best.end,
    outflows: largestFirst(applicable.slice(best.tail, best.head + 1)),
  };
}

function byWindowTime(a: OutflowRecord, b: OutflowRecord): number {
  return a.t - b.t || a.block - b.block || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function largestFirst(records: OutflowRecord[]): OutflowRecord[] {
  return [...records].sort((a, b) => (b.usdMicros > a.usdMicros ? 1 : b.usdMicros < a.usdMicros ? -1 : 0));
}
