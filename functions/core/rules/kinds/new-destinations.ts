import type { RuleKind } from '../rule-kind.ts';

/** USD sent within the window to destinations first paid less than one window earlier (rules/patterns.ts). */
export const newDestinations: RuleKind = {
  id: 'new-destinations',
  handles: (rule) => rule.measure.kind === 'new-destination-usd',
  unit: () => 'usd',
  shownLevel: (level) => level,
  historyNeeded: (rule) =>
    rule.windowSeconds + (rule.measure.kind === 'new-destination-usd' ? rule.measure.lookbackSeconds : 0),
  applies: () => true,
  measureOf: (_rule, r) => r.usdMicros,
};
