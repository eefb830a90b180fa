import { beforeAll, describe, expect, it } from 'vitest';
import { TABLE_ACCESS } from '../../infra/constructs/table-access.ts';
import { findId, functionStatements, type Json, type Resource, synthExample } from './synth.ts';

/**
 * seccore: an absent state is halted and nothing creates it implicitly, so the stack arms a fresh deployment with a
 * custom resource (handler: test/handlers/initialise-breaker.test.ts).
 */
let resources: Record<string, Resource>;
beforeAll(() => {
  resources = synthExample().resources;
});

describe('deploy-time initialisation', () => {
  it('is a custom resource served by the initialiser function, created after the function may write', () => {
    const [id, cr] = Object.entries(resources).find(([, r]) => r.Type === 'Custom::BreakerInitialisation')!;
    const fn = findId(resources, 'InitInitialiserFunction');
    expect(cr.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [fn, 'Arn'] });
    const deps = (resources[id] as Json).DependsOn as string[];
    expect(deps).toEqual(expect.arrayContaining([findId(resources, 'InitInitialiserRoleDefaultPolicy')]));
  });

  it('may write the init marker and the state but never release a trip', () => {
    const fn = findId(resources, 'InitInitialiserFunction');
    const puts = functionStatements(resources, fn).find((s) => s.Action === 'dynamodb:PutItem');
    expect(puts?.Condition?.['ForAllValues:StringLike']['dynamodb:LeadingKeys']).toEqual([
      ...TABLE_ACCESS.init.PutItem,
    ]);
    expect(TABLE_ACCESS.init.PutItem).not.toContain('RELEASE');
    expect(TABLE_ACCESS.init.PutItem).toContain('INIT');
  });
});
