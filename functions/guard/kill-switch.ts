import { haltedFor } from '../core/breaker.ts';
import type { BreakerStateStore } from '../core/ports.ts';
import { isInitialised, type TripInfo } from '../core/state.ts';
import { effectiveTripped } from '../core/trips.ts';
import { stateProblem } from './guard.ts';

/** What a signing service asks before signing a withdrawal. */
export interface WithdrawalScope {
  chain: string;
  /** Asset symbol; chain-level halts cover every asset of the chain. */
  asset?: string;
}

export type HaltDecision =
  | { halted: false }
  | {
      halted: true;
      reason: string;
      trip?: TripInfo /** true when the breaker could not be read */;
      failedClosed: boolean;
    };

/**
 * The kill switch as a signing service sees it. Reads the breaker state item and the unreleased
 * trip records with strongly consistent reads on every call; an absent state is halted. Fails closed: any error reading or interpreting the state is
 * reported as halted, so a broken breaker never lets a withdrawal through.
 */
export function createKillSwitch(store: Pick<BreakerStateStore, 'getState' | 'unreleasedTrips'>) {
  return {
    async isHalted(scope: WithdrawalScope): Promise<HaltDecision> {
      try {
        if (!scope || typeof scope.chain !== 'string' || scope.chain === '') {
          return { halted: true, reason: 'withdrawal scope has no chain', failedClosed: true };
        }
        const [state, records] = await Promise.all([store.getState(), store.unreleasedTrips()]);
        const problem = stateProblem(state);
        if (problem) return { halted: true, reason: `breaker state is malformed: ${problem}`, failedClosed: true };
        if (!isInitialised(state)) {
          return { halted: true, reason: 'breaker state is not initialised (no state item)', failedClosed: true };
        }
        const trip = haltedFor({ ...state, tripped: effectiveTripped(state, records) }, scope.chain);
        if (!trip) return { halted: false };
        return { halted: true, reason: `breaker tripped: ${trip.ruleId} (${trip.tripId})`, trip, failedClosed: false };
      } catch (e) {
        return { halted: true, reason: `breaker state unreadable: ${(e as Error).message}`, failedClosed: true };
      }
    },
  };
}
