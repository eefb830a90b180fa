import { PublishError, StateConflictError } from '../errors.ts';
import type { AuditLog, BreakerStateStore, PagePublisher, StateMirror } from '../ports.ts';
import type { BreakerState } from '../state.ts';
import { withTripRecords } from '../trips.ts';

export interface OutboxDeps {
  store: BreakerStateStore & AuditLog;
  publisher: PagePublisher;
  /** Copies of the kill switch, brought up to date after every flush. */
  mirror?: StateMirror;
}

/**
 * Carry out the effects committed with earlier transitions: write audit records, publish pages,
 * then remove what was done from the outbox. A page is published at least once; publishing is
 * retried by the next flush until it succeeds, and a failure is thrown, never swallowed.
 * Returns how many effects were carried out.
 */
export async function flushOutbox(deps: OutboxDeps, known?: BreakerState): Promise<number> {
  let state = known ?? (await deps.store.getState());
  // Nothing to carry out on an absent state, and mirroring it would publish "armed" (core/tamper.ts).
  if (state.version === 0) return 0;
  if (state.outbox.length === 0) {
    await mirrorOrThrow(deps, state);
    return 0;
  }
  const done = new Set<string>();
  const failures: string[] = [];
  // A trip always queues effects, so this is where its records are written (core/trips.ts):
  // idempotent, and before the pages, because the record is what keeps the halt.
  await deps.store.recordTrips(Object.values(state.tripped));
  for (const effect of state.outbox) {
    try {
      if (effect.kind === 'audit') await deps.store.appendAudit(effect.record);
      else await deps.publisher.publish(effect.page);
      done.add(effect.id);
    } catch (e) {
      failures.push(`${effect.kind} ${effect.id}: ${(e as Error).message}`);
    }
  }
  // Remove only the effects carried out; concurrent transitions may have appended more.
  for (let attempt = 0; done.size > 0 && attempt < 10; attempt++) {
    const remaining = state.outbox.filter((e) => !done.has(e.id));
    if (remaining.length === state.outbox.length) break;
    try {
      await deps.store.saveState({ ...state, outbox: remaining, version: state.version + 1 }, state.version);
      break;
    } catch (e) {
      if (!(e instanceof StateConflictError)) throw e;
      state = await deps.store.getState();
    }
  }
  try {
    await mirrorHalts(deps, state);
  } catch (e) {
    failures.push(`kill-switch mirror: ${(e as Error).message}`);
  }
  if (failures.length > 0) {
    throw new PublishError(
      `${failures.length} effect(s) not carried out; they stay queued and are retried:\n  ${failures.join('\n  ')}`,
    );
  }
  return done.size;
}

/** Mirrors carry what halts (core/trips.ts): the state's trips and every unreleased trip record. */
async function mirrorHalts(deps: OutboxDeps, state: BreakerState): Promise<void> {
  if (!deps.mirror) return;
  await deps.mirror.mirror(await mirroredView(deps.store, state));
}

/** What the kill-switch layers carry: the state with every unreleased trip record (core/trips.ts). */
export async function mirroredView(store: BreakerStateStore, known?: BreakerState): Promise<BreakerState> {
  const state = known ?? (await store.getState());
  return withTripRecords(state, await store.unreleasedTrips());
}

async function mirrorOrThrow(deps: OutboxDeps, state: BreakerState): Promise<void> {
  try {
    await mirrorHalts(deps, state);
  } catch (e) {
    throw new PublishError(`kill-switch mirror not updated: ${(e as Error).message}`, { cause: e });
  }
}
