/**
 * The single-table layout. Everything the breaker stores lives in one table keyed by string pk/sk, so
 * the CDK stack, the local runtime and the tests must agree on these names: the stack mirrors
 * `tableDefinition` (pk string partition key, sk string sort key, TTL on `expiresAt`).
 *
 * | item          | pk               | sk                                                    |
 * |---------------|------------------|-------------------------------------------------------|
 * | chain cursor  | CURSOR#<chain>   | CURSOR                                                |
 * | eval progress | EVAL#<chain>     | EVAL                                                  |
 * | summary       | SUM#<chain>      | SUM                                                   |
 * | outflow       | OUT#<chain>      | <t:10>#<block:12>#<txHash>#<index or 'native'>        |
 * | breaker state | BREAKER          | STATE                                                 |
 * | init marker   | INIT             | STATE                                                 |
 * | trip record   | TRIP             | <scope key>#<trip atMs:13>#<tripId>                   |
 * | trip release  | RELEASE          | the sort key of the trip it releases                  |
 * | audit record  | AUDIT            | <atMs:13>#<id>                                        |
| approval      | WITHDRAWAL#<id>  | WITHDRAWAL                                            |
| approval/time | APPROVED#<chain> | <approvedAtMs:13>#<withdrawalId>                      |
| actuator memo | ACTUATOR         | <memo key>                                            |
 *
 * Numbers in sort keys are zero-padded so that string order is numeric order: a Query on an outflow
 * partition returns records ascending by (window time, block), and audit newest-first is a reverse Query.
 */

import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { OUTFLOW_RETENTION_SECONDS } from '../../core/retention.ts';

export const PARTITION_KEY = 'pk';
export const SORT_KEY = 'sk';
/** DynamoDB TTL attribute (Unix seconds). Only outflow records carry it. */
export const TTL_ATTRIBUTE = 'expiresAt';

const T_DIGITS = 10;
const BLOCK_DIGITS = 12;
const AT_MS_DIGITS = 13;

export interface ItemKey {
  pk: string;
  sk: string;
}

export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    AttributeDefinitions: [
      { AttributeName: PARTITION_KEY, AttributeType: 'S' },
      { AttributeName: SORT_KEY, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: PARTITION_KEY, KeyType: 'HASH' },
      { AttributeName: SORT_KEY, KeyType: 'RANGE' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

export function cursorKey(chain: string): ItemKey {
  return { pk: `CURSOR#${chain}`, sk: 'CURSOR' };
}

/** How far a chain's poller evaluated (core/evaluation-progress.ts): written by that poller only. */
export function progressKey(chain: string): ItemKey {
  return { pk: `EVAL#${chain}`, sk: 'EVAL' };
}

/** A chain's window summary (core/windows/summary.ts): written by that chain's poller, read by every poller. */
export function summaryKey(chain: string): ItemKey {
  return { pk: `SUM#${chain}`, sk: 'SUM' };
}

export const STATE_KEY: ItemKey = { pk: 'BREAKER', sk: 'STATE' };

/**
 * Who writes what (docs/SECURITY.md; the IAM policies grant PutItem per partition key with
 * dynamodb:LeadingKeys): INIT only the initialiser; TRIP pollers and operators; RELEASE only the
 * reset and console roles. The halt scope is in the sort key, so overwriting a trip record cannot
 * change what it halts, and a role that can only write TRIP can never release a trip.
 */
export const INIT_KEY: ItemKey = { pk: 'INIT', sk: 'STATE' };
export const TRIP_PARTITION = 'TRIP';
export const RELEASE_PARTITION = 'RELEASE';

/** A trip is named by scope, time and id: trip ids restart with the state version after a re-initialisation. */
export interface TripName {
  scope: string;
  atMs: number;
  tripId: string;
}

export function tripKey(trip: TripName): ItemKey {
  return { pk: TRIP_PARTITION, sk: tripSortKey(trip) };
}

export function releaseKey(trip: TripName): ItemKey {
  return { pk: RELEASE_PARTITION, sk: tripSortKey(trip) };
}

/** Scope keys never contain '#' (chain ids are [a-z0-9-]), so the first '#' splits the scope off. */
function tripSortKey(trip: TripName): string {
  if (trip.scope.includes('#')) throw new RangeError(`scope key must not contain '#': ${trip.scope}`);
  return `${trip.scope}#${pad(trip.atMs, AT_MS_DIGITS, 'trip atMs')}#${trip.tripId}`;
}

/** The trip a trip or release sort key names. */
export function parseTripSortKey(sk: string): TripName {
  const match = /^([^#]+)#(\d{13})#(.+)$/.exec(sk);
  if (!match) throw new RangeError(`not a trip sort key: ${sk}`);
  return { scope: match[1] as string, atMs: Number(match[2]), tripId: match[3] as string };
}

export const AUDIT_PARTITION = 'AUDIT';

export function auditKey(atMs: number, id: string): ItemKey {
  return { pk: AUDIT_PARTITION, sk: `${pad(atMs, AT_MS_DIGITS, 'atMs')}#${id}` };
}

export function outflowPartition(chain: string): string {
  return `OUT#${chain}`;
}

export function outflowKey(r: {
  chain: string;
  t: number;
  block: number;
  txHash: string;
  index: number | null;
}): ItemKey {
  const sk = `${pad(r.t, T_DIGITS, 't')}#${pad(r.block, BLOCK_DIGITS, 'block')}#${r.txHash}#${r.index ?? 'native'}`;
  return { pk: outflowPartition(r.chain), sk };
}

/** An approved withdrawal by id (idempotency: one per withdrawal id, never overwritten). */
export function approvalKey(withdrawalId: string): ItemKey {
  return { pk: `WITHDRAWAL#${withdrawalId}`, sk: 'WITHDRAWAL' };
}

/** The same approval in its chain's time-ordered partition (reconciliation queries a time range). */
export function approvalTimeKey(chain: string, approvedAtMs: number, withdrawalId: string): ItemKey {
  return { pk: approvalPartition(chain), sk: `${approvalSortFrom(approvedAtMs)}#${withdrawalId}` };
}

export function approvalPartition(chain: string): string {
  return `APPROVED#${chain}`;
}

/** The smallest approval sort key at or after `atMs` (a bare padded number sorts before "<it>#…"). */
export function approvalSortFrom(atMs: number): string {
  return pad(atMs, AT_MS_DIGITS, 'approvedAtMs');
}

export const ACTUATOR_PARTITION = 'ACTUATOR';

export function actuatorMemoKey(key: string): ItemKey {
  return { pk: ACTUATOR_PARTITION, sk: key };
}

/** The smallest outflow sort key with window time >= t: a bare padded number sorts before "<it>#…". */
export function outflowSortFrom(t: number): string {
  return pad(t, T_DIGITS, 't');
}

export function outflowExpiresAt(t: number): number {
  return t + OUTFLOW_RETENTION_SECONDS;
}

/** A value that does not fit its width would sort out of order and silently break windows, so refuse it. */
function pad(value: number, digits: number, name: string): string {
  if (!Number.isSafeInteger(value) || value < 0 || value >= 10 ** digits) {
    throw new RangeError(`${name} must be an integer in [0, 10^${digits}), got ${value}`);
  }
  return String(value).padStart(digits, '0');
}
