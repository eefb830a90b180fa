import type { BreakerConfig } from '../config/types.ts';
import type { OutflowRecord } from '../model.ts';
import type { ApprovedWithdrawalLog, OutflowLedger } from '../ports.ts';
import type { OutflowMarks } from '../rules/breach.ts';
import { needsApproval, reconcile, type Verdict } from './reconcile.ts';

export interface ReconcileDeps {
  config: BreakerConfig;
  store: OutflowLedger;
  /** Where the guard records approved withdrawals; by default the store, when it keeps them. */
  approvals?: ApprovedWithdrawalLog;
}

/** Does this store keep approved withdrawals too? (the DynamoDB store does; the replay's memory store does not) */
export function approvalLogOf(store: unknown): ApprovedWithdrawalLog | undefined {
  const s = store as Partial<ApprovedWithdrawalLog> | null;
  return s && typeof s.approvedWithdrawalsBetween === 'function' && typeof s.recordApprovedWithdrawal === 'function'
    ? (s as ApprovedWithdrawalLog)
    : undefined;
}

/**
 * Mark the fresh outflows that no approved withdrawal accounts for (`unapproved`), so that the
 * reconciliation rules count them in the same evaluation as every other rule. Earlier outflows of
 * the same chains are read back so that the approvals they used are not offered twice.
 *
 * Without an approval log every outflow that needs approval is unapproved: reconciliation turned on
 * with nothing recording approvals is a deployment mistake, and it fails safe (halts) loudly.
 */
export async function markUnapprovedOutflows(
  deps: ReconcileDeps,
  fresh: readonly OutflowRecord[],
): Promise<(OutflowRecord & OutflowMarks)[]> {
  const cfg = deps.config.reconciliation;
  if (!cfg?.enabled) return [...fresh];
  const needing = fresh.filter((r) => needsApproval(cfg, r));
  if (needing.length === 0) return [...fresh];
  const log = deps.approvals ?? approvalLogOf(deps.store);
  if (!log) {
    const reason = 'no approved-withdrawal log is wired to this poller: nothing can be reconciled';
    return fresh.map((r) => (needsApproval(cfg, r) ? { ...r, unapproved: { reason } } : r));
  }
  const windowMs = cfg.windowSeconds * 1000;
  const verdictsById = new Map<string, Verdict>();
  for (const chain of new Set(needing.map((r) => r.chain))) {
    const mine = needing.filter((r) => r.chain === chain);
    const fromS = Math.min(...mine.map((r) => r.blockTime));
    const toS = Math.max(...mine.map((r) => r.blockTime));
    // An approval a fresh outflow could take is at most one window before it; an earlier outflow
    // that could have taken it is at most one window before that approval.
    const earlier = await deps.store.outflowsSince(chain, Math.max(0, fromS - 2 * cfg.windowSeconds));
    const approvals = await log.approvedWithdrawalsBetween(chain, fromS * 1000 - 2 * windowMs, toS * 1000 + windowMs);
    const freshIds = new Set(mine.map((r) => r.id));
    const candidates = [...earlier.filter((r) => !freshIds.has(r.id) && r.blockTime <= toS), ...mine];
    for (const [id, verdict] of reconcile(cfg, candidates, approvals))
      if (freshIds.has(id)) verdictsById.set(id, verdict);
  }
  return fresh.map((r) => {
    const verdict = verdictsById.get(r.id);
    return verdict?.kind === 'unapproved' ? { ...r, unapproved: { reason: verdict.reason } } : r;
  });
}
