import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from '../../functions/adapters/dynamodb/table.ts';
import type { BreakerFunction } from './breaker-function.ts';
import { putsExpiringItems, TABLE_ACCESS, type TableAccess, type TableAction } from './table-access.ts';

const WRITE_ACTIONS: ReadonlySet<TableAction> = new Set(['PutItem', 'BatchWriteItem']);

/**
 * The single table (state, cursors, outflows, audit) with the key layout the DynamoDB adapter defines: on-demand,
 * point-in-time recovery, deletion protection, TTL on outflow records, encrypted with a customer-managed key.
 */
export class BreakerTable extends Construct {
  readonly table: dynamodb.TableV2;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'hot-wallet-breaker table: breaker state, outflow ledger, audit',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: { name: PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: SORT_KEY, type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      encryption: dynamodb.TableEncryptionV2.customerManagedKey(this.key),
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * Grant exactly `access` (infra/constructs/table-access.ts): each operation only on its partition keys, through
   * `dynamodb:LeadingKeys`, plus the key uses it implies; sets BREAKER_TABLE.
   */
  grant(fn: BreakerFunction, access: TableAccess): void {
    fn.function.addEnvironment('BREAKER_TABLE', this.table.tableName);
    for (const statement of this.accessStatements(access, 'BreakerTable')) fn.role.addToPrincipalPolicy(statement);
  }

  /**
   * What the guard in a signing service needs (`TABLE_ACCESS.signer`): read the state and the trip records, and
   * record approved withdrawals; nothing else in the table.
   */
  signerStatements(): iam.PolicyStatement[] {
    return this.accessStatements(TABLE_ACCESS.signer, 'Signer');
  }

  /** One statement per operation, scoped to its partition keys, plus the key uses the operations imply. */
  private accessStatements(access: TableAccess, sidPrefix: string): iam.PolicyStatement[] {
    const actions = Object.keys(access) as TableAction[];
    return [
      ...actions.map(
        (action) =>
          new iam.PolicyStatement({
            sid: `${sidPrefix}${action}`,
            actions: [`dynamodb:${action}`],
            resources: [this.table.tableArn],
            conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...(access[action] ?? [])] } },
          }),
      ),
      this.keyStatement(
        `${sidPrefix}Key`,
        actions.some((a) => WRITE_ACTIONS.has(a)),
      ),
      ...(access.PutItem && !putsExpiringItems(access) ? [this.noExpiryStatement(`${sidPrefix}PutItemNoExpiry`)] : []),
    ];
  }

  /** Deny any PutItem carrying the TTL attribute (table-access.ts `putsExpiringItems` says why). */
  private noExpiryStatement(sid: string): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid,
      effect: iam.Effect.DENY,
      actions: ['dynamodb:PutItem'],
      resources: [this.table.tableArn],
      conditions: { 'ForAnyValue:StringEquals': { 'dynamodb:Attributes': [TTL_ATTRIBUTE] } },
    });
  }

  /** DynamoDB uses the key on the caller's behalf; `kms:ViaService` keeps it usable only through DynamoDB. */
  private keyStatement(sid: string, writes: boolean): iam.PolicyStatement {
    const read = ['kms:Decrypt', 'kms:DescribeKey'];
    const write = ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'];
    return new iam.PolicyStatement({
      sid,
      actions: writes ? [...read, ...write] : read,
      resources: [this.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` } },
    });
  }
}
