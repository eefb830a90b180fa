import { isScopeHalted, shadowKey } from '../breaker.ts';
import type { BreakerConfig } from '../config/types.ts';
import { type HaltScope, scopeKey } from '../model.ts';
import { reArmLines } from '../pages/re-arm.ts';
import type { AuditRecord, BreakerState, Page, TripInfo } from '../state.ts';

/**
 * What a watermark found, in the words its page and trip record use. Both watermarks (the EVM nonce,
 * the Bitcoin spent outpoint) report through `stolenKeyStep`, so they trip, escalate and stay quiet
 * the same way.
 */
export interface StolenKeyFinding {
  chain: string;
  ruleId: string;
  /** The page subject's signal, e.g. `NONCE ABOVE WATERMARK`. */
  headline: string;
  /** One line for the audit record and the trip evidence. */
  summary: string;
  /** Why this is a stolen-key signal (one paragraph of the page). */
  explanation: string;
  /** One page line per wallet or transaction found. */
  lines: string[];
  /** The trip evidence's measured value and limit (a count: what was used against what was approved). */
  value: string;
  limit: string;
  /** Page details beside rule, scope and summary (wallets, transactions). */
  details: Record<string, unknown>;
}

/**
 * The decide step for a stolen-key finding: trip the configured scope with the stolen-key page, or,
 * when that scope is already halted, page the signal once as that halt's escalation with an audit
 * record. `remember` records what was reported in the new state, so a reset does not re-trip on it.
 * Does not bump `version`/`updatedAtMs`: the caller's commit does that once.
 */
export function stolenKeyStep(
  state: BreakerState,
  finding: StolenKeyFinding,
  config: BreakerConfig,
  nowMs: number,
  remember: (next: BreakerState) => void,
): BreakerState {
  const scope: HaltScope =
    config.watermark.halt === 'global' ? { kind: 'global' } : { kind: 'chain', chain: finding.chain };
  const key = scopeKey(scope);
  const next = structuredClone(state);
  remember(next);
  const { ruleId, summary } = finding;
  if (config.watermark.shadow.has(ruleId)) return shadowStep(next, state, finding, config, scope, nowMs);
  const already = state.tripped[key];
  if (already) {
    // One trip per scope. A watermark trip already said the keys are stolen, and an escalation page
    // already said it of this halt: remember, page nothing (a thief sends on every poll).
    if (already.ruleId.startsWith('watermark-') || already.escalatedAtMs !== undefined) return next;
    // Otherwise the signal goes out once, as this halt's escalation: the keys are compromised.
    (next.tripped[key] as TripInfo).escalatedAtMs = nowMs;
    const page = signalPage(config, finding, key, `page-${ruleId}-${state.version + 1}`, already);
    const record: AuditRecord = {
      id: `audit-${ruleId}-${state.version + 1}`,
      atMs: nowMs,
      action: 'stolen-key-signal',
      actor: 'breaker',
      scope: key,
      details: { ruleId, tripId: already.tripId, summary },
    };
    next.outbox = [...next.outbox, { kind: 'audit', id: record.id, record }, { kind: 'page', id: page.id, page }];
    return next;
  }
  const trip: TripInfo = {
    tripId: `trip-${state.version + 1}-${key}`,
    atMs: nowMs,
    ruleId,
    scope,
    evidence: {
      ruleId,
      summary,
      measure: 'count',
      value: finding.value,
      limit: finding.limit,
      windowSeconds: 0,
      windowEnd: Math.floor(nowMs / 1000),
      outflowIds: [],
    },
  };
  next.tripped[key] = trip;
  const record: AuditRecord = {
    id: `audit-${trip.tripId}`,
    atMs: nowMs,
    action: 'trip',
    actor: 'breaker',
    scope: key,
    details: { tripId: trip.tripId, ruleId, summary, stolenKeySignal: true },
  };
  const page = signalPage(config, finding, key, `page-${trip.tripId}`);
  next.outbox = [...next.outbox, { kind: 'audit', id: record.id, record }, { kind: 'page', id: page.id, page }];
  return next;
}

/**
 * A watermark in `limits.shadow` (the roll-out week): page "would have tripped" and audit it once until a
 * reset clears the mark, as every shadow rule does (core/breaker.ts); halt nothing.
 */
function shadowStep(
  next: BreakerState,
  state: BreakerState,
  finding: StolenKeyFinding,
  config: BreakerConfig,
  scope: HaltScope,
  nowMs: number,
): BreakerState {
  const mark = shadowKey(finding.ruleId);
  if (isScopeHalted(state, scope) || mark in state.warnedUntil) return next;
  next.warnedUntil = { ...next.warnedUntil, [mark]: Number.MAX_SAFE_INTEGER };
  const id = `shadow-${state.version + 1}-${finding.ruleId}`;
  const wouldHalt = scopeKey(scope);
  const signal = signalPage(config, finding, wouldHalt, id);
  const page: Page = {
    ...signal,
    kind: 'warn',
    subject: `[SHADOW] ${config.name}: ${finding.ruleId} would have tripped (${wouldHalt})`.slice(0, 100),
    text: [
      `SHADOW MODE — nothing was halted. ${finding.ruleId} is in limits.shadow; without that it would have halted ${wouldHalt}.`,
      'A signer that does not send its nonces or outpoints to the guard yet looks exactly like a stolen key: fix that before taking the rule out of limits.shadow.',
      '',
      signal.text,
    ].join('\n'),
    details: { ...signal.details, shadow: true },
  };
  const record: AuditRecord = {
    id: `audit-${id}`,
    atMs: nowMs,
    action: 'shadow-trip',
    actor: 'breaker',
    scope: wouldHalt,
    details: { ruleId: finding.ruleId, summary: finding.summary, wouldHalt, stolenKeySignal: true },
  };
  next.outbox = [...next.outbox, { kind: 'page', id: page.id, page }, { kind: 'audit', id: record.id, record }];
  return next;
}

function signalPage(
  config: BreakerConfig,
  finding: StolenKeyFinding,
  key: string,
  id: string,
  alreadyTripped?: TripInfo,
): Page {
  const halted = key === 'global' ? 'ALL withdrawals on every chain' : `withdrawals on ${key.slice('chain:'.length)}`;
  const lines = [
    alreadyTripped
      ? `STOLEN-KEY SIGNAL while ${key} is already halted (${alreadyTripped.ruleId}, ${alreadyTripped.tripId}) — ${config.name}.`
      : `BREAKER TRIPPED — ${config.name}: a hot wallet sent a transaction the guard never approved. Signing halted for ${halted}.`,
    '',
    `STOLEN-KEY SIGNAL: ${finding.explanation} Treat the hot keys as compromised.`,
    ...finding.lines,
    '',
    'The halt stops the exchange signer, NOT a thief signing with the keys elsewhere: move what is left out of the hot wallets and revoke approvals (docs/STOLEN-KEYS.md).',
    '',
    ...reArmLines(config, key),
  ];
  return {
    id,
    kind: alreadyTripped ? 'escalation' : 'trip',
    subject:
      `[${alreadyTripped ? 'STOLEN-KEY' : 'HALT'}] ${config.name}: ${finding.headline}, hot key may be stolen — ${key}${alreadyTripped ? ' already' : ''} halted`.slice(
        0,
        100,
      ),
    text: lines.join('\n'),
    details: {
      rule: finding.ruleId,
      scope: key,
      ...(alreadyTripped ? { tripId: alreadyTripped.tripId } : {}),
      stolenKeySignal: true,
      summary: finding.summary,
      ...finding.details,
    },
  };
}
