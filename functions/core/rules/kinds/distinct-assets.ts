import type { RuleKind } from '../rule-kind.ts';

/**
 * How many assets each sent more than a share of their own units limit within the window
 * (rules/patterns.ts). Stored as limit = trip − 1 so that, like every kind, it trips above its limit;
 * `shownLevel` adds the 1 back for people.
 */
export const distinctAssets: RuleKind = {
  id: 'distinct-assets',
  handles: (rule) => rule.measure.kind === 'distinct-assets',
  unit: () => 'assets',
  shownLevel: (level) => level + 1n,
  historyNeeded: (rule) => rule.windowSeconds,
  applies: (rule, r) =>
    rule.measure.kind === 'distinct-assets' &&
    r.known &&
    rule.measure.assets.some((a) => a.chain === r.chain && a.asset === r.asset),
  measureOf: (_rule, r) => r.amount,
};
