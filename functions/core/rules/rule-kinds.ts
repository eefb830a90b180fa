import { balanceDrawdown } from './kinds/balance-drawdown.ts';
import { distinctAssets } from './kinds/distinct-assets.ts';
import { newDestinations } from './kinds/new-destinations.ts';
import { singleTransfer } from './kinds/single-transfer.ts';
import { walletProfile } from './kinds/wallet-profile.ts';
import { windowSum } from './kinds/window-sum.ts';
import type { Rule } from './rule.ts';
import type { RuleKind } from './rule-kind.ts';

/** Every rule kind: the one list a new kind is added to (docs/ARCHITECTURE.md). */
export const RULE_KINDS: readonly RuleKind[] = [
  windowSum,
  singleTransfer,
  newDestinations,
  distinctAssets,
  walletProfile,
  balanceDrawdown,
];

const known = new WeakMap<Rule, RuleKind>();

/** The kind of a rule. Throws when no kind, or more than one, claims it: a rule is never evaluated by a default. */
export function ruleKindOf(rule: Rule): RuleKind {
  const cached = known.get(rule);
  if (cached) return cached;
  const kinds = RULE_KINDS.filter((k) => k.handles(rule));
  if (kinds.length !== 1) {
    throw new TypeError(
      `rule ${rule.id} (measure ${rule.measure.kind}, window ${rule.windowSeconds} s) is claimed by ${kinds.length} rule kinds`,
    );
  }
  known.set(rule, kinds[0] as RuleKind);
  return kinds[0] as RuleKind;
}
