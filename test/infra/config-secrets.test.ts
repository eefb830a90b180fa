import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { actionsOf, exampleConfigWith, findId, functionStatements, type Resource, synthExample } from './synth.ts';

/**
 * Issue 11 item 11: RPC API keys stay out of the bundle. The config names them as `${secret:…}` /
 * `${ssm:…}` placeholders, every function resolves them at cold start (test/runtime/deployed-config.test.ts),
 * and each role may read exactly the secrets and parameters the config names — nothing when it names none.
 */
const ACCOUNT_SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:shared/bsc-key-AbCdEf';

function readsOf(resources: Record<string, Resource>, fnPrefix: string): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const s of functionStatements(resources, findId(resources, fnPrefix))) {
    for (const a of actionsOf(s)) {
      if ((a === 'secretsmanager:GetSecretValue' || a === 'ssm:GetParameter') && s.Sid?.startsWith('ReadConfig')) {
        out[`${s.Sid} ${a}`] = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
      }
    }
  }
  return out;
}

describe('secret placeholders in the deployed config', () => {
  it('synthesises, and grants each function read access to exactly the named secrets and parameters', () => {
    const { resources } = synthExample(
      exampleConfigWith({
        chains: {
          ...exampleChains(),
          ethereum: {
            ...exampleChains().ethereum,
            rpc: [
              'https://eth-mainnet.g.alchemy.com/v2/$' + '{secret:alchemy-eth}',
              'https://eth.example/$' + '{ssm:/rpc/eth-key}',
            ],
          },
          bsc: { ...exampleChains().bsc, rpc: ['https://bsc.example/$' + '{secret:' + ACCOUNT_SECRET + '}'] },
        },
      }),
    );
    const expected = {
      'ReadConfigSecrets secretsmanager:GetSecretValue': [
        {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':secretsmanager:us-east-1:',
              { Ref: 'AWS::AccountId' },
              ':secret:alchemy-eth-??????',
            ],
          ],
        },
        ACCOUNT_SECRET,
      ],
      'ReadConfigParameters ssm:GetParameter': [
        {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':ssm:us-east-1:', { Ref: 'AWS::AccountId' }, ':parameter/rpc/eth-key'],
          ],
        },
      ],
    };
    // Every function reads the config at cold start, so each needs the same, and only this.
    // config/example.yaml polls every chain in one group: one poller function.
    for (const fn of ['GroupallPollerFunction', 'OperatorsResetFunction', 'OperatorsStatusFunction']) {
      expect(readsOf(resources, fn), fn).toEqual(expected);
    }
  });

  it('grants no secret or parameter read when the config names none', () => {
    const { resources } = synthExample();
    expect(readsOf(resources, 'ChainethereumPollerFunction')).toEqual({});
  });
});

function exampleChains(): Record<string, Record<string, unknown>> {
  return parse(readFileSync(new URL('../../config/example.yaml', import.meta.url), 'utf8')).chains;
}
