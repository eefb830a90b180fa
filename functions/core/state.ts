import type { HaltScope } from './model.ts';
import type { Checkpoint } from './reorg-checkpoints.ts';

/** The evidence behind a warn or trip: what a page and the console show. */
export interface RuleEvidence {
  ruleId: string;
  /** Human summary, e.g. "global USD over 1h: $3,120,000.00 > limit $3,000,000.00". */
  summary: string;
  measure: 'usd' | 'count' | 'units' | 'ppm' | 'seconds';
  /** Measured value and limit, as decimal strings (micro-USD, count, base units, or parts per million of a balance). */
  value: string;
  limit: string;
  windowSeconds: number;
  /** The window that broke: (windowEnd − windowSeconds, windowEnd], chain time. */
  windowEnd: number;
  /** Ids of the outflows inside that window (capped), largest USD first. */
  outflowIds: string[];
}

export interface TripInfo {
  tripId: string;
  /** Wall-clock ms when the trip was written. */
  atMs: number;
  ruleId: string;
  scope: HaltScope;
  evidence: RuleEvidence;
  /** Set once outflows were seen continuing after this halt (the escalation page went out). */
  escalatedAtMs?: number;
  /** Set when an operator halted this scope by hand (`breaker trip`, the console) rather than a rule. */
  manual?: { actor: string; reason: string };
}

/**
 * Two-person reset (config `operations.twoPersonReset`): a reset one operator requested, which only a
 * different operator can approve, before `expiresAtMs`. Kept in the state item so the request and the
 * approval are conditional writes like every other transition.
 */
export interface PendingReset {
  requestId: string;
  /** Scope key to re-arm; every tripped scope when absent. */
  scope?: string;
  reason: string;
  requestedBy: string;
  requestedAtMs: number;
  expiresAtMs: number;
  /** The trips the requester reviewed: the approval is rejected if another trip happened since. */
  reviewedTripIds: string[];
}

export type ScopeState = { status: 'armed' } | { status: 'tripped'; trip: TripInfo };

/** A side effect recorded atomically with a transition and carried out afterwards (outbox). */
export type PendingEffect =
  | { kind: 'page'; id: string; page: Page }
  | { kind: 'audit'; id: string; record: AuditRecord };

/** The breaker's single source of truth; the kill switch a signing service reads. */
export interface BreakerState {
  /** Schema version of this item. */
  schema: 1;
  /** Optimistic-concurrency version: every write is conditional on it. */
  version: number;
  /** Tripped scopes by scope key ('global', 'chain:ethereum'); absent = armed. */
  tripped: Record<string, TripInfo>;
  /**
   * Per chain, the last block the operators reviewed at a reset: outflows at or below it no longer
   * count toward any rule (so a reset does not re-trip on the same evidence). Limits are unchanged.
   */
  reviewedThrough: Record<string, number>;
  /**
   * Per chain, the reset that last set `reviewedThrough` for it: the state version it wrote and the
   * window time of the reviewed block. An evaluation decided on an older version than this, of
   * blocks above `reviewedThrough`, raced the reset and is done again (core/evaluation-progress.ts).
   */
  reviewedAt?: Record<string, { version: number; t: number }>;
  /**
   * LEGACY, read only: before evaluation progress moved to its own item per chain
   * (`EvaluationProgress`), every poll wrote how far it had evaluated here. A state item written by
   * such a build still carries it; it is read as a floor of the progress items and never written.
   */
  evaluatedThrough?: Record<string, number>;
  /** Warn dedupe: rule id → chain time until which that rule's warning is not repeated. */
  warnedUntil: Record<string, number>;
  /** Effects committed with the last transitions that have not been carried out yet. */
  outbox: PendingEffect[];
  /** A two-person reset waiting for its approver (absent when none is pending). */
  pendingReset?: PendingReset;
  updatedAtMs: number;
  /** Chains currently blind (functions/core/blindness.ts): one episode each, paged once, absent when observed. */
  blind?: Record<string, BlindEpisode>;
  /**
   * Per chain and hot wallet, the highest nonce a watermark trip already reported (decimal string;
   * functions/core/watermark): the same stolen nonces do not trip again after a reset.
   */
  nonceReported?: Record<string, Record<string, string>>;
  /**
   * Per UTXO chain, the latest transaction ids an outpoint-watermark trip already reported (at most
   * REPORTED_TXIDS_KEPT, functions/core/watermark/outpoints.ts): the same transaction, pending and then
   * mined, does not trip again after a reset.
   */
  outpointReported?: Record<string, string[]>;
  /**
   * The config the deployed pollers last recorded (core/config-record.ts): its digest, the parts that
   * decide how strict the breaker is, and a loosening that is not in effect yet. Operators' paths
   * (--table included) apply the stricter of this and their own config.
   */
  config?: RecordedConfig;
}

/** What a config's strictness depends on, comparable across versions (bigints as decimal strings). */
export interface ConfigSummary {
  operations: {
    twoPersonReset: boolean;
    approvalWindowSeconds: number;
    people?: Record<string, string[]>;
    personalSessionRoles?: string[];
    loosenDelaySeconds?: number;
  };
  /**
   * Rule id → its limit, whether it only pages (shadow), and its whole definition
   * (core/rules/rule-definition.ts; absent in summaries recorded before it was kept).
   */
  rules: Record<string, { limit: string; shadow: boolean; definition?: string }>;
  ownAddresses: Record<string, string[]>;
  hotWallets: Record<string, string[]>;
  /** Actuator layer → on. */
  actuators: Record<string, boolean>;
  /** How each listed asset is valued, by `<chain>:<contract or "native">` (absent in older summaries). */
  valuations?: Record<string, RecordedValuation>;
  /** Micro-USD an outflow of an unlisted token counts as (absent in older summaries). */
  unknownAssetUsdMicros?: string;
  /** How unlisted tokens are priced on-chain (core/prices/discovery.ts describeDiscovery; absent in older summaries). */
  unlistedPricing?: string;
}

/** A listed asset's valuation as the recorded config had it (core/config-valuations.ts). */
export interface RecordedValuation {
  symbol: string;
  decimals: number;
  /** Static price, micro-USD per whole unit. */
  priceMicros: string;
  /** The price used while its feed is unusable, when it has one. */
  worstCasePriceMicros?: string;
  /** `<chain>:<address>` of its on-chain price feed, when it has one. */
  priceFeed?: string;
}

export interface RecordedConfig {
  digest: string;
  recordedAtMs: number;
  summary: ConfigSummary;
  /** A loosening waiting for its delay: until `effectiveAtMs` the stricter `previous` still applies. */
  pending?: {
    effectiveAtMs: number;
    previous: ConfigSummary;
    loosened: string[];
    /** Operators who approved it early (core/config-approval.ts): two different people end the wait. */
    approvals?: { actor: string; atMs: number }[];
  };
}

/** A chain that could not be observed for longer than its blind limit, from detection to recovery. */
export interface BlindEpisode {
  /** Wall-clock ms when the episode was recorded (and paged). */
  detectedAtMs: number;
  /** Last block processed when it was detected, and its chain time (Unix s); -1 and 0 when none ever was. */
  lastBlock: number;
  lastBlockTime: number;
  /** Why, in words (polls failing, head not advancing, cursor not moving). */
  reason: string;
  /** The halt this episode wrote (blindAction: halt-chain), if any. */
  tripId?: string;
}

/**
 * The state a store reports when no state item exists: version 0. It is NOT armed: nothing was
 * initialised (or the item was deleted), so the guard refuses and no transition commits onto it
 * (core/tamper.ts). Only `initialiseBreaker` creates the first state.
 */
export function initialState(): BreakerState {
  return {
    schema: 1,
    version: 0,
    tripped: {},
    reviewedThrough: {},
    warnedUntil: {},
    outbox: [],
    updatedAtMs: 0,
  };
}

export interface Page {
  id: string;
  kind: 'trip' | 'warn' | 'reset' | 'blind' | 'escalation' | 'actuator-failure' | 'tamper' | 'config';
  /** ≤ 100 characters (SNS email subject limit). */
  subject: string;
  /** Plain-text body for humans (email, SMS, chat). */
  text: string;
  /** Structured body for machines (PagerDuty/Opsgenie transforms, the console). */
  details: Record<string, unknown>;
}

export interface AuditRecord {
  id: string;
  atMs: number;
  /** What happened: 'trip', 'reset', 'warn', 'actuator', 'reorg', … */
  action: string;
  /** Who: 'breaker' for automatic transitions, an operator identity (ARN, user) for resets. */
  actor: string;
  reason?: string;
  scope?: string;
  details: Record<string, unknown>;
}

/** Per-chain progress: the last processed block and enough recent history to detect a reorg. */
export interface ChainCursor {
  chain: string;
  /** Last fully processed block; -1 before the first poll processed anything. */
  lastBlock: number;
  /**
   * Reorg checkpoints: some recent processed blocks, ascending, newest last (core/reorg-checkpoints.ts);
   * used to find a reorg's common ancestor. Older ones carry a hash tag instead of the full hash.
   */
  recent: Checkpoint[];
  /** Window time (monotone) of lastBlock; the next block's window time is max(its time, this). */
  lastT: number;
  /**
   * Set while a poller writes outflow records for [from, to] before committing the cursor.
   * A later poller that finds an expired lease deletes those records first (crash recovery).
   */
  lease?: { owner: string; untilMs: number; from: number; to: number; fromT: number };
  /** Incremented on every rewind (reorg), so caches of this chain's records can be invalidated. */
  epoch: number;
  version: number;
  updatedAtMs: number;
}

/** Was this state read from a stored item (version ≥ 1), rather than reported for an absent one? */
export function isInitialised(state: BreakerState): boolean {
  return state.version > 0;
}

/**
 * Written once, by the first initialisation, in a partition only the initialiser may write (INIT).
 * A breaker state that is absent while this exists was deleted: tamper, not a first run.
 */
export interface InitMarker {
  initialisedAtMs: number;
  actor: string;
}

/**
 * A trip as its own record (partition TRIP): pollers and operators add them, only the reset and
 * console roles add the matching release. `scope` is the scope key read from the record's SORT key,
 * so rewriting the record's body cannot change what it halts.
 */
export interface TripRecord {
  scope: string;
  trip: TripInfo;
}

/** An operator's release of one trip record (partition RELEASE, same sort key as the trip). */
export interface TripRelease {
  scope: string;
  tripId: string;
  /** The released trip's atMs: with scope and id it names the trip record. */
  tripAtMs: number;
  releasedAtMs: number;
  actor: string;
  reason: string;
}

/**
 * How far one chain's poller has evaluated its outflows, in an item of its own (not the shared state
 * item, which every chain would otherwise write on every poll: docs/SCALE.md). Only that chain's
 * poller writes it, conditional on `version`; a reset reads it to know what it reviews.
 */
export interface EvaluationProgress {
  chain: string;
  /** The last block whose outflows have been evaluated; -1 before any. */
  through: number;
  /** Window time of `through` (a later reset records it, so a raced evaluation knows where to re-read). */
  throughT: number;
  /**
   * The breaker-state version the last evaluation was decided on (or wrote). A reset that re-armed
   * this chain at a later version may not have seen this progress: see core/evaluation-progress.ts.
   */
  decidedOn: number;
  version: number;
  updatedAtMs: number;
}
