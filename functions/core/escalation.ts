import { formatUsd } from './amounts.ts';
import type { BreakerConfig } from './config/types.ts';
import type { OutflowRecord } from './model.ts';
import { scopeKey } from './model.ts';
import { outflowJson, outflowLine } from './pages/breach-pages.ts';
import type { BreakerState, Page, PendingEffect, TripInfo } from './state.ts';

/**
 * After a halt, the signing service stops. Withdrawals it signed just before the trip may still be
 * mined (the grace); anything leaving a halted hot wallet after that did not go through the
 * halted signer — the keys are likely stolen. That is the most urgent page there is, sent once
 * per trip.
 */
export function graceMsFor(config: BreakerConfig, chain: string): number {
  const c = config.chains.get(chain);
  if (!c) return 60_000;
  return Math.round(((c.confirmations + 2) * c.blockTimeSeconds + 30) * 1000);
}

export interface Escalation {
  trip: TripInfo;
  outflows: OutflowRecord[];
}

/** Trips whose halted scope saw countable outflows after the grace; marks them escalated in `state` and queues pages. */
export function escalateContinuedOutflows(
  state: BreakerState,
  fresh: readonly OutflowRecord[],
  config: BreakerConfig,
  nowMs: number,
): { escalations: Escalation[]; effects: PendingEffect[] } {
  const escalations: Escalation[] = [];
  const effects: PendingEffect[] = [];
  for (const [key, trip] of Object.entries(state.tripped)) {
    if (trip.escalatedAtMs !== undefined) continue;
    const after = fresh.filter(
      (r) =>
        !r.own &&
        (key === 'global' || key === `chain:${r.chain}`) &&
        r.blockTime * 1000 > trip.atMs + graceMsFor(config, r.chain),
    );
    if (after.length === 0) continue;
    state.tripped[key] = { ...trip, escalatedAtMs: nowMs };
    escalations.push({ trip, outflows: after });
    const page = renderEscalationPage(trip, after, config);
    effects.push({ kind: 'page', id: page.id, page });
    effects.push({
      kind: 'audit',
      id: `audit-escalation-${trip.tripId}`,
      record: {
        id: `audit-escalation-${trip.tripId}`,
        atMs: nowMs,
        action: 'escalation',
        actor: 'breaker',
        scope: key,
        details: { tripId: trip.tripId, outflowIds: after.slice(0, 200).map((r) => r.id) },
      },
    });
  }
  return { escalations, effects };
}

function renderEscalationPage(trip: TripInfo, outflows: OutflowRecord[], config: BreakerConfig): Page {
  const total = outflows.reduce((sum, r) => sum + r.usdMicros, 0n);
  const scope = scopeKey(trip.scope);
  const lines = outflows.slice(0, 25).map((r) => `  ${outflowLine(config, r)}`);
  return {
    id: `page-escalation-${trip.tripId}`,
    kind: 'escalation',
    subject: `[CRITICAL] ${config.name}: outflows continue after the halt — keys may be compromised`.slice(0, 100),
    text: [
      `OUTFLOWS CONTINUE AFTER THE HALT (${scope}, trip ${trip.tripId} at ${new Date(trip.atMs).toISOString()}).`,
      `${outflows.length} transfer(s) worth ${formatUsd(total)} left a halted hot wallet after the grace for in-flight withdrawals.`,
      'They did not come through the halted signing service: the hot keys are likely compromised.',
      'Move remaining hot-wallet funds to cold storage and rotate keys now.',
      '',
      ...lines,
    ].join('\n'),
    details: {
      tripId: trip.tripId,
      scope,
      totalUsd: formatUsd(total),
      transactions: outflows.slice(0, 200).map((r) => outflowJson(config, r)),
    },
  };
}
