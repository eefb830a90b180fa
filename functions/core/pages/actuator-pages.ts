import { type Actuator, type ActuatorMode, modeFor } from '../actuators/actuator.ts';
import type { AuditRecord, BreakerState, Page } from '../state.ts';

/** Wording and audit records for actuator results. */

export function haltedScopes(state: Pick<BreakerState, 'tripped'>): string {
  const keys = Object.keys(state.tripped);
  return keys.length > 0 ? keys.sort().join(',') : 'armed';
}

export function actuatorAudit(
  actuator: Actuator,
  mode: ActuatorMode,
  state: BreakerState,
  nowMs: number,
  outcome: { ok: true; detail: Record<string, unknown> } | { ok: false; error: string },
): AuditRecord {
  const id = `actuator-${actuator.id}-v${state.version}-${mode}-${outcome.ok ? 'ok' : 'failed'}`;
  return {
    id,
    atMs: nowMs,
    action: outcome.ok ? 'actuator' : 'actuator-failure',
    actor: 'breaker',
    scope: haltedScopes(state),
    details: {
      actuator: actuator.id,
      description: actuator.description,
      mode,
      ok: outcome.ok,
      stateVersion: state.version,
      ...(outcome.ok ? outcome.detail : { error: outcome.error }),
    },
  };
}

/**
 * A kill-switch layer failed. The table flag still holds (guarded signers are halted), but a signer
 * that relies on this layer — or a thief who bypasses the guard — is not stopped by it.
 */
export function renderActuatorFailurePage(
  deploymentName: string,
  actuator: Actuator,
  mode: ActuatorMode,
  state: BreakerState,
  error: string,
): Page {
  const what = mode === 'engaged' ? 'could not be engaged (halt)' : 'could not be released (re-arm)';
  const consequence =
    mode === 'engaged'
      ? 'The breaker state (DynamoDB) is halted and guarded signers refuse to sign, but this layer does NOT stop signing yet.'
      : 'The breaker is re-armed, but this layer still blocks signing: withdrawals may stay stopped until it is released.';
  return {
    id: `page-actuator-${actuator.id}-v${state.version}-${mode}`,
    kind: 'actuator-failure',
    subject:
      `[CRITICAL] ${deploymentName}: kill-switch layer ${actuator.id} ${mode === 'engaged' ? 'failed to halt' : 'failed to re-arm'}`.slice(
        0,
        100,
      ),
    text: [
      `KILL-SWITCH LAYER FAILED — ${deploymentName}: ${actuator.description} ${what}.`,
      `Error: ${error}`,
      consequence,
      `Breaker state version ${state.version}; halted: ${haltedScopes(state)}.`,
      'The breaker retries it at every outbox flush (each poller start and every transition). To do it by hand:',
      ...actuator.manualSteps(mode).map((s) => `  ${s}`),
    ].join('\n'),
    details: {
      actuator: actuator.id,
      description: actuator.description,
      mode,
      error,
      stateVersion: state.version,
      halted: haltedScopes(state),
    },
  };
}

/**
 * The per-poll self-check read a layer back and it did not enforce the state: someone changed it
 * behind the breaker's back (a forged PutParameter, a re-enabled key, restored concurrency), or it
 * froze on a stale version. The breaker has already rewritten it; the page says whether that held.
 */
export function renderLayerDisagreementPage(
  deploymentName: string,
  actuator: Actuator,
  state: BreakerState,
  problems: readonly string[],
  repair: { ok: true } | { ok: false; error: string },
): Page {
  const mode = modeFor(state, actuator.chains);
  return {
    id: `page-layer-check-${actuator.id}-v${state.version}`,
    kind: 'actuator-failure',
    subject: `[CRITICAL] ${deploymentName}: kill-switch layer ${actuator.id} disagreed with the breaker state`.slice(
      0,
      100,
    ),
    text: [
      `KILL-SWITCH LAYER CHANGED — ${deploymentName}: ${actuator.description}, read back, does not match the breaker state:`,
      ...problems.map((p) => `  - ${p}`),
      `Breaker state version ${state.version}; halted: ${haltedScopes(state)}.`,
      repair.ok
        ? 'The breaker rewrote the layer from the state. Find out who changed it (CloudTrail): the layer is only as safe as the permissions on it.'
        : `The breaker could not rewrite it: ${repair.error}. To do it by hand:`,
      ...(repair.ok ? [] : actuator.manualSteps(mode).map((s) => `  ${s}`)),
    ].join('\n'),
    details: {
      actuator: actuator.id,
      description: actuator.description,
      problems,
      repaired: repair.ok,
      ...(!repair.ok && { error: repair.error }),
      stateVersion: state.version,
      halted: haltedScopes(state),
    },
  };
}

export function layerDisagreementAudit(
  actuator: Actuator,
  state: BreakerState,
  nowMs: number,
  problems: readonly string[],
  repaired: boolean,
): AuditRecord {
  return {
    id: `actuator-check-${actuator.id}-v${state.version}-${nowMs}`,
    atMs: nowMs,
    action: 'actuator-disagreement',
    actor: 'breaker',
    scope: haltedScopes(state),
    details: { actuator: actuator.id, problems, repaired, stateVersion: state.version },
  };
}
