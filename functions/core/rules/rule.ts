import type { HaltScope } from '../model.ts';

/** What a rule counts over its window. */
export type RuleMeasure =
  | { kind: 'usd' }
  | { kind: 'count' }
  | { kind: 'units'; asset: string; decimals: number }
  | PatternMeasure;

/**
 * Drain-pattern measures (functions/core/rules/patterns.ts defines them exactly):
 *  - `new-destination-usd`: USD sent in the window to destinations first paid less than one window
 *    earlier (nothing sent to them in [t − lookback, t − window]);
 *  - `distinct-assets`: how many assets each sent more than `percent`% of their own units limit in
 *    the window (limit = trip − 1, so "N or more" trips);
 *  - `profile-usd`: a hot wallet's USD in the window against factor × the percentile of its own
 *    per-window totals over the trailing baseline; the levels move with the profile, so `limit`
 *    and `warnAt` hold only the USD floors and each breach carries the levels in force;
 *  - `balance-drawdown`: per asset of the chain, the outflows to outsiders in the window as a share
 *    (ppm) of the balance they were taken from (the balance left after the window's last outflow
 *    plus those outflows); the value is the largest share among the chain's assets;
 *  - `balance-emptied`: how many of the chain's assets the window's outflows took down to at most
 *    `floorPpm` of that balance (limit 0: one emptied asset trips).
 *  Both are silent for an asset whose balance is unknown (core/rules/kinds/balance-drawdown.ts).
 */
export type PatternMeasure =
  | { kind: 'new-destination-usd'; lookbackSeconds: number }
  | { kind: 'distinct-assets'; percent: number; assets: DistinctAssetLimit[] }
  | {
      kind: 'profile-usd';
      tripFactorPpm: bigint;
      warnFactorPpm: bigint;
      /** Percentile × 10 000 (99 → 990 000). */
      percentilePpm: number;
      baselineSeconds: number;
      minHistorySeconds: number;
    }
  | { kind: 'balance-drawdown' }
  | { kind: 'balance-emptied'; floorPpm: bigint };

export interface DistinctAssetLimit {
  chain: string;
  asset: string;
  decimals: number;
  /** The asset's own units limit the share is taken of, and its window. */
  limit: bigint;
  limitWindowSeconds: number;
  /** The asset counts when its units in the window exceed this (ceil(limit × percent / 100)). */
  threshold: bigint;
}

/** Which outflows a rule looks at. */
export type RuleSubject =
  | { kind: 'global' }
  | { kind: 'chain'; chain: string }
  | { kind: 'asset'; chain: string; asset: string }
  | { kind: 'wallet'; chain: string; wallet: string }
  /** Outflows of the chain that match no approved withdrawal (marked `unapproved` before evaluation). */
  | { kind: 'unapproved'; chain: string };

export interface Rule {
  /** e.g. `global-usd-1h`, `chain-ethereum-count-10m`, `asset-ethereum-USDT-units-1h`, `global-single-tx-usd`. */
  id: string;
  subject: RuleSubject;
  measure: RuleMeasure;
  /** Window length in seconds; 0 for single-transaction rules. */
  windowSeconds: number;
  /** Trips when the measure exceeds this (micro-USD, count, or base units). */
  limit: bigint;
  /** Warns when the measure exceeds this (ceil(limit × warnRatio)). */
  warnAt: bigint;
  halt: HaltScope;
  /** Shadow mode: a breach pages "would have tripped" and is audited, but never halts. */
  shadow?: boolean;
}
