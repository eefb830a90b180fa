import type { Rule } from '../rule.ts';
import type { RuleKind } from '../rule-kind.ts';

/** A fixed limit on the USD, transfer count or units of a subject's outflows within a sliding window. */
export const windowSum: RuleKind = {
  id: 'window-sum',
  handles: (rule) => isFixedMeasure(rule) && rule.windowSeconds > 0,
  unit: fixedUnit,
  shownLevel: (level) => level,
  historyNeeded: (rule) => rule.windowSeconds,
  applies: () => true,
  measureOf: (rule, r) => fixedMeasureOf(rule, r),
};

/** USD, count or units: the measures of fixed limits (window sums and single transfers). */
export function isFixedMeasure(rule: Rule): boolean {
  const k = rule.measure.kind;
  return k === 'usd' || k === 'count' || k === 'units';
}

/** What a fixed limit counts of one outflow. */
export function fixedMeasureOf(rule: Rule, r: { usdMicros: bigint; amount: bigint }): bigint {
  const k = rule.measure.kind;
  return k === 'count' ? 1n : k === 'units' ? r.amount : r.usdMicros;
}

/** The unit of a fixed limit's measure. */
export function fixedUnit(rule: Rule): 'usd' | 'count' | 'units' {
  const k = rule.measure.kind;
  return k === 'count' ? 'count' : k === 'units' ? 'units' : 'usd';
}
