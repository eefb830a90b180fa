import { PublishError, StateConflictError } from '../errors.ts';
import type { AuditLog, BreakerStateStore, PagePublisher, StateMirror } from '../ports.ts';
import type { BreakerState } from '../state.ts';
import { refuseMissingState } from '../tamper.ts';
import type { Clock } from '../time.ts';
import { flushOutbox } from './outbox.ts';

export interface TransitionDeps {
  store: BreakerStateStore & AuditLog;
  publisher: PagePublisher;
  clock: Clock;
  mirror?: StateMirror;
}

/**
 * Commit a transition the way every transition is committed: decided on the current state,
 * written conditionally on its version, decided again on the new state after a conflict, then the
 * outbox carried out. `decide` returns undefined when there is nothing to change (its rejections
 * are thrown as they are). A delivery failure after the commit does not undo it: it is returned
 * as `undelivered` for the caller to raise or report.
 */
export interface Committed {
  state: BreakerState;
  undelivered?: PublishError;
}

export function commitTransition(
  deps: TransitionDeps,
  decide: (state: BreakerState, nowMs: number) => BreakerState,
  conflictMessage?: string,
): Promise<Committed>;
export function commitTransition(
  deps: TransitionDeps,
  decide: (state: BreakerState, nowMs: number) => BreakerState | undefined,
  conflictMessage?: string,
): Promise<Committed | undefined>;
export async function commitTransition(
  deps: TransitionDeps,
  decide: (state: BreakerState, nowMs: number) => BreakerState | undefined,
  conflictMessage = 'the breaker state kept changing; try again',
): Promise<Committed | undefined> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const state = await deps.store.getState();
    // An absent state is halted, never a blank armed one to build on (and after init it is tamper).
    await refuseMissingState(deps, state.version);
    const next = decide(state, deps.clock.now());
    if (!next) return undefined;
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
      return { state: next, undelivered: e };
    }
    return { state: next };
  }
  throw new StateConflictError(conflictMessage);
}
