import { isWithdrawalHalted } from '../guard/errors.ts';
import type { Approval, BreakerGuard } from '../guard/guard.ts';
import type { HaltDecision } from '../guard/kill-switch.ts';
import type { WithdrawalRequest } from '../guard/withdrawal.ts';

/**
 * What a custody callback answers, before it is put in the platform's words. `fault` is kept apart
 * from `reject` because a platform may be told to ask again on a fault (Fireblocks RETRY, Cobo's
 * re-push) — never on a halt: a halt answered "ask again" would let every queued withdrawal, the
 * attacker's too, through by itself the moment the breaker is re-armed.
 */
export type CustodyDecision =
  | { kind: 'approve'; approvals: Approval[] }
  | { kind: 'reject'; reason: string }
  | { kind: 'fault'; reason: string };

/** Guard refusals that may pass if asked again: the store did not answer (in time). */
const TRANSIENT = new Set(['state-unreadable', 'approval-unrecorded', 'timeout']);

/**
 * Approve every withdrawal of one platform request through the guard, in order, or none: the
 * first refusal decides the answer. Approvals already recorded for earlier outputs stay (the
 * approval log is write-once); the platform fails the whole request, so they only match a transfer
 * nobody sends. Callers validate every output first, so only a halt or a fault can stop midway.
 */
export async function approveAll(
  guard: BreakerGuard,
  requests: readonly WithdrawalRequest[],
  signal: AbortSignal,
): Promise<CustodyDecision> {
  const approvals: Approval[] = [];
  for (const request of requests) {
    try {
      approvals.push(await guard.check(request, { signal }));
    } catch (e) {
      if (!isWithdrawalHalted(e)) return { kind: 'fault', reason: `guard fault: ${String(e)}` };
      return TRANSIENT.has(e.rejection) ? { kind: 'fault', reason: e.message } : { kind: 'reject', reason: e.message };
    }
  }
  return { kind: 'approve', approvals };
}

/**
 * For requests that record nothing (an approval-stage request, a workspace change, a consolidation):
 * approve only when every chain asked about is armed; a halt rejects, an unreadable state is a fault.
 */
export async function approveWhenArmed(
  killSwitch: { isHalted(scope: { chain: string }): Promise<HaltDecision> },
  chains: Iterable<string>,
): Promise<CustodyDecision> {
  const decisions = await Promise.all([...new Set(chains)].map((chain) => killSwitch.isHalted({ chain })));
  for (const d of decisions) {
    if (d.halted) return d.failedClosed ? { kind: 'fault', reason: d.reason } : { kind: 'reject', reason: d.reason };
  }
  return { kind: 'approve', approvals: [] };
}

/** Run `decide`, but answer a fault when it takes longer than `ms` (its signal is then aborted). */
export async function withDeadline(
  ms: number,
  decide: (signal: AbortSignal) => Promise<CustodyDecision>,
): Promise<CustodyDecision> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<CustodyDecision>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({ kind: 'fault', reason: `no decision within ${ms} ms: refused (fail closed)` });
    }, ms);
  });
  try {
    return await Promise.race([
      decide(controller.signal).catch(
        (e: unknown): CustodyDecision => ({ kind: 'fault', reason: `callback fault: ${String(e)}` }),
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
