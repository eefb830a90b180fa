import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import type { SynthesisMessage } from 'aws-cdk-lib/cx-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { STATE_KEY } from '../../functions/adapters/dynamodb/table.ts';
import { handlerDeps, resetHandlerDepsForTests } from '../../functions/handlers/runtime-deps.ts';
import { parseKillSwitchValue } from '../../functions/kill-switch-protocol/index.ts';
import { buildBreakerApp } from '../../infra/breaker-app.ts';
import { KILL_SWITCH_INITIAL_VALUE } from '../../infra/constructs/kill-switch.ts';
import { deadManAgeSeconds } from '../../infra/constructs/poller-alarms.ts';
import { pollerGroupMemoryMb } from '../../infra/constructs/poller-memory.ts';
import { POLLER_TIMEOUT } from '../../infra/constructs/poller-timing.ts';
import { REPO_ROOT } from '../../infra/paths.ts';
import type { BreakerStack } from '../../infra/stacks/breaker-stack.ts';
import { exampleConfigWith } from './synth.ts';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation template JSON is untyped; the assertions check its shape.
type Json = any;
type Resource = { Type: string; Properties: Record<string, Json>; DeletionPolicy?: string; Metadata?: Json };
type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Json>;
};

// The three-chain example frozen for the stack's pinned shape; config/example.yaml's own synth: app.test.ts.
const CONFIG = join(REPO_ROOT, 'test/fixtures/config/limits-only.yaml');

// One synth for the whole file (bundling skipped): every test reads the same template.
let stack: BreakerStack;
let template: Template;
let resources: Record<string, Resource>;

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  stack = buildBreakerApp(app, CONFIG, { region: 'us-east-1' });
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
});

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const ref = (logicalId: string) => ({ Ref: logicalId });
const arnOf = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });

function logicalId(path: string): string {
  const found = Object.entries(resources).find(([id]) => id.startsWith(path));
  if (!found) throw new Error(`no resource ${path}…`);
  return found[0];
}

/** The statements of the inline policy attached to a function's role. */
function roleStatements(functionId: string): Statement[] {
  const roleArn = resources[functionId]!.Properties.Role;
  const roleId = roleArn['Fn::GetAtt'][0];
  return ofType('AWS::IAM::Policy')
    .filter(([, p]) => p.Properties.Roles.some((r: unknown) => JSON.stringify(r) === JSON.stringify(ref(roleId))))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
}

function tableActions(functionId: string): string[] {
  return roleStatements(functionId)
    .filter((s) => JSON.stringify(s.Resource) === JSON.stringify(arnOf(logicalId('StoreTable'))))
    .filter((s) => s.Effect !== 'Deny') // the TTL-attribute deny: test/infra/iam-access.test.ts
    .flatMap(actions)
    .sort();
}

describe('breaker stack from config/example.yaml', () => {
  const chains = ['ethereum', 'bsc', 'bitcoin'];

  it('runs one poller per chain: nodejs22.x on arm64, reserved concurrency 1, timeout that fits the loop', () => {
    for (const chain of chains) {
      const fn = resources[logicalId(`Chain${chain}PollerFunction`)]!;
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        ReservedConcurrentExecutions: 1,
        Timeout: POLLER_TIMEOUT.toSeconds(),
        TracingConfig: { Mode: 'Active' },
      });
      // The loop stops ~10 s before the deadline and must end before the next one-minute tick.
      expect(POLLER_TIMEOUT.toSeconds() - 10).toBeLessThan(60);
      expect(POLLER_TIMEOUT.toSeconds()).toBeGreaterThan(60);
    }
    // + reset, break-glass reset, status, the ops console and the deploy-time initialiser
    expect(ofType('AWS::Lambda::Function')).toHaveLength(chains.length + 5);
  });

  it('sets the contract environment on every function, each variable by the construct that grants it', () => {
    const env = (id: string) => resources[logicalId(id)]!.Properties.Environment.Variables;
    const common = {
      BREAKER_CONFIG_FILE: '/var/task/breaker-config.json',
      POWERTOOLS_SERVICE_NAME: 'hot-wallet-breaker-example-exchange',
      POWERTOOLS_METRICS_NAMESPACE: 'HotWalletBreaker',
      NODE_OPTIONS: '--enable-source-maps',
      BREAKER_TABLE: ref(logicalId('StoreTable')),
    };
    const writers = {
      ...common,
      PAGE_TOPIC_ARN: ref(logicalId('PagesTopic')),
      KILL_SWITCH_PARAMETER: ref(logicalId('KillSwitchParameter')),
    };
    expect(env('ChainethereumPollerFunction')).toEqual(writers);
    expect(env('ChainbscPollerFunction')).toEqual(writers);
    expect(env('OperatorsResetFunction')).toEqual(writers);
    expect(env('OperatorsResetDirectFunction')).toEqual(writers);
    expect(env('OperatorsStatusFunction')).toEqual(common);
  });

  describe("each function's environment is enough for its handler's cold start", () => {
    /** The template's variables with CloudFormation references replaced by stand-in values, config from the stack. */
    const coldStart = async (id: string) => {
      const vars = resources[logicalId(id)]!.Properties.Environment.Variables as Record<string, unknown>;
      const resolved: Record<string, string> = {
        BREAKER_TABLE: 'hot-wallet-breaker-example-exchange-StoreTable-ABC123',
        PAGE_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:hot-wallet-breaker-PagesTopic-ABC123',
        KILL_SWITCH_PARAMETER: '/hot-wallet-breaker/example-exchange/kill-switch',
      };
      const env = Object.fromEntries(
        Object.entries(vars).map(([k, v]) => [k, typeof v === 'string' ? v : (resolved[k] ?? `unresolved-${k}`)]),
      );
      resetHandlerDepsForTests();
      try {
        return await handlerDeps({ ...env, BREAKER_CONFIG_FILE: stack.configFile });
      } finally {
        resetHandlerDepsForTests();
      }
    };

    it.each(['ChainethereumPollerFunction', 'OperatorsResetFunction', 'OperatorsResetDirectFunction'])(
      '%s',
      async (id) => {
        const deps = await coldStart(id);
        expect(deps.config.name).toBe('example-exchange');
        expect(deps.publisher).toBeDefined();
        expect(deps.mirror).toBeDefined();
      },
    );

    // Read-only: no topic and no kill-switch writer, and it still starts.
    it('OperatorsStatusFunction', async () => {
      const deps = await coldStart('OperatorsStatusFunction');
      expect(deps.config.name).toBe('example-exchange');
      expect(deps.publisher).toBeUndefined();
      expect(deps.mirror).toBeUndefined();
    });
  });

  it('schedules each poller every minute with its chain id, and nothing else', () => {
    const schedules = ofType('AWS::Scheduler::Schedule').map(([, r]) => r.Properties);
    expect(schedules).toHaveLength(chains.length);
    for (const chain of chains) {
      const mine = schedules.filter((s) => JSON.parse(s.Target.Input).chains.includes(chain));
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: arnOf(logicalId(`Chain${chain}PollerFunction`)) },
      });
      // Without `pollerGroups` every chain is a group of its own.
      expect(JSON.parse(mine[0]!.Target.Input)).toEqual({ chains: [chain] });
      // The scheduler's role may invoke this poller and nothing else.
      const roleId = mine[0]!.Target.RoleArn['Fn::GetAtt'][0];
      const statements = ofType('AWS::IAM::Policy')
        .filter(([, p]) => JSON.stringify(p.Properties.Roles) === JSON.stringify([ref(roleId)]))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
      expect(statements).toEqual([
        expect.objectContaining({
          Action: 'lambda:InvokeFunction',
          Resource: arnOf(logicalId(`Chain${chain}PollerFunction`)),
        }),
      ]);
    }
    // A failed or stale tick is dropped rather than retried: the next tick comes within a minute.
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', chains.length);
    template.allResourcesProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
  });

  it('ships the validated config in every bundle, compiling to the same rules', () => {
    const shipped = compileConfig(JSON.parse(readFileSync(stack.configFile, 'utf8')), 'shipped');
    expect(shipped.rules).toEqual(stack.config.rules);
    expect([...shipped.chains.keys()]).toEqual(chains);
  });

  it('stores state in an on-demand table with PITR, deletion protection, TTL and a rotating customer-managed key', () => {
    const [[, table]] = ofType('AWS::DynamoDB::GlobalTable') as [[string, Resource]];
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      Replicas: [
        {
          DeletionProtectionEnabled: true,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: { KMSMasterKeyId: arnOf(logicalId('StoreKey')) },
        },
      ],
    });
    template.allResourcesProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.resourceCountIs('AWS::KMS::Key', 2);
  });

  it('pages through a KMS-encrypted, TLS-only topic with the configured subscriptions', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: arnOf(logicalId('PagesKey')) });
    const [[, policy]] = ofType('AWS::SNS::TopicPolicy') as [[string, Resource]];
    const statements = policy.Properties.PolicyDocument.Statement as Statement[];
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Principal: '*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
    // Alarms publish as the CloudWatch service: allowed by the topic policy and the key policy.
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
      }),
    );
    const pagesKey = resources[logicalId('PagesKey')]!.Properties.KeyPolicy.Statement as Json[];
    expect(pagesKey).toContainEqual(
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      }),
    );
    const subs = ofType('AWS::SNS::Subscription').map(([, r]) => [r.Properties.Protocol, r.Properties.Endpoint]);
    expect(subs).toEqual([
      ['email', 'oncall@example.com'],
      ['https', 'https://events.pagerduty.com/integration/REPLACE_ME/enqueue'],
    ]);
  });

  it('mirrors the kill switch into an SSM parameter created armed and never rewritten by a deploy', () => {
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/hot-wallet-breaker/example-exchange/kill-switch',
      Type: 'String',
      Value: KILL_SWITCH_INITIAL_VALUE,
    });
    // Changing this value would make CloudFormation overwrite a live mirror on the next deploy.
    expect(JSON.parse(KILL_SWITCH_INITIAL_VALUE)).toEqual({
      halted: false,
      scopes: [],
      version: 0,
      updatedAt: null,
      trips: [],
    });
    // Signers reading the parameter before the first transition see an armed breaker at version 0.
    expect(parseKillSwitchValue(KILL_SWITCH_INITIAL_VALUE)).toMatchObject({ halted: false, scopes: [], version: 0 });
  });

  it('exports a signer policy that reads the state and trip records, records approved withdrawals, its key through DynamoDB, and the parameter', () => {
    const policy = resources[logicalId('KillSwitchSignerPolicy')]!;
    const statements = policy.Properties.PolicyDocument.Statement as Statement[];
    const scoped = (sid: string, action: string, keys: string[]) => ({
      Sid: sid,
      Effect: 'Allow',
      Action: action,
      Resource: arnOf(logicalId('StoreTable')),
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': keys } },
    });
    expect(statements).toEqual([
      scoped('SignerGetItem', 'dynamodb:GetItem', [STATE_KEY.pk, 'WITHDRAWAL#*']),
      // The guard records each withdrawal it approves: its approval items, nothing else.
      scoped('SignerPutItem', 'dynamodb:PutItem', ['WITHDRAWAL#*', 'APPROVED#*']),
      // A trip halts until its release record exists (seccore): the guard reads both partitions.
      scoped('SignerQuery', 'dynamodb:Query', ['TRIP', 'RELEASE']),
      expect.objectContaining({
        Sid: 'SignerKey',
        Action: expect.arrayContaining(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']),
        Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.us-east-1.amazonaws.com' } },
      }),
      expect.objectContaining({ Sid: 'ReadKillSwitchParameter', Action: 'ssm:GetParameter' }),
    ]);
    template.hasOutput('SignerPolicyArn', { Export: { Name: 'hot-wallet-breaker-example-exchange-SignerPolicyArn' } });
  });

  it('grants each function exactly the table actions it uses (the keys: test/infra/iam-access.test.ts)', () => {
    const poller = ['BatchGetItem', 'BatchWriteItem', 'GetItem', 'PutItem', 'Query'].map((a) => `dynamodb:${a}`);
    expect(tableActions(logicalId('ChainethereumPollerFunction'))).toEqual(poller);
    expect(tableActions(logicalId('ChainbscPollerFunction'))).toEqual(poller);
    expect(tableActions(logicalId('OperatorsResetFunction'))).toEqual(
      ['GetItem', 'PutItem', 'Query'].map((a) => `dynamodb:${a}`),
    );
    expect(tableActions(logicalId('OperatorsStatusFunction'))).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
  });

  it('keeps the read-only status function away from pages, the kill switch and key writes', () => {
    const statusActions = roleStatements(logicalId('OperatorsStatusFunction')).flatMap(actions);
    for (const forbidden of ['sns:Publish', 'ssm:PutParameter', 'kms:Encrypt', 'kms:GenerateDataKey']) {
      expect(statusActions).not.toContain(forbidden);
    }
    const pollerActions = roleStatements(logicalId('ChainethereumPollerFunction')).flatMap(actions);
    expect(pollerActions).toEqual(expect.arrayContaining(['sns:Publish', 'ssm:PutParameter', 'logs:PutLogEvents']));
  });

  it('uses no wildcard actions and no wildcard resources except X-Ray tracing', () => {
    for (const [, policy] of [...ofType('AWS::IAM::Policy'), ...ofType('AWS::IAM::ManagedPolicy')]) {
      for (const s of policy.Properties.PolicyDocument.Statement as Statement[]) {
        for (const a of actions(s)) expect(a).not.toMatch(/\*/);
        if (s.Resource === '*') expect(actions(s).every((a) => a.startsWith('xray:'))).toBe(true);
      }
    }
    expect(ofType('AWS::IAM::Role').every(([, r]) => r.Properties.ManagedPolicyArns === undefined)).toBe(true);
  });

  it('exposes reset and status only through IAM-authorised function URLs, with an operator policy', () => {
    const urls = ofType('AWS::Lambda::Url').map(([, r]) => r.Properties);
    expect(urls).toHaveLength(3); // reset, status, ops console (test/infra/ops-console.test.ts)
    expect(urls.every((u) => u.AuthType === 'AWS_IAM')).toBe(true);
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'example-exchange-reset-breaker' });
    const operator = resources[logicalId('OperatorsOperatorPolicy')]!.Properties.PolicyDocument
      .Statement as Statement[];
    expect([...new Set(operator.flatMap(actions))].sort()).toEqual([
      'lambda:InvokeFunction',
      'lambda:InvokeFunctionUrl',
    ]);
  });

  it('records every Invoke of the reset functions and the console in a CloudTrail trail searchable in CloudWatch Logs', () => {
    const [[, trail]] = ofType('AWS::CloudTrail::Trail') as [[string, Resource]];
    const lambdaSelector = (...fns: string[]) => ({
      IncludeManagementEvents: false,
      DataResources: [{ Type: 'AWS::Lambda::Function', Values: fns.map((f) => arnOf(logicalId(f))) }],
    });
    expect(trail.Properties).toMatchObject({
      IsLogging: true,
      EnableLogFileValidation: true,
      CloudWatchLogsLogGroupArn: arnOf(logicalId('OperatorsAuditLogs')),
      EventSelectors: [
        // Write management events: the tamper alerts (test/infra/tamper-alerts.test.ts) are built on them.
        { IncludeManagementEvents: true, ReadWriteType: 'WriteOnly' },
        lambdaSelector('OperatorsResetFunction', 'OperatorsResetDirectFunction'),
        lambdaSelector('ConsoleApiFunction'),
      ],
    });
    for (const [, bucket] of ofType('AWS::S3::Bucket')) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket.Properties.BucketEncryption).toBeDefined();
    }
  });

  describe('alarms', () => {
    const alarms = () => ofType('AWS::CloudWatch::Alarm').map(([, r]) => r.Properties);
    const topic = () => ref(logicalId('PagesTopic'));

    it('page the topic on every alarm', () => {
      expect(alarms()).toHaveLength(chains.length * 4 + 1);
      for (const a of alarms()) expect(a.AlarmActions).toEqual([topic()]);
    });

    it('page when a poller errors, is throttled, or nears its timeout', () => {
      for (const chain of chains) {
        const fn = ref(logicalId(`Chain${chain}PollerFunction`));
        const on = (metric: string) =>
          alarms().filter(
            (a) =>
              a.MetricName === metric &&
              JSON.stringify(a.Dimensions) === JSON.stringify([{ Name: 'FunctionName', Value: fn }]),
          );
        expect(on('Errors')).toEqual([
          expect.objectContaining({ Namespace: 'AWS/Lambda', Threshold: 1, Statistic: 'Sum' }),
        ]);
        expect(on('Throttles')).toHaveLength(1);
        const [duration] = on('Duration');
        expect(duration!.Threshold).toBeGreaterThan((POLLER_TIMEOUT.toSeconds() - 10) * 1000);
        expect(duration!.Threshold).toBeLessThan(POLLER_TIMEOUT.toMilliseconds());
      }
    });

    it('have a dead-man per chain that treats silence as breaching and pages within 5 minutes', () => {
      for (const chain of chains) {
        const deadMan = alarms().filter(
          (a) =>
            a.MetricName === 'LastProcessedBlockAgeSeconds' &&
            a.Dimensions.some((d: Json) => d.Name === 'Chain' && d.Value === chain),
        );
        expect(deadMan).toHaveLength(1);
        const [a] = deadMan as [Record<string, Json>];
        expect(a).toMatchObject({
          Namespace: 'HotWalletBreaker',
          Statistic: 'Maximum',
          TreatMissingData: 'breaching',
          ComparisonOperator: 'GreaterThanThreshold',
        });
        // Powertools adds the service dimension to every metric; the alarm must name the exact set.
        expect(a.Dimensions).toHaveLength(2);
        expect(a.Dimensions).toEqual(
          expect.arrayContaining([
            { Name: 'service', Value: 'hot-wallet-breaker-example-exchange' },
            { Name: 'Chain', Value: chain },
          ]),
        );
        expect(a.Period * a.EvaluationPeriods).toBeLessThan(300);
        expect(a.OKActions).toEqual([topic()]);
        const c = stack.config.chains.get(chain)!;
        expect(a.Threshold).toBe(deadManAgeSeconds(c));
        // Normal age is ~(confirmations + 1) blocks: the threshold must sit above it.
        expect(a.Threshold).toBeGreaterThan((c.confirmations + 2) * c.blockTimeSeconds + 60);
      }
    });

    it('page when SNS cannot deliver a page', () => {
      expect(alarms().filter((a) => a.MetricName === 'NumberOfNotificationsFailed')).toHaveLength(1);
    });
  });

  it('passes cdk-nag AwsSolutions with no unsuppressed errors or warnings', () => {
    const nag = Match.stringLikeRegexp('AwsSolutions-.*');
    const format = (ms: SynthesisMessage[]) => ms.map((m) => `${m.id}: ${String(m.entry.data)}`);
    expect(format(Annotations.fromStack(stack).findError('*', nag))).toEqual([]);
    expect(format(Annotations.fromStack(stack).findWarning('*', nag))).toEqual([]);
  });

  it('justifies every cdk-nag suppression in code', () => {
    const suppressions = Object.values(resources).flatMap(
      (r: Resource) => (r.Metadata?.cdk_nag?.rules_to_suppress ?? []) as { id: string; reason: string }[],
    );
    expect(suppressions.length).toBeGreaterThan(0);
    for (const s of suppressions) expect(s.reason.length).toBeGreaterThan(40);
    expect([...new Set(suppressions.map((s) => s.id))].sort()).toEqual([
      'AwsSolutions-IAM5',
      'AwsSolutions-L1',
      'AwsSolutions-S1',
    ]);
  });

  it('matches the snapshot', () => {
    // Asset hashes depend on construct paths, not handler code (bundling is skipped), but normalise them anyway.
    const json = JSON.stringify(template.toJSON(), null, 1).replace(/[0-9a-f]{64}/g, '<hash>');
    expect(JSON.parse(json)).toMatchSnapshot();
  });
});

describe('poller groups (config pollerGroups)', () => {
  // The same three chains, ethereum and bsc polled by one group, bitcoin alone.
  let grouped: BreakerStack;
  let res: Record<string, Resource>;
  const idOf = (prefix: string) => {
    const found = Object.keys(res).find((id) => id.startsWith(prefix));
    if (!found) throw new Error(`no resource ${prefix}…`);
    return found;
  };

  beforeAll(() => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const file = exampleConfigWith(
      { pollerGroups: { evm: ['ethereum', 'bsc'] } },
      'test/fixtures/config/limits-only.yaml',
    );
    grouped = buildBreakerApp(app, file, { region: 'us-east-1' });
    res = Template.fromStack(grouped).toJSON().Resources;
  });

  it('runs one function per group, sized for its chain count, and a lone chain keeps the poller it had', () => {
    const pollers = Object.entries(res).filter(
      ([id, r]) => r.Type === 'AWS::Lambda::Function' && /PollerFunction[0-9A-F]{8}$/.test(id),
    );
    expect(pollers.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'ChainbitcoinPollerFunction',
      'GroupevmPollerFunction',
    ]);
    expect(res[idOf('GroupevmPollerFunction')]!.Properties).toMatchObject({
      ReservedConcurrentExecutions: 1,
      Timeout: POLLER_TIMEOUT.toSeconds(),
      MemorySize: pollerGroupMemoryMb(2),
    });
    expect(res[idOf('ChainbitcoinPollerFunction')]!.Properties.MemorySize).toBe(pollerGroupMemoryMb(1));
  });

  it("schedules each group every minute with its chains, invoking only the group's function", () => {
    const schedules = Object.values(res).filter((r) => r.Type === 'AWS::Scheduler::Schedule');
    expect(schedules.map((s) => JSON.parse(s.Properties.Target.Input))).toEqual([
      { chains: ['ethereum', 'bsc'] },
      { chains: ['bitcoin'] },
    ]);
    expect(schedules[0]!.Properties.Target.Arn).toEqual({ 'Fn::GetAtt': [idOf('GroupevmPollerFunction'), 'Arn'] });
  });

  it('pages on the group function failing, throttled or near its timeout, and on each chain falling silent', () => {
    const alarms = Object.values(res)
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
      .map((r) => r.Properties);
    const fn = { Ref: idOf('GroupevmPollerFunction') };
    const onGroup = alarms.filter((a) =>
      (a.Dimensions ?? []).some(
        (d: Json) => d.Name === 'FunctionName' && JSON.stringify(d.Value) === JSON.stringify(fn),
      ),
    );
    expect(onGroup.map((a) => a.MetricName).sort()).toEqual(['Duration', 'Errors', 'Throttles']);
    expect(onGroup.find((a) => a.MetricName === 'Errors')!.AlarmDescription).toContain(
      'outflows on at least one of ethereum, bsc are not being watched',
    );
    const deadMen = alarms.filter((a) => a.MetricName === 'LastProcessedBlockAgeSeconds');
    expect(deadMen.map((a) => a.Dimensions.find((d: Json) => d.Name === 'Chain').Value).sort()).toEqual([
      'bitcoin',
      'bsc',
      'ethereum',
    ]);
    // Two pollers × (errors, throttles, duration), three dead-men, and SNS delivery failures.
    expect(alarms).toHaveLength(2 * 3 + 3 + 1);
  });

  it('passes cdk-nag AwsSolutions with no unsuppressed errors or warnings', () => {
    const nag = Match.stringLikeRegexp('AwsSolutions-.*');
    const format = (ms: SynthesisMessage[]) => ms.map((m) => `${m.id}: ${String(m.entry.data)}`);
    expect(format(Annotations.fromStack(grouped).findError('*', nag))).toEqual([]);
    expect(format(Annotations.fromStack(grouped).findWarning('*', nag))).toEqual([]);
  });
});
