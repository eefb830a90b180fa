import { canonicalAsset } from '../chain-kind.ts';
import type { OutflowRecord } from '../model.ts';
import type { ApprovedWithdrawal } from './approved-withdrawal.ts';
import type { ReconciliationConfig } from './config.ts';

/**
 * Reconciliation: every hot-wallet outflow must be one the guarded signing service approved. An
 * outflow matches an approved withdrawal when it is on the same chain, of the same asset, to the
 * same destination, its amount is within `toleranceBps` of the approved amount, and its block time
 * is within `windowSeconds` (either side) of the approval. Each approval accounts for one outflow.
 *
 * Matching is greedy in chain order (block time, block, id): each outflow takes the closest free
 * approval (smallest amount difference, then nearest in time, then lowest id). Outflows to own
 * addresses and to configured sweep destinations need no approval.
 */

export type Verdict =
  | { kind: 'approved'; withdrawalId: string }
  | { kind: 'exempt'; why: 'own' | 'allowed-destination' | 'not-reconciled' }
  | { kind: 'unapproved'; reason: string };

export function needsApproval(cfg: ReconciliationConfig, r: OutflowRecord): boolean {
  if (r.own || !cfg.chains.has(r.chain)) return false;
  return !cfg.allowedDestinations.get(r.chain)?.has(addressOn(cfg, r.chain, r.to));
}

/** An address of `chain` in its kind's canonical form: approvals recorded without the config come as the signer wrote them. */
function addressOn(cfg: ReconciliationConfig, chain: string, address: string): string {
  const kind = cfg.kinds.get(chain);
  return kind ? kind.address.normalise(address) : address;
}

/** |actual − approved| ≤ approved × bps / 10 000, in integers. */
export function withinTolerance(actual: bigint, approved: bigint, bps: number): boolean {
  const diff = actual > approved ? actual - approved : approved - actual;
  return diff * 10_000n <= approved * BigInt(bps);
}

/** The difference in basis points of the approved amount, rounded up (for page wording). */
export function differenceBps(actual: bigint, approved: bigint): bigint {
  if (approved === 0n) return actual === 0n ? 0n : 10_000n;
  const diff = actual > approved ? actual - approved : approved - actual;
  return (diff * 10_000n + approved - 1n) / approved;
}

/** Is the approval of the outflow's asset? (symbol of a known asset, or the token identifier) */
export function sameAsset(cfg: ReconciliationConfig, a: ApprovedWithdrawal, r: OutflowRecord): boolean {
  const kind = cfg.kinds.get(r.chain);
  const asset = kind ? canonicalAsset(kind, a.asset) : a.asset;
  if (r.contract !== null && asset === r.contract) return true;
  return r.known && asset === r.asset;
}

export function withinWindow(a: ApprovedWithdrawal, r: OutflowRecord, windowSeconds: number): boolean {
  return Math.abs(r.blockTime * 1000 - a.approvedAtMs) <= windowSeconds * 1000;
}

/**
 * Judge `outflows` (any chains, any order; earlier outflows included so that the approvals they
 * took are not offered twice) against `approvals`. Returns a verdict per outflow id.
 */
export function reconcile(
  cfg: ReconciliationConfig,
  outflows: readonly OutflowRecord[],
  approvals: readonly ApprovedWithdrawal[],
): Map<string, Verdict> {
  const verdicts = new Map<string, Verdict>();
  const takenBy = new Map<string, string>();
  const ordered = [...outflows].sort(
    (a, b) => a.blockTime - b.blockTime || a.block - b.block || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  for (const r of ordered) {
    if (verdicts.has(r.id)) continue;
    if (r.own) {
      verdicts.set(r.id, { kind: 'exempt', why: 'own' });
      continue;
    }
    if (!cfg.chains.has(r.chain)) {
      verdicts.set(r.id, { kind: 'exempt', why: 'not-reconciled' });
      continue;
    }
    if (!needsApproval(cfg, r)) {
      verdicts.set(r.id, { kind: 'exempt', why: 'allowed-destination' });
      continue;
    }
    const to = addressOn(cfg, r.chain, r.to);
    const sameTransfer = approvals.filter(
      (a) => a.chain === r.chain && addressOn(cfg, r.chain, a.destination) === to && sameAsset(cfg, a, r),
    );
    let best: ApprovedWithdrawal | undefined;
    let bestKey: [bigint, number, string] | undefined;
    for (const a of sameTransfer) {
      if (takenBy.has(a.withdrawalId)) continue;
      if (!withinTolerance(r.amount, a.amount, cfg.toleranceBps) || !withinWindow(a, r, cfg.windowSeconds)) continue;
      const key: [bigint, number, string] = [
        r.amount > a.amount ? r.amount - a.amount : a.amount - r.amount,
        Math.abs(r.blockTime * 1000 - a.approvedAtMs),
        a.withdrawalId,
      ];
      if (!bestKey || compareKeys(key, bestKey) < 0) {
        best = a;
        bestKey = key;
      }
    }
    if (best) {
      takenBy.set(best.withdrawalId, r.id);
      verdicts.set(r.id, { kind: 'approved', withdrawalId: best.withdrawalId });
    } else {
      verdicts.set(r.id, { kind: 'unapproved', reason: whyUnmatched(cfg, r, sameTransfer, takenBy) });
    }
  }
  return verdicts;
}

function compareKeys(a: [bigint, number, string], b: [bigint, number, string]): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] - b[1];
  return a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0;
}

/** The nearest miss, so on-call sees at once whether this is a thief or a mis-recorded withdrawal. */
function whyUnmatched(
  cfg: ReconciliationConfig,
  r: OutflowRecord,
  sameTransfer: readonly ApprovedWithdrawal[],
  takenBy: ReadonlyMap<string, string>,
): string {
  if (sameTransfer.length === 0) return 'no approved withdrawal of this asset to this destination';
  const free = sameTransfer.filter((a) => !takenBy.has(a.withdrawalId));
  const inWindow = free.filter((a) => withinWindow(a, r, cfg.windowSeconds));
  if (inWindow.length > 0) {
    const bps = (a: ApprovedWithdrawal) => differenceBps(r.amount, a.amount);
    const nearest = [...inWindow].sort((x, y) =>
      bps(x) < bps(y) ? -1 : bps(x) > bps(y) ? 1 : 0,
    )[0] as ApprovedWithdrawal;
    return `amount ${r.amount} differs from approved withdrawal ${nearest.withdrawalId} (${nearest.amount}) by ${differenceBps(r.amount, nearest.amount)} bps, tolerance ${cfg.toleranceBps} bps`;
  }
  const inTolerance = free.filter((a) => withinTolerance(r.amount, a.amount, cfg.toleranceBps));
  if (inTolerance.length > 0) {
    const nearest = [...inTolerance].sort(
      (x, y) => Math.abs(r.blockTime * 1000 - x.approvedAtMs) - Math.abs(r.blockTime * 1000 - y.approvedAtMs),
    )[0] as ApprovedWithdrawal;
    const seconds = Math.round((r.blockTime * 1000 - nearest.approvedAtMs) / 1000);
    return `approved withdrawal ${nearest.withdrawalId} was approved ${Math.abs(seconds)} s ${seconds >= 0 ? 'before' : 'after'} the block, outside the ${cfg.windowSeconds} s window`;
  }
  if (free.length === 0) {
    const ids = sameTransfer.map((a) => a.withdrawalId).slice(0, 3);
    return `every approved withdrawal to this destination (${ids.join(', ')}) already accounts for an earlier transfer`;
  }
  return 'no approved withdrawal of this asset to this destination matches its amount and time';
}
