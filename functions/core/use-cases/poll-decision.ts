import { applyBreaches } from '../breaker.ts';
import type { BreakerConfig } from '../config/types.ts';
import { escalateContinuedOutflows } from '../escalation.ts';
import type { OutflowRecord, RangeRead } from '../model.ts';
import type { Breach } from '../rules/breach.ts';
import type { BreakerState, TripInfo } from '../state.ts';

/**
 * One part of what a poll decides about the breaker state (a trip, an escalation, a price alarm, a
 * check's page). Pure: it gets this attempt's state as the earlier steps left it and returns the
 * changed state, or undefined when it changes nothing. It must not bump `version` or `updatedAtMs`
 * (the poll's decision is written once, as one version), so ids derived from `version + 1` agree
 * across the steps of one decision.
 */
export type DecideStep = (state: BreakerState, nowMs: number) => BreakerState | undefined;

/**
 * A check that runs on every poll (idle ones too): it may gather what it needs first (I/O is
 * allowed here, e.g. reading a kill-switch layer back), then returns the pure step that records
 * its finding, or undefined when there is nothing to record. Wired for every runtime in
 * functions/runtime/compose.ts (`pollerDeps`).
 */
export type PollCheck = (at: {
  chain: string;
  nowMs: number;
  /** The blocks this poll read, when it read any (a check may judge their transactions). */
  read?: RangeRead;
}) => Promise<DecideStep | undefined>;

/**
 * The steps as the one decide function commitState / commitTransition take: each step sees what the previous
 * ones decided; the result is one new version, or undefined when no step changed anything.
 */
export function combineSteps(
  steps: readonly DecideStep[],
): (state: BreakerState, nowMs: number) => BreakerState | undefined {
  return (state, nowMs) => {
    let next: BreakerState | undefined;
    for (const step of steps) {
      const out = step(next ?? state, nowMs);
      // Steps that follow see the version the decision starts from, whatever a step wrote there.
      if (out) next = { ...out, version: state.version, updatedAtMs: state.updatedAtMs };
    }
    return next && { ...next, version: state.version + 1, updatedAtMs: nowMs };
  };
}

/** What a poll's evaluation decided, as the last attempt of its decision left it. */
export interface PollOutcome {
  trips: TripInfo[];
  warned: Breach[];
  shadowed: Breach[];
  escalated: TripInfo[];
}

export function emptyOutcome(): PollOutcome {
  return { trips: [], warned: [], shadowed: [], escalated: [] };
}

/** What a poll evaluates: the production poll reads it from the ledger, replay from its evaluator. */
export interface PollEvaluation {
  config: BreakerConfig;
  /** The outflows that count on `state` (an operator's reset stops counting what it reviewed) and the fresh ones among them. */
  counted(state: BreakerState): { history: readonly OutflowRecord[]; newOnes: readonly OutflowRecord[] };
  /** The rules' breaches over what counts, on the state being decided (a waiting loosening keeps the stricter limits). */
  breaches(
    history: readonly OutflowRecord[],
    newOnes: readonly OutflowRecord[],
    state: BreakerState,
    nowMs: number,
  ): Breach[];
}

/**
 * The evaluation part of a poll's decision: trips and warnings (applyBreaches) and escalation of
 * outflows that continued in a tripped scope. Nothing when no fresh outflow counts on the state: how
 * far the chain was evaluated is recorded apart, in its own item (core/evaluation-progress.ts). Each
 * attempt records what it decided in `outcome`.
 */
export function evaluationSteps(e: PollEvaluation, outcome: PollOutcome): DecideStep[] {
  const { config } = e;
  const evaluate: DecideStep = (state, nowMs) => {
    outcome.trips = [];
    outcome.warned = [];
    outcome.shadowed = [];
    const { history, newOnes } = e.counted(state);
    if (newOnes.length === 0) return undefined;
    const transition = applyBreaches(state, e.breaches(history, newOnes, state, nowMs), { config, history, nowMs });
    if (!transition.changed) return undefined;
    outcome.trips = transition.trips;
    outcome.warned = transition.warned;
    outcome.shadowed = transition.shadowed ?? [];
    return transition.state;
  };
  const escalate: DecideStep = (state, nowMs) => {
    outcome.escalated = [];
    if (Object.values(state.tripped).every((t) => t.escalatedAtMs !== undefined)) return undefined;
    const { newOnes } = e.counted(state);
    if (newOnes.length === 0) return undefined;
    const next = structuredClone(state);
    const { escalations, effects } = escalateContinuedOutflows(next, newOnes, config, nowMs);
    if (escalations.length === 0) return undefined;
    outcome.escalated = escalations.map((x) => x.trip);
    return { ...next, outbox: [...next.outbox, ...effects] };
  };
  return [evaluate, escalate];
}
