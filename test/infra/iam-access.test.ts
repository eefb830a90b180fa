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
    if (JSON.stringify(s.Resource) !== table || s.Effect === 'Deny') continue;
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
  it('pollers: read and write the state, their own cursor, progress and summary, audit and actuator memos; batch-write only their own outflows', () => {
    for (const chain of ['ethereum', 'bsc', 'bitcoin']) {
      expect(tableAccess(resources, `Chain${chain}PollerFunction`)).toEqual({
        GetItem: ['ACTUATOR', 'BREAKER', `CURSOR#${chain}`, `EVAL#${chain}`, 'INIT'],
        // TRIP but never RELEASE: a poller can record a trip, not release one; only its own chain's progress and summary.
        PutItem: ['ACTUATOR', 'AUDIT', 'BREAKER', `CURSOR#${chain}`, `EVAL#${chain}`, `SUM#${chain}`, 'TRIP'],
        // Rules sum every chain's outflows; reconciliation reads this chain's approvals and nonce watermarks.
        Query: [`APPROVED#${chain}`, 'OUT#*', 'RELEASE', 'TRIP'],
        BatchWriteItem: [`OUT#${chain}`],
        // Global limits are bounded from every chain's window summary (docs/SCALE.md); the spent-outpoint
        // watermark (UTXO chains only) batch-reads this chain's approved outpoints.
        BatchGetItem: chain === 'bitcoin' ? [`APPROVED#${chain}`, 'SUM#*'] : ['SUM#*'],
      });
    }
  });

  it('reset (URL and break-glass): the state, trip records and their releases, audit and actuator memos; reads evaluation progress', () => {
    for (const fn of ['OperatorsResetFunction', 'OperatorsResetDirectFunction']) {
      expect(tableAccess(resources, fn)).toEqual({
        GetItem: ['ACTUATOR', 'BREAKER', 'EVAL#*', 'INIT'],
        PutItem: ['ACTUATOR', 'AUDIT', 'BREAKER', 'RELEASE', 'TRIP'],
        Query: ['RELEASE', 'TRIP'],
      });
    }
  });

  it('console: also reads cursors, outflows and the audit log for its views', () => {
    expect(tableAccess(resources, 'ConsoleApiFunction')).toEqual({
      GetItem: ['ACTUATOR', 'BREAKER', 'CURSOR#*', 'EVAL#*', 'INIT'],
      PutItem: ['ACTUATOR', 'AUDIT', 'BREAKER', 'RELEASE', 'TRIP'],
      Query: ['AUDIT', 'OUT#*', 'RELEASE', 'TRIP'],
    });
  });

  it('status: reads only', () => {
    expect(tableAccess(resources, 'OperatorsStatusFunction')).toEqual({
      GetItem: ['BREAKER', 'CURSOR#*'],
      Query: ['AUDIT', 'RELEASE', 'TRIP'],
    });
  });

  it('only the operator path may write RELEASE (release a trip)', () => {
    const writers = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
      .filter(([id]) => {
        const prefix = id.replace(/[0-9A-F]{8}$/, '');
        return (tableAccess(resources, prefix).PutItem ?? []).includes('RELEASE');
      })
      .map(([, r]) => r.Properties.FunctionName)
      .sort();
    expect(writers).toEqual([
      'example-exchange-ops-console',
      'example-exchange-reset-breaker',
      'example-exchange-reset-breaker-direct',
    ]);
  });

  it('signer (the exported policy): the state and trip records, its approval items', () => {
    const policy = resources[findId(resources, 'KillSwitchSignerPolicy')]!;
    const table = JSON.stringify({ 'Fn::GetAtt': [findId(resources, 'StoreTable'), 'Arn'] });
    const access: Record<string, string[]> = {};
    for (const s of policy.Properties.PolicyDocument.Statement as Json[]) {
      if (JSON.stringify(s.Resource) !== table) continue;
      access[String(s.Action).replace('dynamodb:', '')] = [
        ...s.Condition['ForAllValues:StringLike']['dynamodb:LeadingKeys'],
      ].sort();
    }
    expect(access).toEqual({
      GetItem: ['BREAKER', 'WITHDRAWAL#*'],
      PutItem: ['APPROVED#*', 'WITHDRAWAL#*'],
      Query: ['RELEASE', 'TRIP'],
    });
  });

  it('no function may put an item carrying the TTL attribute (a trip record written to expire is an un-trip); the signer may, for its approvals', () => {
    const table = JSON.stringify({ 'Fn::GetAtt': [findId(resources, 'StoreTable'), 'Arn'] });
    const putters = Object.keys(resources).filter(
      (id) =>
        resources[id]!.Type === 'AWS::Lambda::Function' &&
        functionStatements(resources, id).some((s) => s.Effect !== 'Deny' && actionsOf(s).includes('dynamodb:PutItem')),
    );
    expect(putters.length).toBeGreaterThanOrEqual(5);
    for (const id of putters) {
      const deny = functionStatements(resources, id).filter(
        (s) => s.Effect === 'Deny' && actionsOf(s).includes('dynamodb:PutItem') && JSON.stringify(s.Resource) === table,
      );
      expect(
        deny.map((s) => s.Condition),
        id,
      ).toEqual([{ 'ForAnyValue:StringEquals': { 'dynamodb:Attributes': ['expiresAt'] } }]);
    }
    const signer = resources[findId(resources, 'KillSwitchSignerPolicy')]!.Properties.PolicyDocument
      .Statement as Json[];
    expect(signer.filter((s) => s.Effect === 'Deny')).toEqual([]);
  });

  it('nobody holds UpdateItem, DeleteItem, Scan or any other table operation the code never sends', () => {
    const used = new Set([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:BatchWriteItem',
      'dynamodb:BatchGetItem',
    ]);
    const dynamo = identityStatements(resources)
      .flatMap(({ holder, statement }) => actionsOf(statement).map((a) => `${holder} ${a}`))
      .filter((x) => x.includes(' dynamodb:'));
    expect(dynamo.length).toBeGreaterThan(0);
    expect(dynamo.filter((x) => !used.has(x.split(' ')[1]!))).toEqual([]);
  });
});

describe('poller groups: one role for the chains of a group, none for any other chain', () => {
  // ethereum and bsc polled by one group, bitcoin by its own poller (test/fixtures/config/limits-only.yaml).
  let grouped: Record<string, Resource>;
  beforeAll(() => {
    grouped = synthExample(
      exampleConfigWith({ pollerGroups: { evm: ['ethereum', 'bsc'] } }, 'test/fixtures/config/limits-only.yaml'),
    ).resources;
  });

  it("the group's role writes both its chains' cursors, progress, summaries and outflows (the trade-off SECURITY.md documents)", () => {
    expect(tableAccess(grouped, 'GroupevmPollerFunction')).toEqual({
      GetItem: ['ACTUATOR', 'BREAKER', 'CURSOR#bsc', 'CURSOR#ethereum', 'EVAL#bsc', 'EVAL#ethereum', 'INIT'],
      PutItem: [
        'ACTUATOR',
        'AUDIT',
        'BREAKER',
        'CURSOR#bsc',
        'CURSOR#ethereum',
        'EVAL#bsc',
        'EVAL#ethereum',
        'SUM#bsc',
        'SUM#ethereum',
        'TRIP',
      ],
      Query: ['APPROVED#bsc', 'APPROVED#ethereum', 'OUT#*', 'RELEASE', 'TRIP'],
      BatchWriteItem: ['OUT#bsc', 'OUT#ethereum'],
      BatchGetItem: ['SUM#*'],
    });
  });

  it("no role writes a chain's items unless it polls that chain: the lone bitcoin poller keeps its own role", () => {
    const chainKeys = (access: Record<string, string[]>) =>
      Object.entries(access)
        .filter(([action]) => action !== 'Query' && action !== 'GetItem' && action !== 'BatchGetItem')
        .flatMap(([, keys]) => keys)
        .filter((k) => k.includes('#') && !k.endsWith('*'));
    expect(chainKeys(tableAccess(grouped, 'GroupevmPollerFunction')).some((k) => k.endsWith('#bitcoin'))).toBe(false);
    expect(tableAccess(grouped, 'ChainbitcoinPollerFunction')).toEqual(
      tableAccess(resources, 'ChainbitcoinPollerFunction'),
    );
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
    // config/example.yaml polls every chain in one group (pollerGroups.all).
    expect(actuation('GroupallPollerFunction')).toEqual(['kms:DisableKey', 'lambda:PutFunctionConcurrency']);
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
