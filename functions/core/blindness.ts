import { haltedFor } from './breaker.ts';
import type { BreakerConfig, ChainConfig } from './config/types.ts';
import type { AuditRecord, BlindEpisode, BreakerState, Page, PendingEffect, TripInfo } from './state.ts';
import { formatDuration } from './time.ts';

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
