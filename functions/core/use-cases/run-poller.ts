import { isBreakerError } from '../errors.ts';
import type { ChainCursor } from '../state.ts';
import { flushOutbox, mirroredView } from './outbox.ts';
import {
  emptyHistoryCache,
  type OwnHistoryCache,
  type PollDeps,
  type PollResult,
  pollOnce,
  releaseOwnLease,
  saveProgress,
} from './poll-chain.ts';
import { BlindnessWatch } from './watch-blindness.ts';

export interface RunOptions {
  /** Stop starting new polls after this wall-clock time (ms). */
  deadlineMs: number;
  /** Wait between polls once caught up (defaults to the chain's pollIntervalSeconds). */
  intervalMs?: number;
  sleep: (ms: number) => Promise<void>;
  /** Called after every poll (metrics, logs, the local UI). */
  onResult?: (result: PollResult) => void;
  onError?: (error: unknown) => void;
  /** The chain went blind or was observed again (the page is queued in the state's outbox). */
  onBlindness?: (event: 'blind' | 'recovered') => void;
  /** Stop early (Ctrl-C locally). */
  signal?: AbortSignal;
  /**
   * A fresh summary this run fills as it goes, so a caller sees the counts of a run that threw or is still polling
   * (run-pollers.ts reports every chain of a group that way).
   */
  progress?: RunSummary;
}

export interface RunSummary {
  polls: number;
  failures: number;
  outflows: number;
  lastError?: unknown;
  /** Chain time of the last processed block, for the "last processed block age" metric. */
  lastBlockTime?: number;
}

/**
 * Keep polling one chain at about its block time until the deadline, so detection takes about
 * one block rather than one schedule period. Catches up without sleeping while behind.
 * Throws at the end if the last poll failed, so the platform records an error and alarms: a
 * poller that cannot see its chain must never look healthy.
 */
export async function runPoller(deps: PollDeps, opts: RunOptions): Promise<RunSummary> {
  // The chain's own history, kept across polls and, when the composition keeps one per process, across
  // runs (a warm Lambda's next invocation): without it every run re-reads the rules' whole reach of its own
  // ledger — 14 days for config/example.yaml's drain patterns — on its first poll with outflows. Its
  // version check re-reads whenever the cursor moved under us. A loop still running on the process's copy
  // (one a poller group gave up on) keeps it: this run starts with its own.
  const shared = deps.history;
  const history = shared && !shared.inUse ? shared : emptyHistoryCache();
  history.inUse = true;
  try {
    return await pollUntilDeadline({ ...deps, history }, opts);
  } finally {
    history.inUse = false;
  }
}

async function pollUntilDeadline(deps: PollDeps & { history: OwnHistoryCache }, opts: RunOptions): Promise<RunSummary> {
  const interval = opts.intervalMs ?? deps.chain.pollIntervalSeconds * 1000;
  const summary: RunSummary = opts.progress ?? { polls: 0, failures: 0, outflows: 0 };
  let cursor: ChainCursor | undefined;
  /** The cursor moved past empty blocks in memory only (pollOnce saves an idle cursor every few seconds). */
  let unsaved = false;
  let lastFailed = false;

  // Effects a crashed run left queued go out first; this also re-syncs the kill-switch mirror.
  let pagesPending = true;
  let flushError: unknown;
  let behind = false;
  let knownHead: number | undefined;
  // Being blind is an alarm, never silence: every poll's outcome feeds the chain's blindness watch.
  const blindness = new BlindnessWatch(deps);
  while (!opts.signal?.aborted && deps.clock.now() < opts.deadlineMs) {
    let outcome: { result: PollResult } | { error: unknown };
    // A page that failed to publish stays queued in the state; retry it every poll. Paging being
    // down must not blind the breaker: the poll goes ahead (trips are written to the state, which is
    // the kill switch) and the run fails at its end so the platform alarms.
    if (pagesPending) {
      try {
        await flushOutbox({ store: deps.store, publisher: deps.publisher, mirror: deps.mirror });
        pagesPending = false;
        flushError = undefined;
      } catch (e) {
        flushError = e;
        summary.failures++;
        opts.onError?.(e);
      }
    }
    try {
      const { result, cursor: next, unsaved: moved } = await pollOnce(deps, cursor, behind ? knownHead : undefined);
      outcome = { result };
      // A poll that found no new block hands back the cursor it was given: still unsaved if it was.
      unsaved = moved === true || (unsaved && next === cursor);
      cursor = next;
      summary.polls++;
      behind = false;
      if (result.kind === 'advanced' || result.kind === 'idle') knownHead = result.head;
      lastFailed = false;
      if (result.kind === 'advanced') {
        summary.outflows += result.outflows.length;
        behind = result.to < result.head - deps.chain.confirmations;
      }
      if (result.kind === 'advanced' || result.kind === 'idle') summary.lastBlockTime = result.lastBlockTime;
      if (result.kind === 'reorg') behind = true;
      if (result.kind === 'idle' && result.lastBlock < result.head - deps.chain.confirmations) behind = true;
      opts.onResult?.(result);
    } catch (e) {
      outcome = { error: e };
      cursor = undefined;
      unsaved = false;
      behind = false;
      summary.failures++;
      summary.lastError = e;
      lastFailed = true;
      opts.onError?.(e);
      if (isBreakerError(e, 'PUBLISH_FAILED')) pagesPending = true;
      // A page that could not be published is queued; a chain read error may be transient.
      else if (!isBreakerError(e)) throw e;
    }
    try {
      const event = await blindness.observe(outcome);
      if (event) opts.onBlindness?.(event);
    } catch (e) {
      opts.onError?.(e);
      if (isBreakerError(e, 'PUBLISH_FAILED')) pagesPending = true;
      else if (!isBreakerError(e)) throw e;
    }
    if (behind) continue;
    // Read every kill-switch layer back: one changed behind the breaker's back is repaired and paged.
    await deps.mirror
      ?.verify?.(() => mirroredView(deps.store))
      .catch((e: unknown) => {
        flushError = e;
        pagesPending = true;
        opts.onError?.(e);
      });
    const wait = Math.min(interval, opts.deadlineMs - deps.clock.now());
    if (wait <= 0) break;
    await opts.sleep(wait);
  }
  if (unsaved && cursor) {
    // The next run starts where this one got to. Best effort: if it fails, that run re-reads a few empty blocks.
    const saved = await saveProgress(deps, cursor).catch((e: unknown) => opts.onError?.(e));
    // The history is as complete for the saved cursor as for the one it replaces: the next run keeps it.
    if (saved && deps.history.version === cursor.version) deps.history.version = saved.version;
  }
  if (lastFailed) {
    // The last poll may have failed holding this invocation's lease: give it back (best effort).
    await releaseOwnLease(deps).catch(() => undefined);
    throw summary.lastError;
  }
  if (pagesPending && flushError !== undefined) throw flushError;
  return summary;
}
