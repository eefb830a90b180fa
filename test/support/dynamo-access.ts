/**
 * What a DynamoDB client actually sent, reduced to (operation, partition key) pairs, and whether an IAM
 * `dynamodb:LeadingKeys` grant (infra/constructs/table-access.ts) allows each: the link between the handlers'
 * real traffic and the synthesised policies.
 */
import { LOCAL_TOKEN_HEADER } from '../../functions/adapters/dynamodb/local-dynamo.ts';
import type { TableAccess, TableAction } from '../../infra/constructs/table-access.ts';
import { dynamoOperation, type FaultProxy, FORWARD, type ProxyRequest, startFaultProxy } from './fault-proxy.ts';

export interface TableCall {
  operation: string;
  pk: string;
}

type AttrMap = Record<string, { S?: string }>;

/** The partition keys of one DynamoDB request (Key, Item, a Query's `#pk = :pk`, every BatchWriteItem request and BatchGetItem key). */
export function tableCalls(req: ProxyRequest): TableCall[] {
  const operation = dynamoOperation(req);
  const body = JSON.parse(req.body || '{}') as Record<string, unknown>;
  const pks: (string | undefined)[] = [];
  if (operation === 'Query') {
    const values = (body.ExpressionAttributeValues ?? {}) as AttrMap;
    pks.push(values[':pk']?.S);
  } else if (operation === 'BatchWriteItem') {
    for (const writes of Object.values(
      (body.RequestItems ?? {}) as Record<string, Record<string, { Item?: AttrMap; Key?: AttrMap }>[]>,
    )) {
      for (const w of writes) {
        const item = w.PutRequest?.Item ?? w.DeleteRequest?.Key;
        pks.push(item?.pk?.S);
      }
    }
  } else if (operation === 'BatchGetItem') {
    for (const read of Object.values((body.RequestItems ?? {}) as Record<string, { Keys?: AttrMap[] }>)) {
      for (const key of read.Keys ?? []) pks.push(key.pk?.S);
    }
  } else {
    pks.push(((body.Key ?? body.Item) as AttrMap | undefined)?.pk?.S);
  }
  return pks.map((pk) => ({ operation, pk: pk ?? '<no partition key>' }));
}

/**
 * A proxy in front of the local store that reports every call and adds the store's per-run secret, so clients
 * built from the Lambda environment (AWS_ENDPOINT_URL_DYNAMODB, no token) can reach it.
 */
export function startRecordingProxy(
  store: { endpoint: string; token?: string },
  record: (calls: TableCall[]) => void,
): Promise<FaultProxy> {
  return startFaultProxy(store.endpoint, (req) => {
    record(tableCalls(req));
    if (store.token) (req.headers as Record<string, string | string[] | undefined>)[LOCAL_TOKEN_HEADER] = store.token;
    return FORWARD;
  });
}

/** The calls `access` does not allow (IAM StringLike: `*` matches any run of characters). */
export function deniedCalls(access: TableAccess, calls: readonly TableCall[]): TableCall[] {
  return calls.filter((c) => !(access[c.operation as TableAction] ?? []).some((p) => likeMatch(p, c.pk)));
}

function likeMatch(pattern: string, value: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map(escapeRegex).join('.*')}$`);
  return regex.test(value);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
