/**
 * Ports: what core needs from the outside world. Adapters (functions/adapters/*) implement them;
 * tests use the real adapters against local stand-ins.
 */
import type { HotSpend, OutflowRecord } from './model.ts';
import type { ApprovedWithdrawal } from './reconciliation/approved-withdrawal.ts';
import type {
  AuditRecord,
  BreakerState,
  ChainCursor,
  EvaluationProgress,
  InitMarker,
  Page,
  TripInfo,
  TripRecord,
  TripRelease,
} from './state.ts';
import type { ChainSummary, LedgerStamp } from './windows/summary.ts';

export interface CursorStore {
  getCursor(chain: string): Promise<ChainCursor | undefined>;
  /**
   * Write `next` only if the stored cursor still has `expectedVersion` (undefined = must not exist).
   * Throws StateConflictError otherwise. `next.version` must be expectedVersion + 1 (or 1).
   */
  saveCursor(next: ChainCursor, expectedVersion: number | undefined): Promise<void>;
}

/** One item per chain: how far its poller evaluated (core/evaluation-progress.ts). */
export interface EvaluationProgressStore {
  /** Strongly consistent; undefined before the chain's first evaluation. */
  getProgress(chain: string): Promise<EvaluationProgress | undefined>;
  /**
   * Write `next` only if the stored progress still has `expectedVersion` (undefined = must not exist).
   * Throws StateConflictError otherwise. `next.version` must be expectedVersion + 1 (or 1).
   */
  saveProgress(next: EvaluationProgress, expectedVersion: number | undefined): Promise<void>;
}

/** One item per chain: bucketed totals of its outflows for the global limits (core/windows/summary.ts). */
export interface WindowSummaryStore {
  /**
   * Write the chain's summary unless one written under a newer lease is stored, or (with
   * `expectedLedger`) the stored one's ledger log is not at that epoch and version: false then.
   * Without `expectedLedger` the summary replaces whatever log is stored (it starts a new epoch).
   */
  saveSummary(summary: ChainSummary, expectedLedger?: LedgerStamp): Promise<boolean>;
  /** The stored summaries of these chains, strongly consistent, in batched reads; absent ones left out. */
  summariesOf(chains: readonly string[]): Promise<ChainSummary[]>;
}

export interface OutflowLedger {
  /** Idempotent: writing the same record twice leaves one record. */
  recordOutflows(records: OutflowRecord[]): Promise<void>;
  /** Every record of `chain` with window time t >= sinceT, ascending by (t, block). */
  outflowsSince(chain: string, sinceT: number): Promise<OutflowRecord[]>;
  /** Delete records of `chain` with block > afterBlock (and t >= sinceT, a lower bound for the query). */
  removeOutflowsAfter(chain: string, afterBlock: number, sinceT: number): Promise<number>;
}

export interface BreakerStateStore extends TripLedger {
  /**
   * Strongly consistent read. When no state item exists: `initialState()`, version 0, which means
   * "not initialised" (halted), never armed — see core/tamper.ts.
   */
  getState(): Promise<BreakerState>;
  /** Conditional on `expectedVersion`; throws StateConflictError (carrying the current state) on a race. */
  saveState(next: BreakerState, expectedVersion: number): Promise<void>;
  /** What the first initialisation recorded (INIT partition); undefined before it. */
  getInitMarker(): Promise<InitMarker | undefined>;
  /**
   * Write the init marker (kept if one exists) and then `state` as the first state, only if no state
   * item exists. False when a state item already exists (nothing written over it).
   */
  initialiseState(state: BreakerState, marker: InitMarker): Promise<boolean>;
}

/**
 * Trips as records that the halting side can only add and the resetting side releases
 * (core/trips.ts). Lives beside the state item; the guard halts while any trip lacks a release.
 */
export interface TripLedger {
  /** Add a record per trip (scope key in the sort key); an existing record is kept as it is. */
  recordTrips(trips: readonly TripInfo[]): Promise<void>;
  /** Add a release per released trip; idempotent. */
  recordReleases(releases: readonly TripRelease[]): Promise<void>;
  /** Every trip record without a release (strongly consistent). */
  unreleasedTrips(): Promise<TripRecord[]>;
}

export interface AuditLog {
  /** Idempotent by record id. */
  appendAudit(record: AuditRecord): Promise<void>;
  /** Newest first. */
  listAudit(limit: number): Promise<AuditRecord[]>;
}

export interface PagePublisher {
  /** Throws PublishError when the page could not be handed to the transport. */
  publish(page: Page): Promise<void>;
}

/** The whole store, as one DynamoDB table implements it. */
export type BreakerStore = CursorStore &
  EvaluationProgressStore &
  WindowSummaryStore &
  OutflowLedger &
  BreakerStateStore &
  AuditLog;

/**
 * The withdrawals the guarded signing service approved (functions/guard records them before
 * signing); reconciliation matches on-chain outflows against them.
 */
export interface ApprovedWithdrawalLog {
  /**
   * Idempotent by withdrawal id: returns the stored record (the first one written). The same id
   * with a different chain, asset, destination or amount throws StateConflictError carrying it.
   */
  recordApprovedWithdrawal(withdrawal: ApprovedWithdrawal): Promise<ApprovedWithdrawal>;
  /** Approvals on `chain` with approvedAtMs in [fromMs, toMs], ascending. */
  approvedWithdrawalsBetween(chain: string, fromMs: number, toMs: number): Promise<ApprovedWithdrawal[]>;
}

/**
 * The signed-nonce watermarks (functions/core/watermark): recording an approval that carries a
 * nonce raises its hot wallet's watermark to it (never lowers it), before the approval returns.
 */
export interface NonceWatermarkLog {
  /** Highest approved nonce per hot wallet (lower-case) of `chain`; a strongly consistent read. */
  nonceWatermarks(chain: string): Promise<Map<string, bigint>>;
}

/** `eth_getTransactionCount(wallet, tag)`: how many transactions the wallet has sent — its next nonce. */
export interface NonceObservation {
  /** Normalised (lower-case) hot-wallet address. */
  wallet: string;
  nextNonce: bigint;
}

/** Where a nonce was read: in blocks (`latest`), or including the endpoint's mempool (`pending`). */
export type NonceTag = 'latest' | 'pending';

/** An account chain's hot-wallet nonces (EVM `eth_getTransactionCount`). Throws ChainReadError. */
export interface NonceReader {
  /** The next nonce of every hot wallet of the chain, in blocks (`latest`) or including the mempool (`pending`). */
  nextNonces(tag: NonceTag): Promise<NonceObservation[]>;
}

/** A hot wallet's transaction seen in the endpoint's mempool (EVM pending-transaction filter). */
export interface PendingHotTransaction {
  /** Normalised (lower-case) hot-wallet address. */
  wallet: string;
  nonce: bigint;
  hash: string;
}

/**
 * An account chain's mempool, transaction by transaction (EVM: `eth_newPendingTransactionFilter`), so
 * the nonce watermark's page can name the transaction. Throws ChainReadError.
 */
export interface PendingTransactionReader {
  /** The hot wallets' transactions that entered the mempool since the last call; undefined when the endpoint refuses. */
  pendingHotTransactions(): Promise<PendingHotTransaction[] | undefined>;
}

/**
 * The outpoints the guard approved for withdrawals on a UTXO chain (core/watermark/outpoints.ts):
 * recording one with its withdrawal comes before the approval returns, so the signer cannot spend
 * an outpoint that is not here.
 */
export interface OutpointApprovalLog {
  /** Which of `outpoints` (canonical `txid:vout`) the guard approved on `chain`; strongly consistent. */
  approvedOutpoints(chain: string, outpoints: readonly string[]): Promise<Set<string>>;
}

/** A UTXO chain's mempool: the pending transactions that spend hot-wallet outputs. Throws ChainReadError. */
export interface PendingSpendReader {
  pendingHotSpends(): Promise<HotSpend[]>;
}

/**
 * The hot wallets' combined balances on one chain (balance rules, core/rules/kinds/balance-drawdown.ts).
 * A chain kind's reader implements it when the kind says `readsBalances` (core/chain-kind.ts).
 */
export interface BalanceReader {
  /**
   * The sum over the chain's hot wallets of each asset's balance at the block with this number and
   * hash (never another fork's), in base units: `contract` as ChainTransfer names it, null for the
   * native coin. A token whose contract refuses to tell a balance (anyone can make a contract emit
   * transfers "from" a hot wallet) is left out of the answer; every other asset asked for is in it.
   * Throws ChainReadError when the endpoints fail.
   */
  balancesAt(
    block: { number: number; hash: string },
    contracts: readonly (string | null)[],
  ): Promise<Map<string | null, bigint>>;
}

/** Does this reader read balances too? */
export function readsBalances<R extends object>(reader: R): reader is R & BalanceReader {
  return typeof (reader as Partial<BalanceReader>).balancesAt === 'function';
}

/**
 * A copy of the kill switch for signers that cannot read the table (an SSM parameter, a webhook).
 * Must be idempotent and never write an older version over a newer one; failures are paged.
 */
export interface StateMirror {
  mirror(state: BreakerState): Promise<void>;
  /**
   * Per poll: read the copies back, then what they must carry (`readState`: the state with its
   * unreleased trip records); page and repair any copy that does not enforce it. Throws only when
   * such a page could not be published.
   */
  verify?(readState: () => Promise<BreakerState>): Promise<unknown>;
}
