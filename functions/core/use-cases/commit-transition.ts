import { PublishError, StateConflictError } from '../errors.ts';
import type { AuditLog, BreakerStateStore, PagePublisher, StateMirror } from '../ports.ts';
import type { BreakerState } from '../state.ts';
import { refuseMissingState, type TamperDeps } from '../tamper.ts';
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
  const { state, changed } = await commitState(deps, decide, { conflictMessage });
  if (!changed) return undefined;
  try {
    await flushOutbox({ store: deps.store, publisher: deps.publisher, mirror: deps.mirror }, state);
  } catch (e) {
    if (!(e instanceof PublishError)) throw e;
    return { state, undelivered: e };
  }
  return { state };
}

/**
 * The write half of commitTransition, for a caller that carries the outbox out later (a poll
 * flushes once, after its cursor moved). Returns the state written, or the state `decide` found
 * nothing to change in.
 */
export async function commitState(
  deps: TamperDeps,
  decide: (state: BreakerState, nowMs: number) => BreakerState | undefined,
  options: {
    conflictMessage?: string;
    attempts?: number;
    /** The state the caller just read (initialised): the first attempt decides on it instead of reading again. */
    first?: BreakerState;
  } = {},
): Promise<{ state: BreakerState; changed: boolean }> {
  for (let attempt = 0; attempt < (options.attempts ?? 10); attempt++) {
    const state = attempt === 0 && options.first ? options.first : await readInitialisedState(deps);
    const next = decide(state, deps.clock.now());
    if (!next) return { state, changed: false };
    try {
      await deps.store.saveState(next, state.version);
      return { state: next, changed: true };
    } catch (e) {
      // Someone else tripped, warned or reset meanwhile: decide again on what they wrote.
      if (!(e instanceof StateConflictError)) throw e;
    }
  }
  throw new StateConflictError(options.conflictMessage ?? 'the breaker state kept changing; try again');
}

/** The current state; an absent one is halted, never a blank armed one to build on (after init it is tamper). */
export async function readInitialisedState(deps: TamperDeps): Promise<BreakerState> {
  const state = await deps.store.getState();
  await refuseMissingState(deps, state.version);
  return state;
}
