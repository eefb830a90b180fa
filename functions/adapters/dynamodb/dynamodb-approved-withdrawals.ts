/**
 * Approved withdrawals and actuator memory on the breaker table (layout in table.ts).
 *
 * An approval is two items: one keyed by withdrawal id — written only if absent, which makes the
 * record idempotent and lets a retry with other details be refused — and a copy in the chain's
 * time-ordered partition, which reconciliation queries by time range. The copy is written after
 * the id item on every call (an unconditional put of identical content), so a crash between the two
 * writes is repaired by the signer's retry.
 *
 * An approval that carries a nonce first raises its hot wallet's nonce watermark: one item per wallet
 * in the chain's approval partition (sort key `NONCE#<wallet>`, after every time key, so time-range
 * queries never meet it), written only if absent or lower — never lowered, never expiring. It lives
 * under the approval prefix the signer may already write, and pollers cannot write there.
 *
 * An approval that carries outpoints (Bitcoin) first records each of them: one item per outpoint in
 * the chain's approval partition (sort key `OUTPOINT#<txid>:<vout>`, also after every time key),
 * written only if absent, so it keeps the withdrawal that first approved it. These do expire, well
 * after retention (APPROVED_OUTPOINT_RETENTION_SECONDS): a missing approval can only make the
 * watermark trip (fail closed), never let a spend through, and an output is spent once — after
 * months nothing will look it up again, while keeping every one forever would grow without bound.
 */
import {
  BatchGetItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  type QueryCommandOutput,
} from '@aws-sdk/client-dynamodb';
import type { ActuatorMemo, ActuatorMemory } from '../../core/actuators/actuator.ts';
import { StateConflictError } from '../../core/errors.ts';
import type { ApprovedWithdrawalLog, NonceWatermarkLog, OutpointApprovalLog } from '../../core/ports.ts';
import { type ApprovedWithdrawal, sameWithdrawal } from '../../core/reconciliation/approved-withdrawal.ts';
import { OUTFLOW_RETENTION_SECONDS } from '../../core/retention.ts';
import { mapLimit } from '../http/http-request.ts';
import { documentToItem, type Item, itemToDocument } from './item-codec.ts';
import { isConditionalCheckFailed } from './store-errors.ts';
import {
  actuatorMemoKey,
  approvalKey,
  approvalPartition,
  approvalSortFrom,
  approvalTimeKey,
  type ItemKey,
  PARTITION_KEY,
  SORT_KEY,
  TTL_ATTRIBUTE,
} from './table.ts';
import { callTable, getItem, putIfVersion, type TableRef } from './table-io.ts';

/** Approvals are kept as long as outflows: reconciliation never looks further back than a rule window. */
export const APPROVAL_RETENTION_SECONDS = OUTFLOW_RETENTION_SECONDS;

export interface DynamoDbApprovedWithdrawalsOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

const NONCE_SORT_PREFIX = 'NONCE#';
const OUTPOINT_SORT_PREFIX = 'OUTPOINT#';

/**
 * How long an approved outpoint is kept: past Core's default mempool expiry (14 days) for a
 * transaction rebroadcast late, and past a poller catching up through the whole outflow retention
 * (35 days), with room to spare. Its expiry can only cause a trip, never hide a spend.
 */
export const APPROVED_OUTPOINT_RETENTION_SECONDS = 90 * 86_400;

/** BatchGetItem's limit of keys per request. */
const BATCH_GET_KEYS = 100;
/** Rounds of BatchGetItem for keys DynamoDB left unprocessed (throttling) before the read fails. */
const UNPROCESSED_ROUNDS = 8;
/** Conditional puts in flight for one approval's outpoints. */
const OUTPOINT_PUTS_IN_FLIGHT = 25;

export class DynamoDbApprovedWithdrawals
  implements ApprovedWithdrawalLog, NonceWatermarkLog, OutpointApprovalLog, ActuatorMemory
{
  private readonly client: DynamoDBClient;
  private readonly tableName: string;

  private get table(): TableRef {
    return { client: this.client, tableName: this.tableName };
  }

  constructor(options: DynamoDbApprovedWithdrawalsOptions) {
    if (!options.tableName) throw new TypeError('DynamoDbApprovedWithdrawals: tableName is required');
    this.client = options.client;
    this.tableName = options.tableName;
  }

  // ---- ApprovedWithdrawalLog ----

  async recordApprovedWithdrawal(withdrawal: ApprovedWithdrawal): Promise<ApprovedWithdrawal> {
    // First: once the approval is recorded the signer may sign, and its nonce must not trip the watermark.
    if (withdrawal.nonce !== undefined && withdrawal.hotWallet !== undefined) {
      await this.raiseNonceWatermark(withdrawal.chain, withdrawal.hotWallet, withdrawal.nonce);
    }
    // Likewise the outpoints it will spend: every one is recorded before the approval is.
    if (withdrawal.outpoints !== undefined) {
      await mapLimit(withdrawal.outpoints, OUTPOINT_PUTS_IN_FLIGHT, (outpoint) =>
        this.recordOutpoint(withdrawal, outpoint),
      );
    }
    let stored = withdrawal;
    const written = await this.putIfAbsent(approvalItem(approvalKey(withdrawal.withdrawalId), withdrawal));
    if (!written) {
      const item = await this.getItem(approvalKey(withdrawal.withdrawalId));
      // Absent after a failed "if absent": only TTL expiry in between; the caller may retry.
      if (!item)
        throw new StateConflictError(`approved withdrawal ${withdrawal.withdrawalId} changed while recording it`);
      stored = itemToApproval(item);
      if (!sameWithdrawal(stored, withdrawal)) {
        throw new StateConflictError<ApprovedWithdrawal>(
          `withdrawal id ${withdrawal.withdrawalId} was already approved with other details (${stored.chain} ${stored.amount} ${stored.asset} → ${stored.destination})`,
          stored,
        );
      }
    }
    await this.call('PutItem', () =>
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: approvalItem(approvalTimeKey(stored.chain, stored.approvedAtMs, stored.withdrawalId), stored),
        }),
      ),
    );
    return stored;
  }

  async approvedWithdrawalsBetween(chain: string, fromMs: number, toMs: number): Promise<ApprovedWithdrawal[]> {
    const from = Math.max(0, Math.floor(fromMs));
    const to = Math.max(0, Math.floor(toMs));
    if (to < from) return [];
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const out: QueryCommandOutput = await this.call('Query', () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
            ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#sk': SORT_KEY },
            ExpressionAttributeValues: {
              ':pk': { S: approvalPartition(chain) },
              ':from': { S: approvalSortFrom(from) },
              // "#" sorts before every id character, "~" after: every id at exactly `to` is included.
              ':to': { S: `${approvalSortFrom(to)}#~` },
            },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      items.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items.map(itemToApproval);
  }

  // ---- NonceWatermarkLog ----

  async nonceWatermarks(chain: string): Promise<Map<string, bigint>> {
    const marks = new Map<string, bigint>();
    let startKey: Item | undefined;
    do {
      const out: QueryCommandOutput = await this.call('Query', () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
            ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#sk': SORT_KEY },
            ExpressionAttributeValues: { ':pk': { S: approvalPartition(chain) }, ':prefix': { S: NONCE_SORT_PREFIX } },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const item of out.Items ?? []) {
        const wallet = item[SORT_KEY]?.S?.slice(NONCE_SORT_PREFIX.length);
        const nonce = item.nonce?.N;
        if (!wallet || nonce === undefined || !/^\d+$/.test(nonce)) {
          throw new Error(`malformed nonce watermark item ${item[PARTITION_KEY]?.S} ${item[SORT_KEY]?.S}`);
        }
        marks.set(wallet, BigInt(nonce));
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return marks;
  }

  /** Raise the wallet's watermark to `nonce` unless it is already at or above it. */
  private async raiseNonceWatermark(chain: string, wallet: string, nonce: bigint): Promise<void> {
    try {
      await this.call('PutItem', () =>
        this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: {
              [PARTITION_KEY]: { S: approvalPartition(chain) },
              [SORT_KEY]: { S: `${NONCE_SORT_PREFIX}${wallet.toLowerCase()}` },
              nonce: { N: nonce.toString() },
            },
            ConditionExpression: 'attribute_not_exists(#pk) OR #nonce < :nonce',
            ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#nonce': 'nonce' },
            ExpressionAttributeValues: { ':nonce': { N: nonce.toString() } },
          }),
        ),
      );
    } catch (e) {
      if (!isConditionalCheckFailed(e)) throw e;
    }
  }

  // ---- OutpointApprovalLog ----

  async approvedOutpoints(chain: string, outpoints: readonly string[]): Promise<Set<string>> {
    const approved = new Set<string>();
    const unique = [...new Set(outpoints)];
    for (let start = 0; start < unique.length; start += BATCH_GET_KEYS) {
      let keys = unique.slice(start, start + BATCH_GET_KEYS).map((outpoint) => ({
        [PARTITION_KEY]: { S: approvalPartition(chain) },
        [SORT_KEY]: { S: `${OUTPOINT_SORT_PREFIX}${outpoint}` },
      }));
      for (let round = 0; keys.length > 0; round++) {
        if (round === UNPROCESSED_ROUNDS) {
          throw new Error(
            `DynamoDB BatchGetItem on table ${this.tableName}: ${keys.length} approved-outpoint keys still unprocessed after ${round} rounds`,
          );
        }
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, 5 * 2 ** round));
        const out = await this.call('BatchGetItem', () =>
          this.client.send(
            new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
          ),
        );
        for (const item of out.Responses?.[this.tableName] ?? []) {
          const sk = item[SORT_KEY]?.S;
          if (!sk?.startsWith(OUTPOINT_SORT_PREFIX)) throw new Error(`malformed approved-outpoint item ${sk}`);
          approved.add(sk.slice(OUTPOINT_SORT_PREFIX.length));
        }
        keys = (out.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as typeof keys;
      }
    }
    return approved;
  }

  /** Record `outpoint` as approved for this withdrawal unless it already is (a replacement, a retry). */
  private async recordOutpoint(withdrawal: ApprovedWithdrawal, outpoint: string): Promise<void> {
    try {
      await this.call('PutItem', () =>
        this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: {
              [PARTITION_KEY]: { S: approvalPartition(withdrawal.chain) },
              [SORT_KEY]: { S: `${OUTPOINT_SORT_PREFIX}${outpoint}` },
              [TTL_ATTRIBUTE]: {
                N: String(Math.floor(withdrawal.approvedAtMs / 1000) + APPROVED_OUTPOINT_RETENTION_SECONDS),
              },
              withdrawalId: { S: withdrawal.withdrawalId },
              approvedAtMs: { N: String(withdrawal.approvedAtMs) },
            },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PARTITION_KEY },
          }),
        ),
      );
    } catch (e) {
      if (!isConditionalCheckFailed(e)) throw e;
    }
  }

  // ---- ActuatorMemory ----

  async getMemo(key: string): Promise<ActuatorMemo | undefined> {
    const item = await this.getItem(actuatorMemoKey(key));
    if (!item) return undefined;
    const doc = itemToDocument(item);
    if (typeof doc.version !== 'number' || typeof doc.data !== 'object' || doc.data === null) {
      throw new Error(`malformed actuator memo ${key}`);
    }
    return {
      key,
      version: doc.version,
      data: doc.data as Record<string, unknown>,
      updatedAtMs: Number(doc.updatedAtMs),
    };
  }

  async putMemo(memo: ActuatorMemo, expectedVersion: number | undefined): Promise<boolean> {
    const item = documentToItem(actuatorMemoKey(memo.key), {
      version: memo.version,
      data: memo.data,
      updatedAtMs: memo.updatedAtMs,
    });
    return putIfVersion(this.table, item, expectedVersion);
  }

  // ---- plumbing ----

  private putIfAbsent(item: Item): Promise<boolean> {
    return putIfVersion(this.table, item, undefined);
  }

  private getItem(key: ItemKey): Promise<Item | undefined> {
    return getItem(this.table, key);
  }

  private call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    return callTable(this.table, operation, send);
  }
}

function approvalItem(key: ItemKey, w: ApprovedWithdrawal): Item {
  return {
    [PARTITION_KEY]: { S: key.pk },
    [SORT_KEY]: { S: key.sk },
    [TTL_ATTRIBUTE]: { N: String(Math.floor(w.approvedAtMs / 1000) + APPROVAL_RETENTION_SECONDS) },
    withdrawalId: { S: w.withdrawalId },
    chain: { S: w.chain },
    asset: { S: w.asset },
    destination: { S: w.destination },
    amount: { S: w.amount.toString() },
    approvedAtMs: { N: String(w.approvedAtMs) },
  };
}

function itemToApproval(item: Item): ApprovedWithdrawal {
  const s = (name: string): string => {
    const v = item[name]?.S;
    if (v === undefined)
      throw new Error(`malformed approved-withdrawal item ${item[PARTITION_KEY]?.S}: field "${name}"`);
    return v;
  };
  const amount = s('amount');
  const at = Number(item.approvedAtMs?.N);
  if (!/^\d+$/.test(amount) || !Number.isSafeInteger(at)) {
    throw new Error(`malformed approved-withdrawal item ${item[PARTITION_KEY]?.S}`);
  }
  return {
    withdrawalId: s('withdrawalId'),
    chain: s('chain'),
    asset: s('asset'),
    destination: s('destination'),
    amount: BigInt(amount),
    approvedAtMs: at,
  };
}
