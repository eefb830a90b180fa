import { StateConflictError } from '../errors.ts';
import type { WindowSummaryStore } from '../ports.ts';
import type { ChainSummary, LedgerLog, LedgerStamp } from './summary.ts';

/**
 * The version of a chain's ledger (its `OUT#<chain>` records), kept in the chain's window summary
 * item (docs/SCALE.md, "Other chains' ledgers, cached"). Every writer of the ledger bumps it after
 * its write, recording the earliest window time it wrote or deleted; a poller that cached another
 * chain's records (ledger-cache.ts) re-reads only from there — or nothing, when the version it
 * cached is still the stored one. The summaries are read on every poll with outflows anyway, so the
 * check costs no request.
 */
/**
 * How many versions a log remembers. A chain bumps once per poll with outflows (and per reorg or
 * lease recovery); a cache more than this many versions behind re-reads the whole reach, as without
 * a cache. 32 covers about 10 minutes of a chain polling with outflows every 20 s.
 */
export const LEDGER_LOG_LENGTH = 32;

/** Attempts at the conditional summary write before a poll fails (other pollers of the same chain keep moving it). */
const WRITE_ATTEMPTS = 5;

/** The log after a write that changed records from `changedFromT` on (undefined: changed nothing). */
export function nextLedgerLog(
  prev: LedgerLog | undefined,
  changedFromT: number | undefined,
  newEpoch: string,
): LedgerLog {
  const base = prev ?? { epoch: newEpoch, version: 0, changes: [] };
  if (changedFromT === undefined) return base;
  return {
    epoch: base.epoch,
    version: base.version + 1,
    changes: [...base.changes, changedFromT].slice(-LEDGER_LOG_LENGTH),
  };
}

/**
 * From which window time a ledger cached at `cached` may differ from the one `log` stands for:
 * +∞ when nothing changed, −∞ when the log cannot tell (no log, another epoch, too old).
 */
export function changedFrom(log: LedgerLog | undefined, cached: LedgerStamp): number {
  if (!log || log.epoch !== cached.epoch || cached.version > log.version) return Number.NEGATIVE_INFINITY;
  if (cached.version === log.version) return Number.POSITIVE_INFINITY;
  const skip = cached.version - (log.version - log.changes.length);
  if (skip < 0) return Number.NEGATIVE_INFINITY;
  return Math.min(...log.changes.slice(skip));
}

export function stampOf(log: LedgerLog): LedgerStamp {
  return { epoch: log.epoch, version: log.version };
}

/** What a process remembers of the logs it wrote, so its next write need not read the summary first. */
export interface WrittenLogs {
  written(chain: string): LedgerLog | undefined;
  wrote(chain: string, log: LedgerLog): void;
}

/**
 * Write a chain's own summary (the poller's, under its lease), its ledger version bumped when the
 * poll changed records from `changedFromT` on. Continues the stored log (conditional on it; re-read
 * and retried when another writer moved it); starts a new epoch when none is stored. Returns the
 * summary written, or undefined when one written under a newer lease is stored (that poller owns
 * the chain now, and bumps for what it writes).
 */
export async function saveOwnSummary(
  store: WindowSummaryStore,
  memory: WrittenLogs | undefined,
  summary: ChainSummary,
  changedFromT: number | undefined,
): Promise<ChainSummary | undefined> {
  const chain = summary.chain;
  let known = memory?.written(chain) ?? (await storedSummary(store, chain))?.ledger;
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    const ledger = nextLedgerLog(known, changedFromT, `${summary.leaseVersion}:${summary.updatedAtMs}`);
    const next: ChainSummary = { ...summary, ledger };
    if (await store.saveSummary(next, known && stampOf(known))) {
      memory?.wrote(chain, ledger);
      return next;
    }
    const stored = await storedSummary(store, chain);
    if (stored && stored.leaseVersion > summary.leaseVersion) return undefined;
    known = stored?.ledger;
  }
  throw new StateConflictError(`the window summary of ${chain} kept changing under ${WRITE_ATTEMPTS} writes`);
}

/**
 * Bump the ledger version of `chain` for records deleted from `changedFromT` on (a reorg, a lease
 * recovery): called after the deletion and before the cursor write that commits it, so a crash in
 * between repeats both. Nothing to do when the stored summary keeps no log: no cache can hold a
 * ledger that log vouched for (a cache re-reads a chain whose summary has none).
 */
export async function recordLedgerChange(
  store: WindowSummaryStore,
  memory: WrittenLogs | undefined,
  chain: string,
  changedFromT: number,
): Promise<void> {
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    const stored = await storedSummary(store, chain);
    if (!stored?.ledger) return;
    const ledger = nextLedgerLog(stored.ledger, changedFromT, stored.ledger.epoch);
    if (await store.saveSummary({ ...stored, ledger }, stampOf(stored.ledger))) {
      memory?.wrote(chain, ledger);
      return;
    }
  }
  throw new StateConflictError(`the window summary of ${chain} kept changing under ${WRITE_ATTEMPTS} writes`);
}

async function storedSummary(store: WindowSummaryStore, chain: string): Promise<ChainSummary | undefined> {
  return (await store.summariesOf([chain]))[0];
}
