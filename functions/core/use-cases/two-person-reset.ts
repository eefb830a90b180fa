import type { BreakerConfig } from '../config/types.ts';
import { approveLoosening, type LooseningApprovalInput } from '../config-approval.ts';
import { approveReset, type ResetRequestInput, requestReset } from '../two-person-reset.ts';
import { commitOperatorTransition, type OperatorDeps, type OperatorOutcome } from './operator-transition.ts';

type Deps = OperatorDeps & { config: BreakerConfig };

/** First operator: ask for a reset (reason required); nothing is re-armed yet. */
export function requestResetUseCase(deps: Deps, input: Omit<ResetRequestInput, 'nowMs'>): Promise<OperatorOutcome> {
  return commitOperatorTransition(deps, (state, nowMs) => requestReset(state, { ...input, nowMs }, deps.config));
}

/**
 * Second operator: approve the waiting request. As with a single-step reset, what was reviewed is
 * what had been evaluated against the very state version the conditional write replaces. The
 * approver releases the cleared trips' records, with the requester's reason.
 */
export function approveResetUseCase(deps: Deps, input: { requestId: string; actor: string }): Promise<OperatorOutcome> {
  return commitOperatorTransition(
    deps,
    (state, nowMs) =>
      approveReset(state, { ...input, nowMs, processedThrough: { ...(state.evaluatedThrough ?? {}) } }, deps.config),
    (decidedOn) => ({ actor: input.actor, reason: decidedOn.pendingReset?.reason ?? '(two-person reset)' }),
  );
}

/** An operator approves the loosened config now waiting its delay; the second person's approval ends the wait. */
export function approveLooseningUseCase(
  deps: Deps,
  input: Omit<LooseningApprovalInput, 'nowMs'>,
): Promise<OperatorOutcome> {
  return commitOperatorTransition(deps, (state, nowMs) => approveLoosening(state, { ...input, nowMs }, deps.config));
}
