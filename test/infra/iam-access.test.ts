import { beforeAll, describe, expect, it } from 'vitest';
import {
  actionsOf,
  exampleConfigWith,
  findId,
  functionStatements,
  identityStatements,
  type Json,
  type Resource,
  synthExample,
} from './synth.ts';

/**
 * Security review §4 / issue 11 item 2: which role may call what on which keys, read from the synthesised policies.
 * The table layout is functions/adapters/dynamodb/table.ts; a partition key pattern ends in `*` where a role
 * may touch every chain's partition.
 */
const KEY = '1234abcd-12ab-34cd-56ef-1234567890ab';
let resources: Record<string, Resource>;
let withActuators: Record<string, Resource>;

beforeAll(() => {
  resources = synthExample().resources;
  withActuators = synthExample(
    exampleConfigWith({
      actuators: {
        lambdaConcurrency: { functions: ['eth-signer'] },
        kmsKeys: { keys: [KEY] },
      },
    }),
  ).resources;
});

/** Per DynamoDB action on the breaker table, the partition keys a function's role may use it on. */
function tableAccess(res: Record<string, Resource>, fnPrefix: string): Record<string, string[]> {
  const table = JSON.stringify({ 'Fn::GetAtt': [findId(res, 'StoreTable'), 'Arn'] });
  const out: Record<string, string[]> = {};
  for (const s of functionStatements(res, findId(res, fnPrefix))) {
    if (JSON.stringify(s.Resource) !== table) continue;
    // Every table statement is scoped to partition keys: a grant without the condition would cover the whole table.
    const keys = s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] as string[] | undefined;
    expect(keys, `${fnPrefix} ${s.Sid}: no dynamodb:LeadingKeys condition`).toBeDefined();
    expect(Object.keys(s.Condition ?? {})).toEqual(['ForAllValues:StringLike']);
    for (const a of actionsOf(s))
      out[a.replace('dynamodb:', '')] = [...(out[a.replace('dynamodb:', '')] ?? []), ...keys!].sort();
  }
  return out;
}

describe('table access: each function only the operations and partitions it uses', () => {
  it('pollers: read and write the state, their own cursor, audit and actuator memos; batch-write only their own outflows', () => {
    for (const chain of ['ethereum', 'bsc', 'bitcoin']) {
      expect(tableAccess(resources, `Chain${chain}PollerFunction`)).toEqual({
        GetItem: ['ACTUATOR', 'BREAKER', `CURSOR#${chain}`],
        PutItem: ['ACTUATOR', 'AUDIT', 'BREAKER', `CURSOR#${chain}`],
        // Rules sum every chain's outflows; reconciliation reads this chain's approvals.
        Query: [`APPROVED#${chain}`, 'OUT#*'],
        BatchWriteItem: [`OUT#${chain}`],
      });
    }
  });

  it('reset (URL and break-glass): the state, audit and actuator memos only', () => {
    for (const fn of ['OperatorsResetFunction', 'OperatorsResetDirectFunction']) {
      expect(tableAccess(resources, fn)).toEqual({
        GetItem: ['ACTUATOR', 'BREAKER'],
        PutItem: ['ACTUATOR', 'AUDIT', 'BREAKER'],
      });
    }
  });

  it('console: also reads cursors, outflows and the audit log for its views', () => {
    expect(tableAccess(resources, 'ConsoleApiFunction')).toEqual({
      GetItem: ['ACTUATOR', 'BREAKER', 'CURSOR#*'],
      PutItem: ['ACTUATOR', 'AUDIT', 'BREAKER'],
      Query: ['AUDIT', 'OUT#*'],
    });
  });

  it('status: reads only', () => {
    expect(tableAccess(resources, 'OperatorsStatusFunction')).toEqual({
      GetItem: ['BREAKER', 'CURSOR#*'],
      Query: ['AUDIT'],
    });
  });

  it('nobody holds UpdateItem, DeleteItem, Scan or any other table operation the code never sends', () => {
    const used = new Set(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem']);
    const dynamo = identityStatements(resources)
      .flatMap(({ holder, statement }) => actionsOf(statement).map((a) => `${holder} ${a}`))
      .filter((x) => x.includes(' dynamodb:'));
    expect(dynamo.length).toBeGreaterThan(0);
    expect(dynamo.filter((x) => !used.has(x.split(' ')[1]!))).toEqual([]);
  });
});

describe('the component that halts cannot resume', () => {
  const RELEASE = ['kms:EnableKey', 'lambda:DeleteFunctionConcurrency'];
  const ENGAGE = ['kms:DisableKey', 'lambda:PutFunctionConcurrency'];
  const actuation = (fnPrefix: string) =>
    functionStatements(withActuators, findId(withActuators, fnPrefix))
      .flatMap(actionsOf)
      .filter((a) => a.startsWith('kms:') || a.startsWith('lambda:'))
      .filter((a) => [...RELEASE, ...ENGAGE].includes(a))
      .sort();

  it('pollers hold only the engage half (DisableKey, PutFunctionConcurrency)', () => {
    for (const chain of ['ethereum', 'bsc', 'bitcoin']) {
      expect(actuation(`Chain${chain}PollerFunction`)).toEqual(['kms:DisableKey', 'lambda:PutFunctionConcurrency']);
    }
  });

  it('the operator path (reset, break-glass reset, console) holds both halves', () => {
    for (const fn of ['OperatorsResetFunction', 'OperatorsResetDirectFunction', 'ConsoleApiFunction']) {
      expect(actuation(fn)).toEqual([
        'kms:DisableKey',
        'kms:EnableKey',
        'lambda:DeleteFunctionConcurrency',
        'lambda:PutFunctionConcurrency',
      ]);
    }
  });

  it('no other principal in the stack may release a kill-switch layer', () => {
    const holders = identityStatements(withActuators)
      .filter(({ statement }) => actionsOf(statement).some((a) => RELEASE.includes(a)))
      .map(({ holder }) => holder);
    expect([...new Set(holders)].sort()).toEqual(
      ['role:ConsoleApiRole', 'role:OperatorsResetDirectRole', 'role:OperatorsResetRole'].sort(),
    );
  });

  it('the only Resource "*" statements are X-Ray tracing, so the IAM5 suppression cannot hide another', () => {
    const star = identityStatements(withActuators).filter(
      ({ statement }) => statement.Resource === '*' || (statement.Resource as Json[])?.includes?.('*'),
    );
    expect(star.length).toBeGreaterThan(0);
    for (const { statement } of star) {
      expect(actionsOf(statement).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    }
  });
});
