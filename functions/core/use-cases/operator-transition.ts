import { PublishError } from '../errors.ts';
import type { BreakerStore, PagePublisher, StateMirror } from '../ports.ts';
import type { BreakerState } from '../state.ts';
import type { Clock } from '../time.ts';
import { releasesFor, withTripRecords } from '../trips.ts';
import { type Committed, commitTransition } from './commit-transition.ts';
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

/** Who releases the trips a transition clears, given the state it was decided on. */
export type ReleasedBy = (decidedOn: BreakerState) => { actor: string; reason: string };

/**
 * Commit an operator's transition (trip, reset request, approval); see commitTransition. A
 * rejection (ResetRejectedError) from `decide` is thrown as is; delivery failures are reported.
 */
export async function commitOperatorTransition(
  deps: OperatorDeps,
  decide: (state: BreakerState, nowMs: number) => BreakerState,
  releasedBy?: ReleasedBy,
): Promise<OperatorOutcome> {
  const committed = await commitOnTripRecords(deps, decide, undefined, releasedBy);
  return committed.undelivered
    ? { state: committed.state, undelivered: committed.undelivered.message }
    : { state: committed.state };
}

/**
 * Operators decide on what actually halts (core/trips.ts): the state's trips joined with every
 * unreleased trip record, so a trip a poller's state write lost, or a tamper trip, is shown and
 * reset like any other. A transition that clears scopes (`releasedBy`) then releases their records
 * and re-syncs the mirrors, which until then still carried the released trips.
 */
export async function commitOnTripRecords(
  deps: OperatorDeps,
  decide: (state: BreakerState, nowMs: number) => BreakerState,
  conflictMessage?: string,
  releasedBy?: ReleasedBy,
): Promise<Committed> {
  const records = await deps.store.unreleasedTrips();
  let decidedOn: BreakerState | undefined;
  const committed = await commitTransition(
    deps,
    (state, nowMs) => {
      decidedOn = withTripRecords(state, records);
      return decide(decidedOn, nowMs);
    },
    conflictMessage,
  );
  if (!releasedBy || !decidedOn) return committed;
  const releases = releasesFor(decidedOn.tripped, committed.state.tripped, records, {
    ...releasedBy(decidedOn),
    nowMs: committed.state.updatedAtMs,
  });
  if (releases.length === 0) return committed;
  await deps.store.recordReleases(releases);
  try {
    await flushOutbox(deps);
  } catch (e) {
    if (!(e instanceof PublishError)) throw e;
    return { state: committed.state, undelivered: committed.undelivered ?? e };
  }
  return committed;
}
