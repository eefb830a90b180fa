/**
 * A rule's recorded definition (core/rules/rule-definition.ts): it decodes to the same rule, and a
 * change is judged looser by direction where the parameter can be ranked, and on any change where it
 * cannot.
 */
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../../functions/adapters/config/config-file.ts';
import type { Rule } from '../../../functions/core/rules/rule.ts';
import { decodeRule, definitionLoosenings, encodeRule } from '../../../functions/core/rules/rule-definition.ts';

const example = loadConfigFile('config/example.yaml');

function ruleOf(kind: string): Rule {
  const rule = example.rules.find((r) => r.measure.kind === kind);
  if (!rule) throw new Error(`config/example.yaml has no ${kind} rule`);
  return rule;
}

describe('rule definitions', () => {
  it('every rule of the example config decodes to the same rule, bigints included', () => {
    expect(example.rules.length).toBeGreaterThan(20);
    for (const rule of example.rules) expect(decodeRule(encodeRule(rule))).toEqual(rule);
  });

  it('an unchanged rule, a raised limit or warn level alone: nothing here (limits are compared with their own wording)', () => {
    const rule = ruleOf('usd');
    expect(definitionLoosenings(rule, { ...rule })).toEqual([]);
    expect(definitionLoosenings(rule, { ...rule, limit: rule.limit * 2n, warnAt: rule.warnAt * 2n })).toEqual([]);
  });

  it('a distinct-assets rule: a larger share or an asset dropped is looser, a smaller share is not', () => {
    const rule = ruleOf('distinct-assets') as Rule & {
      measure: { kind: 'distinct-assets'; percent: number; assets: unknown[] };
    };
    const looser = { ...rule, measure: { ...rule.measure, percent: rule.measure.percent + 10 } };
    expect(definitionLoosenings(rule, looser)).toEqual([expect.stringMatching(/measure\.percent raised/)]);
    const stricter = { ...rule, measure: { ...rule.measure, percent: rule.measure.percent / 2 } };
    expect(definitionLoosenings(rule, stricter).filter((l) => l.includes('measure.percent'))).toEqual([]);
    const dropped = { ...rule, measure: { ...rule.measure, assets: rule.measure.assets.slice(1) } };
    expect(definitionLoosenings(rule, dropped).some((l) => /measure\.assets\[[^\]]+\]\.\w+ removed/.test(l))).toBe(
      true,
    );
  });

  it('a parameter that cannot be ranked counts as looser on any change', () => {
    const rule = ruleOf('profile-usd') as Rule & { measure: { kind: 'profile-usd'; baselineSeconds: number } };
    for (const baselineSeconds of [rule.measure.baselineSeconds * 2, rule.measure.baselineSeconds / 2]) {
      expect(definitionLoosenings(rule, { ...rule, measure: { ...rule.measure, baselineSeconds } })).toEqual([
        expect.stringMatching(/measure\.baselineSeconds changed/),
      ]);
    }
  });

  it('a halt narrowed from global to a chain is looser; widened from a chain to global is not', () => {
    const chainRule = example.rules.find((r) => r.halt.kind === 'chain');
    if (!chainRule) throw new Error('config/example.yaml has no chain-halting rule');
    const global = { ...chainRule, halt: { kind: 'global' as const } };
    expect(definitionLoosenings(global, chainRule)).toEqual([expect.stringMatching(/halt narrowed from global/)]);
    expect(definitionLoosenings(chainRule, global)).toEqual([]);
  });
});
