import type { OutflowRecord } from '../model.ts';
import type { OutflowMarks } from '../rules/breach.ts';

/** Page wording for reconciliation trips (used by functions/core/pages.ts). */

export const UNAPPROVED_HEADLINE = 'an outflow matched no approved withdrawal — the hot key may be stolen';

export function unapprovedRuleText(chain: string): string {
  return `outflow on ${chain} matching no approved withdrawal (any amount)`;
}

export function unapprovedSummary(chain: string, count: bigint): string {
  return `${unapprovedRuleText(chain)}: ${count} unapproved transfer${count === 1n ? '' : 's'} — trips at the first, whatever its size`;
}

export function unapprovedExplanation(outflows: readonly (OutflowRecord & OutflowMarks)[]): string[] {
  return [
    'STOLEN-KEY SIGNAL: funds left a hot wallet that the signing service never approved. Its guard records every withdrawal it lets through before signing, so this transfer was signed outside it — by a stolen hot key, or by a signer that bypasses the guard. Treat the hot keys as compromised until proven otherwise.',
    ...outflows.slice(0, 10).map((r) => `  ${r.txHash} → ${r.to}: ${r.unapproved?.reason ?? 'no approved withdrawal'}`),
  ];
}
