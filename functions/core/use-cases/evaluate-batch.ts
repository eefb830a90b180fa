import type { BreakerConfig } from '../config/types.ts';
import { countedValue, countsAsOwn, strictestRules } from '../config-check.ts';
import { StateConflictError } from '../errors.ts';
import { evaluateRules } from '../evaluate.ts';
import { advancedProgress, noProgress, type RacedRange, racedRange } from '../evaluation-progress.ts';
import type { OutflowRecord } from '../model.ts';
import type { ApprovedWithdrawalLog, BreakerStore, PagePublisher } from '../ports.ts';
import { markUnapprovedOutflows } from '../reconciliation/mark-unapproved.ts';
import type { Rule } from '../rules/rule.ts';
import type { BreakerState, TripInfo } from '../state.ts';
import type { Clock } from '../time.ts';
import type { LedgerCache } from '../windows/ledger-cache.ts';
import { saveOwnSummary } from '../windows/ledger-version.ts';
import {
  buildSummary,
  type ChainSummary,
  readsOtherChains,
  summarisedRules,
  summaryReachSeconds,
  summaryWindows,
  windowBound,
} from '../windows/summary.ts';
import { commitState, readInitialisedState } from './commit-transition.ts';
import { combineSteps, type DecideStep, emptyOutcome, evaluationSteps, type PollEvaluation } from './poll-decision.ts';

export interface EvaluateDeps {
  config: BreakerConfig;
  store: BreakerStore;
  clock: Clock;
  publisher: PagePublisher;
  /** Approved withdrawals for reconciliation; by default the store, when it keeps them. */
  approvals?: ApprovedWithdrawalLog;
  /**
   * Other chains' ledgers kept across polls, one per process (windows/ledger-cache.ts); without it
   * every read of another chain's ledger is a Query.
   */
  ledgers?: LedgerCache;
}

export interface PollTransition {
  trips: TripInfo[];
  warnings: string[];
  escalated: TripInfo[];
  /** The state written, or the current one when nothing changed. */
  state: BreakerState;
}

/** What chain and block a poll evaluated through (recorded in the chain's progress item) and that block's window time. */
export interface EvaluatedThrough {
  chain: string;
  block: number;
  t: number;
  /**
   * The cursor version of the poller's lease: with it the poll keeps its chain's window summary and
   * bounds the global limits from every chain's summary (core/windows/summary.ts); without it every
   * chain's ledger is read.
   */
  leaseVersion?: number;
}

/** Recorded outflows of a chain with window time ≥ since. */
export type HistoryOf = (chain: string, since: number) => Promise<OutflowRecord[]>;

/** Pollers of other chains trip, warn and escalate too: a poll decides again this many times before failing. */
const POLL_COMMIT_ATTEMPTS = 20;
/** A reset racing the poll makes it evaluate the raced blocks again; more rounds than this means resets in a loop. */
const RACE_ROUNDS = 5;

/**
 * Evaluate the rules against the history plus `fresh`, and commit the decision — trips and
 * warnings, escalation of outflows that continued after a trip, and `alsoDecide` (the poll's price
 * alarm and checks) — as one conditional write of the breaker state, decided again on the new state
 * after a conflict. A decision that changes nothing writes no state: how far this chain was
 * evaluated (`through`) goes to the chain's own progress item, and a reset that raced the evaluation
 * makes the raced blocks evaluated again (core/evaluation-progress.ts). The outbox is not carried
 * out here: the poll flushes once, after its cursor moved.
 */
export async function evaluateAndTransition(
  deps: EvaluateDeps,
  fresh: readonly OutflowRecord[],
  through?: EvaluatedThrough,
  historyOf: HistoryOf = (c, since) => deps.store.outflowsSince(c, since),
  alsoDecide: readonly DecideStep[] = [],
): Promise<PollTransition> {
  const total = emptyOutcome();
  let progress = through && ((await deps.store.getProgress(through.chain)) ?? noProgress(through.chain));
  let state = await readInitialisedState(deps);
  // Until a decision over them is committed, the fresh outflows and the poll's own steps stay pending.
  let pending = { fresh, steps: alsoDecide };
  for (let round = 0; ; round++) {
    if (round === RACE_ROUNDS) {
      throw new StateConflictError(`resets kept racing the evaluation of ${through?.chain} for ${RACE_ROUNDS} rounds`);
    }
    const raced = progress && racedRange(state, progress);
    const evaluation = await ledgerEvaluation(deps, pending.fresh, historyOf, raced, through, state);
    const outcome = emptyOutcome();
    // The poll's checks decide first: a config change they record (a loosening now waiting) must already
    // bind the evaluation of this very poll, not only the next one.
    const steps = [...pending.steps, ...(evaluation ? evaluationSteps(evaluation, outcome) : [])];
    if (steps.length > 0) {
      const decide = combineSteps(steps);
      const committed = await commitState(
        deps,
        (current, nowMs) => {
          // A reset that landed since this round read the ledger widens what must be evaluated again; a
          // stricter state can bring a global limit the summaries skipped within reach.
          if (progress && !sameRace(racedRange(current, progress), raced)) throw new RaceMoved();
          if (evaluation && !evaluation.covers(current, nowMs)) throw new RaceMoved();
          return decide(current, nowMs);
        },
        {
          first: state,
          attempts: POLL_COMMIT_ATTEMPTS,
          conflictMessage: `breaker state kept changing under ${POLL_COMMIT_ATTEMPTS} consecutive evaluations`,
        },
      ).catch((e: unknown) => {
        if (e instanceof RaceMoved) return undefined;
        throw e;
      });
      if (!committed) {
        state = await readInitialisedState(deps);
        continue;
      }
      state = committed.state;
      total.trips.push(...outcome.trips);
      total.warned.push(...outcome.warned);
      total.escalated.push(...outcome.escalated);
    }
    pending = { fresh: [], steps: [] };
    if (!progress || !through || !evaluation) break;
    const next = advancedProgress(progress, through, state.version, deps.clock.now());
    await deps.store.saveProgress(next, progress.version === 0 ? undefined : progress.version);
    progress = next;
    // A reset that read the progress before this write and wrote the state after it did not review
    // these blocks: read the state again (the reset, for its part, reads the progress again).
    state = await readInitialisedState(deps);
    if (!racedRange(state, progress)) break;
  }
  return {
    trips: total.trips,
    warnings: total.warned.map((b) => b.rule.id),
    escalated: total.escalated,
    state,
  };
}

/** Thrown out of a decision whose reads no longer cover what the state asks to evaluate. */
class RaceMoved extends Error {}

function sameRace(a: RacedRange | undefined, b: RacedRange | undefined): boolean {
  return a?.afterBlock === b?.afterBlock && a?.throughBlock === b?.throughBlock && a?.sinceT === b?.sinceT;
}

interface BatchEvaluation extends PollEvaluation {
  /** Did this evaluation read everything `state` needs (the global limits it skipped are still out of reach)? */
  covers(state: BreakerState, nowMs: number): boolean;
}

/**
 * The poll's evaluation: `fresh`, plus the blocks a racing reset left to evaluate again (`raced`,
 * already in the ledger); undefined when there is neither. A chain's poll evaluates its own chain's
 * rules and the global ones (another chain's rules cannot gain a breach from this chain's outflows);
 * a global limit the chains' summaries keep at or under its warn level is not evaluated, and the
 * other chains' ledgers are read only when some global rule needs them.
 */
async function ledgerEvaluation(
  deps: EvaluateDeps,
  fresh: readonly OutflowRecord[],
  historyOf: HistoryOf,
  raced: RacedRange | undefined,
  through: EvaluatedThrough | undefined,
  peeked: BreakerState,
): Promise<BatchEvaluation | undefined> {
  const { config } = deps;
  // Own transfers are evaluated too: whether they count depends on the state (countsAsOwn).
  if (fresh.length === 0 && !raced) return undefined;
  const times = fresh.map((r) => r.t);
  const earliest = Math.min(...times, ...(raced ? [raced.sinceT] : []));
  const since = earliest - config.maxWindowSeconds;
  const ownChain = through?.chain;
  // Raced blocks lie between the reviewed block's time and this batch's last block.
  const span = { fromT: earliest, toT: Math.max(...times, ...(through ? [through.t] : [])) };
  // First: the summary reads this chain's history from a little earlier than the rules do.
  const { bounds, summaries } = await globalBounds(deps, fresh, historyOf, through, span, since);
  const ownRecords = ownChain ? await historyOf(ownChain, since) : [];
  const skippable = (state: BreakerState, nowMs: number) => skippedRules(config, state, nowMs, bounds);
  const skippedOnPeek = skippable(peeked, deps.clock.now());
  const needsLedgers = config.rules.some((r) => readsOtherChains(r) && !skippedOnPeek.has(r.id));
  const others = ownChain && !needsLedgers ? [] : [...config.chains.keys()].filter((c) => c !== ownChain);
  // Another chain's copy is checked against the version in its summary, read after this chain's own
  // summary (and its version bump) was written: as with the ledgers themselves, of two chains recording
  // at once the later summary read sees the other's bump, so at least one of them reads the other's
  // new records (the cache cannot hide a write whose bump was visible before its records were read).
  const ledgers = deps.ledgers;
  const otherHistory = (c: string) =>
    ledgers && summaries ? ledgers.historyOf(c, since, summaries.get(c), historyOf) : historyOf(c, since);
  const stored = [...ownRecords, ...(await Promise.all(others.map(otherHistory))).flat()];
  const byId = new Map(stored.map((r) => [r.id, r]));
  // Reconciliation marks the fresh outflows no approved withdrawal accounts for; its rules count them.
  for (const r of await markUnapprovedOutflows(deps, fresh)) byId.set(r.id, r);
  const all = [...byId.values()];
  const isRaced = (r: OutflowRecord) =>
    raced !== undefined && r.chain === raced.chain && r.block > raced.afterBlock && r.block <= raced.throughBlock;
  const newIds = new Set([...fresh.map((r) => r.id), ...all.filter(isRaced).map((r) => r.id)]);
  if (newIds.size === 0) return undefined;
  const newTimes = all.filter((r) => newIds.has(r.id)).map((r) => r.t);
  const fromT = Math.min(...times, ...newTimes);
  const toT = Math.max(...times, ...newTimes);
  const evaluated = (rule: Rule) =>
    rule.subject.kind === 'global' || ownChain === undefined || rule.subject.chain === ownChain;
  return {
    config,
    covers: (state, nowMs) => {
      if (needsLedgers) return true;
      const skipped = skippable(state, nowMs);
      return config.rules.every((r) => !readsOtherChains(r) || skipped.has(r.id));
    },
    counted: (state) => {
      const own = countsAsOwn(state);
      const value = countedValue(config, state);
      const history = all
        .filter((r) => !own(r) && r.block > (state.reviewedThrough[r.chain] ?? -1))
        // An own address still waiting out its loosening delay is an outside destination for the rules,
        // and a lowered valuation still waiting counts at the previous one.
        .map((r) => value(r.own ? { ...r, own: false } : r));
      return { history, newOnes: history.filter((r) => newIds.has(r.id)) };
    },
    breaches: (history, newOnes, state, nowMs) => {
      const skipped = skippable(state, nowMs);
      const rules = strictestRules(config, state, nowMs).filter((r) => evaluated(r) && !skipped.has(r.id));
      return evaluateRules(rules, history, { fromT, toT, newIds: new Set(newOnes.map((r) => r.id)) });
    },
  };
}

/**
 * Keep this chain's window summary — written before the others' are read, so of two chains recording
 * at once at least one sees the other's outflows, as with the ledger — and bound every summarised
 * global limit over the windows the batch can change. The summary also carries this chain's ledger
 * version, bumped for the fresh outflows (recorded before this write): kept whenever a global rule
 * reads other chains, even one no summary bounds (a pattern), so their pollers can cache this chain's
 * ledger. Nothing without a lease (no summary kept; `summaries` undefined).
 */
async function globalBounds(
  deps: EvaluateDeps,
  fresh: readonly OutflowRecord[],
  historyOf: HistoryOf,
  through: EvaluatedThrough | undefined,
  span: { fromT: number; toT: number },
  since: number,
): Promise<{ bounds: Map<string, bigint>; summaries?: Map<string, ChainSummary> }> {
  const { config, store } = deps;
  const windows = summaryWindows(config);
  const bounds = new Map<string, bigint>();
  if (!through || through.leaseVersion === undefined) return { bounds };
  if (windows.length === 0 && !config.rules.some(readsOtherChains)) return { bounds };
  const completeFromT = since - summaryReachSeconds(config);
  const byId = new Map((await historyOf(through.chain, completeFromT)).map((r) => [r.id, r]));
  for (const r of fresh) byId.set(r.id, r);
  const built = buildSummary(
    through.chain,
    [...byId.values()],
    completeFromT,
    windows,
    through.leaseVersion,
    deps.clock.now(),
  );
  const changedFromT = fresh.length > 0 ? Math.min(...fresh.map((r) => r.t)) : undefined;
  // Undefined: a poller under a newer lease keeps the chain's summary now; this one bounds with its own.
  const own = (await saveOwnSummary(store, deps.ledgers, built, changedFromT)) ?? built;
  const others = await store.summariesOf([...config.chains.keys()].filter((c) => c !== through.chain));
  const summaries: ChainSummary[] = [own, ...others];
  for (const rule of summarisedRules(config.rules)) {
    const bound = windowBound(rule, summaries, span);
    if (bound !== undefined) bounds.set(rule.id, bound);
  }
  return { bounds, summaries: new Map(others.map((s) => [s.chain, s])) };
}

/**
 * The global limits a poll need not evaluate on `state`: the summaries' bound stays at or under the
 * warn level of the rule as the state enforces it. None while an own address waits out its loosening
 * delay (own transfers, which summaries leave out, may count then).
 */
function skippedRules(
  config: BreakerConfig,
  state: BreakerState,
  nowMs: number,
  bounds: ReadonlyMap<string, bigint>,
): Set<string> {
  if (bounds.size === 0 || state.config?.pending) return new Set();
  return new Set(
    strictestRules(config, state, nowMs)
      .filter((r) => {
        const bound = bounds.get(r.id);
        return bound !== undefined && bound <= r.warnAt && bound <= r.limit;
      })
      .map((r) => r.id),
  );
}
