/**
 * The whole BreakerStore on one DynamoDB table (layout in table.ts).
 *
 * Only single-item conditional writes, BatchWriteItem and Query are used — no transactions — so the
 * same code runs against DynamoDB, DynamoDB Local and dynalite. Where a conflict must report what
 * the store holds now, the item is re-read rather than relying on ReturnValuesOnConditionCheckFailure.
 */
import { isDeepStrictEqual } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  type PutItemCommandInput,
  QueryCommand,
  type QueryCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { BreakerError, StateConflictError } from '../../core/errors.ts';
import type { OutflowRecord } from '../../core/model.ts';
import { parseScopeKey, scopeKey } from '../../core/model.ts';
import type { ApprovedWithdrawalLog, BreakerStore, NonceWatermarkLog, OutpointApprovalLog } from '../../core/ports.ts';
import type { ApprovedWithdrawal } from '../../core/reconciliation/approved-withdrawal.ts';
import {
  type AuditRecord,
  type BreakerState,
  type ChainCursor,
  type EvaluationProgress,
  type InitMarker,
  initialState,
  type TripInfo,
  type TripRecord,
  type TripRelease,
} from '../../core/state.ts';
import type { ChainSummary, LedgerLog, LedgerStamp } from '../../core/windows/summary.ts';
import { DynamoDbApprovedWithdrawals } from './dynamodb-approved-withdrawals.ts';
import {
  cursorToItem,
  documentToItem,
  type Item,
  itemToCursor,
  itemToDocument,
  itemToOutflow,
  outflowToItem,
} from './item-codec.ts';
import { isConditionalCheckFailed } from './store-errors.ts';
import {
  AUDIT_PARTITION,
  auditKey,
  cursorKey,
  INIT_KEY,
  type ItemKey,
  outflowKey,
  outflowPartition,
  outflowSortFrom,
  PARTITION_KEY,
  parseTripSortKey,
  progressKey,
  RELEASE_PARTITION,
  releaseKey,
  SORT_KEY,
  STATE_KEY,
  summaryKey,
  TRIP_PARTITION,
  tripKey,
} from './table.ts';
import { callTable, getItem, putIfVersion, type TableRef } from './table-io.ts';

/** BatchWriteItem's limit. */
const BATCH_SIZE = 25;
/** BatchGetItem's limit. */
const BATCH_GET_SIZE = 100;
/** BatchWriteItem requests one recordOutflows keeps in flight. */
const BATCH_WRITES_IN_FLIGHT = 4;

export interface UnprocessedRetryOptions {
  /**
   * Retries of the items a BatchWriteItem left unprocessed (throttling) before giving up.
   * @default 8
   */
  readonly attempts?: number;
  /** @default 50 */
  readonly baseDelayMs?: number;
  /** @default 2000 */
  readonly maxDelayMs?: number;
}

export interface DynamoDbBreakerStoreOptions {
  /** Configure the SDK's own retries (maxAttempts, retryMode) on this client; they run first. */
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly unprocessedRetry?: UnprocessedRetryOptions;
}

export class DynamoDbBreakerStore
  implements BreakerStore, ApprovedWithdrawalLog, NonceWatermarkLog, OutpointApprovalLog
{
  private readonly client: DynamoDBClient;
  private readonly tableName: string;

  private get table(): TableRef {
    return { client: this.client, tableName: this.tableName };
  }
  private readonly retry: Required<UnprocessedRetryOptions>;

  constructor(options: DynamoDbBreakerStoreOptions) {
    if (!options.tableName) throw new TypeError('DynamoDbBreakerStore: tableName is required');
    this.client = options.client;
    this.tableName = options.tableName;
    this.retry = { attempts: 8, baseDelayMs: 50, maxDelayMs: 2000, ...options.unprocessedRetry };
  }

  // ---- CursorStore ----

  async getCursor(chain: string): Promise<ChainCursor | undefined> {
    const item = await this.getItem(cursorKey(chain));
    return item && itemToCursor(item);
  }

  async saveCursor(next: ChainCursor, expectedVersion: number | undefined): Promise<void> {
    if (next.version !== (expectedVersion ?? 0) + 1) {
      throw new RangeError(`cursor version must be ${(expectedVersion ?? 0) + 1}, got ${next.version}`);
    }
    const written = await putIfVersion(this.table, cursorToItem(cursorKey(next.chain), next), expectedVersion);
    if (!written) {
      const current = await this.getCursor(next.chain);
      throw new StateConflictError<ChainCursor>(
        `cursor of ${next.chain} is at version ${current?.version ?? '(none)'}, expected ${expectedVersion ?? '(none)'}`,
        current,
      );
    }
  }

  // ---- EvaluationProgressStore ----

  async getProgress(chain: string): Promise<EvaluationProgress | undefined> {
    const item = await this.getItem(progressKey(chain));
    return item && toProgress(item);
  }

  async saveProgress(next: EvaluationProgress, expectedVersion: number | undefined): Promise<void> {
    if (next.version !== (expectedVersion ?? 0) + 1) {
      throw new RangeError(`progress version must be ${(expectedVersion ?? 0) + 1}, got ${next.version}`);
    }
    if (!(await this.conditionalPut(progressKey(next.chain), next, expectedVersion))) {
      const current = await this.getProgress(next.chain);
      // The SDK retried a write whose answer was lost and met the write itself: it is stored.
      if (current && isDeepStrictEqual(current, next)) return;
      throw new StateConflictError<EvaluationProgress>(
        `evaluation progress of ${next.chain} is at version ${current?.version ?? '(none)'}, expected ${expectedVersion ?? '(none)'}`,
        current,
      );
    }
  }

  // ---- WindowSummaryStore ----

  async saveSummary(summary: ChainSummary, expectedLedger?: LedgerStamp): Promise<boolean> {
    // With a ledger log to continue, the stored one must still be at that epoch and version: two
    // writers continuing one log must not both bump it to the same version (ledger-version.ts).
    const condition: Pick<
      PutItemCommandInput,
      'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    > = expectedLedger
      ? {
          ConditionExpression: '#lease <= :lease AND #ledger.#epoch = :epoch AND #ledger.#version = :version',
          ExpressionAttributeNames: {
            '#lease': 'leaseVersion',
            '#ledger': 'ledger',
            '#epoch': 'epoch',
            '#version': 'version',
          },
          ExpressionAttributeValues: {
            ':lease': { N: String(summary.leaseVersion) },
            ':epoch': { S: expectedLedger.epoch },
            ':version': { N: String(expectedLedger.version) },
          },
        }
      : {
          ConditionExpression: 'attribute_not_exists(#pk) OR #lease <= :lease',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#lease': 'leaseVersion' },
          ExpressionAttributeValues: { ':lease': { N: String(summary.leaseVersion) } },
        };
    try {
      await this.call('PutItem', () =>
        this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: documentToItem(summaryKey(summary.chain), summary),
            ...condition,
          }),
        ),
      );
      return true;
    } catch (e) {
      if (isConditionalCheckFailed(e)) return false;
      throw e;
    }
  }

  async summariesOf(chains: readonly string[]): Promise<ChainSummary[]> {
    const keys = chains.map((c) => {
      const key = summaryKey(c);
      return { [PARTITION_KEY]: { S: key.pk }, [SORT_KEY]: { S: key.sk } };
    });
    const chunks: Item[][] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_SIZE) chunks.push(keys.slice(i, i + BATCH_GET_SIZE));
    const items = (await Promise.all(chunks.map((chunk) => this.batchGet(chunk)))).flat();
    return items.map(toSummary);
  }

  // ---- OutflowLedger ----

  async recordOutflows(records: OutflowRecord[]): Promise<void> {
    // One batch must not name a key twice (DynamoDB rejects it); the last copy wins, as a later put would.
    const byKey = new Map<string, Item>();
    for (const r of records) {
      const key = outflowKey(r);
      byKey.set(`${key.pk}\u0000${key.sk}`, outflowToItem(r));
    }
    await this.batchWrite([...byKey.values()].map((Item) => ({ PutRequest: { Item } })));
  }

  async outflowsSince(chain: string, sinceT: number): Promise<OutflowRecord[]> {
    const items = await this.queryAll({
      KeyConditionExpression: '#pk = :pk AND #sk >= :from',
      ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#sk': SORT_KEY },
      ExpressionAttributeValues: { ':pk': { S: outflowPartition(chain) }, ':from': { S: outflowSortFrom(sinceT) } },
    });
    return items.map(itemToOutflow);
  }

  async removeOutflowsAfter(chain: string, afterBlock: number, sinceT: number): Promise<number> {
    const keys = await this.queryAll({
      KeyConditionExpression: '#pk = :pk AND #sk >= :from',
      FilterExpression: '#block > :after',
      ProjectionExpression: '#pk, #sk',
      ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#sk': SORT_KEY, '#block': 'block' },
      ExpressionAttributeValues: {
        ':pk': { S: outflowPartition(chain) },
        ':from': { S: outflowSortFrom(sinceT) },
        ':after': { N: String(afterBlock) },
      },
    });
    await this.batchWrite(keys.map((Key) => ({ DeleteRequest: { Key } })));
    return keys.length;
  }

  // ---- BreakerStateStore ----

  async getState(): Promise<BreakerState> {
    const item = await this.getItem(STATE_KEY);
    return item ? toState(item) : initialState();
  }

  async saveState(next: BreakerState, expectedVersion: number): Promise<void> {
    // Writing the same version again would let two writers that read the same state both succeed.
    if (next.version <= expectedVersion) {
      throw new RangeError(`state version must advance past ${expectedVersion}, got ${next.version}`);
    }
    const written = await putIfVersion(
      this.table,
      stateToItem(next),
      expectedVersion === 0 ? undefined : expectedVersion,
    );
    if (!written) {
      const current = await this.getState();
      throw new StateConflictError<BreakerState>(
        `breaker state is at version ${current.version}, expected ${expectedVersion}`,
        current,
      );
    }
  }

  async getInitMarker(): Promise<InitMarker | undefined> {
    const item = await this.getItem(INIT_KEY);
    if (!item) return undefined;
    const doc = itemToDocument(item);
    if (typeof doc.initialisedAtMs !== 'number' || typeof doc.actor !== 'string') {
      throw new Error('malformed init marker item INIT/STATE');
    }
    return { initialisedAtMs: doc.initialisedAtMs, actor: doc.actor };
  }

  async initialiseState(state: BreakerState, marker: InitMarker): Promise<boolean> {
    // The marker first: if the state write then fails, a retry finds the marker and still creates it;
    // a marker already there (re-initialising after a deletion) is kept, so the first one stays on record.
    await this.conditionalPut(INIT_KEY, marker, undefined);
    return putIfVersion(this.table, stateToItem(state), undefined);
  }

  // ---- TripLedger ----

  async recordTrips(trips: readonly TripInfo[]): Promise<void> {
    // put-if-absent: the first record of a trip stays as it was written.
    await Promise.all(trips.map((t) => this.conditionalPut(tripKey({ ...t, scope: scopeKey(t.scope) }), t, undefined)));
  }

  async recordReleases(releases: readonly TripRelease[]): Promise<void> {
    await Promise.all(releases.map((r) => this.conditionalPut(releaseKey({ ...r, atMs: r.tripAtMs }), r, undefined)));
  }

  async unreleasedTrips(): Promise<TripRecord[]> {
    const partition = (pk: string) =>
      this.queryAll({
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': PARTITION_KEY },
        ExpressionAttributeValues: { ':pk': { S: pk } },
      });
    const [trips, releases] = await Promise.all([partition(TRIP_PARTITION), partition(RELEASE_PARTITION)]);
    const released = new Set(releases.map((item) => item[SORT_KEY]?.S));
    return trips.filter((item) => !released.has(item[SORT_KEY]?.S)).map(toTripRecord);
  }

  // ---- AuditLog ----

  async appendAudit(record: AuditRecord): Promise<void> {
    const item = documentToItem(auditKey(record.atMs, record.id), record);
    // The id is part of the key: an existing item is this very record, written by an earlier attempt.
    await putIfVersion(this.table, item, undefined);
  }

  async listAudit(limit: number): Promise<AuditRecord[]> {
    if (limit <= 0) return [];
    const items = await this.queryAll(
      {
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': PARTITION_KEY },
        ExpressionAttributeValues: { ':pk': { S: AUDIT_PARTITION } },
        ScanIndexForward: false,
      },
      limit,
    );
    return items.map((item) => itemToDocument(item) as unknown as AuditRecord);
  }

  // ---- ApprovedWithdrawalLog (the guard writes, reconciliation reads; dynamodb-approved-withdrawals.ts) ----

  recordApprovedWithdrawal(withdrawal: ApprovedWithdrawal): Promise<ApprovedWithdrawal> {
    return this.approvals().recordApprovedWithdrawal(withdrawal);
  }

  approvedWithdrawalsBetween(chain: string, fromMs: number, toMs: number): Promise<ApprovedWithdrawal[]> {
    return this.approvals().approvedWithdrawalsBetween(chain, fromMs, toMs);
  }

  nonceWatermarks(chain: string): Promise<Map<string, bigint>> {
    return this.approvals().nonceWatermarks(chain);
  }

  approvedOutpoints(chain: string, outpoints: readonly string[]): Promise<Set<string>> {
    return this.approvals().approvedOutpoints(chain, outpoints);
  }

  private approvalLog: DynamoDbApprovedWithdrawals | undefined;
  private approvals(): DynamoDbApprovedWithdrawals {
    this.approvalLog ??= new DynamoDbApprovedWithdrawals({ client: this.client, tableName: this.tableName });
    return this.approvalLog;
  }

  // ---- DynamoDB plumbing ----

  private getItem(key: ItemKey): Promise<Item | undefined> {
    return getItem(this.table, key);
  }

  /** Put `doc` if the stored item's version is `expectedVersion` (undefined: no item). False on conflict. */
  private async conditionalPut(key: ItemKey, doc: object, expectedVersion: number | undefined): Promise<boolean> {
    return putIfVersion(this.table, documentToItem(key, doc), expectedVersion);
  }

  /** Every item of the query (all pages, strongly consistent), or the first `limit`. */
  private async queryAll(
    input: Omit<QueryCommandInput, 'TableName'>,
    limit = Number.POSITIVE_INFINITY,
  ): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const remaining = limit - items.length;
      const out = await this.call('Query', () =>
        this.client.send(
          new QueryCommand({
            ...input,
            TableName: this.tableName,
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
            Limit: Number.isFinite(remaining) ? remaining : undefined,
          }),
        ),
      );
      items.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey && items.length < limit);
    return items;
  }

  /** One BatchGetItem of ≤ 100 keys, strongly consistent, retrying the keys it leaves unprocessed (throttling). */
  private async batchGet(keys: Item[]): Promise<Item[]> {
    const items: Item[] = [];
    let pending = keys;
    for (let retry = 0; pending.length > 0; retry++) {
      if (retry > this.retry.attempts) {
        throw new BreakerError(
          'STORE_UNAVAILABLE',
          `DynamoDB BatchGetItem on table ${this.tableName}: ${pending.length} keys still unprocessed after ${this.retry.attempts} retries`,
        );
      }
      if (retry > 0) await sleep(this.backoffMs(retry));
      const out = await this.call('BatchGetItem', () =>
        this.client.send(
          new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } } }),
        ),
      );
      items.push(...(out.Responses?.[this.tableName] ?? []));
      pending = out.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
    return items;
  }

  private async batchWrite(requests: WriteRequest[]): Promise<void> {
    const chunks: WriteRequest[][] = [];
    for (let i = 0; i < requests.length; i += BATCH_SIZE) chunks.push(requests.slice(i, i + BATCH_SIZE));
    // A few batches in flight: on real DynamoDB each is a network round trip, and a catch-up writes
    // hundreds. Bounded so one poller does not throttle the table for the others.
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) {
        const chunk = chunks[next] as WriteRequest[];
        next++;
        await this.writeChunk(chunk);
      }
    };
    await Promise.all(Array.from({ length: Math.min(BATCH_WRITES_IN_FLIGHT, chunks.length) }, worker));
  }

  private async writeChunk(chunk: WriteRequest[]): Promise<void> {
    let pending = chunk;
    for (let retry = 0; pending.length > 0; retry++) {
      if (retry > this.retry.attempts) {
        throw new BreakerError(
          'STORE_UNAVAILABLE',
          `DynamoDB BatchWriteItem on table ${this.tableName}: ${pending.length} items still unprocessed after ${this.retry.attempts} retries`,
        );
      }
      if (retry > 0) await sleep(this.backoffMs(retry));
      const out = await this.call('BatchWriteItem', () =>
        this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending } })),
      );
      pending = out.UnprocessedItems?.[this.tableName] ?? [];
    }
  }

  /** Full jitter, as AWS recommends for unprocessed items: spreads competing writers apart. */
  private backoffMs(retry: number): number {
    const ceiling = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (retry - 1));
    return Math.random() * ceiling;
  }

  private call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    return callTable(this.table, operation, send);
  }
}

function toSummary(item: Item): ChainSummary {
  const doc = itemToDocument(item);
  const series = doc.series as Record<string, unknown> | undefined;
  const valid =
    typeof doc.chain === 'string' &&
    typeof doc.leaseVersion === 'number' &&
    typeof series === 'object' &&
    series !== null &&
    Object.values(series).every((s) => {
      const x = s as Record<string, unknown>;
      return (
        typeof x.width === 'number' &&
        typeof x.from === 'number' &&
        Array.isArray(x.usd) &&
        Array.isArray(x.count) &&
        x.usd.length === x.count.length &&
        x.usd.every((u) => typeof u === 'string' && /^\d+$/.test(u)) &&
        x.count.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)
      );
    });
  // A summary that cannot be read must not count as "no outflows": without series it bounds nothing,
  // so every global limit is evaluated from the ledgers (core/windows/summary.ts windowBound).
  if (!valid) {
    const chain = (item[PARTITION_KEY]?.S ?? '').slice('SUM#'.length);
    return { chain, leaseVersion: Number.MAX_SAFE_INTEGER, series: {}, updatedAtMs: 0 };
  }
  const { ledger, ...summary } = doc as unknown as ChainSummary;
  // A ledger log that does not parse vouches for nothing: other chains' pollers read this ledger whole.
  return isLedgerLog(ledger) ? { ...summary, ledger } : summary;
}

function isLedgerLog(x: unknown): x is LedgerLog {
  const log = x as Partial<LedgerLog> | undefined;
  return (
    typeof log?.epoch === 'string' &&
    Number.isSafeInteger(log.version) &&
    Array.isArray(log.changes) &&
    log.changes.length <= (log.version as number) &&
    log.changes.every((t) => Number.isFinite(t))
  );
}

function toProgress(item: Item): EvaluationProgress {
  const doc = itemToDocument(item);
  for (const field of ['through', 'throughT', 'decidedOn', 'version'] as const) {
    if (typeof doc[field] !== 'number')
      throw new Error(`malformed evaluation progress item ${item[PARTITION_KEY]?.S}: ${field}`);
  }
  if (typeof doc.chain !== 'string')
    throw new Error(`malformed evaluation progress item ${item[PARTITION_KEY]?.S}: chain`);
  return doc as unknown as EvaluationProgress;
}

/**
 * The recorded config is most of the state (every rule's definition and every asset's valuation: about
 * 50 KB for the eleven-chain example, 4 KB gzipped) and the state is read on every poll, so it is
 * stored gzipped in `configZ`: fewer read and write units. A `config` map, as older builds wrote it,
 * is still read.
 */
const CONFIG_GZIP_ATTRIBUTE = 'configZ';

function stateToItem(state: BreakerState): Item {
  const { config, ...rest } = state;
  const item = documentToItem(STATE_KEY, rest);
  if (config) item[CONFIG_GZIP_ATTRIBUTE] = { B: gzipSync(JSON.stringify(config)) };
  return item;
}

/** A state written by a newer schema must not be misread as this one: refuse it loudly. */
function toState(item: Item): BreakerState {
  const { [CONFIG_GZIP_ATTRIBUTE]: packed, ...rest } = item;
  const doc = itemToDocument(rest);
  if (doc.schema !== 1 || typeof doc.version !== 'number') {
    throw new Error(`breaker state item has schema ${String(doc.schema)}; this build reads schema 1`);
  }
  if (packed) doc.config = unpackConfig(packed);
  return doc as unknown as BreakerState;
}

function unpackConfig(packed: AttributeValue): unknown {
  try {
    if (!packed.B) throw new Error('not a binary attribute');
    return JSON.parse(gunzipSync(packed.B).toString('utf8'));
  } catch (e) {
    throw new Error(
      `breaker state item: ${CONFIG_GZIP_ATTRIBUTE} is not a gzipped recorded config (${(e as Error).message})`,
    );
  }
}

/**
 * Scope, time and id come from the sort key, never from the body (whoever may put the item controls
 * the body). A body without a rule id still halts: it is shown as such rather than dropped.
 */
function toTripRecord(item: Item): TripRecord {
  const sk = item[SORT_KEY]?.S ?? '';
  const { scope, atMs, tripId } = parseTripSortKey(sk);
  const doc = itemToDocument(item);
  const ruleId = typeof doc.ruleId === 'string' ? doc.ruleId : 'unknown (malformed trip record)';
  return { scope, trip: { ...(doc as unknown as TripInfo), ruleId, tripId, atMs, scope: parseScopeKey(scope) } };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
