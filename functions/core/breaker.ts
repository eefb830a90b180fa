import type { BreakerConfig } from './config/types.ts';
import { effectiveOperations } from './config-record.ts';
import { ResetRejectedError } from './errors.ts';
import { type HaltScope, parseScopeKey, scopeKey } from './model.ts';
import {
  breachSummary,
  type PageContext,
  renderResetPage,
  renderShadowTripPage,
  renderTripPage,
  renderWarnPage,
} from './pages/breach-pages.ts';
import { checkReason } from './reason.ts';
import type { Breach } from './rules/breach.ts';
import type { Rule } from './rules/rule.ts';
import { ruleKindOf } from './rules/rule-kinds.ts';
import type { AuditRecord, BreakerState, PendingEffect, RuleEvidence, TripInfo } from './state.ts';

/**
 * The breaker state machine: armed → tripped (per scope) → armed by an operator's reset.
 * Transitions are pure: they return the next state, whose outbox holds the effects (pages, audit
 * records) to carry out. The store writes the state conditionally, so an effect is committed
 * exactly when its transition is, and a crash before the effects run leaves them in the outbox.
 */

export interface Transition {
  state: BreakerState;
  /** True when anything changed (a write is needed). */
  changed: boolean;
  trips: TripInfo[];
  warned: Breach[];
  /** Shadow-mode rules that would have tripped: paged and audited, never halting (set by applyBreaches). */
  shadowed?: Breach[];
}

/** warnedUntil key that keeps a shadow rule's "would have tripped" to one page until a reset. */
export function shadowKey(ruleId: string): string {
  return `shadow:${ruleId}`;
}

/** Is anything covering this chain halted? (what `isHalted` and the replay use) */
export function haltedFor(state: BreakerState, chain: string): TripInfo | undefined {
  return state.tripped.global ?? state.tripped[`chain:${chain}`];
}

export function isScopeHalted(state: BreakerState, scope: HaltScope): boolean {
  return scope.kind === 'global' ? 'global' in state.tripped : haltedFor(state, scope.chain) !== undefined;
}

/** Apply rule breaches found by evaluateRules. */
export function applyBreaches(
  prev: BreakerState,
  breaches: readonly Breach[],
  ctx: PageContext & { nowMs: number },
): Transition {
  const state = structuredClone(prev);
  const trips: TripInfo[] = [];
  const warned: Breach[] = [];
  const shadowed: Breach[] = [];
  const effects: PendingEffect[] = [];

  // Trips first, global scope before chain scopes, then earliest window: one trip per scope.
  const tripBreaches = breaches
    .filter((b) => b.level === 'trip' && !b.rule.shadow)
    .sort((a, b) => rank(a.rule.halt) - rank(b.rule.halt) || a.windowEnd - b.windowEnd);
  for (const breach of tripBreaches) {
    const key = scopeKey(breach.rule.halt);
    if (isScopeHalted(state, breach.rule.halt)) continue;
    const trip: TripInfo = {
      tripId: `trip-${prev.version + 1}-${key}`,
      atMs: ctx.nowMs,
      ruleId: breach.rule.id,
      scope: breach.rule.halt,
      evidence: evidenceOf(breach),
    };
    state.tripped[key] = trip;
    trips.push(trip);
    const also = tripBreaches.filter((b) => b !== breach && scopeKey(b.rule.halt) === key);
    const page = renderTripPage(trip, breach, also, ctx);
    effects.push({ kind: 'page', id: page.id, page });
    effects.push({ kind: 'audit', id: `audit-${trip.tripId}`, record: auditOf(trip, ctx.nowMs) });
  }

  // A shadow rule that breaks pages "would have tripped" once (until a reset clears warnedUntil),
  // unless its scope is halted anyway.
  for (const breach of breaches) {
    if (breach.level !== 'trip' || !breach.rule.shadow) continue;
    const key = shadowKey(breach.rule.id);
    if (isScopeHalted(state, breach.rule.halt) || key in state.warnedUntil) continue;
    state.warnedUntil[key] = Number.MAX_SAFE_INTEGER;
    shadowed.push(breach);
    const id = `shadow-${prev.version + 1}-${breach.rule.id}`;
    const page = renderShadowTripPage(breach, id, ctx);
    effects.push({ kind: 'page', id: page.id, page });
    const record: AuditRecord = {
      id: `audit-${id}`,
      atMs: ctx.nowMs,
      action: 'shadow-trip',
      actor: 'breaker',
      scope: scopeKey(breach.rule.halt),
      details: {
        ruleId: breach.rule.id,
        summary: breachSummary(breach),
        value: breach.value.toString(),
        limit: (breach.limit ?? breach.rule.limit).toString(),
        windowEnd: breach.windowEnd,
        wouldHalt: scopeKey(breach.rule.halt),
        outflowIds: breach.outflows.slice(0, 200).map((r) => r.id),
      },
    };
    effects.push({ kind: 'audit', id: record.id, record });
  }

  for (const breach of breaches) {
    if (breach.level !== 'warn' || breach.rule.shadow) continue;
    if (isScopeHalted(state, breach.rule.halt)) continue;
    if ((state.warnedUntil[breach.rule.id] ?? Number.NEGATIVE_INFINITY) > breach.windowEnd) continue;
    state.warnedUntil[breach.rule.id] = breach.windowEnd + Math.max(breach.rule.windowSeconds, 60);
    warned.push(breach);
    const page = renderWarnPage(breach, `warn-${prev.version + 1}-${breach.rule.id}`, ctx);
    effects.push({ kind: 'page', id: page.id, page });
  }

  const changed = effects.length > 0;
  if (changed) {
    state.version = prev.version + 1;
    state.updatedAtMs = ctx.nowMs;
    state.outbox = [...state.outbox, ...effects];
  }
  return { state, changed, trips, warned, shadowed };
}

export interface ResetRequest {
  /** Which scope to re-arm; every tripped scope when omitted. */
  scope?: string;
  reason: string;
  /** Verified identity of the operator (from the authoriser, IAM, or the local OS user). */
  actor: string;
  nowMs: number;
  /** Per chain, the last block processed at the time of the reset: what the operator reviewed. */
  processedThrough: Record<string, number>;
  /** Optional: the trip ids the operator reviewed; a trip not in this list rejects the reset. */
  reviewedTripIds?: string[];
  /** Two-person reset: the request being approved; `actor` is then the approver (see two-person-reset.ts). */
  approval?: { requestId: string; requestedBy: string; requestedAtMs: number };
}

/**
 * Re-arm after review. Limits are never touched; outflows the operator reviewed (every block
 * processed so far on the re-armed chains) stop counting, so the same evidence does not re-trip.
 */
export function resetBreaker(prev: BreakerState, req: ResetRequest, config: BreakerConfig): BreakerState {
  const reason = checkReason(req.reason);
  if (!req.actor.trim()) throw new ResetRejectedError('the operator identity is missing');
  // The stricter of this config's rule and the one the deployed functions recorded (--table, a local copy).
  if (effectiveOperations(prev, config).twoPersonReset && !req.approval) {
    throw new ResetRejectedError(
      'two-person reset is on (operations.twoPersonReset): request the reset, then a different operator approves it',
    );
  }
  const trippedKeys = Object.keys(prev.tripped);
  if (trippedKeys.length === 0) throw new ResetRejectedError('the breaker is armed: nothing to reset');
  let keys = trippedKeys;
  if (req.scope !== undefined) {
    let scope: HaltScope;
    try {
      scope = parseScopeKey(req.scope);
    } catch (e) {
      throw new ResetRejectedError((e as Error).message);
    }
    if (scope.kind === 'chain' && !config.chains.has(scope.chain)) {
      throw new ResetRejectedError(
        `unknown chain "${scope.chain}" in scope (known: ${[...config.chains.keys()].join(', ')})`,
      );
    }
    const key = scopeKey(scope);
    if (!prev.tripped[key]) {
      throw new ResetRejectedError(`scope ${key} is not tripped (tripped: ${trippedKeys.join(', ')})`);
    }
    keys = [key];
  }
  if (req.reviewedTripIds) {
    const unreviewed = keys
      .map((k) => prev.tripped[k] as TripInfo)
      .filter((t) => !req.reviewedTripIds?.includes(t.tripId));
    if (unreviewed.length > 0) {
      throw new ResetRejectedError(
        `the breaker tripped again since it was reviewed: ${unreviewed.map((t) => `${t.tripId} (${t.ruleId})`).join(', ')}`,
      );
    }
  }

  const state = structuredClone(prev);
  const chains = keys.includes('global') ? [...config.chains.keys()] : keys.map((k) => k.slice('chain:'.length));
  for (const chain of chains) {
    const through = req.processedThrough[chain];
    if (through !== undefined) state.reviewedThrough[chain] = Math.max(state.reviewedThrough[chain] ?? -1, through);
  }
  const cleared = keys.map((k) => state.tripped[k] as TripInfo);
  for (const k of keys) delete state.tripped[k];
  delete state.pendingReset;
  state.warnedUntil = {};
  state.version = prev.version + 1;
  state.updatedAtMs = req.nowMs;
  const id = `reset-${state.version}`;
  const record: AuditRecord = {
    id: `audit-${id}`,
    atMs: req.nowMs,
    action: 'reset',
    actor: req.actor,
    reason,
    scope: keys.join(','),
    details: {
      clearedTrips: cleared.map((t) => ({ tripId: t.tripId, ruleId: t.ruleId })),
      reviewedThrough: Object.fromEntries(chains.map((c) => [c, state.reviewedThrough[c] ?? null])),
      stillTripped: Object.keys(state.tripped),
      ...(req.approval ? { twoPerson: { ...req.approval, approvedBy: req.actor } } : {}),
    },
  };
  const page = renderResetPage(id, record, config);
  state.outbox = [...state.outbox, { kind: 'audit', id: record.id, record }, { kind: 'page', id: page.id, page }];
  return state;
}

function rank(scope: HaltScope): number {
  return scope.kind === 'global' ? 0 : 1;
}

function evidenceOf(b: Breach): RuleEvidence {
  return {
    ruleId: b.rule.id,
    summary: breachSummary(b),
    measure: evidenceMeasure(b.rule),
    value: b.value.toString(),
    limit: (b.limit ?? b.rule.limit).toString(),
    windowSeconds: b.rule.windowSeconds,
    windowEnd: b.windowEnd,
    outflowIds: b.outflows.slice(0, 200).map((r) => r.id),
  };
}

/** The evidence names the unit the rule counts in (distinct assets are a count of assets). */
function evidenceMeasure(rule: Rule): RuleEvidence['measure'] {
  const unit = ruleKindOf(rule).unit(rule);
  return unit === 'assets' ? 'count' : unit;
}

function auditOf(trip: TripInfo, nowMs: number): AuditRecord {
  return {
    id: `audit-${trip.tripId}`,
    atMs: nowMs,
    action: 'trip',
    actor: 'breaker',
    scope: scopeKey(trip.scope),
    details: { tripId: trip.tripId, ruleId: trip.ruleId, value: trip.evidence.value, limit: trip.evidence.limit },
  };
}
