import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { buildBreakerApp } from '../../infra/breaker-app.ts';
import { webhookSecretName } from '../../infra/constructs/kill-switch.ts';
import { REPO_ROOT } from '../../infra/paths.ts';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation template JSON is untyped.
type Json = any;

const KEY = '1234abcd-12ab-34cd-56ef-1234567890ab';

/** config/example.yaml with every actuator layer turned on. */
function configWithActuators(): string {
  const raw = parse(readFileSync(join(REPO_ROOT, 'config/example.yaml'), 'utf8'));
  raw.actuators = {
    webhook: { url: 'https://signer.internal.example/breaker-webhook', secretEnv: 'SIGNER_WEBHOOK_SECRET' },
    lambdaConcurrency: { functions: ['eth-signer', 'arn:aws:lambda:us-east-1:111122223333:function:btc-signer'] },
    kmsKeys: { keys: [KEY] },
  };
  const dir = mkdtempSync(join(tmpdir(), 'breaker-actuators-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, stringify(raw));
  return file;
}

describe('breaker stack with kill-switch actuators configured', () => {
  let template: Template;
  let resources: Record<string, Json>;
  let stack: ReturnType<typeof buildBreakerApp>;

  beforeAll(() => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    stack = buildBreakerApp(app, configWithActuators(), { region: 'us-east-1', account: '111122223333' });
    template = Template.fromStack(stack);
    resources = template.toJSON().Resources;
  });

  const functionId = (prefix: string) =>
    Object.keys(resources).find((id) => id.startsWith(prefix) && resources[id].Type === 'AWS::Lambda::Function')!;
  function statements(fnId: string): Json[] {
    const roleId = resources[fnId].Properties.Role['Fn::GetAtt'][0];
    return Object.values(resources)
      .filter((r: Json) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: Json) => x.Ref === roleId))
      .flatMap((r: Json) => r.Properties.PolicyDocument.Statement);
  }

  it('lets the functions that flush the outbox (pollers, reset) set reserved concurrency on exactly the named signers; only reset restores it', () => {
    const engage = ['lambda:GetFunctionConcurrency', 'lambda:PutFunctionConcurrency'];
    for (const [fn, actions] of [
      ['GroupallPollerFunction', engage],
      ['OperatorsResetFunction', [...engage, 'lambda:DeleteFunctionConcurrency']],
    ] as const) {
      const s = statements(functionId(fn)).find((x) => x.Sid === 'KillSwitchSignerConcurrency');
      expect(s).toMatchObject({
        Action: actions,
        Resource: [
          {
            'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':lambda:us-east-1:111122223333:function:eth-signer']],
          },
          'arn:aws:lambda:us-east-1:111122223333:function:btc-signer',
        ],
      });
    }
  });

  it('lets pollers disable and the reset path also enable exactly the named signing keys', () => {
    const resource = {
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:kms:us-east-1:111122223333:key/${KEY}`]],
    };
    const keys = (fn: string) => statements(functionId(fn)).find((x) => x.Sid === 'KillSwitchSigningKeys');
    expect(keys('GroupallPollerFunction')).toMatchObject({
      Action: ['kms:DescribeKey', 'kms:DisableKey'],
      Resource: resource,
    });
    expect(keys('OperatorsResetFunction')).toMatchObject({
      Action: ['kms:DescribeKey', 'kms:DisableKey', 'kms:EnableKey'],
      Resource: resource,
    });
  });

  it('never puts the webhook secret (or a reference that resolves to it) into a function environment: it names the secret and grants reading exactly it', () => {
    // A dynamic reference would resolve into the environment, readable with lambda:GetFunctionConfiguration.
    expect(JSON.stringify(template.toJSON())).not.toContain('{{resolve:secretsmanager');
    for (const fn of [
      'GroupallPollerFunction',
      'OperatorsResetFunction',
      'OperatorsResetDirectFunction',
      'ConsoleApiFunction',
    ]) {
      const env = resources[functionId(fn)].Properties.Environment.Variables;
      expect(env.SIGNER_WEBHOOK_SECRET).toBeUndefined();
      expect(env.WEBHOOK_SECRET_ID).toBe(webhookSecretName('example-exchange'));
      const read = statements(functionId(fn)).filter((x) =>
        [x.Action].flat().includes('secretsmanager:GetSecretValue'),
      );
      expect(read).toEqual([
        expect.objectContaining({
          Action: 'secretsmanager:GetSecretValue',
          // The secret's ARN ends in six random characters Secrets Manager adds to the name.
          Resource: {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                `:secretsmanager:us-east-1:111122223333:secret:${webhookSecretName('example-exchange')}-??????`,
              ],
            ],
          },
        }),
      ]);
    }
  });

  it('gives the read-only status function none of it', () => {
    const status = functionId('OperatorsStatusFunction');
    const sids = statements(status).map((s) => s.Sid);
    expect(sids).not.toContain('KillSwitchSignerConcurrency');
    expect(sids).not.toContain('KillSwitchSigningKeys');
    expect(resources[status].Properties.Environment.Variables.WEBHOOK_SECRET_ID).toBeUndefined();
    expect(statements(status).flatMap((s) => [s.Action].flat())).not.toContain('secretsmanager:GetSecretValue');
  });

  it('still passes cdk-nag', () => {
    const nag = Match.stringLikeRegexp('AwsSolutions-.*');
    expect(
      Annotations.fromStack(stack)
        .findError('*', nag)
        .map((m) => `${m.id}: ${String(m.entry.data)}`),
    ).toEqual([]);
  });
});
