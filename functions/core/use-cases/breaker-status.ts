import { haltedFor } from '../breaker.ts';
import type { BreakerConfig } from '../config/types.ts';
import type { BreakerStore } from '../ports.ts';
import { type AuditRecord, type BreakerState, isInitialised, type TripInfo } from '../state.ts';
import type { Clock } from '../time.ts';
import { withTripRecords } from '../trips.ts';

export interface ChainStatus {
  chain: string;
  halted: boolean;
  lastBlock: number | null;
  /** Chain time of the last processed block (Unix s), null before the first poll. */
  lastBlockTime: number | null;
  /** Seconds since the cursor was last written (a stalled poller shows here). */
  cursorAgeSeconds: number | null;
  reviewedThrough: number | null;
}

export interface BreakerStatus {
  name: string;
  /** False while no state item exists: halted, never armed (core/tamper.ts). */
  initialised: boolean;
  armed: boolean;
  tripped: TripInfo[];
  chains: ChainStatus[];
  pendingEffects: number;
  version: number;
  recentAudit: AuditRecord[];
  state: BreakerState;
}

export async function breakerStatus(
  deps: { config: BreakerConfig; store: BreakerStore; clock: Clock },
  auditLimit = 10,
): Promise<BreakerStatus> {
  // What halts: the state's trips and every unreleased trip record (core/trips.ts).
  const [stored, records] = await Promise.all([deps.store.getState(), deps.store.unreleasedTrips()]);
  const state = withTripRecords(stored, records);
  const initialised = isInitialised(stored);
  const chains: ChainStatus[] = [];
  for (const chain of deps.config.chains.keys()) {
    const cursor = await deps.store.getCursor(chain);
    chains.push({
      chain,
      halted: !initialised || haltedFor(state, chain) !== undefined,
      lastBlock: cursor && cursor.lastBlock >= 0 ? cursor.lastBlock : null,
      lastBlockTime: cursor?.recent.at(-1)?.t ?? null,
      cursorAgeSeconds: cursor ? Math.round((deps.clock.now() - cursor.updatedAtMs) / 1000) : null,
      reviewedThrough: state.reviewedThrough[chain] ?? null,
    });
  }
  return {
    name: deps.config.name,
    initialised,
    armed: initialised && Object.keys(state.tripped).length === 0,
    tripped: Object.values(state.tripped),
    chains,
    pendingEffects: state.outbox.length,
    version: state.version,
    recentAudit: await deps.store.listAudit(auditLimit),
    state,
  };
}
