import type { BreakerConfig } from '../config/types.ts';
import { type ManualTripRequest, manualTrip } from '../manual-trip.ts';
import { commitOperatorTransition, type OperatorDeps, type OperatorOutcome } from './operator-transition.ts';

/** Halt a scope by hand: reason required, the operator's verified identity recorded, on-call paged. */
export function manualTripUseCase(
  deps: OperatorDeps & { config: BreakerConfig },
  input: Omit<ManualTripRequest, 'nowMs'>,
): Promise<OperatorOutcome> {
  return commitOperatorTransition(deps, (state, nowMs) => manualTrip(state, { ...input, nowMs }, deps.config));
}
