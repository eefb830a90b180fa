import type { BreakerConfig } from './config/types.ts';
import type { AuditRecord, BreakerState, EvaluationProgress } from './state.ts';

/**
 * Evaluation progress lives in one item per chain (`EvaluationProgress`), so a poll that trips
 * nothing writes no shared item (docs/SCALE.md). A reset marks as reviewed what the progress items
 * say was evaluated; it and the pollers' evaluations no longer meet in one conditional write, so a
 * poll can evaluate a batch on the state a reset is about to replace and record it after the reset
 * read the progress. Such a batch is neither reviewed nor evaluated against the re-armed state. Two
 * checks close that window, whichever side writes last:
 *  - the poller, after recording progress, reads the state again: a reset that re-armed its chain at
 *    a version newer than the evaluation's (`reviewedAt`) and reviewed less than it evaluated means
 *    the raced blocks (`racedRange`) are evaluated again, on the re-armed state;
 *  - the reset, after its write, reads the progress again: an evaluation recorded meanwhile that was
 *    decided on an older state is added to what it reviewed (`extendReview`), as if the reset had
 *    landed just after it — which is what the single conditional write used to give.
 * Every evaluation repeats the poller's check first, so a reset that crashed between its write and
 * its re-read is caught by the chain's next evaluation.
 */

export function noProgress(chain: string): EvaluationProgress {
  return { chain, through: -1, throughT: 0, decidedOn: 0, version: 0, updatedAtMs: 0 };
}

/** What a reset reviews of one chain: its last evaluated block and that block's window time. */
export interface Evaluated {
  block: number;
  t: number;
}

/**
 * Per chain, how far its outflows have been evaluated: the progress items, with the state's legacy
 * `evaluatedThrough` (written by builds before the progress items) as a floor. A legacy block has
 * no known window time: 0 makes a raced evaluation re-read the chain's whole retained ledger.
 */
export function evaluatedThrough(
  state: BreakerState,
  progress: ReadonlyMap<string, EvaluationProgress>,
): Record<string, Evaluated> {
  const out: Record<string, Evaluated> = {};
  for (const [chain, block] of Object.entries(state.evaluatedThrough ?? {})) out[chain] = { block, t: 0 };
  for (const p of progress.values()) {
    if (p.through >= 0 && p.through >= (out[p.chain]?.block ?? -1)) out[p.chain] = { block: p.through, t: p.throughT };
  }
  return out;
}

/** The `processedThrough` of a reset request: blocks only. */
export function blocksOf(evaluated: Record<string, Evaluated>): Record<string, number> {
  return Object.fromEntries(Object.entries(evaluated).map(([chain, e]) => [chain, e.block]));
}

/** Chains a transition re-armed: every chain when it cleared the global trip, else those of the chain scopes it cleared. */
export function rearmedChains(prev: BreakerState, next: BreakerState, config: BreakerConfig): string[] {
  if ('global' in prev.tripped && !('global' in next.tripped)) return [...config.chains.keys()];
  return Object.keys(prev.tripped)
    .filter((key) => key.startsWith('chain:') && !(key in next.tripped))
    .map((key) => key.slice('chain:'.length));
}

/**
 * Stamp a reset's decision (`next`, decided on `prev`) with `reviewedAt` for every chain it
 * re-armed — even one whose `reviewedThrough` did not move, since an evaluation of it may be in
 * flight. No-op for a decision that re-armed nothing.
 */
export function stampReview(
  prev: BreakerState,
  next: BreakerState,
  config: BreakerConfig,
  evaluated: Record<string, Evaluated>,
): BreakerState {
  const chains = rearmedChains(prev, next, config);
  if (chains.length === 0) return next;
  const reviewedAt = { ...(next.reviewedAt ?? {}) };
  for (const chain of chains) {
    const reviewed = next.reviewedThrough[chain] ?? -1;
    const own = evaluated[chain];
    const t = own && own.block === reviewed ? own.t : (prev.reviewedAt?.[chain]?.t ?? 0);
    reviewedAt[chain] = { version: next.version, t };
  }
  return { ...next, reviewedAt };
}

/** Blocks of a chain evaluated on a state older than the reset that re-armed the chain, and not reviewed by it. */
export interface RacedRange {
  chain: string;
  /** Blocks in (afterBlock, throughBlock] are evaluated again. */
  afterBlock: number;
  throughBlock: number;
  /** No raced block has an earlier window time (the reviewed block's time). */
  sinceT: number;
}

export function racedRange(state: BreakerState, progress: EvaluationProgress): RacedRange | undefined {
  const review = state.reviewedAt?.[progress.chain];
  if (!review || progress.decidedOn >= review.version) return undefined;
  const reviewed = state.reviewedThrough[progress.chain] ?? -1;
  if (progress.through <= reviewed) return undefined;
  return { chain: progress.chain, afterBlock: reviewed, throughBlock: progress.through, sinceT: review.t };
}

/**
 * The reset's second look: progress recorded after the reset read it, by evaluations decided on a
 * state older than the reset, joins what the reset reviewed (audited). Undefined when there is none.
 */
export function extendReview(
  state: BreakerState,
  progress: readonly EvaluationProgress[],
  actor: string,
  nowMs: number,
): BreakerState | undefined {
  const raced = progress.map((p) => racedRange(state, p)).filter((r) => r !== undefined);
  if (raced.length === 0) return undefined;
  const next = structuredClone(state);
  const reviewedAt = next.reviewedAt ?? {};
  for (const r of raced) {
    const p = progress.find((x) => x.chain === r.chain) as EvaluationProgress;
    next.reviewedThrough[r.chain] = r.throughBlock;
    reviewedAt[r.chain] = { version: (reviewedAt[r.chain] as { version: number }).version, t: p.throughT };
  }
  next.reviewedAt = reviewedAt;
  next.version = state.version + 1;
  next.updatedAtMs = nowMs;
  const record: AuditRecord = {
    id: `audit-review-extended-${state.version + 1}`,
    atMs: nowMs,
    action: 'reset-review-extended',
    actor,
    reason: 'batches evaluated on the state the reset replaced, recorded while it was written',
    details: { reviewedThrough: Object.fromEntries(raced.map((r) => [r.chain, r.throughBlock])) },
  };
  next.outbox = [...next.outbox, { kind: 'audit', id: record.id, record }];
  return next;
}

/** The progress a poll records after evaluating through `block` on state version `decidedOn`. */
export function advancedProgress(
  prev: EvaluationProgress,
  through: { block: number; t: number },
  decidedOn: number,
  nowMs: number,
): EvaluationProgress {
  // A rewound chain (reorg) evaluates lower blocks again: progress never moves back.
  const ahead = through.block >= prev.through;
  return {
    chain: prev.chain,
    through: ahead ? through.block : prev.through,
    throughT: ahead ? through.t : prev.throughT,
    decidedOn,
    version: prev.version + 1,
    updatedAtMs: nowMs,
  };
}
