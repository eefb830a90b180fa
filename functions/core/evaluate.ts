import type { OutflowRecord } from './model.ts';
import type { AffectedSpan, Breach, OutflowMarks } from './rules/breach.ts';
import { byWindowTime, largestFirst } from './rules/order.ts';
import { evaluatePattern, isPatternRule, type PatternRule, patternValueAt } from './rules/patterns.ts';
import type { Rule } from './rules/rule.ts';
import type { RuleKindId } from './rules/rule-kind.ts';
import { ruleKindOf } from './rules/rule-kinds.ts';

/**
 * Exact sliding-window rule evaluation.
 *
 * A rule with window W breaks when, for some time T, the outflows with window time in (T − W, T]
 * exceed its limit. The sum over such a window only grows at an outflow's time, so checking every
 * T that is an outflow time is exact — there is no bucket boundary for a drain to straddle.
 * New outflows can only change windows ending in [their earliest t, their latest t + W), so only
 * those are evaluated; totals are therefore independent of how polls batch the blocks.
 */

/** Does this outflow count toward this rule at all? */
export function ruleApplies(rule: Rule, r: OutflowRecord & OutflowMarks): boolean {
  if (r.own) return false;
  if (r.usdOnly && !(rule.subject.kind === 'global' && rule.measure.kind === 'usd')) return false;
  const s = rule.subject;
  if (s.kind === 'chain' && r.chain !== s.chain) return false;
  if (s.kind === 'asset' && (r.chain !== s.chain || !r.known || r.asset !== s.asset)) return false;
  // `from` is always a hot wallet of its chain, in the kind's canonical form once classified; folding
  // case only forgives another spelling of the same wallet, since one chain's hot wallets never differ
  // only in case (base58 ids are case-sensitive, so this never joins two wallets of the chain).
  if (s.kind === 'wallet' && (r.chain !== s.chain || r.from.toLowerCase() !== s.wallet.toLowerCase())) return false;
  if (s.kind === 'unapproved' && (r.chain !== s.chain || !r.unapproved)) return false;
  return ruleKindOf(rule).applies(rule, r);
}

/** One outflow's contribution (for a pattern rule, before the pattern decides whether it counts). */
export function measureOf(rule: Rule, r: OutflowRecord): bigint {
  return ruleKindOf(rule).measureOf(rule, r);
}

/** Each kind's reference evaluation (the incremental evaluator must agree with it, rules/incremental.ts). */
const REFERENCE: Record<
  RuleKindId,
  (rule: Rule, applicable: OutflowRecord[], span: AffectedSpan) => Breach | undefined
> = {
  'window-sum': (rule, applicable, span) => evaluateWindow(rule, applicable, span),
  'single-transfer': (rule, applicable, span) => evaluateSingle(rule, applicable, span),
  'new-destinations': (rule, applicable, span) => evaluatePattern(rule as PatternRule, applicable, span),
  'distinct-assets': (rule, applicable, span) => evaluatePattern(rule as PatternRule, applicable, span),
  'wallet-profile': (rule, applicable, span) => evaluatePattern(rule as PatternRule, applicable, span),
  'balance-drawdown': (rule, applicable, span) => evaluatePattern(rule as PatternRule, applicable, span),
};

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
    const breach = REFERENCE[ruleKindOf(rule).id](rule, applicable, span);
    if (breach) breaches.push(breach);
  }
  return breaches;
}

/**
 * The measure of every rule's window ending at `t` (for pages and the console). `limit` is set
 * where the level moves with the data (wallet profile); a profile without enough history is left out.
 */
export function windowTotalsAt(
  rules: readonly Rule[],
  history: readonly OutflowRecord[],
  t: number,
): { rule: Rule; value: bigint; limit?: bigint }[] {
  const totals: { rule: Rule; value: bigint; limit?: bigint }[] = [];
  let sorted: OutflowRecord[] | undefined;
  for (const rule of rules) {
    if (rule.windowSeconds === 0) continue;
    if (isPatternRule(rule)) {
      sorted ??= [...history].sort(byWindowTime);
      const m = patternValueAt(
        rule,
        sorted.filter((r) => r.t <= t && ruleApplies(rule, r)),
        t,
      );
      if (m)
        totals.push(
          rule.measure.kind === 'profile-usd' ? { rule, value: m.value, limit: m.limit } : { rule, value: m.value },
        );
      continue;
    }
    let value = 0n;
    for (const r of history) {
      if (r.t <= t && r.t > t - rule.windowSeconds && ruleApplies(rule, r)) value += measureOf(rule, r);
    }
    totals.push({ rule, value });
  }
  return totals;
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
      return {
        rule,
        level: 'trip',
        value: sum,
        windowEnd: end,
        outflows: largestFirst(applicable.slice(tail, head + 1)),
      };
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
