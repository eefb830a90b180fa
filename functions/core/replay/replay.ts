import { parseUnits, valueInMicros } from '../amounts.ts';
import type { ChainKind } from '../chain-kind.ts';
import { classifyTransfers } from '../classify.ts';
import type { AssetConfig, BreakerConfig, ChainConfig } from '../config/types.ts';
import { evaluateRules, measureOf, ruleApplies } from '../evaluate.ts';
import { type ChainTransfer, type OutflowRecord, outflowId, scopeKey } from '../model.ts';
import type { BreakerStore, PagePublisher } from '../ports.ts';
import { discoversOn } from '../prices/discovery.ts';
import { staticValuation, type Valuation } from '../prices/price-source.ts';
import { needsApproval } from '../reconciliation/reconcile.ts';
import type { AffectedSpan, Breach, OutflowMarks } from '../rules/breach.ts';
import { IncrementalEvaluator } from '../rules/incremental.ts';
import { isPatternRule } from '../rules/patterns.ts';
import type { Rule } from '../rules/rule.ts';
import { ruleKindOf } from '../rules/rule-kinds.ts';
import type { Page } from '../state.ts';
import { commitState } from '../use-cases/commit-transition.ts';
import { initialiseOnFirstRun } from '../use-cases/initialise-breaker.ts';
import { flushOutbox } from '../use-cases/outbox.ts';
import { combineSteps, emptyOutcome, evaluationSteps } from '../use-cases/poll-decision.ts';
import { symbolsOf, unitsRoundedUp, unknownContract } from './assets.ts';
import { ReplayBalances } from './balances.ts';
import type { Scenario, ScenarioEvent } from './scenario.ts';
import { type Fate, haltStops, haltTime, type ReplayScore, roundSeconds, scoreReplay } from './score.ts';
import { applyWatermarkSignal, watermarkSignals } from './watermark-signals.ts';

/**
 * Replay a scenario through the breaker's real accounting and rules on a simulated clock, then
 * score it (../shared/scenarios/FORMAT.md).
 *
 * Each event is observed as its chain's poller would observe it: at t + confirmations × block time
 * + poll interval of that chain in the config. Events observed at the same moment on the same chain
 * form one poll: classified and valued (scenario prices and `usd` override static prices), recorded
 * in the store, evaluated, and decided and committed by the production poll's decision steps
 * (use-cases/poll-decision.ts: trips, warnings, shadow trips, escalation) through the production
 * commit (commitState), whose outbox carries the pages and audit records out.
 *
 * What it leaves out of a production poll, and why: the incremental evaluator replaces re-reading
 * the ledger; no `reviewedThrough` filter and no `evaluatedThrough` (a replay has no resets and no
 * block numbers); no cursor, lease or reorg (observations are given, not read); no price alarm
 * (scenario prices are given) and no per-poll checks but the nonce watermark (watermark-signals.ts);
 * the kill-switch mirror is not driven.
 *
 * Once a scope is halted, an event through the exchange's signer observed after the halt in that
 * scope was never signed: it is prevented and never reaches the chain, so the breaker does not see
 * it. An event signed with stolen keys (score.ts) goes out whatever the breaker does, and is observed.
 * Events on chains the config does not watch (or from wallets it does not watch) are not observed; with `observeAllChains`,
 * events on unwatched chains are observed 60 s after t and count toward global USD rules only.
 *
 * The breaker never reads `label`: only `score` does.
 */

export const DEFAULT_START_UNIX = 1_735_689_600; // 2025-01-01T00:00:00Z, hour-aligned
export const UNWATCHED_DELAY_SECONDS = 60;

export interface ReplayOptions {
  /** Observe events on chains the config does not watch (60 s after t, global USD rules only). */
  observeAllChains?: boolean;
  /** 'batch' evaluates with evaluateRules over the ledger on every poll (slow; a cross-check). */
  evaluator?: 'incremental' | 'batch';
  /** Unix seconds that the scenario's t = 0 maps to. */
  startUnix?: number;
  /** Called every few thousand events and at the end. */
  onProgress?: (processed: number, total: number) => void;
}

export interface ReplayDeps {
  store: BreakerStore;
  /** Pages are collected in the result; also forwarded here when given. */
  publisher?: PagePublisher;
}

export type { ReplayScore } from './score.ts';

export interface RulePeak {
  rule: Rule;
  /** Highest measure / trip level over the replay (0 when the rule saw nothing). */
  ratio: number;
  value: bigint;
  /** The trip level in force at the peak (a wallet profile's moves). */
  limit: bigint;
  /** Scenario seconds of the window end (chain time) at the peak; null when no window was measured. */
  atS: number | null;
}

export interface ReplayResult {
  score: ReplayScore;
  trips: { atS: number; ruleId: string; scope: string; tripId: string }[];
  shadowTrips: { atS: number; ruleId: string; wouldHalt: string }[];
  warnings: { atS: number; ruleId: string }[];
  pages: Page[];
  counts: { observed: number; prevented: number; unobserved: number; inflows: number; unapprovedObserved: number };
  /** What the balance tracking noticed (balances.ts): outflows beyond the balance left, assets without one. */
  balanceNotes: string[];
  peaks: RulePeak[];
  chart: ReplayChart;
  evaluator: IncrementalEvaluator;
  startUnix: number;
}

export interface ReplayChart {
  intervalS: number;
  /** Per charted rule, the highest measure / limit in each interval. */
  series: { ruleId: string; ratios: number[] }[];
  warnRatio: number;
  trips: { atS: number; ruleId: string }[];
}

interface Observation {
  event: ScenarioEvent;
  chain: ChainConfig | undefined;
  chainId: string;
  obsT: number;
  from: string;
  block: number;
}

export async function replayScenario(
  config: BreakerConfig,
  scenario: Scenario,
  deps: ReplayDeps,
  options: ReplayOptions = {},
): Promise<ReplayResult> {
  const start = options.startUnix ?? DEFAULT_START_UNIX;
  const { plan, fate } = planObservations(config, scenario, options.observeAllChains ?? false);
  const pages: Page[] = [];
  const publisher: PagePublisher = {
    publish: async (page) => {
      pages.push(page);
      await deps.publisher?.publish(page);
    },
  };
  const store = deps.store;
  // A scenario starts from an armed breaker, created the one audited way (an absent state is halted).
  await initialiseOnFirstRun(
    { store, publisher, clock: { now: () => start * 1000 } },
    { actor: 'replay', reason: 'a replay starts from an armed breaker' },
  );
  const evaluator = new IncrementalEvaluator(config.rules);
  const trips: ReplayResult['trips'] = [];
  const shadowTrips: ReplayResult['shadowTrips'] = [];
  const warnings: ReplayResult['warnings'] = [];
  const valuation = scenarioValuation(scenario);
  const balances = new ReplayBalances(config, scenario);
  let escalationPossible = Object.values((await store.getState()).tripped).some((t) => t.escalatedAtMs === undefined);
  let processed = 0;
  let nextProgress = 0;
  // The nonce watermark sees a stolen-key transaction apart from the outflow polls (watermark-signals.ts).
  const signals = watermarkSignals(config, plan);
  const signalsUntil = async (s: number) => {
    while (signals.length > 0 && (signals[0] as { atS: number }).atS <= s) {
      const signal = signals.shift() as (typeof signals)[number];
      for (const trip of await applyWatermarkSignal(
        { config, store, publisher },
        signal,
        Math.round((start + signal.atS) * 1000),
      ))
        trips.push({ atS: signal.atS, ...trip });
    }
  };

  for (let i = 0; i < plan.length; ) {
    const first = plan[i] as Observation;
    await signalsUntil(first.obsT);
    let j = i + 1;
    while (
      j < plan.length &&
      (plan[j] as Observation).obsT === first.obsT &&
      (plan[j] as Observation).chainId === first.chainId
    )
      j++;
    const poll = plan.slice(i, j);
    i = j;
    processed += poll.length;
    if (options.onProgress && processed >= nextProgress) {
      options.onProgress(processed, plan.length);
      nextProgress = processed + 2_000;
    }

    const nowS = first.obsT;
    const haltedAt = haltTime(trips, first.chainId);
    const signed = poll.filter((o) => {
      const prevented = haltedAt !== undefined && haltedAt < nowS && haltStops(o.event);
      fate[o.event.index] = prevented ? 'prevented' : 'observed';
      return !prevented;
    });
    if (signed.length === 0) continue;

    const records = recordsOf(config, first, signed, start, valuation, scenario.prices);
    if (first.chain) {
      records.forEach((r, k) => {
        balances.sent(r, (signed[k] as Observation).event);
      });
    }
    await store.recordOutflows(records);
    const countable = records.filter((r) => !r.own);
    if (countable.length === 0) continue;
    evaluator.add(countable);
    let fromT = Number.POSITIVE_INFINITY;
    let toT = Number.NEGATIVE_INFINITY;
    for (const r of countable) {
      if (r.t < fromT) fromT = r.t;
      if (r.t > toT) toT = r.t;
    }
    const span: AffectedSpan = { fromT, toT, newIds: new Set(countable.map((r) => r.id)) };
    const since = fromT - config.maxWindowSeconds;
    const breaches: Breach[] =
      options.evaluator === 'batch'
        ? evaluateRules(config.rules, evaluator.recordsSince(since), span)
        : evaluator.evaluate(span);
    // The steps below would find nothing to decide: no breach, and no trip whose scope could escalate.
    if (breaches.length === 0 && !escalationPossible) continue;

    let history: OutflowRecord[] | undefined;
    const outcome = emptyOutcome();
    const steps = evaluationSteps(
      {
        config,
        // Only pages read the history, and only breaches render pages.
        counted: () => {
          if (breaches.length > 0) history ??= evaluator.recordsSince(since);
          return { history: history ?? [], newOnes: countable };
        },
        breaches: () => breaches,
      },
      outcome,
    );
    const nowMs = Math.round((start + nowS) * 1000);
    const decided = await commitState({ store, publisher, clock: { now: () => nowMs } }, combineSteps(steps));
    if (!decided.changed) continue;
    escalationPossible = Object.values(decided.state.tripped).some((t) => t.escalatedAtMs === undefined);
    for (const trip of outcome.trips)
      trips.push({ atS: nowS, ruleId: trip.ruleId, scope: scopeKey(trip.scope), tripId: trip.tripId });
    for (const b of outcome.shadowed)
      shadowTrips.push({ atS: nowS, ruleId: b.rule.id, wouldHalt: scopeKey(b.rule.halt) });
    for (const b of outcome.warned) warnings.push({ atS: nowS, ruleId: b.rule.id });
    await flushOutbox({ store, publisher }, decided.state);
  }
  await signalsUntil(Number.POSITIVE_INFINITY);
  options.onProgress?.(plan.length, plan.length);

  const score = scoreReplay(scenario, fate, trips, (e) => scoreMicros(config, e, scenario.prices));
  const observedEvents = scenario.events.filter((e) => fate[e.index] === 'observed');
  return {
    score,
    trips,
    shadowTrips,
    warnings,
    pages,
    counts: {
      observed: observedEvents.length,
      prevented: fate.filter((f) => f === 'prevented').length,
      unobserved: fate.filter((f) => f === 'unobserved').length,
      inflows: fate.filter((f) => f === 'inflow').length,
      unapprovedObserved: observedEvents.filter((e) => !e.approved).length,
    },
    peaks: peaksOf(config, evaluator, start),
    chart: chartOf(
      config,
      evaluator,
      start,
      Math.max(0, ...plan.map((o) => o.obsT), ...scenario.events.map((e) => e.t)),
      trips,
    ),
    evaluator,
    startUnix: start,
    balanceNotes: balances.notes,
  };
}

/** When each event is observed, on which chain and from which wallet; the rest stay unobserved. */
function planObservations(
  config: BreakerConfig,
  scenario: Scenario,
  observeAllChains: boolean,
): { plan: Observation[]; fate: Fate[] } {
  const fate: Fate[] = scenario.events.map((e) => (e.direction === 'in' ? 'inflow' : 'unobserved'));
  const plan: Observation[] = [];
  for (const event of scenario.events) {
    if (event.direction === 'in') continue; // inflows only move balances (balances.ts)
    const chain = config.chains.get(event.chain);
    if (chain) {
      const from =
        event.from === undefined ? (chain.hotWallets[0] as string) : chain.kind.address.normalise(event.from);
      if (!chain.hotWallets.includes(from)) continue; // the poller watches hot wallets only
      const delay = chain.confirmations * chain.blockTimeSeconds + chain.pollIntervalSeconds;
      plan.push({ event, chain, chainId: chain.id, obsT: event.t + delay, from, block: 0 });
    } else if (observeAllChains) {
      plan.push({
        event,
        chain: undefined,
        chainId: event.chain,
        obsT: event.t + UNWATCHED_DELAY_SECONDS,
        from: event.from ?? `hot-wallet:${event.chain}`,
        block: 0,
      });
    }
  }
  // Each event is its own block, numbered in time order per chain (window times stay monotone).
  const byChain = new Map<string, Observation[]>();
  for (const o of plan) {
    const list = byChain.get(o.chainId);
    if (list) list.push(o);
    else byChain.set(o.chainId, [o]);
  }
  for (const list of byChain.values()) {
    list.sort((a, b) => a.event.t - b.event.t || a.event.index - b.event.index);
    list.forEach((o, n) => {
      o.block = n + 1;
    });
  }
  plan.sort(
    (a, b) => a.obsT - b.obsT || (a.chainId < b.chainId ? -1 : a.chainId > b.chainId ? 1 : 0) || a.block - b.block,
  );
  return { plan, fate };
}

function scenarioValuation(scenario: Scenario): Valuation & { events: Map<number, ScenarioEvent> } {
  const events = new Map<number, ScenarioEvent>();
  return {
    events,
    value(asset, transfer) {
      const event = transfer.index === null ? undefined : events.get(transfer.index);
      if (event?.usdMicros !== undefined) return { usdMicros: event.usdMicros, priceSource: 'scenario' };
      const price = scenario.prices.get(asset.symbol);
      if (price !== undefined)
        return { usdMicros: valueInMicros(transfer.amount, asset.decimals, price), priceSource: 'scenario' };
      return staticValuation.value(asset, transfer);
    },
  };
}

/** One poll's outflow records, through the production classifier for watched chains. */
function recordsOf(
  config: BreakerConfig,
  first: Observation,
  poll: readonly Observation[],
  start: number,
  valuation: ReturnType<typeof scenarioValuation>,
  prices: ReadonlyMap<string, bigint>,
): (OutflowRecord & OutflowMarks)[] {
  const chain = first.chain;
  if (!chain) return poll.map((o) => unwatchedRecord(config, o, start, prices));
  const symbols = symbolsOf(chain);
  const times = new Map<number, number>();
  const transfers: ChainTransfer[] = poll.map((o) => {
    const e = o.event;
    valuation.events.set(e.index, e);
    const asset = symbols.get(e.asset);
    times.set(o.block, start + e.t);
    return {
      chain: chain.id,
      block: o.block,
      blockHash: syntheticHash(chain.kind, `block:${chain.id}`, o.block),
      blockTime: start + e.t,
      txHash: e.tx ?? syntheticHash(chain.kind, 'replay-tx', e.index + 1),
      index: e.index,
      contract: asset ? asset.contract : unknownContract(e.asset),
      from: o.from,
      to: e.to ?? `unknown-destination-${e.index}`,
      amount: amountOf(e, asset, prices),
    };
  });
  const records: (OutflowRecord & OutflowMarks)[] = classifyTransfers(
    config,
    chain,
    transfers,
    (n) => times.get(n) as number,
    valuation,
  );
  const reconciliation = config.reconciliation;
  poll.forEach((o, k) => {
    valuation.events.delete(o.event.index);
    const record = records[k] as OutflowRecord & OutflowMarks;
    if (o.event.aggregate) record.aggregate = true;
    // With on-chain discovery on for the chain, an unlisted token's `usd` is what discovery would have said.
    if (!record.known && o.event.usdMicros !== undefined && discoversOn(config.priceDiscovery, chain.id)) {
      record.usdMicros = o.event.usdMicros;
      record.priceSource = 'scenario';
    }
    // The scenario says whether the signer approved the withdrawal: reconciliation's verdict, given.
    if (reconciliation?.enabled && !o.event.approved && needsApproval(reconciliation, record)) {
      record.unapproved = { reason: 'the scenario records no approved withdrawal for this outflow' };
    }
  });
  return records;
}

/**
 * An event on a chain the config does not watch, observed under --observe-all-chains: valued by the
 * scenario (else as an unknown asset) and marked to count toward global USD rules only.
 */
function unwatchedRecord(
  config: BreakerConfig,
  o: Observation,
  start: number,
  prices: ReadonlyMap<string, bigint>,
): OutflowRecord & OutflowMarks {
  const e = o.event;
  // The chain is not configured: write hashes the way of the configured kind whose addresses these look like.
  const address = e.to ?? o.from;
  const kind = [...config.chains.values()].map((c) => c.kind).find((k) => k.address.problem(address) === undefined);
  const txHash = e.tx ?? syntheticHash(kind, 'replay-tx', e.index + 1);
  const usd = scenarioUsdOf(e, prices);
  return {
    chain: e.chain,
    block: o.block,
    blockHash: syntheticHash(kind, `block:${e.chain}`, o.block),
    blockTime: start + e.t,
    txHash,
    index: e.index,
    contract: null,
    from: o.from,
    to: e.to ?? `unknown-destination-${e.index}`,
    amount: e.amount === undefined ? 0n : unitsRoundedUp(e.amount, 18),
    id: outflowId(e.chain, txHash, e.index),
    t: start + e.t,
    asset: e.asset,
    decimals: 18,
    known: false,
    own: false,
    usdMicros: usd ?? config.unknownAssetUsdMicros,
    priceSource: usd === undefined ? 'unknown-asset' : 'scenario',
    usdOnly: true,
    ...(e.aggregate ? { aggregate: true } : {}),
  };
}

/**
 * Base units of an event's amount: whole units at the asset's decimals, rounded up (never
 * undervalue); from `usd` at the scenario (else static) price when only usd is given.
 */
function amountOf(e: ScenarioEvent, asset: AssetConfig | undefined, prices: ReadonlyMap<string, bigint>): bigint {
  const decimals = asset?.decimals ?? 18;
  if (e.amount !== undefined) return unitsRoundedUp(e.amount, decimals);
  const price = asset ? (prices.get(asset.symbol) ?? asset.priceMicros) : 0n;
  if (price === 0n || e.usdMicros === undefined) return 0n;
  const scale = 10n ** BigInt(decimals);
  return (e.usdMicros * scale + price - 1n) / price;
}

/** The event's USD by the scenario alone: `usd`, else amount × the scenario price; undefined if neither. */
function scenarioUsdOf(e: ScenarioEvent, prices: ReadonlyMap<string, bigint>): bigint | undefined {
  if (e.usdMicros !== undefined) return e.usdMicros;
  const price = prices.get(e.asset);
  if (price === undefined || e.amount === undefined) return undefined;
  const decimals = e.amount.split('.')[1]?.length ?? 0;
  return valueInMicros(parseUnits(e.amount, decimals), decimals, price);
}

/** A deterministic, unique 32-byte hex id written the kind's way (plain hex without one): a tag, then the number. */
function syntheticHash(kind: ChainKind | undefined, tag: string, n: number): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < tag.length; i++) h = Math.imul(h ^ tag.charCodeAt(i), 0x01000193) >>> 0;
  const hex = `${h.toString(16).padStart(8, '0')}${n.toString(16).padStart(56, '0')}`;
  return kind ? kind.hashFromHex(hex) : hex;
}

/** The scenario's USD for scoring: its own figures, else what the breaker would value the event at. */
function scoreMicros(config: BreakerConfig, e: ScenarioEvent, prices: ReadonlyMap<string, bigint>): bigint {
  const own = scenarioUsdOf(e, prices);
  if (own !== undefined) return own;
  const chain = config.chains.get(e.chain);
  const asset = chain && symbolsOf(chain).get(e.asset);
  if (!asset || e.amount === undefined) return config.unknownAssetUsdMicros;
  return valueInMicros(unitsRoundedUp(e.amount, asset.decimals), asset.decimals, asset.priceMicros);
}

/** The trip level a measure is compared with, as people read it (distinct assets trip at limit + 1 assets). */
function tripLevel(rule: Rule, limit: bigint): bigint {
  return ruleKindOf(rule).shownLevel(limit);
}

function ratioOf(value: bigint, level: bigint): number {
  // For reports and charts only (never for decisions): a float ratio is precise enough.
  return level <= 0n ? (value > 0n ? Number.POSITIVE_INFINITY : 0) : Number(value) / Number(level);
}

/** Each rule's highest measure against its trip level over the whole replay: the headroom to tune. */
function peaksOf(config: BreakerConfig, evaluator: IncrementalEvaluator, start: number): RulePeak[] {
  const all = evaluator.recordsSince(Number.NEGATIVE_INFINITY);
  return config.rules.map((rule) => {
    const peak: RulePeak = { rule, ratio: 0, value: 0n, limit: tripLevel(rule, rule.limit), atS: null };
    if (rule.windowSeconds === 0 && !isPatternRule(rule)) {
      for (const r of all) {
        if (!ruleApplies(rule, r)) continue;
        const value = measureOf(rule, r);
        const ratio = ratioOf(value, rule.limit);
        if (ratio > peak.ratio || peak.atS === null)
          Object.assign(peak, { ratio, value, atS: roundSeconds(r.t - start) });
      }
      return peak;
    }
    const times = evaluator.outflowTimes(rule);
    for (let i = 0; i < times.length; i++) {
      const end = times[i] as number;
      if (times[i + 1] === end) continue;
      const m = evaluator.measureAt(rule, end);
      if (!m) continue;
      const level = tripLevel(rule, m.limit);
      const ratio = ratioOf(m.value, level);
      if (ratio > peak.ratio || peak.atS === null)
        Object.assign(peak, { ratio, value: m.value, limit: level, atS: roundSeconds(end - start) });
    }
    return peak;
  });
}

const CHART_INTERVALS = 480;
const CHARTED_RULES = 10;

/** Rolling totals against limits: per windowed fixed-limit rule, the peak ratio in each interval. */
function chartOf(
  config: BreakerConfig,
  evaluator: IncrementalEvaluator,
  start: number,
  endS: number,
  trips: ReplayResult['trips'],
): ReplayChart {
  const intervalS = Math.max(1, Math.ceil(endS / CHART_INTERVALS));
  const n = Math.ceil(endS / intervalS) + 1;
  const series = config.rules
    .filter((rule) => rule.windowSeconds > 0 && !isPatternRule(rule))
    .map((rule) => {
      const ratios = new Array<number>(n).fill(0);
      const times = evaluator.outflowTimes(rule);
      // A window's sum only rises at an outflow: the peaks are at outflow times; between them it decays.
      for (let i = 0; i < times.length; i++) {
        const end = times[i] as number;
        if (times[i + 1] === end) continue;
        const k = Math.min(n - 1, Math.max(0, Math.floor((end - start) / intervalS)));
        const m = evaluator.measureAt(rule, end);
        if (m) ratios[k] = Math.max(ratios[k] as number, ratioOf(m.value, tripLevel(rule, m.limit)));
      }
      for (let k = 0; k < n; k++) {
        const m = evaluator.measureAt(rule, start + (k + 1) * intervalS);
        if (m) ratios[k] = Math.max(ratios[k] as number, ratioOf(m.value, tripLevel(rule, m.limit)));
      }
      return { ruleId: rule.id, ratios };
    })
    .filter((s) => s.ratios.some((r) => r > 0))
    .sort((a, b) => Math.max(...b.ratios) - Math.max(...a.ratios))
    .slice(0, CHARTED_RULES);
  return {
    intervalS,
    series,
    warnRatio: config.warnRatio,
    trips: trips.map((t) => ({ atS: t.atS, ruleId: t.ruleId })),
  };
}
