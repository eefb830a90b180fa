/**
 * The pure part of one poll, as `evaluateAndTransition` (use-cases/poll-chain.ts) does it without a
 * store: own transfers and outflows the operators reviewed at a reset do not count; the new batch
 * decides which windows are evaluated; breaches go through the state machine.
 */
import { applyBreaches, type Transition } from '../../functions/core/breaker.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import { evaluateRules } from '../../functions/core/evaluate.ts';
import type { OutflowRecord } from '../../functions/core/model.ts';
import type { BreakerState } from '../../functions/core/state.ts';

/** `ledger` is every outflow recorded so far, including `fresh`. */
export function pollStep(
  state: BreakerState,
  config: BreakerConfig,
  ledger: readonly OutflowRecord[],
  fresh: readonly OutflowRecord[],
  nowMs: number,
): Transition {
  const unchanged: Transition = { state, changed: false, trips: [], warned: [] };
  const countable = fresh.filter((r) => !r.own);
  if (countable.length === 0) return unchanged;
  const fromT = Math.min(...countable.map((r) => r.t));
  const toT = Math.max(...countable.map((r) => r.t));
  const freshIds = new Set(fresh.map((r) => r.id));
  const history = ledger.filter((r) => !r.own && r.block > (state.reviewedThrough[r.chain] ?? -1));
  const newIds = new Set(history.filter((r) => freshIds.has(r.id)).map((r) => r.id));
  if (newIds.size === 0) return unchanged;
  const breaches = evaluateRules(config.rules, history, { fromT, toT, newIds });
  return applyBreaches(state, breaches, { config, history, nowMs });
}

/** Feed batches one poll at a time; returns the final state. */
export function feed(
  state: BreakerState,
  config: BreakerConfig,
  batches: readonly (readonly OutflowRecord[])[],
  ledger: OutflowRecord[] = [],
): BreakerState {
  let s = state;
  let nowMs = s.updatedAtMs;
  for (const batch of batches) {
    ledger.push(...batch);
    nowMs += 1_000;
    s = pollStep(s, config, ledger, batch, nowMs).state;
  }
  return s;
}
