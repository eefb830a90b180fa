import type { BreakerConfig } from '../config/types.ts';
import { approveLoosening, type LooseningApprovalInput } from '../config-approval.ts';
import { rearmedChains } from '../evaluation-progress.ts';
import type { BreakerState } from '../state.ts';
import { approveReset, type ResetRequestInput, requestReset } from '../two-person-reset.ts';
import { commitOperatorTransition, type OperatorDeps, type OperatorOutcome } from './operator-transition.ts';
import { readProgress, reviewedReset, reviewRacedEvaluations } from './reset-breaker.ts';

type Deps = OperatorDeps & { config: BreakerConfig };

/** First operator: ask for a reset (reason required); nothing is re-armed yet. */
export function requestResetUseCase(deps: Deps, input: Omit<ResetRequestInput, 'nowMs'>): Promise<OperatorOutcome> {
  return commitOperatorTransition(deps, (state, nowMs) => requestReset(state, { ...input, nowMs }, deps.config));
}

/**
 * Second operator: approve the waiting request. As with a single-step reset, what was reviewed is
 * what the chains' progress items say was evaluated (reset-breaker.ts). The approver releases the
 * cleared trips' records, with the requester's reason.
 */
export async function approveResetUseCase(
  deps: Deps,
  input: { requestId: string; actor: string },
): Promise<OperatorOutcome> {
  const progress = await readProgress(deps);
  let decidedOn: BreakerState | undefined;
  const outcome = await commitOperatorTransition(
    deps,
    (state, nowMs) => {
      decidedOn = state;
      return reviewedReset(state, deps.config, progress, (processedThrough) =>
        approveReset(state, { ...input, nowMs, processedThrough }, deps.config),
      );
    },
    (decidedOn) => ({ actor: input.actor, reason: decidedOn.pendingReset?.reason ?? '(two-person reset)' }),
  );
  if (decidedOn) await reviewRacedEvaluations(deps, rearmedChains(decidedOn, outcome.state, deps.config), input.actor);
  return outcome;
}

/** An operator approves the loosened config now waiting its delay; the second person's approval ends the wait. */
export function approveLooseningUseCase(
  deps: Deps,
  input: Omit<LooseningApprovalInput, 'nowMs'>,
): Promise<OperatorOutcome> {
  return commitOperatorTransition(deps, (state, nowMs) => approveLoosening(state, { ...input, nowMs }, deps.config));
}
