import { applyBlindness, assessBlindness, type BlindAssessment, type BlindPolicy, blindPolicy } from '../blindness.ts';
import type { BreakerConfig, ChainConfig } from '../config/types.ts';
import type { BreakerStore, PagePublisher, StateMirror } from '../ports.ts';
import type { Clock } from '../time.ts';
import { commitTransition } from './commit-transition.ts';
import type { PollResult } from './poll-chain.ts';

/**
 * Watching a chain for blindness, the stateful and committing half of functions/core/blindness.ts
 * (which holds the pure policy, assessment, transition and pages): a watcher that follows one poller's
 * polls, and the use case that records an episode opening or closing.
 */

export interface BlindnessDeps {
  config: BreakerConfig;
  chain: ChainConfig;
  store: BreakerStore;
  publisher: PagePublisher;
  clock: Clock;
  mirror?: StateMirror;
}

/**
 * Write the transition `a` calls for, conditionally on the state version (re-deciding on a lost
 * race, so two pollers page once), then carry out its page. Returns whether an episode is open now.
 */
export async function recordBlindness(
  deps: BlindnessDeps,
  a: BlindAssessment,
  at: { lastBlock: number; lastBlockTime: number },
): Promise<{ open: boolean; event?: 'blind' | 'recovered' }> {
  const policy = blindPolicy(deps.chain);
  let unchangedOpen = false;
  let event: 'blind' | 'recovered' | undefined;
  const committed = await commitTransition(
    deps,
    (state, nowMs) => {
      const t = applyBlindness(state, deps.config, deps.chain, policy, a, { nowMs, ...at });
      unchangedOpen = state.blind?.[deps.chain.id] !== undefined;
      event = t.event;
      return t.changed ? t.state : undefined;
    },
    `blindness of ${deps.chain.id}: the breaker state kept changing`,
  );
  if (!committed) return { open: unchangedOpen };
  if (committed.undelivered) throw committed.undelivered;
  return { open: event === 'blind', event };
}

/**
 * Follows one poller's polls and opens/closes blind episodes. Reads the store only when its own
 * view says a transition may be due (and at the first poll, to learn whether an episode is open),
 * so a healthy chain costs no extra requests.
 */
export class BlindnessWatch {
  private readonly deps: BlindnessDeps;
  private readonly policy: BlindPolicy;
  private readonly startedMs: number;
  private lastBlock: number | undefined;
  private lastBlockTime: number | undefined;
  private referenceMs: number | undefined;
  private head: number | undefined;
  private headSinceMs: number | undefined;
  private failures = 0;
  private lastError: string | undefined;
  private busy: string | undefined;
  /** Whether the store holds an open episode for this chain; undefined until read. */
  private open: boolean | undefined;

  constructor(deps: BlindnessDeps) {
    this.deps = deps;
    this.policy = blindPolicy(deps.chain);
    this.startedMs = deps.clock.now();
  }

  /** After a poll: its result, or the error it failed with. Returns the transition it caused, if any. */
  async observe(outcome: { result: PollResult } | { error: unknown }): Promise<'blind' | 'recovered' | undefined> {
    const nowMs = this.deps.clock.now();
    this.busy = undefined;
    if ('error' in outcome) {
      this.failures++;
      this.lastError = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
    } else {
      this.failures = 0;
      const r = outcome.result;
      if (r.kind === 'busy') this.busy = r.reason;
      if (r.kind === 'idle' || r.kind === 'advanced') {
        if (r.head !== this.head) {
          this.head = r.head;
          this.headSinceMs = nowMs;
        }
        this.lastBlock = r.kind === 'idle' ? r.lastBlock : r.to;
        this.lastBlockTime = r.lastBlockTime;
      }
      if (r.kind === 'reorg') this.lastBlockTime = undefined;
    }
    let a = this.assess(nowMs);
    if (this.open === true ? !a.observed : this.open === false && !a.blind) return undefined;
    // Before declaring blindness, learn what the table knows: another poller may be making progress.
    if (a.blind || this.lastBlockTime === undefined) {
      await this.refreshFromCursor();
      a = this.assess(nowMs);
    }
    const { open, event } = await recordBlindness(this.deps, a, {
      lastBlock: this.lastBlock ?? -1,
      lastBlockTime: this.lastBlockTime ?? 0,
    });
    this.open = open;
    return event;
  }

  private assess(nowMs: number): BlindAssessment {
    return assessBlindness(this.deps.chain, this.policy, {
      nowMs,
      lastBlock: this.lastBlock,
      lastBlockTime: this.lastBlockTime,
      referenceMs: this.referenceMs ?? this.startedMs,
      head: this.head,
      headSinceMs: this.headSinceMs,
      consecutiveFailures: this.failures,
      lastError: this.lastError,
      busy: this.busy,
    });
  }

  private async refreshFromCursor(): Promise<void> {
    const cursor = await this.deps.store.getCursor(this.deps.chain.id);
    if (!cursor) return;
    const t = cursor.recent.at(-1)?.t ?? cursor.lastT;
    if (t > 0 && (this.lastBlockTime === undefined || t >= this.lastBlockTime)) {
      this.lastBlock = cursor.lastBlock;
      this.lastBlockTime = t;
    }
    // Never processed anything: count from when the cursor was first written.
    if (t <= 0) this.referenceMs ??= Math.min(this.startedMs, cursor.updatedAtMs);
  }
}
