/**
 * The whole BreakerStore in process memory, with the DynamoDB store's semantics: conditional
 * version checks on cursors and state (a lost race throws StateConflictError carrying what is
 * stored), idempotent outflow and audit writes, outflows keyed by (window time, block, id).
 * Used by `breaker replay`, where a week of outflows must run in about a second; values are
 * copied in and out, so a caller never shares objects with the store.
 */
import { StateConflictError } from '../../core/errors.ts';
import { type OutflowRecord, scopeKey } from '../../core/model.ts';
import type { BreakerStore } from '../../core/ports.ts';
import { firstAtOrAfter } from '../../core/rules/order.ts';
import {
  type AuditRecord,
  type BreakerState,
  type ChainCursor,
  type EvaluationProgress,
  type InitMarker,
  initialState,
  type TripInfo,
  type TripRecord,
  type TripRelease,
} from '../../core/state.ts';
import type { ChainSummary, LedgerStamp } from '../../core/windows/summary.ts';

export class MemoryBreakerStore implements BreakerStore {
  private readonly cursors = new Map<string, ChainCursor>();
  private readonly progress = new Map<string, EvaluationProgress>();
  private readonly summaries = new Map<string, ChainSummary>();
  /** Per chain, ascending by (t, block, id); `keys` mirrors it for idempotent writes. */
  private readonly outflows = new Map<string, OutflowRecord[]>();
  private readonly keys = new Set<string>();
  private state: BreakerState | undefined;
  private readonly audit = new Map<string, AuditRecord>();
  private marker: InitMarker | undefined;
  /** Keyed like the table's sort keys: `<scope key>#<trip atMs>#<tripId>`. */
  private readonly trips = new Map<string, TripRecord>();
  private readonly releases = new Set<string>();

  // ---- CursorStore ----

  async getCursor(chain: string): Promise<ChainCursor | undefined> {
    const c = this.cursors.get(chain);
    return c && structuredClone(c);
  }

  async saveCursor(next: ChainCursor, expectedVersion: number | undefined): Promise<void> {
    if (next.version !== (expectedVersion ?? 0) + 1) {
      throw new RangeError(`cursor version must be ${(expectedVersion ?? 0) + 1}, got ${next.version}`);
    }
    const current = this.cursors.get(next.chain);
    if (current?.version !== expectedVersion) {
      throw new StateConflictError<ChainCursor>(
        `cursor of ${next.chain} is at version ${current?.version ?? '(none)'}, expected ${expectedVersion ?? '(none)'}`,
        current && structuredClone(current),
      );
    }
    this.cursors.set(next.chain, structuredClone(next));
  }

  // ---- EvaluationProgressStore ----

  async getProgress(chain: string): Promise<EvaluationProgress | undefined> {
    const p = this.progress.get(chain);
    return p && { ...p };
  }

  async saveProgress(next: EvaluationProgress, expectedVersion: number | undefined): Promise<void> {
    if (next.version !== (expectedVersion ?? 0) + 1) {
      throw new RangeError(`progress version must be ${(expectedVersion ?? 0) + 1}, got ${next.version}`);
    }
    const current = this.progress.get(next.chain);
    if (current?.version !== expectedVersion) {
      throw new StateConflictError<EvaluationProgress>(
        `evaluation progress of ${next.chain} is at version ${current?.version ?? '(none)'}, expected ${expectedVersion ?? '(none)'}`,
        current && { ...current },
      );
    }
    this.progress.set(next.chain, { ...next });
  }

  // ---- WindowSummaryStore ----

  async saveSummary(summary: ChainSummary, expectedLedger?: LedgerStamp): Promise<boolean> {
    const current = this.summaries.get(summary.chain);
    if (current && current.leaseVersion > summary.leaseVersion) return false;
    if (expectedLedger) {
      const log = current?.ledger;
      if (log?.epoch !== expectedLedger.epoch || log.version !== expectedLedger.version) return false;
    }
    this.summaries.set(summary.chain, structuredClone(summary));
    return true;
  }

  async summariesOf(chains: readonly string[]): Promise<ChainSummary[]> {
    return chains.flatMap((c) => {
      const s = this.summaries.get(c);
      return s ? [structuredClone(s)] : [];
    });
  }

  // ---- OutflowLedger ----

  async recordOutflows(records: OutflowRecord[]): Promise<void> {
    for (const r of records) {
      const key = storeKey(r);
      const list = this.outflows.get(r.chain) ?? [];
      if (list.length === 0) this.outflows.set(r.chain, list);
      const copy = { ...r };
      if (this.keys.has(key)) {
        list[list.findIndex((x) => storeKey(x) === key)] = copy; // a rewrite: the last copy wins
        continue;
      }
      this.keys.add(key);
      // Outflows arrive in window-time order almost always: append, else insert in place.
      let i = list.length;
      while (i > 0 && compareStored(list[i - 1] as OutflowRecord, r) > 0) i--;
      list.splice(i, 0, copy);
    }
  }

  async outflowsSince(chain: string, sinceT: number): Promise<OutflowRecord[]> {
    const list = this.outflows.get(chain) ?? [];
    return list.slice(firstAtOrAfter(list, sinceT)).map((r) => ({ ...r }));
  }

  async removeOutflowsAfter(chain: string, afterBlock: number, sinceT: number): Promise<number> {
    const list = this.outflows.get(chain);
    if (!list) return 0;
    const from = firstAtOrAfter(list, sinceT);
    const kept = list.slice(0, from);
    let removed = 0;
    for (const r of list.slice(from)) {
      if (r.block > afterBlock) {
        this.keys.delete(storeKey(r));
        removed++;
      } else kept.push(r);
    }
    this.outflows.set(chain, kept);
    return removed;
  }

  // ---- BreakerStateStore ----

  async getState(): Promise<BreakerState> {
    return this.state ? structuredClone(this.state) : initialState();
  }

  async saveState(next: BreakerState, expectedVersion: number): Promise<void> {
    if (next.version <= expectedVersion) {
      throw new RangeError(`state version must advance past ${expectedVersion}, got ${next.version}`);
    }
    const current = this.state?.version ?? 0;
    if (current !== expectedVersion) {
      throw new StateConflictError<BreakerState>(
        `breaker state is at version ${current}, expected ${expectedVersion}`,
        await this.getState(),
      );
    }
    this.state = structuredClone(next);
  }

  async getInitMarker(): Promise<InitMarker | undefined> {
    return this.marker && { ...this.marker };
  }

  async initialiseState(state: BreakerState, marker: InitMarker): Promise<boolean> {
    this.marker ??= { ...marker };
    if (this.state) return false;
    this.state = structuredClone(state);
    return true;
  }

  // ---- TripLedger ----

  async recordTrips(trips: readonly TripInfo[]): Promise<void> {
    for (const trip of trips) {
      const scope = scopeKey(trip.scope);
      const key = `${scope}#${trip.atMs}#${trip.tripId}`;
      if (!this.trips.has(key)) this.trips.set(key, { scope, trip: structuredClone(trip) });
    }
  }

  async recordReleases(releases: readonly TripRelease[]): Promise<void> {
    for (const r of releases) this.releases.add(`${r.scope}#${r.tripAtMs}#${r.tripId}`);
  }

  async unreleasedTrips(): Promise<TripRecord[]> {
    return [...this.trips.entries()].filter(([key]) => !this.releases.has(key)).map(([, r]) => structuredClone(r));
  }

  // ---- AuditLog ----

  async appendAudit(record: AuditRecord): Promise<void> {
    if (!this.audit.has(record.id)) this.audit.set(record.id, structuredClone(record));
  }

  async listAudit(limit: number): Promise<AuditRecord[]> {
    if (limit <= 0) return [];
    return [...this.audit.values()]
      .map((r) => ({ key: auditKey(r), r }))
      .sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0))
      .slice(0, limit)
      .map(({ r }) => structuredClone(r));
  }
}

function storeKey(r: OutflowRecord): string {
  return `${r.chain}\u0000${r.t}\u0000${r.block}\u0000${r.id}`;
}

function compareStored(a: OutflowRecord, b: OutflowRecord): number {
  return a.t - b.t || a.block - b.block || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Audit records sort by time, then id, as the DynamoDB sort key does. */
function auditKey(r: AuditRecord): string {
  return `${String(r.atMs).padStart(16, '0')}#${r.id}`;
}
