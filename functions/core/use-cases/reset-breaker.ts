import { type ResetRequest, resetBreaker } from '../breaker.ts';
import type { BreakerConfig } from '../config/types.ts';
import { evaluatedThrough, extendReview, rearmedChains, stampReview } from '../evaluation-progress.ts';
import type { BreakerStore, PagePublisher, StateMirror } from '../ports.ts';
import type { BreakerState, EvaluationProgress } from '../state.ts';
import type { Clock } from '../time.ts';
import { commitState } from './commit-transition.ts';
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
  const progress = await readProgress(deps);
  let decidedOn: BreakerState | undefined;
  const { state, undelivered } = await commitOnTripRecords(
    deps,
    // What the operator reviewed is what the chains' progress items say was evaluated; an evaluation
    // recorded after this read is caught by the reset's second look or by the poller (evaluation-progress.ts).
    (state, nowMs) => {
      decidedOn = state;
      return reviewedReset(state, deps.config, progress, (processedThrough) =>
        resetBreaker(state, { ...input, nowMs, processedThrough }, deps.config),
      );
    },
    'the breaker state kept changing during the reset; try again',
    () => ({ actor: input.actor, reason: input.reason.trim() }),
  );
  if (decidedOn) await reviewRacedEvaluations(deps, rearmedChains(decidedOn, state, deps.config), input.actor);
  if (undelivered) throw undelivered;
  return state;
}

/** Every configured chain's evaluation progress (absent ones left out). */
export async function readProgress(
  deps: Pick<ResetDeps, 'config' | 'store'>,
): Promise<Map<string, EvaluationProgress>> {
  const items = await Promise.all([...deps.config.chains.keys()].map((c) => deps.store.getProgress(c)));
  return new Map(items.filter((p) => p !== undefined).map((p) => [p.chain, p]));
}

/** A reset decided on `state`, reviewing what `progress` says was evaluated, stamped with `reviewedAt`. */
export function reviewedReset(
  state: BreakerState,
  config: BreakerConfig,
  progress: ReadonlyMap<string, EvaluationProgress>,
  reset: (processedThrough: Record<string, number>) => BreakerState,
): BreakerState {
  const evaluated = evaluatedThrough(state, progress);
  const processedThrough = Object.fromEntries(Object.entries(evaluated).map(([chain, e]) => [chain, e.block]));
  return stampReview(state, reset(processedThrough), config, evaluated);
}

/**
 * The reset's second look, after its write: an evaluation of a re-armed chain recorded after the
 * reset read the progress, decided on the state the reset replaced, joins what it reviewed.
 */
export async function reviewRacedEvaluations(
  deps: Omit<ResetDeps, 'config'> & { config: BreakerConfig },
  chains: readonly string[],
  actor: string,
): Promise<void> {
  if (chains.length === 0) return;
  const progress = (await Promise.all(chains.map((c) => deps.store.getProgress(c)))).filter((p) => p !== undefined);
  await commitState(deps, (state, nowMs) => extendReview(state, progress, actor, nowMs));
}
