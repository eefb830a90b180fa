import { beforeAll, describe, expect, it } from 'vitest';
import {
  actionsOf,
  findId,
  functionLabel,
  identityStatements,
  type Json,
  resourcesOf,
  type Synth,
  synthExample,
} from './synth.ts';

/**
 * Security review §1a/§1b: the reset and console handlers trust `requestContext.authorizer.iam.userArn`, which is
 * only true if nobody can hand them a URL-shaped event directly. These tests read the synthesised template: who may
 * call `lambda:InvokeFunction` / `lambda:InvokeFunctionUrl` on which function, under which condition.
 */
let synth: Synth;
beforeAll(() => {
  synth = synthExample();
});

const URL_ONLY = { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } };
const SIGNED_URL = { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } };
const OPERATOR = 'policy:example-exchange-breaker-operator';

/** One row per (holder, action, function): the whole answer to "who may invoke what, how". */
function invokeGrants(): { holder: string; action: string; fn: string; condition?: Json }[] {
  const rows = identityStatements(synth.resources).flatMap(({ holder, statement }) =>
    actionsOf(statement)
      .filter((a) => a.startsWith('lambda:Invoke'))
      .flatMap((action) =>
        resourcesOf(statement).map((r) => ({
          holder,
          action,
          fn: functionLabel(synth.resources, r) ?? JSON.stringify(r),
          ...(statement.Condition ? { condition: statement.Condition } : {}),
        })),
      ),
  );
  const key = (r: (typeof rows)[number]) => [r.holder, r.fn, r.action].join('\0');
  return rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

describe('operator identity cannot be forged by a direct Invoke', () => {
  it('grants InvokeFunction on reset, status and console only when invoked via the function URL; a plain Invoke only on the break-glass function', () => {
    const viaUrl = (fn: string) => [
      { holder: OPERATOR, action: 'lambda:InvokeFunction', fn, condition: URL_ONLY },
      { holder: OPERATOR, action: 'lambda:InvokeFunctionUrl', fn, condition: SIGNED_URL },
    ];
    const scheduler = (chain: string) => ({
      holder: `role:Chain${chain}SchedulerRole`,
      action: 'lambda:InvokeFunction',
      fn: `Chain${chain}PollerFunction`,
    });
    expect(invokeGrants()).toEqual([
      ...viaUrl('example-exchange-breaker-status'),
      ...viaUrl('example-exchange-ops-console'),
      ...viaUrl('example-exchange-reset-breaker'),
      { holder: OPERATOR, action: 'lambda:InvokeFunction', fn: 'example-exchange-reset-breaker-direct' },
      scheduler('bitcoin'),
      scheduler('bsc'),
      scheduler('ethereum'),
    ]);
  });

  it('adds no resource policy to any function (a Lambda permission could grant Invoke around the identity policies)', () => {
    expect(Object.values(synth.resources).filter((r) => r.Type === 'AWS::Lambda::Permission')).toEqual([]);
  });

  it('serves the break-glass reset from its own function with no function URL', () => {
    const direct = findId(synth.resources, 'OperatorsResetDirectFunction');
    expect(synth.resources[direct]!.Properties.FunctionName).toBe('example-exchange-reset-breaker-direct');
    const urls = Object.values(synth.resources).filter((r) => r.Type === 'AWS::Lambda::Url');
    expect(urls.map((u) => functionLabel(synth.resources, u.Properties.TargetFunctionArn)).sort()).toEqual([
      'example-exchange-breaker-status',
      'example-exchange-ops-console',
      'example-exchange-reset-breaker',
    ]);
    synth.template.hasOutput('BreakGlassResetFunctionName', {});
  });

  it('records every Invoke of reset, break-glass reset and console in the trail', () => {
    const trails = Object.values(synth.resources).filter((r) => r.Type === 'AWS::CloudTrail::Trail');
    expect(trails).toHaveLength(1);
    const selectors = trails[0]!.Properties.EventSelectors as Json[];
    const traced = selectors
      .flatMap((s) => s.DataResources ?? [])
      .filter((d: Json) => d.Type === 'AWS::Lambda::Function')
      .flatMap((d: Json) => d.Values.map((v: unknown) => functionLabel(synth.resources, v)))
      .sort();
    expect(traced).toEqual([
      'example-exchange-ops-console',
      'example-exchange-reset-breaker',
      'example-exchange-reset-breaker-direct',
    ]);
  });
});
