import { formatUnits, microsToUsdNumber } from '../amounts.ts';
import type { Rule } from '../rules/rule.ts';
import { type LimitProposal, windowLabel } from './propose-limits.ts';

/**
 * Proposals as the `limits:` fields of the config file (what `breaker tune` prints and merges into a
 * copy of the config to score it), and as changes against the limits in force.
 */

type Windows<T> = Record<string, T>;

export interface AssetLimitsSnippet {
  units?: Windows<string>;
  singleTx?: string;
}

export interface ChainLimitsSnippet {
  usd?: Windows<number>;
  singleTxUsd?: number;
  assets?: Record<string, AssetLimitsSnippet>;
}

export interface LimitsSnippet {
  global: { usd?: Windows<number>; count?: Windows<number>; singleTxUsd?: number };
  chains: Record<string, ChainLimitsSnippet>;
}

export function limitsSnippet(proposals: readonly LimitProposal[]): LimitsSnippet {
  const snippet: LimitsSnippet = { global: {}, chains: {} };
  for (const p of proposals) {
    const w = windowLabel(p.windowSeconds);
    const usd = microsToUsdNumber(p.proposed);
    if (p.scope.kind === 'global') {
      if (p.windowSeconds === 0) snippet.global.singleTxUsd = usd;
      else if (p.measure === 'count') {
        snippet.global.count ??= {};
        snippet.global.count[w] = Number(p.proposed);
      } else {
        snippet.global.usd ??= {};
        snippet.global.usd[w] = usd;
      }
      continue;
    }
    snippet.chains[p.scope.chain] ??= {};
    const chain = snippet.chains[p.scope.chain] as ChainLimitsSnippet;
    if (p.scope.kind === 'chain') {
      if (p.windowSeconds === 0) chain.singleTxUsd = usd;
      else {
        chain.usd ??= {};
        chain.usd[w] = usd;
      }
      continue;
    }
    chain.assets ??= {};
    chain.assets[p.scope.asset] ??= {};
    const asset = chain.assets[p.scope.asset] as AssetLimitsSnippet;
    const units = formatUnits(p.proposed, p.scope.decimals);
    if (p.windowSeconds === 0) asset.singleTx = units;
    else {
      asset.units ??= {};
      asset.units[w] = units;
    }
  }
  return snippet;
}

export interface LimitChange {
  ruleId: string;
  /** The limit in force (undefined: the config has no such limit yet). */
  current: bigint | undefined;
  proposed: bigint;
}

/** Each proposal against the rule of the same id in the config. */
export function limitChanges(proposals: readonly LimitProposal[], rules: readonly Rule[]): LimitChange[] {
  const current = new Map(rules.map((r) => [r.id, r.limit]));
  return proposals.map((p) => ({ ruleId: p.ruleId, current: current.get(p.ruleId), proposed: p.proposed }));
}
