import { haltedFor } from './breaker.ts';
import type { BreakerConfig, ChainConfig } from './config/types.ts';
import type { BreakerStore, PagePublisher, StateMirror } from './ports.ts';
import type { AuditRecord, BlindEpisode, BreakerState, Page, PendingEffect, TripInfo } from './state.ts';
import { type Clock, formatDuration } from './time.ts';
import { commitTransition } from './use-cases/commit-transition.ts';
import type { PollResult } from './use-cases/poll-chain.ts';

/**
 * Blindness: a chain the breaker cannot observe is an alarm, never silence.
 *
 * One signal covers every way of going blind — every poll failing, the head not advancing (a stale
 * or stuck endpoint, a halted chain), the cursor not moving (a lease never released, a poller that
 * keeps crashing): the chain time of the last PROCESSED block falls behind the wall clock. Normally
 * it trails by about `confirmations × blockTimeSeconds`; once it trails by `blindAfterSeconds` more,
 * the chain is blind. The signal lives in the cursor item, so it needs no extra writes and is the
 * same under Lambda (one invocation per minute) and the long-running local runtime.
 *
 * An episode is recorded in the breaker state (`state.blind[chain]`) by a conditional write that
 * also queues its page (outbox) and, with `blindAction: halt-chain`, the chain's halt: concurrent
 * pollers page once per episode, and a "recovered" page closes it. A blindness halt stays until an
 * operator resets it, like any trip. The dead-man alarm covers a poller that does not run at all.
 */

export interface BlindPolicy {
  /** Seconds the chain may go unobserved beyond its confirmation lag. */
  readonly afterSeconds: number;
  readonly action: 'page' | 'halt-chain';
}

export function blindPolicy(chain: ChainConfig): BlindPolicy {
  return {
    afterSeconds: chain.raw.blindAfterSeconds ?? Math.max(120, 10 * chain.blockTimeSeconds),
    action: chain.raw.blindAction ?? 'page',
  };
}

/** What a poller knows about its chain at one moment. */
export interface Sighting {
  readonly nowMs: number;
  /** The last processed block and its chain time (Unix s); undefined when none was ever processed. */
  readonly lastBlock?: number;
  readonly lastBlockTime?: number;
  /** Wall-clock ms from which to count when no block was ever processed (the cursor's creation). */
  readonly referenceMs: number;
  /** The last head seen, and since when (wall ms) it has not changed. */
  readonly head?: number;
  readonly headSinceMs?: number;
  readonly consecutiveFailures: number;
  readonly lastError?: string;
  /** Why the last poll did nothing, when another poller held the chain. */
  readonly busy?: string;
}

export interface BlindAssessment {
  /** Unobserved past the limit: an episode opens. */
  readonly blind: boolean;
  /** Back within half the limit: an open episode closes (the gap avoids flapping pages near the limit). */
  readonly observed: boolean;
  /** Seconds without observation beyond the expected confirmation lag. */
  readonly unobservedSeconds: number;
  readonly limitSeconds: number;
  readonly reason: string;
}

export function assessBlindness(chain: ChainConfig, policy: BlindPolicy, s: Sighting): BlindAssessment {
  const nowS = s.nowMs / 1000;
  const unobserved =
    s.lastBlockTime !== undefined && s.lastBlockTime > 0
      ? nowS - s.lastBlockTime - chain.confirmations * chain.blockTimeSeconds
      : (s.nowMs - s.referenceMs) / 1000;
  const unobservedSeconds = Math.max(0, Math.floor(unobserved));
  return {
    blind: unobservedSeconds > policy.afterSeconds,
    observed: unobservedSeconds <= policy.afterSeconds / 2,
    unobservedSeconds,
    limitSeconds: policy.afterSeconds,
    reason: describeReason(s),
  };
}

function describeReason(s: Sighting): string {
  if (s.consecutiveFailures > 0) {
    return `every poll is failing (${s.consecutiveFailures} in a row; last error: ${truncate(s.lastError ?? 'unknown', 300)})`;
  }
  if (s.busy) return `the cursor is not moving: ${s.busy}`;
  if (s.head !== undefined && s.headSinceMs !== undefined && s.nowMs - s.headSinceMs >= 1000) {
    return `the head has not advanced past block ${s.head} for ${formatSeconds((s.nowMs - s.headSinceMs) / 1000)}`;
  }
  return s.head !== undefined
    ? `the cursor is not keeping up (last processed block ${s.lastBlock ?? 'none'}, head ${s.head})`
    : 'the chain has not been read yet';
}

export interface BlindTransition {
  state: BreakerState;
  changed: boolean;
  event?: 'blind' | 'recovered';
}

/** Open an episode when blind and none is open; close it when observed again. Pure. */
export function applyBlindness(
  prev: BreakerState,
  config: BreakerConfig,
  chain: ChainConfig,
  policy: BlindPolicy,
  a: BlindAssessment,
  at: { nowMs: number; lastBlock: number; lastBlockTime: number },
): BlindTransition {
  const open = prev.blind?.[chain.id];
  if (open ? !a.observed : !a.blind) return { state: prev, changed: false };
  const state = structuredClone(prev);
  const version = prev.version + 1;
  const effects: PendingEffect[] = [];
  const blind = { ...(state.blind ?? {}) };
  let event: BlindTransition['event'];

  if (a.blind) {
    const episode: BlindEpisode = {
      detectedAtMs: at.nowMs,
      lastBlock: at.lastBlock,
      lastBlockTime: at.lastBlockTime,
      reason: a.reason,
    };
    let trip: TripInfo | undefined;
    const key = `chain:${chain.id}`;
    if (policy.action === 'halt-chain' && !haltedFor(state, chain.id)) {
      trip = {
        tripId: `trip-${version}-${key}`,
        atMs: at.nowMs,
        ruleId: blindRuleId(chain.id),
        scope: { kind: 'chain', chain: chain.id },
        evidence: {
          ruleId: blindRuleId(chain.id),
          summary: `${chain.id} unobserved for ${formatSeconds(a.unobservedSeconds)} > limit ${formatSeconds(a.limitSeconds)}: ${a.reason}`,
          measure: 'seconds',
          value: String(a.unobservedSeconds),
          limit: String(a.limitSeconds),
          windowSeconds: 0,
          windowEnd: Math.floor(at.nowMs / 1000),
          outflowIds: [],
        },
      };
      state.tripped[key] = trip;
      episode.tripId = trip.tripId;
    }
    blind[chain.id] = episode;
    const id = `blind-${version}-${chain.id}`;
    const page = renderBlindPage(id, config, chain, policy, a, episode, trip, haltedFor(state, chain.id));
    const record: AuditRecord = {
      id: `audit-${id}`,
      atMs: at.nowMs,
      action: 'blind',
      actor: 'breaker',
      scope: `chain:${chain.id}`,
      details: {
        unobservedSeconds: a.unobservedSeconds,
        limitSeconds: a.limitSeconds,
        reason: a.reason,
        lastBlock: at.lastBlock,
        blindAction: policy.action,
        ...(trip && { tripId: trip.tripId }),
      },
    };
    effects.push({ kind: 'page', id: page.id, page }, { kind: 'audit', id: record.id, record });
    event = 'blind';
  } else {
    const episode = open as BlindEpisode;
    delete blind[chain.id];
    const id = `blind-recovered-${version}-${chain.id}`;
    const page = renderRecoveredPage(id, config, chain, episode, at, haltedFor(state, chain.id));
    const record: AuditRecord = {
      id: `audit-${id}`,
      atMs: at.nowMs,
      action: 'blind-recovered',
      actor: 'breaker',
      scope: `chain:${chain.id}`,
      details: {
        blindForSeconds: Math.max(0, Math.round((at.nowMs - episode.detectedAtMs) / 1000)),
        lastBlock: at.lastBlock,
        stillHalted: haltedFor(state, chain.id)?.tripId ?? null,
      },
    };
    effects.push({ kind: 'page', id: page.id, page }, { kind: 'audit', id: record.id, record });
    event = 'recovered';
  }
  state.blind = blind;
  state.outbox = [...state.outbox, ...effects];
  state.version = version;
  state.updatedAtMs = at.nowMs;
  return { state, changed: true, event };
}

export function blindRuleId(chain: string): string {
  return `blind-${chain}`;
}

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

// ---- pages ----

function renderBlindPage(
  id: string,
  config: BreakerConfig,
  chain: ChainConfig,
  policy: BlindPolicy,
  a: BlindAssessment,
  episode: BlindEpisode,
  trip: TripInfo | undefined,
  halted: TripInfo | undefined,
): Page {
  const last =
    episode.lastBlock >= 0 && episode.lastBlockTime > 0
      ? `block ${episode.lastBlock} (${new Date(episode.lastBlockTime * 1000).toISOString()})`
      : 'none yet';
  const haltLine = trip
    ? `Signing on ${chain.id} is HALTED (blindAction: halt-chain, trip ${trip.tripId}) until an operator resets it.`
    : halted
      ? `Signing on ${chain.id} was already halted (${halted.ruleId}, trip ${halted.tripId}).`
      : `Nothing is halted (blindAction: page): withdrawals on ${chain.id} continue UNWATCHED.`;
  const text = [
    `BREAKER BLIND — ${config.name}: ${chain.id} has not been observed for ${formatSeconds(a.unobservedSeconds)} (limit ${formatSeconds(a.limitSeconds)}).`,
    '',
    `Why: ${a.reason}.`,
    `Last processed block: ${last}.`,
    haltLine,
    '',
    'Check the RPC endpoints in the config and the poller logs. When the chain is readable again the',
    'breaker catches up on every block it missed (none is skipped) and sends a RECOVERED page.',
    ...(trip
      ? ['', `To re-arm after review: npx breaker reset --scope chain:${chain.id} --reason "<what you reviewed>"`]
      : []),
  ].join('\n');
  return {
    id: `page-${id}`,
    kind: 'blind',
    subject:
      `[BLIND] ${config.name}: ${chain.id} unobserved for ${formatSeconds(a.unobservedSeconds)}${trip ? ', halted' : ''}`.slice(
        0,
        100,
      ),
    text,
    details: {
      chain: chain.id,
      unobservedSeconds: a.unobservedSeconds,
      limitSeconds: a.limitSeconds,
      reason: a.reason,
      lastBlock: episode.lastBlock,
      lastBlockTime: episode.lastBlockTime,
      blindAction: policy.action,
      halted: trip !== undefined || halted !== undefined,
      ...(trip && { tripId: trip.tripId }),
    },
  };
}

function renderRecoveredPage(
  id: string,
  config: BreakerConfig,
  chain: ChainConfig,
  episode: BlindEpisode,
  at: { nowMs: number; lastBlock: number },
  halted: TripInfo | undefined,
): Page {
  const blindFor = Math.max(0, Math.round((at.nowMs - episode.detectedAtMs) / 1000));
  const text = [
    `RECOVERED — ${config.name}: ${chain.id} is observed again (blind page sent ${formatSeconds(blindFor)} ago).`,
    `Processed through block ${at.lastBlock}; every block missed while blind was read, none skipped.`,
    halted
      ? `Signing on ${chain.id} is still halted (${halted.ruleId}, trip ${halted.tripId}) until an operator resets it: npx breaker reset --scope ${halted.scope.kind === 'global' ? 'global' : `chain:${chain.id}`} --reason "<what you reviewed>"`
      : `Nothing is halted on ${chain.id}.`,
  ].join('\n');
  return {
    id: `page-${id}`,
    kind: 'blind',
    subject: `[RECOVERED] ${config.name}: ${chain.id} observed again`.slice(0, 100),
    text,
    details: {
      chain: chain.id,
      recovered: true,
      blindForSeconds: blindFor,
      lastBlock: at.lastBlock,
      stillHalted: halted?.tripId ?? null,
    },
  };
}

function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s % 60 === 0) return formatDuration(s);
  return `${Math.floor(s / 60)}m ${s % 60}s`;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
