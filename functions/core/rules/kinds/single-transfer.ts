import type { RuleKind } from '../rule-kind.ts';
import { fixedMeasureOf, fixedUnit, isFixedMeasure } from './window-sum.ts';

/**
 * A fixed limit on one transfer (window 0): its USD, units, or — for reconciliation's unapproved
 * subject — the count 1, so the first unapproved outflow trips.
 */
export const singleTransfer: RuleKind = {
  id: 'single-transfer',
  handles: (rule) => isFixedMeasure(rule) && rule.windowSeconds === 0,
  unit: fixedUnit,
  shownLevel: (level) => level,
  historyNeeded: () => 0,
  // A replay row that sums many transactions is not one transfer.
  applies: (_rule, r) => !r.aggregate,
  measureOf: (rule, r) => fixedMeasureOf(rule, r),
};
