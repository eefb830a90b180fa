import type { OutflowRecord } from '../model.ts';
import { firstAtOrAfter } from '../rules/order.ts';
import { changedFrom, type WrittenLogs } from './ledger-version.ts';
import { type ChainSummary, type LedgerLog, SUMMARY_LAG_SECONDS } from './summary.ts';

/** Reads a chain's recorded outflows with window time ≥ since from the store (a Query). */
export type LedgerRead = (chain: string, since: number) => Promise<OutflowRecord[]>;

interface CachedLedger {
  epoch: string;
  version: number;
  /** Every record of the chain with window time ≥ fromT, ascending by (t, block), as the version stood. */
  fromT: number;
  records: readonly OutflowRecord[];
}

/** What the cache did, for the benchmarks: reads answered from memory, re-read in part, re-read whole. */
export interface LedgerCacheStats {
  served: number;
  partial: number;
  full: number;
}

/**
 * Other chains' ledgers kept in memory across polls and warm invocations — one object per process,
 * shared by every poller in it (functions/runtime/compose.ts) — so that a poll whose global rules need
 * every chain's records (a global pattern rule always, a global limit within reach of its warn level)
 * reads only what changed since it last looked. A chain's copy is checked against the ledger version
 * in that chain's window summary, which the poll has just read anyway (ledger-version.ts):
 *
 *  - unchanged version: served from memory, no request;
 *  - a newer version whose log reaches back to the cached one: records from the earliest window time
 *    the writes since then touched are read again, the earlier ones kept;
 *  - anything else (no summary or no log in it, another epoch, a log too short): read whole, as
 *    without a cache.
 *
 * Exact because every writer of a chain's ledger bumps the version after its write, with the earliest
 * window time it wrote or deleted, and a copy is stamped with the version read *before* its records
 * were: a write the copy may have missed comes with a bump the next check sees (the inventory of
 * writers is in docs/SCALE.md). Memory: per chain, the records from the furthest a poll reached back
 * (its window start), kept at most SUMMARY_LAG_SECONDS further back, so pollers of one process whose
 * chains lag each other a little share one copy; nothing older.
 */
export class LedgerCache implements WrittenLogs {
  private readonly ledgers = new Map<string, CachedLedger>();
  private readonly logs = new Map<string, LedgerLog>();
  readonly stats: LedgerCacheStats = { served: 0, partial: 0, full: 0 };

  /**
   * `chain`'s records with window time ≥ since. `summary` is the chain's summary as read before this
   * call (undefined: none stored); `read` queries the store.
   */
  async historyOf(
    chain: string,
    since: number,
    summary: ChainSummary | undefined,
    read: LedgerRead,
  ): Promise<OutflowRecord[]> {
    const log = summary?.ledger;
    if (!log) {
      this.ledgers.delete(chain);
      this.stats.full++;
      return read(chain, since);
    }
    const cached = this.ledgers.get(chain);
    const from = cached && cached.fromT <= since ? changedFrom(log, cached) : Number.NEGATIVE_INFINITY;
    let next: CachedLedger;
    if (cached && from === Number.POSITIVE_INFINITY) {
      this.stats.served++;
      next = cached;
    } else if (cached && from > since) {
      this.stats.partial++;
      const kept = cached.records.slice(0, firstAtOrAfter(cached.records, from));
      next = { ...cached, records: [...kept, ...(await read(chain, from))] };
    } else {
      this.stats.full++;
      next = { epoch: log.epoch, version: log.version, fromT: since, records: await read(chain, since) };
    }
    const keepFrom = Math.max(next.fromT, since - SUMMARY_LAG_SECONDS);
    this.ledgers.set(chain, {
      epoch: log.epoch,
      version: log.version,
      fromT: keepFrom,
      records: next.records.slice(firstAtOrAfter(next.records, keepFrom)),
    });
    return next.records.slice(firstAtOrAfter(next.records, since));
  }

  /** How many records the cache holds, over all chains (docs/SCALE.md sizes it). */
  get size(): number {
    let n = 0;
    for (const c of this.ledgers.values()) n += c.records.length;
    return n;
  }

  written(chain: string): LedgerLog | undefined {
    return this.logs.get(chain);
  }

  wrote(chain: string, log: LedgerLog): void {
    this.logs.set(chain, log);
  }
}
