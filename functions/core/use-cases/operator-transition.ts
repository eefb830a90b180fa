import { PublishError, StateConflictError } from '../errors.ts';
import type { BreakerStore, PagePublisher, StateMirror } from '../ports.ts';
import type { BreakerState } from '../state.ts';
import type { Clock } from '../time.ts';
import { flushOutbox } from './outbox.ts';

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
 * Commit an operator's transition (trip, reset request, approval) the way every transition is
 * committed: decided on the current state, written conditionally on its version, decided again on
 * the new state after a conflict, then the outbox is flushed. A rejection (ResetRejectedError) from
 * `decide` is thrown as is. Delivery failures after the commit do not undo it: they are reported.
 */
export async function commitOperatorTransition(
  deps: OperatorDeps,
  decide: (state: BreakerState, nowMs: number) => BreakerState,
): Promise<OperatorOutcome> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const state = await deps.store.getState();
    const next = decide(state, deps.clock.now());
    try {
      await deps.store.saveState(next, state.version);
    } catch (e) {
      if (e instanceof StateConflictError) continue;
      throw e;
    }
    try {
      await flushOutbox({ store: deps.store, publisher: deps.publisher, mirror: deps.mirror }, next);
    } catch (e) {
      if (!(e instanceof PublishError)) throw e;
      return { state: next, undelivered: e.message };
    }
    return { state: next };
  }
  throw new StateConflictError('the breaker state kept changing; try again');
}
