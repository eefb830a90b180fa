import { type ResetRequest, resetBreaker } from '../breaker.ts';
import type { BreakerConfig } from '../config/compile.ts';
import { StateConflictError } from '../errors.ts';
import type { BreakerStore, PagePublisher, StateMirror } from '../ports.ts';
import type { BreakerState } from '../state.ts';
import type { Clock } from '../time.ts';
import { flushOutbox } from './outbox.ts';

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
 */
export async function resetBreakerUseCase(deps: ResetDeps, input: ResetInput): Promise<BreakerState> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const state = await deps.store.getState();
    // What the operator reviewed is what had been evaluated against this very state version: the
    // write below is conditional on it, so no evaluation can slip between the two.
    const processedThrough = { ...(state.evaluatedThrough ?? {}) };
    const next = resetBreaker(state, { ...input, nowMs: deps.clock.now(), processedThrough }, deps.config);
    try {
      await deps.store.saveState(next, state.version);
    } catch (e) {
      if (e instanceof StateConflictError) continue;
      throw e;
    }
    await flushOutbox({ store: deps.store, publisher: deps.publisher, mirror: deps.mirror }, next);
    return next;
  }
  throw new StateConflictError('the breaker state kept changing during the reset; try again');
}
