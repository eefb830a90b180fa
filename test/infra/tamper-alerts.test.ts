import { beforeAll, describe, expect, it } from 'vitest';
import { findId, functionStatements, type Json, type Resource, synthExample } from './synth.ts';

/**
 * Security review §4/§5: changes that bypass the breaker (a function's code or config, its schedules, the kill-switch
 * parameter, the trail) page on-call through EventBridge rules on CloudTrail management events.
 */
let resources: Record<string, Resource>;
beforeAll(() => {
  resources = synthExample().resources;
});

const rules = () =>
  Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::Events::Rule')
    .map(([id, r]) => ({ id, pattern: r.Properties.EventPattern as Json, targets: r.Properties.Targets as Json[] }));
const rule = (name: string) => {
  const found = rules().find((r) => r.id.startsWith(`TamperAlerts${name}`));
  if (!found) throw new Error(`no rule ${name}`);
  return found;
};
const ref = (prefix: string) => ({ Ref: findId(resources, prefix) });

describe('tamper alerts', () => {
  it('page the topic from every rule, on CloudTrail API calls, with a [TAMPER] message naming the caller', () => {
    expect(
      rules()
        .map((r) => r.id.replace(/[0-9A-F]{8}$/, ''))
        .sort(),
    ).toEqual([
      'TamperAlertsFunctionChanged',
      'TamperAlertsKillSwitchWritten',
      'TamperAlertsKillSwitchWrittenByUser',
      'TamperAlertsScheduleChanged',
      'TamperAlertsTrailChanged',
    ]);
    for (const r of rules()) {
      expect(r.pattern['detail-type']).toEqual(['AWS API Call via CloudTrail']);
      expect(r.targets).toEqual([
        expect.objectContaining({
          Arn: ref('PagesTopic'),
          InputTransformer: expect.objectContaining({
            InputPathsMap: expect.objectContaining({ 'detail-userIdentity-arn': '$.detail.userIdentity.arn' }),
            InputTemplate: expect.stringContaining('[TAMPER] example-exchange'),
          }),
        }),
      ]);
    }
  });

  it('watch code, configuration, concurrency, permissions and deletion of every breaker function', () => {
    const { pattern } = rule('FunctionChanged');
    const names = pattern.detail.eventName.map((e: Json) => e.prefix);
    for (const call of [
      'UpdateFunctionCode',
      'UpdateFunctionConfiguration',
      'PutFunctionConcurrency',
      'DeleteFunction',
      'AddPermission',
    ]) {
      expect(names).toContain(call);
    }
    const watched = JSON.stringify(pattern.detail.requestParameters.functionName);
    const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(8);
    for (const [id] of functions) expect(watched).toContain(JSON.stringify({ Ref: id }));
  });

  it('watch updates and deletions of the poll schedules', () => {
    expect(rule('ScheduleChanged').pattern.detail).toMatchObject({
      eventName: ['UpdateSchedule', 'DeleteSchedule', 'DeleteScheduleGroup'],
      requestParameters: { groupName: ['hot-wallet-breaker-example-exchange'] },
    });
  });

  it('page a kill-switch parameter write by anyone but the roles that write it for the breaker (and by any non-role principal)', () => {
    const parameterWriters = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
      .filter(([id]) => functionStatements(resources, id).some((s) => [s.Action].flat().includes('ssm:PutParameter')))
      .map(([, r]) => r.Properties.Role)
      .sort((a: Json, b: Json) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(parameterWriters).toHaveLength(7); // three pollers, two reset functions, the console, the initialiser
    const { detail } = rule('KillSwitchWritten').pattern;
    expect(detail.requestParameters.name).toContainEqual(ref('KillSwitchParameter'));
    const exempt = [...detail.userIdentity.sessionContext.sessionIssuer.arn[0]['anything-but']].sort(
      (a: Json, b: Json) => JSON.stringify(a).localeCompare(JSON.stringify(b)),
    );
    expect(exempt).toEqual(parameterWriters);
    expect(rule('KillSwitchWrittenByUser').pattern.detail.userIdentity).toEqual({
      type: [{ 'anything-but': ['AssumedRole'] }],
    });
  });

  it('page when the operator trail is stopped or changed, and the trail logs the write events the rules need', () => {
    const [trailId, trail] = Object.entries(resources).find(([, r]) => r.Type === 'AWS::CloudTrail::Trail')!;
    expect(trail.Properties.TrailName).toBe('example-exchange-operator-audit');
    expect(rule('TrailChanged').pattern.detail).toMatchObject({
      eventName: ['StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors'],
      requestParameters: { name: ['example-exchange-operator-audit', { 'Fn::GetAtt': [trailId, 'Arn'] }] },
    });
    expect(trail.Properties.EventSelectors).toContainEqual({
      IncludeManagementEvents: true,
      ReadWriteType: 'WriteOnly',
    });
  });

  it('let EventBridge publish to the encrypted topic', () => {
    const topicPolicy = Object.values(resources).find((r) => r.Type === 'AWS::SNS::TopicPolicy')!;
    expect(topicPolicy.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Principal: { Service: 'events.amazonaws.com' }, Action: 'sns:Publish' }),
    );
    const key = resources[findId(resources, 'PagesKey')]!.Properties.KeyPolicy.Statement as Json[];
    expect(key).toContainEqual(expect.objectContaining({ Principal: { Service: 'events.amazonaws.com' } }));
  });
});
