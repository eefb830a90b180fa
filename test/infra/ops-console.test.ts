import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { handlerDeps, resetHandlerDepsForTests } from '../../functions/handlers/runtime-deps.ts';
import { buildBreakerApp } from '../../infra/breaker-app.ts';
import { CONSOLE_ASSETS_PATH } from '../../infra/constructs/ops-console.ts';
import { REPO_ROOT } from '../../infra/paths.ts';
import type { BreakerStack } from '../../infra/stacks/breaker-stack.ts';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation template JSON is untyped; the assertions check its shape.
type Json = any;
type Resource = { Type: string; Properties: Record<string, Json> };
type Statement = { Sid?: string; Effect?: string; Action: string | string[]; Resource: unknown; Condition?: Json };

let stack: BreakerStack;
let resources: Record<string, Resource>;
let template: Template;

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  stack = buildBreakerApp(app, join(REPO_ROOT, 'config/example.yaml'), { region: 'us-east-1' });
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
});

const id = (prefix: string) => {
  const found = Object.keys(resources).find((k) => k.startsWith(prefix));
  if (!found) throw new Error(`no resource ${prefix}…`);
  return found;
};
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const consoleFn = () => resources[id('ConsoleApiFunction')]!;

function roleStatements(functionId: string): Statement[] {
  const roleId = resources[functionId]!.Properties.Role['Fn::GetAtt'][0];
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: Json) => x.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

describe('ops console construct', () => {
  it('serves page and API from one function behind an AWS_IAM function URL only', () => {
    expect(consoleFn().Properties).toMatchObject({
      FunctionName: 'example-exchange-ops-console',
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
    });
    const urls = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::Lambda::Url' && r.Properties.TargetFunctionArn['Fn::GetAtt']?.[0] === id('ConsoleApiFunction'),
    );
    expect(urls).toHaveLength(1);
    expect(urls[0]!.Properties.AuthType).toBe('AWS_IAM');
    // No resource policy lets anyone but signed IAM principals in (a public URL would carry one for "*").
    const publicPermissions = Object.values(resources).filter(
      (r) => r.Type === 'AWS::Lambda::Permission' && r.Properties.Principal === '*',
    );
    expect(publicPermissions).toEqual([]);
    template.hasOutput('ConsoleUrl', {});
  });

  it('lets the operator policy call the console through its signed URL, and never by a direct Invoke', () => {
    const statements = resources[id('OperatorsOperatorPolicy')]!.Properties.PolicyDocument.Statement as Statement[];
    const onConsole = statements.filter(
      (s) => JSON.stringify(s.Resource) === JSON.stringify({ 'Fn::GetAtt': [id('ConsoleApiFunction'), 'Arn'] }),
    );
    expect(onConsole).toEqual([
      expect.objectContaining({
        Action: 'lambda:InvokeFunctionUrl',
        Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
      }),
      expect.objectContaining({
        Action: 'lambda:InvokeFunction',
        Condition: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } },
      }),
    ]);
  });

  it('grants the console exactly what reset and trip need: the table item writes, the topic, the mirror', () => {
    const statements = roleStatements(id('ConsoleApiFunction'));
    const table = statements
      .filter((s) => JSON.stringify(s.Resource) === JSON.stringify({ 'Fn::GetAtt': [id('StoreTable'), 'Arn'] }))
      .filter((s) => s.Effect !== 'Deny') // the TTL-attribute deny: test/infra/iam-access.test.ts
      .flatMap(actions)
      .sort();
    expect(table).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
    const all = statements.flatMap(actions);
    expect(all).toEqual(expect.arrayContaining(['sns:Publish', 'ssm:PutParameter']));
    expect(all).not.toContain('dynamodb:DeleteItem');
    expect(all).not.toContain('dynamodb:BatchWriteItem');
  });

  it('tells the handler where the page is copied in the bundle, and the page is there to copy', () => {
    expect(consoleFn().Properties.Environment.Variables.CONSOLE_ASSETS_DIR).toBe(CONSOLE_ASSETS_PATH);
    for (const f of ['index.html', 'console.js', 'console.css']) {
      expect(existsSync(join(REPO_ROOT, 'functions/console/page', f))).toBe(true);
    }
  });

  it('has an environment that is enough for the console handler to start (topic and mirror wired)', async () => {
    const vars = consoleFn().Properties.Environment.Variables as Record<string, unknown>;
    expect(Object.keys(vars)).toEqual(
      expect.arrayContaining(['BREAKER_TABLE', 'PAGE_TOPIC_ARN', 'KILL_SWITCH_PARAMETER']),
    );
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
      const deps = await handlerDeps({ ...env, BREAKER_CONFIG_FILE: stack.configFile });
      expect(deps.publisher).toBeDefined();
      expect(deps.mirror).toBeDefined();
    } finally {
      resetHandlerDepsForTests();
    }
  });
});
