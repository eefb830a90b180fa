import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbApprovedWithdrawals } from '../adapters/dynamodb/dynamodb-approved-withdrawals.ts';
import { DynamoDbBreakerStore } from '../adapters/dynamodb/dynamodb-breaker-store.ts';

/**
 * The breaker table's two faces: the breaker's store and the actuators' memory. Apart from
 * compose.ts so that a CLI command that only reads or writes the table (`breaker status`, `reset`)
 * does not load every chain adapter and AWS client the runtimes need (seconds at start-up).
 */
export function tableStores(
  client: DynamoDBClient,
  tableName: string,
): { store: DynamoDbBreakerStore; memory: DynamoDbApprovedWithdrawals } {
  return {
    store: breakerTableStore(client, tableName),
    memory: new DynamoDbApprovedWithdrawals({ client, tableName }),
  };
}

/** The breaker's store on the table: the one place it is constructed (the guard reads state through it too). */
export function breakerTableStore(client: DynamoDBClient, tableName: string): DynamoDbBreakerStore {
  return new DynamoDbBreakerStore({ client, tableName });
}
