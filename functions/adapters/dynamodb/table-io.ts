import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { Item } from './item-codec.ts';
import { isConditionalCheckFailed, translateStoreError } from './store-errors.ts';
import { type ItemKey, PARTITION_KEY, SORT_KEY } from './table.ts';

/** The single-item operations every adapter on the breaker table shares. */
export interface TableRef {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

/** Run one SDK call, translating vendor errors into BreakerErrors at the boundary. */
export async function callTable<T>(table: TableRef, operation: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (e) {
    throw translateStoreError(e, operation, table.tableName);
  }
}

/** Strongly consistent GetItem. */
export async function getItem(table: TableRef, key: ItemKey): Promise<Item | undefined> {
  const out = await callTable(table, 'GetItem', () =>
    table.client.send(
      new GetItemCommand({
        TableName: table.tableName,
        Key: { [PARTITION_KEY]: { S: key.pk }, [SORT_KEY]: { S: key.sk } },
        ConsistentRead: true,
      }),
    ),
  );
  return out.Item;
}

/**
 * PutItem only if the stored item's `version` is `expectedVersion` (undefined: only if no item
 * exists). False when the condition failed — the caller decides whether that is a conflict.
 */
export async function putIfVersion(table: TableRef, item: Item, expectedVersion: number | undefined): Promise<boolean> {
  try {
    await callTable(table, 'PutItem', () =>
      table.client.send(
        new PutItemCommand({
          TableName: table.tableName,
          Item: item,
          ...(expectedVersion === undefined
            ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': PARTITION_KEY } }
            : {
                ConditionExpression: '#version = :expected',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':expected': { N: String(expectedVersion) } },
              }),
        }),
      ),
    );
    return true;
  } catch (e) {
    if (isConditionalCheckFailed(e)) return false;
    throw e;
  }
}
