import type { BreakerConfig } from './config/types.ts';
import { ResetRejectedError } from './errors.ts';
import { type HaltScope, parseScopeKey, scopeKey } from './model.ts';
import { reArmLines } from './pages/re-arm.ts';
import { checkReason } from './reason.ts';
import type { AuditRecord, BreakerState, Page, TripInfo } from './state.ts';

/** The rule id a manual trip carries, so signers, the SSM mirror and pages treat it like any trip. */
export const MANUAL_RULE_ID = 'manual';

export interface ManualTripRequest {
  /** 'global' or 'chain:<id>'. */
  scope: string;
  reason: string;
  /** Verified identity of the operator (from the authoriser, IAM, or the local OS user). */
  actor: string;
  nowMs: number;
}

/**
 * An operator halts a scope by hand (they saw something the rules did not). The trip is the same
 * kind of state as a rule's: the signer halts, on-call is paged, and only a reset (with the
 * two-person rule when configured) re-arms it.
 */
export function manualTrip(prev: BreakerState, req: ManualTripRequest, config: BreakerConfig): BreakerState {
  const reason = checkReason(req.reason, 'why the breaker is halted by hand');
  if (!req.actor.trim()) throw new ResetRejectedError('the operator identity is missing');
  const scope = parseScope(req.scope, config);
  const key = scopeKey(scope);
  // A chain can be halted by hand while 'global' is tripped: it then stays halted when global is reset.
  const existing = prev.tripped[key];
  if (existing) throw new ResetRejectedError(`scope ${key} is already halted (${existing.tripId}, ${existing.ruleId})`);
  const state = structuredClone(prev);
  state.version = prev.version + 1;
  state.updatedAtMs = req.nowMs;
  const trip: TripInfo = {
    tripId: `trip-${state.version}-${key}`,
    atMs: req.nowMs,
    ruleId: MANUAL_RULE_ID,
    scope,
    evidence: {
      ruleId: MANUAL_RULE_ID,
      summary: `halted by hand by ${req.actor}: ${reason}`,
      measure: 'count',
      value: '0',
      limit: '0',
      windowSeconds: 0,
      windowEnd: Math.floor(req.nowMs / 1000),
      outflowIds: [],
    },
    manual: { actor: req.actor, reason },
  };
  state.tripped[key] = trip;
  const record: AuditRecord = {
    id: `audit-${trip.tripId}`,
    atMs: req.nowMs,
    action: 'trip',
    actor: req.actor,
    reason,
    scope: key,
    details: { tripId: trip.tripId, ruleId: MANUAL_RULE_ID, manual: true },
  };
  const page = renderManualTripPage(trip, config);
  state.outbox = [...state.outbox, { kind: 'audit', id: record.id, record }, { kind: 'page', id: page.id, page }];
  return state;
}

function parseScope(text: string, config: BreakerConfig): HaltScope {
  let scope: HaltScope;
  try {
    scope = parseScopeKey(text);
  } catch (e) {
    throw new ResetRejectedError((e as Error).message);
  }
  if (scope.kind === 'chain' && !config.chains.has(scope.chain)) {
    throw new ResetRejectedError(
      `unknown chain "${scope.chain}" in scope (known: ${[...config.chains.keys()].join(', ')})`,
    );
  }
  return scope;
}

function renderManualTripPage(trip: TripInfo, config: BreakerConfig): Page {
  const key = scopeKey(trip.scope);
  const halted = trip.scope.kind === 'global' ? 'ALL withdrawals on every chain' : `withdrawals on ${trip.scope.chain}`;
  const lines = [
    `BREAKER TRIPPED BY HAND — ${config.name}: signing halted for ${halted}.`,
    '',
    `Operator: ${trip.manual?.actor}`,
    `Reason: ${trip.manual?.reason}`,
    '',
    `Halted: ${key}. Trip id ${trip.tripId}.`,
    '',
    ...reArmLines(config, key),
  ];
  return {
    id: `page-${trip.tripId}`,
    kind: 'trip',
    subject: `[HALT] ${config.name}: halted by hand, ${key}`.slice(0, 100),
    text: lines.join('\n'),
    details: {
      tripId: trip.tripId,
      rule: MANUAL_RULE_ID,
      summary: trip.evidence.summary,
      scope: key,
      actor: trip.manual?.actor,
      reason: trip.manual?.reason,
      transactions: [],
      transactionCount: 0,
    },
  };
}
