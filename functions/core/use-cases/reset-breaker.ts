import { type ResetRequest, resetBreaker } from '../breaker.ts';
import type { BreakerConfig } from '../config/types.ts';
import type { BreakerStore, PagePublisher, StateMirror } from '../ports.ts';
import type { BreakerState } from '../state.ts';
import type { Clock } from '../time.ts';
import { commitOnTripRecords } from './operator-transition.ts';

export interface ResetDeps {
  config: BreakerConfig;
  store: BreakerStore;
  publisher: PagePublisher;
  clock: Clock;
  mirror?: StateMirror;
}

export type ResetInput = Omit<ResetRequest, 'nowMs' | 'processedThrough'>;

/**
 * Re-arm the breaker after review. The write is conditional on the state the decision was made
 * from; if the breaker changed meanwhile (a new trip), the decision is made again on the new
 * state — and rejected if the operator named the trips they reviewed and a new one appeared.
 * The cleared trips' records are then released (only reset and console roles may write releases).
 */
export async function resetBreakerUseCase(deps: ResetDeps, input: ResetInput): Promise<BreakerState> {
  const { state, undelivered } = await commitOnTripRecords(
    deps,
    // What the operator reviewed is what had been evaluated against this very state version: the
    // write is conditional on it, so no evaluation can slip between the two.
    (state, nowMs) =>
      resetBreaker(state, { ...input, nowMs, processedThrough: { ...(state.evaluatedThrough ?? {}) } }, deps.config),
    'the breaker state kept changing during the reset; try again',
    () => ({ actor: input.actor, reason: input.reason.trim() }),
  );
  if (undelivered) throw undelivered;
  return state;
}
