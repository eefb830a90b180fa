import {
  ACTUATOR_PARTITION,
  AUDIT_PARTITION,
  approvalKey,
  approvalPartition,
  cursorKey,
  INIT_KEY,
  outflowPartition,
  progressKey,
  RELEASE_PARTITION,
  STATE_KEY,
  summaryKey,
  TRIP_PARTITION,
} from '../../functions/adapters/dynamodb/table.ts';

/** Every approval item: `WITHDRAWAL#<id>` and the chain copies/watermarks in `APPROVED#<chain>`. */
const APPROVALS = [approvalKey('*').pk, approvalPartition('*')];

/**
 * Does a role put items that legitimately expire (the table's TTL attribute)? Only approvals do; outflows, which
 * expire too, are written with BatchWriteItem. Every other PutItem is denied the TTL attribute: a trip record or
 * state written with a past expiry would be deleted by DynamoDB itself — an un-trip nobody wrote.
 */
export function putsExpiringItems(access: TableAccess): boolean {
  return (access.PutItem ?? []).some((key) => APPROVALS.includes(key));
}

/**
 * The table operations the code sends (GetItem, PutItem, Query, BatchWriteItem — deletes of outflows go through
 * BatchWriteItem — and BatchGetItem for the chains' window summaries; for a batch, LeadingKeys holds every key's
 * partition). UpdateItem, DeleteItem and Scan are never granted: a Scan would carry no partition key, and a
 * `ForAllValues` condition is true when its key is absent (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html).
 */
export type TableAction = 'GetItem' | 'PutItem' | 'Query' | 'BatchWriteItem' | 'BatchGetItem';

/**
 * Per operation, the partition keys a function may touch: IAM `StringLike` patterns matched against
 * `dynamodb:LeadingKeys` (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html).
 * `*` stands for every chain id.
 */
export type TableAccess = Readonly<Partial<Record<TableAction, readonly string[]>>>;

const EVERY_CHAIN = '*';

/**
 * Who touches which items, from what each handler sends (test/handlers/handlers.test.ts records the calls and checks
 * them against this): the keys are the adapter's (functions/adapters/dynamodb/table.ts).
 */
export const TABLE_ACCESS = {
  /**
   * One chain's poller: state, its own cursor, evaluation progress and window summary, audit and actuator memos,
   * trip records (never releases: a poller cannot un-halt a trip); rules read every chain's summary and outflows.
   * A UTXO chain's poller also batch-reads its chain's approved outpoints (the spent-outpoint watermark,
   * functions/core/watermark/outpoints.ts).
   */
  poller: (chain: string, options: { readsApprovedOutpoints?: boolean } = {}): TableAccess => ({
    GetItem: [STATE_KEY.pk, INIT_KEY.pk, cursorKey(chain).pk, progressKey(chain).pk, ACTUATOR_PARTITION],
    PutItem: [
      STATE_KEY.pk,
      TRIP_PARTITION,
      cursorKey(chain).pk,
      progressKey(chain).pk,
      summaryKey(chain).pk,
      AUDIT_PARTITION,
      ACTUATOR_PARTITION,
    ],
    Query: [outflowPartition(EVERY_CHAIN), approvalPartition(chain), TRIP_PARTITION, RELEASE_PARTITION],
    BatchWriteItem: [outflowPartition(chain)],
    BatchGetItem: [summaryKey(EVERY_CHAIN).pk, ...(options.readsApprovedOutpoints ? [approvalPartition(chain)] : [])],
  }),
  /**
   * reset-breaker and reset-breaker-direct: the state, trip releases, its audit and the actuators' memos; INIT and
   * TRIP for the tamper check every commit makes (a missing state is tripped, not re-created); every chain's
   * evaluation progress, read only (what a reset reviews).
   */
  reset: {
    GetItem: [STATE_KEY.pk, INIT_KEY.pk, progressKey(EVERY_CHAIN).pk, ACTUATOR_PARTITION],
    PutItem: [STATE_KEY.pk, TRIP_PARTITION, RELEASE_PARTITION, AUDIT_PARTITION, ACTUATOR_PARTITION],
    Query: [TRIP_PARTITION, RELEASE_PARTITION],
  } satisfies TableAccess,
  /** The ops console: what reset does, plus the views (chain health, totals, history). */
  console: {
    GetItem: [STATE_KEY.pk, INIT_KEY.pk, cursorKey(EVERY_CHAIN).pk, progressKey(EVERY_CHAIN).pk, ACTUATOR_PARTITION],
    PutItem: [STATE_KEY.pk, TRIP_PARTITION, RELEASE_PARTITION, AUDIT_PARTITION, ACTUATOR_PARTITION],
    Query: [AUDIT_PARTITION, outflowPartition(EVERY_CHAIN), TRIP_PARTITION, RELEASE_PARTITION],
  } satisfies TableAccess,
  /** breaker-status: read-only (the state with its open trip records, cursors, recent audit). */
  status: {
    GetItem: [STATE_KEY.pk, cursorKey(EVERY_CHAIN).pk],
    Query: [AUDIT_PARTITION, TRIP_PARTITION, RELEASE_PARTITION],
  } satisfies TableAccess,
  /**
   * The deploy-time initialisation (custom resource): the init marker, the armed state, its audit record, and the
   * first mirror of the kill-switch layers (actuator memos, open trips).
   */
  init: {
    GetItem: [STATE_KEY.pk, INIT_KEY.pk, ACTUATOR_PARTITION],
    PutItem: [INIT_KEY.pk, STATE_KEY.pk, AUDIT_PARTITION, ACTUATOR_PARTITION],
    Query: [TRIP_PARTITION, RELEASE_PARTITION],
  } satisfies TableAccess,
  /**
   * A signing service's guard (the exported signer policy): the state and the open trip records, and its approval
   * items (test/infra/signer-access.test.ts runs the guard through a recorder against this).
   */
  signer: {
    GetItem: [STATE_KEY.pk, approvalKey('*').pk],
    PutItem: APPROVALS,
    Query: [TRIP_PARTITION, RELEASE_PARTITION],
  } satisfies TableAccess,
} as const;

/**
 * One role's access for several parts at once (a poller group: each chain's poller access), per operation the
 * union of their partition keys. `ForAllValues:StringLike` then lets a batch mix the parts' keys, which each part
 * alone could not: the group's chains share one role, and with it every one of their partitions.
 */
export function unionTableAccess(parts: readonly TableAccess[]): TableAccess {
  const union: Partial<Record<TableAction, string[]>> = {};
  for (const part of parts) {
    for (const [action, keys] of Object.entries(part) as [TableAction, readonly string[]][]) {
      union[action] = [...new Set([...(union[action] ?? []), ...keys])];
    }
  }
  return union;
}
