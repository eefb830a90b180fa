import { checkedBalances, setBalancesAfter, touchedAssets, watchesBalances } from '../balances.ts';
import type { ChainReader } from '../chain-kind.ts';
import { classifyTransfers, windowTimes } from '../classify.ts';
import type { BreakerConfig, ChainConfig } from '../config/types.ts';
import { ChainReadError } from '../errors.ts';
import type { ChainTransfer, OutflowRecord, RangeRead } from '../model.ts';
import {
  type ApprovedWithdrawalLog,
  type BreakerStore,
  type PagePublisher,
  readsBalances,
  type StateMirror,
} from '../ports.ts';
import { discoversOn, type UnlistedPriceSource } from '../prices/discovery.ts';
import { feedPricedAssets, priceAlarmTransition } from '../prices/price-alarm.ts';
import { bookValuation, type PriceProblem, type PriceSource, type Valuation } from '../prices/price-source.ts';
import { valueUnlistedOutflows } from '../prices/unlisted-valuation.ts';
import { checkRangeRead } from '../range-read.ts';
import { keepCheckpoints, sameBlockHash } from '../reorg-checkpoints.ts';
import type { AuditRecord, BreakerState, ChainCursor, Page, TripInfo } from '../state.ts';
import type { Clock } from '../time.ts';
import type { LedgerCache } from '../windows/ledger-cache.ts';
import { recordLedgerChange } from '../windows/ledger-version.ts';
import { summaryReachSeconds } from '../windows/summary.ts';
import { DEFAULT_LEASE_MS, HeldLease, idleSaveIntervalMs, saveCursorOrBusy } from './cursor-lease.ts';
import { evaluateAndTransition } from './evaluate-batch.ts';
import { flushOutbox } from './outbox.ts';
import type { DecideStep, PollCheck } from './poll-decision.ts';

export { type EvaluatedThrough, evaluateAndTransition, type PollTransition } from './evaluate-batch.ts';

export interface PollDeps {
  config: BreakerConfig;
  chain: ChainConfig;
  reader: ChainReader;
  store: BreakerStore;
  publisher: PagePublisher;
  clock: Clock;
  /** Unique per poller process/invocation: who holds a lease. */
  owner: string;
  /**
   * How long a lease protects a poller's in-flight writes between renewals (the poll renews it
   * before each write, so it must exceed one write's duration). @default DEFAULT_LEASE_MS
   */
  leaseMs?: number;
  /** Kill-switch copies (SSM parameter) updated after every transition. */
  mirror?: StateMirror;
  /** On-chain price feeds, for assets configured with a priceFeed (static prices otherwise). */
  prices?: PriceSource;
  /** Prices for unlisted tokens, on chains `unknownAssets.discovery` covers (usdPerTransfer otherwise). */
  discovery?: UnlistedPriceSource;
  /**
   * This chain's recorded outflows kept in memory by one poller across its polls, so a poll does
   * not re-read the whole rule history of its own chain (quadratic while catching up). Valid only
   * while the stored cursor is the one this poller committed last (`version`).
   */
  history?: OwnHistoryCache;
  /** Other chains' ledgers kept across polls, one per process (windows/ledger-cache.ts). */
  ledgers?: LedgerCache;
  /** Approved withdrawals for reconciliation; by default the store, when it keeps them. */
  approvals?: ApprovedWithdrawalLog;
  /** Run on every poll; what they find is committed with the poll's decision (see poll-decision.ts). */
  checks?: readonly PollCheck[];
}

export interface OwnHistoryCache {
  /** Cursor version the records are complete for; anything else means "re-read". */
  version: number;
  records: OutflowRecord[];
  /** Every record with window time ≥ this is held; an earlier one means "re-read". */
  fromT: number;
  /** A run is polling with it (runPoller): a second run of the same chain starts with its own. */
  inUse?: boolean;
}

export function emptyHistoryCache(): OwnHistoryCache {
  return { version: -1, records: [], fromT: Number.POSITIVE_INFINITY };
}

export type PollResult =
  | { kind: 'idle'; head: number; lastBlock: number; lastBlockTime: number }
  | {
      kind: 'advanced';
      head: number;
      from: number;
      to: number;
      lastBlockTime: number;
      outflows: OutflowRecord[];
      trips: TripInfo[];
      warnings: string[];
    }
  | { kind: 'reorg'; rewoundTo: number; removed: number; depthKnown: boolean }
  | { kind: 'busy'; reason: string };

export interface PollOutcome {
  result: PollResult;
  /** The cursor to pass to the next poll (undefined: read it from the store). */
  cursor?: ChainCursor;
  /** The cursor moved past blocks without outflows in memory only (saveProgress writes it). */
  unsaved?: boolean;
}

/**
 * Write a cursor that moved in memory only (an idle poll between two saves), at the end of a run:
 * the next run starts from it instead of re-reading those blocks. Undefined when another poller moved
 * the stored cursor meanwhile (it re-reads from where it is: nothing lost).
 */
export async function saveProgress(deps: PollDeps, cursor: ChainCursor): Promise<ChainCursor | undefined> {
  const next = { ...cursor, version: cursor.version + 1, updatedAtMs: deps.clock.now() };
  return saveCursorOrBusy(deps, next, cursor.version);
}

/**
 * One poll of one chain: read the next confirmed blocks, record their hot-wallet outflows exactly
 * once, evaluate the rules, trip/warn, and advance the cursor.
 *
 * Exactly once without transactions:
 *  - outflow records are keyed by (chain, window time, block, tx, index): rewriting is harmless;
 *  - before writing records the poller takes a lease on the cursor (conditional write), so a second
 *    poller of the same chain backs off; an expired lease means its holder crashed mid-batch, and
 *    the records it may have written are deleted before the range is read again. The lease is short
 *    and renewed before each write (cursor-lease.ts), so a crash costs seconds, and a poll that finds
 *    its lease taken stops before writing more;
 *  - rules are evaluated and the trip written *before* the cursor moves past the blocks, so a
 *    crash can repeat an evaluation (idempotent: a tripped scope does not trip twice) but never
 *    skip one;
 *  - a reorg deletes the records of orphaned blocks and rewinds the cursor to the common ancestor.
 */
export async function pollOnce(
  deps: PollDeps,
  cached?: ChainCursor,
  /** A head seen by the previous poll; reused while a whole batch behind it is still unread (catch-up). */
  knownHead?: number,
): Promise<PollOutcome> {
  const { chain, reader, store, clock } = deps;
  let cursor = cached ?? (await store.getCursor(chain.id)) ?? (await createCursor(deps));
  if (!cursor) return { result: { kind: 'busy', reason: 'another poller created the cursor' } };

  if (cursor.lease) {
    if (cursor.lease.owner !== deps.owner && cursor.lease.untilMs > clock.now()) {
      return { result: { kind: 'busy', reason: `lease held by ${cursor.lease.owner}` } };
    }
    cursor = await recoverLease(deps, cursor);
  }

  const fullBatchConfirmed =
    knownHead !== undefined && knownHead - chain.confirmations >= cursor.lastBlock + chain.maxBlocksPerPoll;
  const head = fullBatchConfirmed ? knownHead : await reader.head();
  const target = head - chain.confirmations;
  const lastBlockTime = cursor.recent.at(-1)?.t ?? cursor.lastT;
  if (target <= cursor.lastBlock) {
    await flushPoll(deps, await commitPollSteps(deps, await pollSteps(deps, [], undefined)));
    return { result: { kind: 'idle', head, lastBlock: cursor.lastBlock, lastBlockTime }, cursor };
  }
  const from = cursor.lastBlock + 1;
  const to = Math.min(target, cursor.lastBlock + chain.maxBlocksPerPoll);
  const read = await reader.readRange(from, to);
  checkRangeRead(chain.id, from, to, read.blocks);

  const parent = cursor.recent.at(-1);
  if (parent && read.blocks[0] && !sameBlockHash(parent.h, read.blocks[0].parentHash)) {
    return rewindAfterReorg(deps, cursor);
  }

  const times = windowTimes(read.blocks, cursor.lastT);
  const { valuation, problems } = await feedValuation(deps, read.transfers);
  const outflows = classifyTransfers(
    deps.config,
    chain,
    read.transfers,
    (n) => {
      const t = times.get(n);
      if (t === undefined)
        throw new ChainReadError(`${chain.id}: transfer in block ${n} outside the range ${from}–${to}`);
      return t;
    },
    valuation,
  );
  // Numbers may be sparse: the range ends at its last block that exists (none: where the cursor was).
  const lastBlock = read.blocks.at(-1);
  if (lastBlock && deps.discovery && discoversOn(deps.config.priceDiscovery, chain.id)) {
    const at = { chain: chain.id, block: lastBlock.number, nowS: Math.floor(clock.now() / 1000) };
    await valueUnlistedOutflows(outflows, deps.discovery, at);
  }
  if (lastBlock && outflows.length > 0 && watchesBalances(deps.config.rules, chain.id) && readsBalances(reader)) {
    // A failed read fails the poll (and the dead-man pages): the balance rules never judge without them.
    const assets = touchedAssets(outflows);
    setBalancesAfter(chain, outflows, checkedBalances(chain, assets, await reader.balancesAt(lastBlock, assets)));
  }
  const lastT = lastBlock ? (times.get(lastBlock.number) as number) : cursor.lastT;
  // Checkpoints over the chain kind's reorg memory, small enough for one write unit. A deeper reorg pages (rewindAfterReorg).
  const recent = keepCheckpoints(
    [...cursor.recent, ...read.blocks.map((b) => ({ n: b.number, h: b.hash, t: times.get(b.number) as number }))],
    chain.kind.finality.reorgMemoryBlocks,
  );
  const advanced: ChainCursor = { ...cursor, lastBlock: to, lastT, recent, lease: undefined, updatedAtMs: clock.now() };

  const cache = deps.history;
  const cacheValid = cache !== undefined && cache.version === cursor.version;
  if (cache) cache.version = -1; // until this poll commits, whatever happens

  const steps = await pollSteps(deps, problems, read);
  if (outflows.length === 0) {
    const decided = await commitPollSteps(deps, steps);
    if (cursor.lease === undefined && clock.now() - cursor.updatedAtMs < idleSaveIntervalMs(chain)) {
      // Moved in memory only: still the stored version, so the next conditional write sees no conflict.
      await flushPoll(deps, decided);
      if (cache && cacheValid) cache.version = cursor.version;
      const unsaved = { ...advanced, version: cursor.version, updatedAtMs: cursor.updatedAtMs };
      return { result: { kind: 'idle', head, lastBlock: to, lastBlockTime: lastT }, cursor: unsaved, unsaved: true };
    }
    const next = await saveCursorOrBusy(deps, { ...advanced, version: cursor.version + 1 }, cursor.version);
    await flushPoll(deps, decided);
    if (!next) return { result: { kind: 'busy', reason: 'cursor moved by another poller' } };
    if (cache && cacheValid) cache.version = next.version;
    return { result: { kind: 'idle', head, lastBlock: to, lastBlockTime: lastT }, cursor: next };
  }

  const fromT = times.get(read.blocks[0]!.number) as number; // outflows lie in blocks, so there is one
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  const leased: ChainCursor = {
    ...cursor,
    lease: { owner: deps.owner, untilMs: clock.now() + leaseMs, from, to, fromT },
    version: cursor.version + 1,
    updatedAtMs: clock.now(),
  };
  if (!(await saveCursorOrBusy(deps, leased, cursor.version))) {
    return { result: { kind: 'busy', reason: 'cursor moved by another poller' } };
  }
  const lease = new HeldLease(deps, leased, leaseMs);
  const lost: { result: PollResult } = { result: { kind: 'busy', reason: 'lease lost during the batch' } };
  if (!(await lease.record(outflows, (chunk) => store.recordOutflows(chunk)))) return lost;
  if (!(await lease.keep())) return lost;
  let ownHistory: { records: OutflowRecord[]; fromT: number } | undefined = cacheValid ? cache : undefined;
  const historyOf = async (c: string, since: number): Promise<OutflowRecord[]> => {
    if (c !== chain.id) return store.outflowsSince(c, since);
    if (!ownHistory || since < ownHistory.fromT)
      ownHistory = { records: await store.outflowsSince(c, since), fromT: since };
    return ownHistory.records.filter((r) => r.t >= since);
  };
  const { trips, warnings, state } = await evaluateAndTransition(
    deps,
    outflows,
    { chain: chain.id, block: to, t: lastT, leaseVersion: leased.version },
    historyOf,
    steps,
  );

  // A slow evaluation must not let the lease lapse under the commit; a lost lease fails the commit.
  await lease.keep();
  const committed = { ...advanced, version: lease.version + 1 };
  const saved = await saveCursorOrBusy(deps, committed, lease.version);
  // Pages go out after the cursor commit: they are durable in the state's outbox either way.
  await flushPoll(deps, state);
  if (!saved) {
    // Our lease expired and another poller took the range over (it re-reads and re-evaluates it).
    return { result: { kind: 'busy', reason: 'lease lost before commit' } };
  }
  if (cache && ownHistory) {
    // The window summary (core/windows/summary.ts) reaches a little further back than the longest rule.
    const horizon = lastT - deps.config.maxWindowSeconds - summaryReachSeconds(deps.config);
    const fresh = new Set(outflows.map((r) => r.id));
    cache.records = [...ownHistory.records.filter((r) => r.t >= horizon && !fresh.has(r.id)), ...outflows];
    cache.fromT = Math.max(horizon, ownHistory.fromT);
    cache.version = committed.version;
  }
  return {
    result: { kind: 'advanced', head, from, to, lastBlockTime: lastT, outflows, trips, warnings },
    cursor: committed,
  };
}

/** The poll's own additions to its decision: the price alarm of this batch, then every check (given the blocks read). */
async function pollSteps(
  deps: PollDeps,
  priceProblems: readonly PriceProblem[],
  read: RangeRead | undefined,
): Promise<DecideStep[]> {
  const steps: DecideStep[] = [];
  if (priceProblems.length > 0) {
    steps.push((state, nowMs) => priceAlarmTransition(state, priceProblems, deps.config, nowMs));
  }
  for (const check of deps.checks ?? []) {
    const step = await check({ chain: deps.chain.id, nowMs: deps.clock.now(), ...(read && { read }) });
    if (step) steps.push(step);
  }
  return steps;
}

/** A poll that evaluates nothing still commits its own steps (checks, a price alarm). */
async function commitPollSteps(deps: PollDeps, steps: readonly DecideStep[]): Promise<BreakerState | undefined> {
  if (steps.length === 0) return undefined;
  return (await evaluateAndTransition(deps, [], undefined, undefined, steps)).state;
}

/**
 * The poll's one flush, at its end: the pages and audit records its decision queued (and any a
 * crashed poll left), then the kill-switch layers brought up to date.
 */
async function flushPoll(deps: PollDeps, state: BreakerState | undefined): Promise<void> {
  if (state && state.outbox.length > 0) {
    await flushOutbox({ store: deps.store, publisher: deps.publisher, mirror: deps.mirror }, state);
  }
}

/**
 * Read prices for the assets of this batch that have a feed (no RPC call otherwise). Problems are
 * valued at the worst case by the price book; the poll's decision pages them (deduplicated).
 */
async function feedValuation(
  deps: PollDeps,
  transfers: readonly ChainTransfer[],
): Promise<{ valuation?: Valuation; problems: readonly PriceProblem[] }> {
  const assets = deps.prices ? feedPricedAssets(deps.chain, transfers) : [];
  if (!deps.prices || assets.length === 0) return { problems: [] };
  const book = await deps.prices.prices(assets, Math.floor(deps.clock.now() / 1000));
  return { valuation: bookValuation(book), problems: book.problems };
}

async function createCursor(deps: PollDeps): Promise<ChainCursor | undefined> {
  const { chain, reader, clock } = deps;
  const start =
    chain.startBlock === 'latest' ? Math.max(0, (await reader.head()) - chain.confirmations) : chain.startBlock;
  const cursor: ChainCursor = {
    chain: chain.id,
    lastBlock: start - 1,
    recent: [],
    lastT: 0,
    epoch: 0,
    version: 1,
    updatedAtMs: clock.now(),
  };
  return saveCursorOrBusy(deps, cursor, undefined);
}

/**
 * A poller whose poll failed while it held the lease (the store throttled mid-batch, say) and that
 * will not poll again soon: undo and release its own lease now, so the next invocation (another
 * owner) need not wait for it to expire. A no-op when the cursor carries no lease of `deps.owner`.
 */
export async function releaseOwnLease(deps: PollDeps): Promise<void> {
  const current = await deps.store.getCursor(deps.chain.id);
  if (current?.lease?.owner !== deps.owner) return;
  await recoverLease(deps, current);
}

/** A previous poller crashed (or this one failed) after leasing a range: undo its possible writes. */
async function recoverLease(deps: PollDeps, cursor: ChainCursor): Promise<ChainCursor> {
  const lease = cursor.lease as NonNullable<ChainCursor['lease']>;
  await deps.store.removeOutflowsAfter(cursor.chain, cursor.lastBlock, lease.fromT);
  // Before the cursor write that commits the recovery, so a crash in between repeats both.
  await recordLedgerChange(deps.store, deps.ledgers, cursor.chain, lease.fromT);
  const next: ChainCursor = { ...cursor, lease: undefined, version: cursor.version + 1, updatedAtMs: deps.clock.now() };
  await deps.store.saveCursor(next, cursor.version);
  return next;
}

async function rewindAfterReorg(
  deps: PollDeps,
  cursor: ChainCursor,
): Promise<{ result: PollResult; cursor?: ChainCursor }> {
  const { reader, store, clock, chain } = deps;
  const refs = await reader.blockRefs(cursor.recent.map((r) => r.n));
  const canonical = new Map(refs.map((r) => [r.number, r.hash]));
  const ancestorIndex = cursor.recent.findLastIndex((r) => {
    const hash = canonical.get(r.n);
    return hash !== undefined && sameBlockHash(r.h, hash);
  });
  const depthKnown = ancestorIndex >= 0;
  // Deeper than we track: rewind past everything we know (records are re-read, never lost).
  const ancestor = depthKnown ? cursor.recent[ancestorIndex] : undefined;
  const rewindTo = ancestor ? ancestor.n : (cursor.recent[0]?.n ?? cursor.lastBlock + 1) - 1;
  const sinceT = ancestor ? ancestor.t : 0;
  const removed = await store.removeOutflowsAfter(chain.id, rewindTo, sinceT);
  // Before the cursor write that commits the rewind, so a crash in between repeats both.
  await recordLedgerChange(store, deps.ledgers, chain.id, sinceT);
  const next: ChainCursor = {
    ...cursor,
    lastBlock: rewindTo,
    lastT: ancestor ? ancestor.t : cursor.recent[0] ? Math.max(0, cursor.recent[0].t - 1) : cursor.lastT,
    recent: depthKnown ? cursor.recent.slice(0, ancestorIndex + 1) : [],
    epoch: cursor.epoch + 1,
    version: cursor.version + 1,
    updatedAtMs: clock.now(),
  };
  const saved = await saveCursorOrBusy(deps, next, cursor.version);
  if (!saved) return { result: { kind: 'busy', reason: 'cursor moved by another poller during reorg' } };
  const record: AuditRecord = {
    id: `reorg-${chain.id}-${next.epoch}`,
    atMs: clock.now(),
    action: 'reorg',
    actor: 'breaker',
    scope: `chain:${chain.id}`,
    details: { from: cursor.lastBlock, rewoundTo: rewindTo, removedOutflows: removed, depthKnown },
  };
  await store.appendAudit(record);
  if (!depthKnown) {
    const page = deepReorgPage(deps.config.name, chain, cursor, rewindTo, removed);
    await flushPoll(deps, await commitPollSteps(deps, [queuePage(page)]));
  }
  return { result: { kind: 'reorg', rewoundTo: rewindTo, removed, depthKnown }, cursor: saved };
}

/**
 * A reorg deeper than the hashes the cursor keeps: the common ancestor is unknown, so outflows in
 * blocks before the rewind point may be orphaned or missing. Exactness cannot be promised there —
 * on-call must audit that range (`breaker scan`).
 */
function deepReorgPage(
  name: string,
  { id: chain, kind }: ChainConfig,
  cursor: ChainCursor,
  rewindTo: number,
  removed: number,
): Page {
  const memory = kind.finality.reorgMemoryBlocks;
  const from = Math.max(0, rewindTo - memory * 4);
  return {
    id: `page-deep-reorg-${chain}-${cursor.epoch + 1}`,
    kind: 'blind',
    subject: `[BLIND] ${name}: reorg on ${chain} deeper than ${memory} blocks`.slice(0, 100),
    text: [
      `${chain} reorganised below the ${memory} most recent blocks the breaker keeps (processed through ${cursor.lastBlock}).`,
      `The breaker rewound to block ${rewindTo} and removed ${removed} outflow record(s) after it; blocks before it may hold`,
      'orphaned or missing outflows. Audit them against the chain, e.g.:',
      `  npx breaker scan --config <config> --chain ${chain} --from ${from} --to ${cursor.lastBlock}`,
    ].join('\n'),
    details: { chain, processedThrough: cursor.lastBlock, rewoundTo: rewindTo, removedOutflows: removed },
  };
}

/** Queue a page in the state's outbox (durable, conditional), once. */
function queuePage(page: Page): DecideStep {
  return (state) =>
    state.outbox.some((e) => e.id === page.id)
      ? undefined
      : { ...state, outbox: [...state.outbox, { kind: 'page' as const, id: page.id, page }] };
}
