/**
 * Trips as records: the halting side can only add them, only the resetting side releases them.
 *
 * The state item keeps its `tripped` map (the pollers decide on it), but every role that polls may
 * rewrite the state item, so that map alone cannot be what halts. Each trip is also written as a
 * record (adapters: partition TRIP, scope in the sort key), and a reset adds a release record
 * (partition RELEASE) that pollers have no right to write. What halts is the union: the state's
 * trips and every trip record without a release. So a compromised poller can halt but not resume.
 */
import type { BreakerState, TripInfo, TripRecord, TripRelease } from './state.ts';

/** The trips that halt: the state's, plus any unreleased record whose scope the state does not show. */
export function effectiveTripped(state: BreakerState, records: readonly TripRecord[]): Record<string, TripInfo> {
  const tripped = { ...state.tripped };
  for (const r of records) tripped[r.scope] ??= r.trip;
  return tripped;
}

/** The state as operators must decide on it: its trips joined with the unreleased records. */
export function withTripRecords(state: BreakerState, records: readonly TripRecord[]): BreakerState {
  return { ...state, tripped: effectiveTripped(state, records) };
}

/**
 * The releases a reset owes: for every scope it cleared (halted before, not after), the cleared
 * trip and every unreleased record of that scope — a scope can hold more than one record.
 */
export function releasesFor(
  before: Record<string, TripInfo>,
  after: Record<string, TripInfo>,
  records: readonly TripRecord[],
  by: { actor: string; reason: string; nowMs: number },
): TripRelease[] {
  const cleared = Object.keys(before).filter((scope) => !(scope in after));
  const releases = new Map<string, TripRelease>();
  const add = (scope: string, trip: TripInfo) =>
    releases.set(`${scope}#${trip.atMs}#${trip.tripId}`, {
      scope,
      tripId: trip.tripId,
      tripAtMs: trip.atMs,
      releasedAtMs: by.nowMs,
      actor: by.actor,
      reason: by.reason,
    });
  for (const scope of cleared) {
    add(scope, before[scope] as TripInfo);
    for (const r of records) if (r.scope === scope) add(scope, r.trip);
  }
  return [...releases.values()];
}
