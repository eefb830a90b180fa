import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { PARTITION_KEY, SORT_KEY, STATE_KEY, TTL_ATTRIBUTE } from '../../functions/adapters/dynamodb/table.ts';
import type { BreakerFunction } from './breaker-function.ts';
import type { TableAccess, TableAction } from './table-access.ts';

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
    const actions = Object.keys(access) as TableAction[];
    for (const action of actions) {
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: `BreakerTable${action}`,
          actions: [`dynamodb:${action}`],
          resources: [this.table.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...(access[action] ?? [])] } },
        }),
      );
    }
    const writes = actions.some((a) => WRITE_ACTIONS.has(a));
    fn.role.addToPrincipalPolicy(this.keyStatement('BreakerTableKey', writes));
  }

  /**
   * What the guard in a signing service needs to record approved withdrawals: put (and, on a retry,
   * read back) its two approval items, and nothing else in the table.
   */
  approvalStatements(): iam.PolicyStatement[] {
    return [
      new iam.PolicyStatement({
        sid: 'RecordApprovedWithdrawals',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        resources: [this.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['WITHDRAWAL#*', 'APPROVED#*'] } },
      }),
      this.keyStatement('EncryptApprovedWithdrawals', true),
    ];
  }

  /** What a signing service needs to read the kill switch: the state item only. */
  signerStatements(): iam.PolicyStatement[] {
    return [
      new iam.PolicyStatement({
        sid: 'ReadBreakerState',
        actions: ['dynamodb:GetItem'],
        resources: [this.table.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [STATE_KEY.pk] } },
      }),
      this.keyStatement('DecryptBreakerState', false),
    ];
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
