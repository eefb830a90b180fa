import { formatUnits, formatUsd } from '../core/amounts.ts';
import { haltedFor } from '../core/breaker.ts';
import type { BreakerConfig } from '../core/config/types.ts';
import { isBreakerError } from '../core/errors.ts';
import { windowTotalsAt } from '../core/evaluate.ts';
import { evaluatedThrough } from '../core/evaluation-progress.ts';
import type { OutflowRecord } from '../core/model.ts';
import { describeRule, formatMeasure, txLink } from '../core/pages/breach-pages.ts';
import type { BreakerStore, PagePublisher, StateMirror } from '../core/ports.ts';
import type { Rule } from '../core/rules/rule.ts';
import type { RuleUnit } from '../core/rules/rule-kind.ts';
import { ruleKindOf } from '../core/rules/rule-kinds.ts';
import { type AuditRecord, type BreakerState, isInitialised, type PendingReset, type TripInfo } from '../core/state.ts';
import type { Clock } from '../core/time.ts';
import { withTripRecords } from '../core/trips.ts';
import { manualTripUseCase } from '../core/use-cases/manual-trip.ts';
import type { OperatorOutcome } from '../core/use-cases/operator-transition.ts';
import { resetBreakerUseCase } from '../core/use-cases/reset-breaker.ts';
import {
  approveLooseningUseCase,
  approveResetUseCase,
  requestResetUseCase,
} from '../core/use-cases/two-person-reset.ts';

/**
 * What the ops console shows and does, independent of HTTP: the local runtime's console server, the
 * stack's console-api Lambda and the CLI all call this. Every action takes the operator identity the
 * caller's authoriser verified (IAM principal, STS caller, local OS user); it is never read from a body.
 */
export interface ConsoleDeps {
  config: BreakerConfig;
  store: BreakerStore;
  publisher: PagePublisher;
  clock: Clock;
  mirror?: StateMirror;
  /** Reads a chain's head for the health view; absent where the chains cannot be reached. */
  probeHead?: (chain: string) => Promise<number>;
  /** How long a head probe may take before the RPC is reported unreachable. @default 3000 */
  probeTimeoutMs?: number;
}

export interface TransactionView {
  id: string;
  chain: string;
  block: number;
  txHash: string;
  asset: string;
  amount: string;
  usd: string;
  from: string;
  to: string;
  /** Explorer URL, or null when the chain has no explorer configured. */
  link: string | null;
}

export interface TripView {
  tripId: string;
  scope: string;
  atMs: number;
  ruleId: string;
  ruleDescription: string;
  summary: string;
  value: string;
  limit: string;
  windowSeconds: number;
  windowEnd: number;
  manual: { actor: string; reason: string } | null;
  escalatedAtMs: number | null;
  transactions: TransactionView[];
  /** How many outflows the evidence names (transactions lists those still in the ledger). */
  transactionCount: number;
}

export interface ChainHealth {
  chain: string;
  /** The chain's kind (`evm`, `bitcoin`), or `not configured` for a chain in the state that the config no longer has. */
  kind: string;
  halted: boolean;
  lastBlock: number | null;
  lastBlockTime: number | null;
  cursorAgeSeconds: number | null;
  reviewedThrough: number | null;
  evaluatedThrough: number | null;
  confirmations: number;
  head: number | null;
  /** head − last processed block; confirmations of it are by design. */
  lagBlocks: number | null;
  rpc: { status: 'ok' | 'error' | 'not-probed'; latencyMs?: number; error?: string };
}

export interface ConsoleStatus {
  name: string;
  nowMs: number;
  /** False while no state item exists (never initialised, or deleted): halted, never armed. */
  initialised: boolean;
  armed: boolean;
  version: number;
  updatedAtMs: number;
  operator: string;
  operations: BreakerConfig['operations'];
  scopes: { scope: string; status: 'armed' | 'tripped'; haltedBy: string | null }[];
  trips: TripView[];
  pendingReset: (PendingReset & { expired: boolean }) | null;
  chains: ChainHealth[];
  pendingEffects: number;
}

export interface SeriesView {
  rule: string;
  description: string;
  unit: RuleUnit;
  /** Divide values by 10^scale for display (6 for micro-USD, the decimals for units). */
  scale: number;
  windowSeconds: number;
  limit: string;
  warnAt: string;
  limitText: string;
  shadow: boolean;
  /** [chain time, value counted now, value including reviewed outflows, limit when it moves] */
  points: [number, string, string, string?][];
  peakPercent: number;
}

export interface TotalsView {
  from: number;
  to: number;
  series: SeriesView[];
}

const MAX_SAMPLES = 400;
const EVEN_SAMPLES = 120;

export class OpsConsole {
  readonly config: BreakerConfig;
  readonly #deps: ConsoleDeps;

  constructor(deps: ConsoleDeps) {
    this.#deps = deps;
    this.config = deps.config;
  }

  async status(operator: string): Promise<ConsoleStatus> {
    const { config, store, clock } = this.#deps;
    // What halts is the state's trips plus every unreleased trip record (core/trips.ts).
    const [stored, records] = await Promise.all([store.getState(), store.unreleasedTrips()]);
    const state = withTripRecords(stored, records);
    const initialised = isInitialised(stored);
    const nowMs = clock.now();
    const [trips, chains] = await Promise.all([
      Promise.all(Object.values(state.tripped).map((t) => this.#tripView(t))),
      Promise.all([...config.chains.values()].map((c) => this.#chainHealth(c.id, state, nowMs))),
    ]);
    const scopes = ['global', ...[...config.chains.keys()].map((c) => `chain:${c}`)].map((scope) => {
      const trip = scope === 'global' ? state.tripped.global : haltedFor(state, scope.slice('chain:'.length));
      const halted = trip !== undefined || !initialised;
      return {
        scope,
        status: halted ? ('tripped' as const) : ('armed' as const),
        haltedBy: trip?.tripId ?? (initialised ? null : 'not-initialised'),
      };
    });
    return {
      name: config.name,
      nowMs,
      initialised,
      armed: initialised && Object.keys(state.tripped).length === 0,
      version: state.version,
      updatedAtMs: state.updatedAtMs,
      operator,
      operations: config.operations,
      scopes,
      trips,
      pendingReset: state.pendingReset
        ? { ...state.pendingReset, expired: nowMs > state.pendingReset.expiresAtMs }
        : null,
      chains,
      pendingEffects: state.outbox.length,
    };
  }

  history(limit: number): Promise<AuditRecord[]> {
    return this.#deps.store.listAudit(Math.max(1, Math.min(limit, 500)));
  }

  /**
   * Every windowed rule's total over time, against its limit: windowTotalsAt over the recorded
   * outflows at evenly spaced times plus just before and at each outflow (where totals step up).
   * Two values per point: what the rules count now (outflows reviewed at a reset excluded) and
   * everything recorded.
   */
  async totals(spanSeconds?: number): Promise<TotalsView> {
    const { config, store, clock } = this.#deps;
    const rules = config.rules.filter((r) => r.windowSeconds > 0);
    const to = Math.floor(clock.now() / 1000);
    const longest = Math.max(60, ...rules.filter((r) => r.measure.kind !== 'profile-usd').map((r) => r.windowSeconds));
    const span = Math.max(60, Math.min(spanSeconds ?? Math.min(longest, 86_400), 7 * 86_400));
    const from = to - span;
    const state = await store.getState();
    const stored = (
      await Promise.all([...config.chains.keys()].map((c) => store.outflowsSince(c, from - config.maxWindowSeconds)))
    ).flat();
    const all = stored.filter((r) => !r.own);
    const counted = all.filter((r) => r.block > (state.reviewedThrough[r.chain] ?? -1));
    const times = sampleTimes(from, to, all);
    const series = rules.map((rule) => ({ rule, points: [] as SeriesView['points'], peak: 0 }));
    for (const t of times) {
      const now = windowTotalsAt(rules, counted, t);
      const ever = windowTotalsAt(rules, all, t);
      for (const s of series) {
        const c = now.find((x) => x.rule === s.rule);
        const e = ever.find((x) => x.rule === s.rule);
        const value = c?.value ?? 0n;
        const limit = c?.limit ?? e?.limit;
        const point: SeriesView['points'][number] = [t, value.toString(), (e?.value ?? 0n).toString()];
        if (limit !== undefined) point.push(limit.toString());
        s.points.push(point);
        s.peak = Math.max(s.peak, percentOf(value, limit ?? s.rule.limit, s.rule));
      }
    }
    return {
      from,
      to,
      series: series
        .map(({ rule, points, peak }) => ({ ...ruleView(rule), points, peakPercent: Math.round(peak * 10) / 10 }))
        .sort((a, b) => b.peakPercent - a.peakPercent),
    };
  }

  reset(
    operator: string,
    body: { reason: string; scope?: string; reviewedTripIds?: string[] },
  ): Promise<OperatorOutcome> {
    const deps = this.#deps;
    return resetBreakerUseCase(deps, { ...body, actor: operator }).then(
      (state) => ({ state }),
      (e: unknown) => {
        // The reset committed but a page or the mirror failed: the outbox retries it.
        if (!isBreakerError(e, 'PUBLISH_FAILED')) throw e;
        return deps.store.getState().then((state) => ({ state, undelivered: e.message }));
      },
    );
  }

  requestReset(operator: string, body: { reason: string; scope?: string }): Promise<OperatorOutcome> {
    return requestResetUseCase(this.#deps, { ...body, actor: operator });
  }

  approveReset(operator: string, body: { requestId: string }): Promise<OperatorOutcome> {
    return approveResetUseCase(this.#deps, { ...body, actor: operator });
  }

  /** Approve the loosened config waiting its delay (two different people end the wait: core/config-approval.ts). */
  approveConfig(operator: string, body: { digest: string }): Promise<OperatorOutcome> {
    return approveLooseningUseCase(this.#deps, { ...body, actor: operator });
  }

  trip(operator: string, body: { reason: string; scope: string }): Promise<OperatorOutcome> {
    return manualTripUseCase(this.#deps, { ...body, actor: operator });
  }

  async #tripView(trip: TripInfo): Promise<TripView> {
    const { config, store } = this.#deps;
    const rule = config.rules.find((r) => r.id === trip.ruleId);
    const ev = trip.evidence;
    let transactions: TransactionView[] = [];
    if (ev.outflowIds.length > 0) {
      const wanted = new Set(ev.outflowIds);
      const chains = new Set(ev.outflowIds.map((id) => id.slice(0, id.indexOf(':'))));
      const since = ev.windowEnd - Math.max(ev.windowSeconds, 0);
      const found = (
        await Promise.all([...chains].filter((c) => config.chains.has(c)).map((c) => store.outflowsSince(c, since)))
      )
        .flat()
        .filter((r) => wanted.has(r.id));
      const order = new Map(ev.outflowIds.map((id, i) => [id, i]));
      found.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
      transactions = found.map((r) => this.#transactionView(r));
    }
    const format = (v: string) => (rule ? formatMeasure(rule, BigInt(v)) : v);
    return {
      tripId: trip.tripId,
      scope: trip.scope.kind === 'global' ? 'global' : `chain:${trip.scope.chain}`,
      atMs: trip.atMs,
      ruleId: trip.ruleId,
      ruleDescription: rule ? describeRule(rule) : trip.manual ? 'halted by an operator' : trip.ruleId,
      summary: ev.summary,
      value: trip.manual ? '' : format(ev.value),
      limit: trip.manual ? '' : format(ev.limit),
      windowSeconds: ev.windowSeconds,
      windowEnd: ev.windowEnd,
      manual: trip.manual ?? null,
      escalatedAtMs: trip.escalatedAtMs ?? null,
      transactions,
      transactionCount: ev.outflowIds.length,
    };
  }

  #transactionView(r: OutflowRecord): TransactionView {
    const link = txLink(this.config, r);
    return {
      id: r.id,
      chain: r.chain,
      block: r.block,
      txHash: r.txHash,
      asset: r.known ? r.asset : `UNKNOWN ${r.contract ?? ''}`.trim(),
      amount: r.decimals === null ? `${r.amount} base units` : formatUnits(r.amount, r.decimals),
      usd: formatUsd(r.usdMicros),
      from: r.from,
      to: r.to,
      link: /^https?:\/\//.test(link) ? link : null,
    };
  }

  async #chainHealth(chain: string, state: BreakerState, nowMs: number): Promise<ChainHealth> {
    const cfg = this.config.chains.get(chain);
    const [cursor, progress] = await Promise.all([
      this.#deps.store.getCursor(chain),
      this.#deps.store.getProgress(chain),
    ]);
    const lastBlock = cursor && cursor.lastBlock >= 0 ? cursor.lastBlock : null;
    const health: ChainHealth = {
      chain,
      kind: cfg?.kind.id ?? 'not configured',
      halted: haltedFor(state, chain) !== undefined,
      lastBlock,
      lastBlockTime: cursor?.recent.at(-1)?.t ?? null,
      cursorAgeSeconds: cursor ? Math.round((nowMs - cursor.updatedAtMs) / 1000) : null,
      reviewedThrough: state.reviewedThrough[chain] ?? null,
      evaluatedThrough: evaluatedThrough(state, new Map(progress ? [[chain, progress]] : []))[chain]?.block ?? null,
      confirmations: cfg?.confirmations ?? 0,
      head: null,
      lagBlocks: null,
      rpc: { status: 'not-probed' },
    };
    const probe = this.#deps.probeHead;
    if (!probe) return health;
    const started = Date.now();
    try {
      const head = await withTimeout(probe(chain), this.#deps.probeTimeoutMs ?? 3000);
      health.head = head;
      health.lagBlocks = lastBlock === null ? null : Math.max(0, head - lastBlock);
      health.rpc = { status: 'ok', latencyMs: Date.now() - started };
    } catch (e) {
      health.rpc = { status: 'error', latencyMs: Date.now() - started, error: (e as Error).message.slice(0, 300) };
    }
    return health;
  }
}

function ruleView(rule: Rule): Omit<SeriesView, 'points' | 'peakPercent'> {
  const m = rule.measure;
  const kind = ruleKindOf(rule);
  const unit: SeriesView['unit'] = kind.unit(rule);
  const scale = m.kind === 'units' ? m.decimals : unit === 'usd' ? 6 : unit === 'ppm' ? 4 : 0;
  return {
    rule: rule.id,
    description: describeRule(rule),
    unit,
    scale,
    windowSeconds: rule.windowSeconds,
    limit: kind.shownLevel(rule.limit).toString(),
    warnAt: kind.shownLevel(rule.warnAt).toString(),
    limitText: `${m.kind === 'distinct-assets' ? 'trips at' : 'limit'} ${formatMeasure(rule, kind.shownLevel(rule.limit))}`,
    shadow: rule.shadow === true,
  };
}

function percentOf(value: bigint, limit: bigint, rule: Rule): number {
  const level = ruleKindOf(rule).shownLevel(limit);
  return level <= 0n ? 0 : Number((value * 10_000n) / level) / 100;
}

/** Evenly spaced times plus, for each outflow in the span, the second before it and its own second. */
export function sampleTimes(from: number, to: number, outflows: readonly OutflowRecord[]): number[] {
  const times = new Set<number>();
  const step = Math.max(1, Math.floor((to - from) / EVEN_SAMPLES));
  for (let t = from; t < to; t += step) times.add(t);
  times.add(to);
  const steps = [...new Set(outflows.map((r) => r.t))].filter((t) => t > from && t <= to).sort((a, b) => b - a);
  for (const t of steps) {
    if (times.size >= MAX_SAMPLES) break;
    times.add(t - 1);
    times.add(t);
  }
  return [...times].sort((a, b) => a - b);
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
