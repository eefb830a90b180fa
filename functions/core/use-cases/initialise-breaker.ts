import type { AuditLog, BreakerStateStore, PagePublisher, StateMirror } from '../ports.ts';
import { type AuditRecord, type BreakerState, initialState } from '../state.ts';
import type { Clock } from '../time.ts';
import { flushOutbox } from './outbox.ts';

export interface InitialiseDeps {
  store: BreakerStateStore & AuditLog;
  publisher: PagePublisher;
  clock: Clock;
  mirror?: StateMirror;
}

export interface InitialiseInput {
  /** Who initialises: an operator identity, or the deployment (e.g. `deploy:<stack>`). */
  actor: string;
  reason: string;
}

/**
 * Create the armed state, explicitly and audited: the only way a breaker becomes armed from
 * nothing (an absent state is halted, core/tamper.ts). Idempotent: when a state item exists it is
 * left as it is and the answer is 'already-initialised', so a deploy may call it every time. After a
 * deletion it creates the state again, but the tamper trip recorded meanwhile keeps everything
 * halted until an operator resets.
 */
export async function initialiseBreaker(
  deps: InitialiseDeps,
  input: InitialiseInput,
): Promise<'created' | 'already-initialised'> {
  const actor = input.actor.trim();
  if (!actor) throw new TypeError('initialiseBreaker: the actor (who initialises) is required');
  const nowMs = deps.clock.now();
  const record: AuditRecord = {
    id: `audit-init-${nowMs}`,
    atMs: nowMs,
    action: 'init',
    actor,
    reason: input.reason,
    details: {},
  };
  const state: BreakerState = {
    ...initialState(),
    version: 1,
    updatedAtMs: nowMs,
    outbox: [{ kind: 'audit', id: record.id, record }],
  };
  const created = await deps.store.initialiseState(state, { initialisedAtMs: nowMs, actor });
  if (!created) return 'already-initialised';
  await flushOutbox(deps);
  return 'created';
}

/**
 * The first run of the local runtime (`npm start`, `breaker watch`) initialises, audited, but only a
 * store that was never initialised: after a deletion (the init marker exists) it does nothing, so
 * the tamper trip and page stand and an operator re-initialises with `breaker init`.
 */
export async function initialiseOnFirstRun(
  deps: InitialiseDeps,
  input: InitialiseInput,
): Promise<'created' | 'not-first-run'> {
  if (await deps.store.getInitMarker()) return 'not-first-run';
  return (await initialiseBreaker(deps, input)) === 'created' ? 'created' : 'not-first-run';
}
