import { resetBreaker } from './breaker.ts';
import type { BreakerConfig } from './config/types.ts';
import { effectiveOperations } from './config-record.ts';
import { ResetRejectedError } from './errors.ts';
import { samePerson } from './people.ts';
import type { AuditRecord, BreakerState, Page, PendingReset } from './state.ts';

/**
 * The two-person rule (config `operations.twoPersonReset`): one operator requests a reset with the
 * reason, a different operator approves it within `approvalWindowSeconds`. The request is stored in
 * the state item (a conditional write), the approval performs the ordinary reset with both
 * identities recorded; `resetBreaker` itself refuses a reset without an approval while the rule is on.
 */

export interface ResetRequestInput {
  /** Scope key to re-arm; every tripped scope when omitted. */
  scope?: string;
  reason: string;
  actor: string;
  nowMs: number;
}

export interface ResetApprovalInput {
  /** The request the approver reviewed (so a replaced request is never approved by mistake). */
  requestId: string;
  actor: string;
  nowMs: number;
  /** As for resetBreaker: per chain, the last block evaluated against this state. */
  processedThrough: Record<string, number>;
}

export function requestReset(prev: BreakerState, req: ResetRequestInput, config: BreakerConfig): BreakerState {
  const operations = effectiveOperations(prev, config);
  if (!operations.twoPersonReset) {
    throw new ResetRejectedError('two-person reset is off (operations.twoPersonReset): reset directly');
  }
  const pending = prev.pendingReset;
  if (pending && req.nowMs <= pending.expiresAtMs && !samePerson(pending.requestedBy, req.actor, operations)) {
    throw new ResetRejectedError(
      `reset request ${pending.requestId} by ${pending.requestedBy} is waiting for approval until ${iso(pending.expiresAtMs)}: approve it, or request again after it expires`,
    );
  }
  // Validate exactly as the reset will (reason, scope, something tripped) without keeping the result.
  const probe = resetBreaker(
    prev,
    { ...req, processedThrough: {}, approval: { requestId: '-', requestedBy: req.actor, requestedAtMs: req.nowMs } },
    config,
  );
  const cleared = Object.keys(prev.tripped).filter((k) => !(k in probe.tripped));
  const state = structuredClone(prev);
  state.version = prev.version + 1;
  state.updatedAtMs = req.nowMs;
  const request: PendingReset = {
    requestId: `reset-request-${state.version}`,
    reason: req.reason.trim(),
    requestedBy: req.actor,
    requestedAtMs: req.nowMs,
    expiresAtMs: req.nowMs + operations.approvalWindowSeconds * 1000,
    reviewedTripIds: cleared.map((k) => prev.tripped[k]?.tripId ?? k),
  };
  if (req.scope !== undefined) request.scope = req.scope;
  state.pendingReset = request;
  const record: AuditRecord = {
    id: `audit-${request.requestId}`,
    atMs: req.nowMs,
    action: 'reset-requested',
    actor: req.actor,
    reason: request.reason,
    scope: cleared.join(','),
    details: {
      requestId: request.requestId,
      expiresAtMs: request.expiresAtMs,
      reviewedTripIds: request.reviewedTripIds,
      ...(pending ? { replaces: pending.requestId } : {}),
    },
  };
  const page = renderRequestPage(request, cleared, config);
  state.outbox = [...state.outbox, { kind: 'audit', id: record.id, record }, { kind: 'page', id: page.id, page }];
  return state;
}

export function approveReset(prev: BreakerState, req: ResetApprovalInput, config: BreakerConfig): BreakerState {
  const operations = effectiveOperations(prev, config);
  const pending = prev.pendingReset;
  if (!pending) throw new ResetRejectedError('no reset request is waiting for approval');
  if (pending.requestId !== req.requestId) {
    throw new ResetRejectedError(
      `reset request ${req.requestId} is not the one waiting for approval (${pending.requestId})`,
    );
  }
  if (req.nowMs > pending.expiresAtMs) {
    throw new ResetRejectedError(
      `reset request ${pending.requestId} expired at ${iso(pending.expiresAtMs)} (approval window ${operations.approvalWindowSeconds} s): request the reset again`,
    );
  }
  // People, not principal strings: another session of the same role, or a second principal of the
  // same person (operations.people), is not a second operator (core/people.ts).
  if (samePerson(req.actor, pending.requestedBy, operations)) {
    throw new ResetRejectedError(
      `${req.actor} is the same person as the requester ${pending.requestedBy} and cannot approve this reset: a different operator must approve`,
    );
  }
  return resetBreaker(
    prev,
    {
      scope: pending.scope,
      reason: pending.reason,
      actor: req.actor,
      nowMs: req.nowMs,
      processedThrough: req.processedThrough,
      reviewedTripIds: pending.reviewedTripIds,
      approval: {
        requestId: pending.requestId,
        requestedBy: pending.requestedBy,
        requestedAtMs: pending.requestedAtMs,
      },
    },
    config,
  );
}

function renderRequestPage(request: PendingReset, scopes: string[], config: BreakerConfig): Page {
  return {
    id: `page-${request.requestId}`,
    kind: 'reset',
    subject: `[RESET REQUESTED] ${config.name}: ${scopes.join(', ')} by ${request.requestedBy}`.slice(0, 100),
    text: [
      `${request.requestedBy} asks to re-arm ${scopes.join(', ')}. Nothing is re-armed until a different operator approves.`,
      `Reason: ${request.reason}`,
      `Approve before ${iso(request.expiresAtMs)}: request id ${request.requestId}`,
      `  npx breaker reset --approve ${request.requestId}   (add --stack <stack> for a deployment)`,
      ...(config.pages.consoleUrl ? [`  console: ${config.pages.consoleUrl}`] : []),
    ].join('\n'),
    details: { ...request, scopes },
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
