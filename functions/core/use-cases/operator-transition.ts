import type { BreakerStore, PagePublisher, StateMirror } from '../ports.ts';
import type { BreakerState } from '../state.ts';
import type { Clock } from '../time.ts';
import { commitTransition } from './commit-transition.ts';

export interface OperatorDeps {
  store: BreakerStore;
  publisher: PagePublisher;
  clock: Clock;
  mirror?: StateMirror;
}

export interface OperatorOutcome {
  state: BreakerState;
  /** The transition is committed, but some pages/audit records are still queued (retried by the next flush). */
  undelivered?: string;
}

/**
 * Commit an operator's transition (trip, reset request, approval); see commitTransition. A
 * rejection (ResetRejectedError) from `decide` is thrown as is; delivery failures are reported.
 */
export async function commitOperatorTransition(
  deps: OperatorDeps,
  decide: (state: BreakerState, nowMs: number) => BreakerState,
): Promise<OperatorOutcome> {
  const committed = await commitTransition(deps, decide);
  return committed.undelivered
    ? { state: committed.state, undelivered: committed.undelivered.message }
    : { state: committed.state };
}
