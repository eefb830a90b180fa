import { blindPolicy } from '../blindness.ts';
import type { ChainConfig } from '../config/types.ts';
import { StateConflictError } from '../errors.ts';
import type { CursorStore } from '../ports.ts';
import type { ChainCursor } from '../state.ts';
import type { Clock } from '../time.ts';

/**
 * How long a poller's lease on its cursor lasts between renewals. A poller killed mid-batch leaves
 * its lease behind and the chain goes unobserved until it expires, so it is short; the poll renews
 * it before each of its writes (HeldLease), so it has to outlast one write, not a whole poll.
 */
export const DEFAULT_LEASE_MS = 15_000;

/**
 * A poll that records nothing moves the cursor in memory on every poll but saves it at most this
 * often (and at the end of a run, saveProgress): re-reading blocks whose save was skipped is harmless
 * (they held no outflow; a block that does is saved with a lease before anything is written), and
 * a cursor write per poll was most of the table's bill.
 */
export const IDLE_SAVE_INTERVAL_MS = 30_000;

/**
 * The idle save interval for a chain: at most a quarter of its blindness limit, so another poller
 * reading the stored cursor (watch-blindness.ts refreshFromCursor) never takes the save lag for
 * blindness, nor keeps an episode open because of it (it closes below half the limit).
 */
export function idleSaveIntervalMs(chain: ChainConfig): number {
  return Math.min(IDLE_SAVE_INTERVAL_MS, (blindPolicy(chain).afterSeconds * 1000) / 4);
}

/** How many outflow records a poll writes between two lease checks. */
const RECORDS_PER_CHECK = 200;

interface LeaseDeps {
  store: CursorStore;
  clock: Clock;
}

/**
 * Write a cursor conditionally; undefined when another poller moved it first. An ambiguous write
 * (its answer was lost, the retry met the write itself) counts as ours: leaving our own lease in
 * place would stall every other poller until it expired.
 */
export async function saveCursorOrBusy(
  deps: LeaseDeps,
  next: ChainCursor,
  expected: number | undefined,
): Promise<ChainCursor | undefined> {
  try {
    await deps.store.saveCursor(next, expected);
    return next;
  } catch (e) {
    if (!(e instanceof StateConflictError)) throw e;
    return isSameCursor(e.current, next) ? next : undefined;
  }
}

function isSameCursor(stored: unknown, ours: ChainCursor): boolean {
  const c = stored as ChainCursor | undefined;
  return (
    c !== undefined &&
    c.version === ours.version &&
    c.updatedAtMs === ours.updatedAtMs &&
    c.lastBlock === ours.lastBlock &&
    c.epoch === ours.epoch &&
    c.lease?.owner === ours.lease?.owner &&
    c.lease?.untilMs === ours.lease?.untilMs
  );
}

/**
 * The lease a poll holds on its cursor while it records a batch. `keep()` renews it once a third of
 * it has passed (a conditional write on the cursor version, so a renewal never revives a lease
 * another poller has recovered meanwhile) and answers false when the lease is gone: the poll must
 * then stop without writing anything more — the poller that recovered the lease undid this poll's
 * writes and redoes the batch.
 */
export class HeldLease {
  private held: ChainCursor;
  private readonly deps: LeaseDeps;
  private readonly leaseMs: number;

  constructor(deps: LeaseDeps, leased: ChainCursor, leaseMs: number) {
    this.deps = deps;
    this.held = leased;
    this.leaseMs = leaseMs;
  }

  /** The cursor version the poll's commit is conditional on. */
  get version(): number {
    return this.held.version;
  }

  async keep(): Promise<boolean> {
    const lease = this.held.lease;
    if (!lease) return false;
    const now = this.deps.clock.now();
    if (lease.untilMs - now > (this.leaseMs * 2) / 3) return true;
    const renewed: ChainCursor = {
      ...this.held,
      lease: { ...lease, untilMs: now + this.leaseMs },
      version: this.held.version + 1,
      updatedAtMs: now,
    };
    const saved = await saveCursorOrBusy(this.deps, renewed, this.held.version);
    if (!saved) return false;
    this.held = saved;
    return true;
  }

  /** Record `records` in chunks, checking the lease before each; false (stopped) when it was lost. */
  async record<T>(records: readonly T[], write: (chunk: T[]) => Promise<void>): Promise<boolean> {
    for (let i = 0; i < records.length; i += RECORDS_PER_CHECK) {
      if (!(await this.keep())) return false;
      await write(records.slice(i, i + RECORDS_PER_CHECK));
    }
    return true;
  }
}
