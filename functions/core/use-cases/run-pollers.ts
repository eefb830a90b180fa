import { ChainReadError } from '../errors.ts';
import type { PollDeps, PollResult } from './poll-chain.ts';
import { type RunSummary, runPoller } from './run-poller.ts';
import { BlindnessWatch } from './watch-blindness.ts';

/** How long the blindness check of a chain given up on may take (one cursor read, one state write, one page). */
export const ABANDONED_CHECK_MS = 2_000;

export interface RunPollersOptions {
  /** Every chain stops starting new polls after this wall-clock time (ms). */
  deadlineMs: number;
  /** After the deadline, how long a poll still in flight may take before its chain is given up on. */
  graceMs: number;
  /** Wait between one chain's polls (tests pass simulated time). */
  sleep: (ms: number) => Promise<void>;
  /**
   * A wall-clock timer bounding the wait past the deadline, cancelled through `signal` (it may reject then). Separate
   * from `sleep` so simulated time between polls never gives up on a chain.
   */
  timer: (ms: number, signal: AbortSignal) => Promise<unknown>;
  onResult?: (chain: string, result: PollResult) => void;
  onError?: (chain: string, error: unknown) => void;
  onBlindness?: (chain: string, event: 'blind' | 'recovered') => void;
  /** Stop every loop early (Ctrl-C locally). */
  signal?: AbortSignal;
}

/** One chain's part of a group run. */
export interface ChainRun extends RunSummary {
  chain: string;
  /** Why the chain's run failed: what its last poll threw, or that it was still polling when the group gave up on it. */
  error?: unknown;
}

/**
 * Poll several chains in one run (a poller group): each chain runs its own `runPoller` loop concurrently, with its
 * own deps (reader, cursor and lease, blindness watch, own-history cache), so one chain's failure never stops
 * another's loop. Resolves once every loop ended, or at the deadline plus `graceMs` when one is still in a poll that
 * does not answer: that chain is reported failed (so the invocation errors and alarms) and its blindness is
 * assessed from the stored cursor, paging if it has been unobserved past its limit. Never throws: the caller
 * decides what a failed chain means (the Lambda handler throws after reporting every chain).
 *
 * A loop given up on is abandoned, not cancelled (a pending read cannot be taken back). Under Lambda the process is
 * frozen when the handler returns; if the next invocation thaws it, the old poll carries on past its deadline, so
 * it starts no further poll, and every write it attempts is fenced by the cursor lease: the next invocation's loop
 * (another owner) moved or recovered the cursor, so the old poll's conditional writes fail and it stops
 * (test/core/use-cases/run-pollers.test.ts). Its rejection is handled here, so it cannot crash the process.
 */
export async function runPollers(chains: readonly PollDeps[], opts: RunPollersOptions): Promise<ChainRun[]> {
  const first = chains[0];
  if (!first) return [];
  const ended = new Set<ChainRun>();
  const loops = chains.map((deps) => {
    const chain = deps.chain.id;
    const run: ChainRun = { chain, polls: 0, failures: 0, outflows: 0 };
    const done = runPoller(deps, {
      deadlineMs: opts.deadlineMs,
      sleep: opts.sleep,
      signal: opts.signal,
      progress: run,
      onResult: (r) => opts.onResult?.(chain, r),
      onError: (e) => opts.onError?.(chain, e),
      onBlindness: (e) => opts.onBlindness?.(chain, e),
    })
      .catch((e: unknown) => {
        run.error = e;
      })
      .finally(() => ended.add(run));
    return { deps, run, done };
  });
  await within(
    Promise.all(loops.map((l) => l.done)),
    Math.max(0, opts.deadlineMs + opts.graceMs - first.clock.now()),
    opts.timer,
  );

  const abandoned = loops.filter((l) => !ended.has(l.run));
  await within(
    Promise.all(
      abandoned.map(async ({ deps, run }) => {
        const error = new ChainReadError(
          `${run.chain}: a poll was still running ${opts.graceMs / 1000} s after the deadline (an RPC or store call that does not answer); its loop was abandoned`,
        );
        run.error = error;
        try {
          // A fresh watch reads the stored cursor: blind when the last block anyone processed is older than the limit.
          const event = await new BlindnessWatch(deps).observe({ error });
          if (event) opts.onBlindness?.(run.chain, event);
        } catch (e) {
          opts.onError?.(run.chain, e);
        }
      }),
    ),
    ABANDONED_CHECK_MS,
    opts.timer,
  );
  return loops.map((l) => l.run);
}

/**
 * Wait for `work`, at most `ms` of wall time; whatever is still pending then carries on unawaited. No deadline (the
 * local runtime's) waits for the work: a timer armed with Infinity would fire at once.
 */
async function within(work: Promise<unknown>, ms: number, timer: RunPollersOptions['timer']): Promise<void> {
  if (!Number.isFinite(ms)) {
    await work;
    return;
  }
  const cancel = new AbortController();
  try {
    await Promise.race([work, timer(ms, cancel.signal).catch(() => undefined)]);
  } finally {
    cancel.abort();
  }
}
