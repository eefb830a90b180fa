import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parse, stringify } from 'yaml';
import { buildBreakerApp } from '../../infra/breaker-app.ts';
import { REPO_ROOT } from '../../infra/paths.ts';
import type { BreakerStack } from '../../infra/stacks/breaker-stack.ts';

/**
 * The example stack synthesised (bundling skipped), with the lookups the IAM tests share: which statement
 * belongs to which principal, and which function a resource reference names.
 */
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation template JSON is untyped; the assertions check its shape.
export type Json = any;
export type Resource = { Type: string; Properties: Record<string, Json>; Metadata?: Json };
export type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Json>;
};

export interface Synth {
  stack: BreakerStack;
  template: Template;
  resources: Record<string, Resource>;
}

export function synthExample(configFile = join(REPO_ROOT, 'test/fixtures/config/limits-only.yaml')): Synth {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = buildBreakerApp(app, configFile, { region: 'us-east-1' });
  const template = Template.fromStack(stack);
  return { stack, template, resources: template.toJSON().Resources };
}

export const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
export const resourcesOf = (s: Statement): unknown[] => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

/** A construct's logical id without CDK's 8-character hash suffix, e.g. `ChainethereumPollerRole`. */
export function shortId(logicalId: string): string {
  return logicalId.replace(/[0-9A-F]{8}$/, '');
}

export function findId(resources: Record<string, Resource>, prefix: string): string {
  const found = Object.keys(resources).find((k) => k.startsWith(prefix));
  if (!found) throw new Error(`no resource ${prefix}…`);
  return found;
}

/**
 * Every Allow statement in the template's identity policies, labelled by who holds it: a managed policy by its
 * name, an inline policy by the role it is attached to.
 */
export function identityStatements(resources: Record<string, Resource>): { holder: string; statement: Statement }[] {
  const out: { holder: string; statement: Statement }[] = [];
  for (const [, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::IAM::ManagedPolicy') {
      for (const s of r.Properties.PolicyDocument.Statement as Statement[]) {
        out.push({ holder: `policy:${r.Properties.ManagedPolicyName}`, statement: s });
      }
    }
    if (r.Type === 'AWS::IAM::Policy') {
      for (const role of r.Properties.Roles as Json[]) {
        for (const s of r.Properties.PolicyDocument.Statement as Statement[]) {
          out.push({ holder: `role:${shortId(role.Ref)}`, statement: s });
        }
      }
    }
  }
  return out;
}

/** The function a `Fn::GetAtt [<fn>, Arn]` names, by its FunctionName or else its short logical id. */
export function functionLabel(resources: Record<string, Resource>, ref: unknown): string | undefined {
  const id = (ref as Json)?.['Fn::GetAtt']?.[0];
  const r = id ? resources[id] : undefined;
  if (r?.Type !== 'AWS::Lambda::Function') return undefined;
  return r.Properties.FunctionName ?? shortId(id);
}

/** config/example.yaml (or another config of the repo) with top-level fields replaced, written to a temporary file. */
export function exampleConfigWith(patch: Record<string, unknown>, base = 'config/example.yaml'): string {
  const raw = parse(readFileSync(join(REPO_ROOT, base), 'utf8'));
  const file = join(mkdtempSync(join(tmpdir(), 'breaker-config-')), 'config.yaml');
  writeFileSync(file, stringify({ ...raw, ...patch }));
  return file;
}

/** The statements of the inline policies attached to a function's role. */
export function functionStatements(resources: Record<string, Resource>, functionId: string): Statement[] {
  const roleId = resources[functionId]!.Properties.Role['Fn::GetAtt'][0];
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: Json) => x.Ref === roleId))
    .flatMap((r) => r.Properties.PolicyDocument.Statement as Statement[]);
}
