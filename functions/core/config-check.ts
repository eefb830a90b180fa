/**
 * The per-poll config check (core/config-record.ts explains why). `recordConfigCheck` is a pure
 * decide step in the shape the poll's per-poll checks take: it never bumps the version itself.
 */
import type { BreakerConfig } from './config/types.ts';
import { renderConfigPage } from './config-pages.ts';
import { loosenings, summariseConfig } from './config-record.ts';
import { previousValuation } from './config-valuations.ts';
import type { OutflowRecord } from './model.ts';
import type { Rule } from './rules/rule.ts';
import { decodeRule, definitionLoosenings } from './rules/rule-definition.ts';
import type { AuditRecord, BreakerState, ConfigSummary, PendingEffect } from './state.ts';
import type { PollCheck } from './use-cases/poll-decision.ts';

/** The check as the poll runs it (wired for every runtime in functions/runtime/compose.ts). */
export function configPollCheck(config: BreakerConfig, digest: string): PollCheck {
  const step = recordConfigCheck(config, digest);
  return async () => step;
}

/** `digest`: of canonicalConfig(config), computed once at cold start (functions/runtime/config-digest.ts). */
export function recordConfigCheck(
  config: BreakerConfig,
  digest: string,
): (state: BreakerState, nowMs: number) => BreakerState | undefined {
  const summary = summariseConfig(config);
  return (state, nowMs) => {
    const recorded = state.config;
    if (recorded?.digest === digest) {
      // Recorded by a build that kept only limits: the same config, summarised in full once, so the next
      // change is compared on rule definitions and valuations too.
      if (!recorded.pending && recorded.summary.valuations === undefined) {
        const record = audit(`config-summary-${nowMs}`, nowMs, 'config-summary-upgraded', { digest });
        return withEffects({ ...state, config: { ...recorded, summary } }, [{ kind: 'audit', id: record.id, record }]);
      }
      if (!recorded.pending || nowMs < recorded.pending.effectiveAtMs) return undefined;
      const { pending: _done, ...rest } = recorded;
      const record = audit(`config-effective-${nowMs}`, nowMs, 'config-loosening-effective', {
        digest,
        loosened: recorded.pending.loosened,
      });
      return withEffects({ ...state, config: rest }, [{ kind: 'audit', id: record.id, record }]);
    }
    if (!recorded) {
      const record = audit(`config-recorded-${nowMs}`, nowMs, 'config-recorded', { digest });
      return withEffects({ ...state, config: { digest, recordedAtMs: nowMs, summary } }, [
        { kind: 'audit', id: record.id, record },
      ]);
    }
    // Compare with what is enforced now: an earlier loosening still waiting counts as not in effect.
    const enforced = recorded.pending?.previous ?? recorded.summary;
    const loosened = loosenings(enforced, summary);
    // The delay the stricter config set: a change cannot shorten its own wait.
    const delayS = Math.max(enforced.operations.loosenDelaySeconds ?? 0, summary.operations.loosenDelaySeconds ?? 0);
    const effectiveAtMs = loosened.length > 0 ? nowMs + delayS * 1000 : undefined;
    const id = `config-${nowMs}`;
    const change = { from: recorded.digest, to: digest, loosened, ...(effectiveAtMs ? { effectiveAtMs } : {}) };
    const record = audit(id, nowMs, 'config-changed', change);
    const page = renderConfigPage(id, config.name, change);
    return withEffects(
      {
        ...state,
        config: {
          digest,
          recordedAtMs: nowMs,
          summary,
          ...(effectiveAtMs ? { pending: { effectiveAtMs, previous: enforced, loosened } } : {}),
        },
      },
      [
        { kind: 'audit', id: record.id, record },
        { kind: 'page', id: page.id, page },
      ],
    );
  };
}

/**
 * The rules the poll must enforce: while a loosening waits, each rule at the stricter of its new and
 * previous limit, and not in shadow unless it was already.
 */
export function strictestRules(config: BreakerConfig, state: BreakerState, nowMs: number): Rule[] {
  const pending = state.config?.pending;
  if (!pending || nowMs >= pending.effectiveAtMs) return config.rules;
  return config.rules.map((rule) => stricterRule(rule, pending.previous));
}

/**
 * Whether an outflow went to one of our own addresses, as the poll must count it: while a loosening
 * waits, an own address the change added is still an outside destination (a redeploy that declares the
 * thief's address "own" must not stop the drain from counting until the delay has passed). Pending is
 * cleared by the first poll after the delay, so at worst this stays strict one poll longer.
 */
export function countsAsOwn(state: BreakerState): (record: OutflowRecord) => boolean {
  const pending = state.config?.pending;
  if (!pending) return (r) => r.own;
  const before = pending.previous.ownAddresses;
  return (r) => r.own && (before[r.chain] ?? []).includes(r.to);
}

/**
 * How the poll must value an outflow: while a loosening waits, at the higher of its recorded value and
 * the previous config's valuation (core/config-valuations.ts), so a lowered price or a swapped feed
 * does not count for less until the delay has passed.
 */
export function countedValue(config: BreakerConfig, state: BreakerState): (record: OutflowRecord) => OutflowRecord {
  const pending = state.config?.pending;
  if (!pending) return (r) => r;
  return previousValuation(pending.previous, summariseConfig(config));
}

/**
 * The rule at the stricter of its new and previous form: a definition that got looser (window, halt
 * scope, a pattern's parameters) is replaced by the previous one; then the lower limit and shadow only
 * where both had it.
 */
function stricterRule(current: Rule, previous: ConfigSummary): Rule {
  const before = previous.rules[current.id];
  if (!before) return current;
  const earlier = before.definition ? decodeRule(before.definition) : undefined;
  const rule =
    earlier && definitionLoosenings(earlier, current).length > 0
      ? { ...earlier, limit: current.limit, warnAt: current.warnAt, shadow: current.shadow }
      : current;
  const old = BigInt(before.limit);
  if (old >= rule.limit && (before.shadow || !rule.shadow)) return rule;
  const limit = old < rule.limit ? old : rule.limit;
  // The warn level scales with the limit it belongs to.
  const warnAt = rule.limit === 0n ? rule.warnAt : (rule.warnAt * limit + rule.limit - 1n) / rule.limit;
  return { ...rule, limit, warnAt, shadow: rule.shadow === true && before.shadow };
}

function audit(id: string, atMs: number, action: string, details: Record<string, unknown>): AuditRecord {
  return { id: `audit-${id}`, atMs, action, actor: 'breaker', details };
}

function withEffects(state: BreakerState, effects: PendingEffect[]): BreakerState {
  return { ...state, outbox: [...state.outbox, ...effects] };
}
