/**
 * An absent breaker state is never armed. Before the first initialisation it is "not initialised";
 * after it (the INIT marker exists) the state item was deleted — by an admin, a restored table or
 * an attacker — and that is tamper: a global trip RECORD (which no re-created state clears, only an
 * operator's reset) and a [TAMPER] page, once per episode. Every writer runs through here
 * (commitTransition), so whichever function touches the breaker next notices.
 */
import { StateMissingError } from './errors.ts';
import { renderTamperPage } from './pages/tamper-pages.ts';
import type { AuditLog, BreakerStateStore, PagePublisher } from './ports.ts';
import type { AuditRecord, InitMarker, TripInfo } from './state.ts';
import type { Clock } from './time.ts';

export const STATE_MISSING_RULE_ID = 'tamper:state-missing';

export interface TamperDeps {
  store: BreakerStateStore & AuditLog;
  publisher: PagePublisher;
  clock: Clock;
}

/** Throws StateMissingError (after recording and paging tamper, when it is tamper). Returns when initialised. */
export async function refuseMissingState(deps: TamperDeps, version: number): Promise<void> {
  if (version > 0) return;
  const marker = await deps.store.getInitMarker();
  if (!marker) {
    throw new StateMissingError(
      'the breaker state is not initialised, so it is halted: run `breaker init` (a deploy initialises it in AWS)',
    );
  }
  await recordStateTamper(deps, marker);
  throw new StateMissingError(
    `TAMPER: the breaker state item BREAKER/STATE is gone although it was initialised at ${new Date(marker.initialisedAtMs).toISOString()} by ${marker.actor}; everything is halted until an operator re-initialises and resets`,
  );
}

async function recordStateTamper(deps: TamperDeps, marker: InitMarker): Promise<void> {
  const open = await deps.store.unreleasedTrips();
  // One page per episode: an unreleased tamper trip means this deletion was already noticed.
  if (open.some((r) => r.trip.ruleId === STATE_MISSING_RULE_ID)) return;
  const nowMs = deps.clock.now();
  const trip: TripInfo = {
    tripId: `tamper-${nowMs}`,
    atMs: nowMs,
    ruleId: STATE_MISSING_RULE_ID,
    scope: { kind: 'global' },
    evidence: {
      ruleId: STATE_MISSING_RULE_ID,
      summary: 'the breaker state item BREAKER/STATE was deleted after initialisation',
      measure: 'count',
      value: '1',
      limit: '0',
      windowSeconds: 0,
      windowEnd: Math.floor(nowMs / 1000),
      outflowIds: [],
    },
  };
  // The halt first. A publish failure is thrown (the run fails, so the platform alarms); the next
  // writer sees the tamper trip and does not page again.
  await deps.store.recordTrips([trip]);
  const record: AuditRecord = {
    id: `audit-${trip.tripId}`,
    atMs: nowMs,
    action: 'tamper',
    actor: 'breaker',
    scope: 'global',
    details: { tripId: trip.tripId, missing: 'BREAKER/STATE', initialised: marker },
  };
  await deps.store.appendAudit(record);
  await deps.publisher.publish(renderTamperPage(trip, marker));
}
