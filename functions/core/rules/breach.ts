import type { OutflowRecord } from '../model.ts';
import type { Rule } from './rule.ts';

export interface Breach {
  rule: Rule;
  level: 'warn' | 'trip';
  /** Measure over the breaching window (micro-USD, count or base units). */
  value: bigint;
  /** End of the breaching window (chain time); for single-transaction rules, that outflow's time. */
  windowEnd: number;
  /** Outflows in the breaching window, largest USD first. */
  outflows: OutflowRecord[];
  /** The levels in force for this window when they move with the data (wallet profile); else the rule's. */
  limit?: bigint;
  warnAt?: bigint;
  /** Wallet profile: the percentile of the wallet's own per-window totals the levels derive from. */
  baseline?: bigint;
}

/**
 * Optional marks on a record. Production records carry none; the replay sets them:
 * `aggregate` — the row sums many transactions, so it is not one transfer for single-transaction
 * rules; `usdOnly` — from a chain the config does not watch, counted toward global USD rules only.
 */
export interface OutflowMarks {
  aggregate?: boolean;
  usdOnly?: boolean;
  /**
   * Set by the poller (functions/core/reconciliation) on a fresh outflow that matches no approved
   * withdrawal; `reason` is the nearest miss, for the page. Counted only by reconciliation rules.
   */
  unapproved?: { reason: string };
}

export interface AffectedSpan {
  /** Earliest window time among the new outflows. */
  fromT: number;
  /** Latest window time among the new outflows. */
  toT: number;
  /** Ids of the new outflows (single-transaction rules look only at these). */
  newIds: ReadonlySet<string>;
}
