/** Pages for tampering with the breaker itself (a deleted state item). */
import type { InitMarker, Page, TripInfo } from '../state.ts';

export function renderTamperPage(trip: TripInfo, marker: InitMarker): Page {
  return {
    id: `page-${trip.tripId}`,
    kind: 'tamper',
    subject: '[TAMPER] breaker state deleted: everything halted',
    text: [
      'The breaker state item BREAKER/STATE is gone, although the breaker was initialised',
      `at ${new Date(marker.initialisedAtMs).toISOString()} by ${marker.actor}.`,
      'Someone with write access to the table deleted it (or the table was restored or recreated).',
      `Every withdrawal is halted by trip ${trip.tripId} (${trip.ruleId}); a re-created state does not clear it.`,
      'Find out who (CloudTrail, the table’s access), then `breaker init` and reset with a reason.',
    ].join('\n'),
    details: { tripId: trip.tripId, ruleId: trip.ruleId, scope: 'global', initialised: marker },
  };
}
