import type { RuleKind } from '../rule-kind.ts';

/**
 * A hot wallet's USD within the window against a factor of the percentile of its own per-window totals
 * over a trailing baseline (rules/patterns.ts); `limit` and `warnAt` hold only the USD floors.
 */
export const walletProfile: RuleKind = {
  id: 'wallet-profile',
  handles: (rule) => rule.measure.kind === 'profile-usd',
  unit: () => 'usd',
  shownLevel: (level) => level,
  historyNeeded: (rule) =>
    (rule.measure.kind === 'profile-usd' ? rule.measure.baselineSeconds : 0) + rule.windowSeconds,
  applies: () => true,
  measureOf: (_rule, r) => r.usdMicros,
};
