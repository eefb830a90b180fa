import type { OutflowRecord } from '../model.ts';
import type { OutflowMarks } from './breach.ts';
import type { Rule } from './rule.ts';

/** The rule kinds; evaluate.ts and incremental.ts key their algorithms by these (exhaustively, so a new kind without one does not compile). */
export type RuleKindId =
  | 'window-sum'
  | 'single-transfer'
  | 'new-destinations'
  | 'distinct-assets'
  | 'wallet-profile'
  | 'balance-drawdown';

/**
 * What one kind of rule is, in one module (functions/core/rules/kinds/): which rules it covers, what it
 * counts, and the facts every consumer (evaluation, pages, console, replay, the trip evidence) asks it
 * instead of switching on `measure.kind`. The registry is rules/rule-kinds.ts.
 */
export type RuleUnit = 'usd' | 'count' | 'units' | 'assets' | 'ppm';

export interface RuleKind {
  readonly id: RuleKindId;
  /** Is `rule` of this kind? Exactly one registered kind answers yes for every rule (ruleKindOf checks). */
  handles(rule: Rule): boolean;
  /**
   * What the measure is counted in: USD (micro-USD), transfers, base units of one asset, assets
   * (distinct assets, emptied assets), or a share in parts per million (balance drawdown). The console
   * scales by it; trip evidence records it (assets as a count).
   */
  unit(rule: Rule): RuleUnit;
  /**
   * A stored level (limit or warnAt) as people read it. Distinct assets store "trips at N" as
   * limit = N − 1 so that every kind trips when the measure exceeds its limit; this is the one place
   * that adds the 1 back.
   */
  shownLevel(level: bigint): bigint;
  /** Seconds of history evaluation must read for this rule (its window, or longer when it looks back). */
  historyNeeded(rule: Rule): number;
  /** The kind's own condition on an outflow, beyond the rule's subject (distinct assets: one of its assets). */
  applies(rule: Rule, r: OutflowRecord & OutflowMarks): boolean;
  /** One outflow's contribution (for a pattern, before the pattern decides whether it counts). */
  measureOf(rule: Rule, r: OutflowRecord): bigint;
}
