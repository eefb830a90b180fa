import type { OutflowRecord } from '../../model.ts';
import type { RuleKind } from '../rule-kind.ts';

/**
 * Balance drawdown: how much of what the hot wallets held of an asset left them within the window.
 * Asset-agnostic (base units, no price), so it covers tokens the config does not list.
 *
 * For a window (T − W, T] and one asset of the chain (keyed by `contract`; the native coin is one
 * asset, every unlisted token another):
 *   out     = the asset's outflows to outsiders in the window (own-wallet transfers never reach a rule);
 *   left    = `balanceAfter` of the asset's last outflow at or before T (the balance after the window);
 *   before  = left + out: the balance those outflows were taken from. Inflows in the window raise
 *             `left`, so they cushion the share (net of inflows); a sweep to cold lowers `left` but is
 *             never counted as taken.
 *   share   = ⌈out × 10⁶ / before⌉ ppm: rounded up, so "share > limit" holds exactly when
 *             out / before > limit / 10⁶, to the base unit (the limit is a whole number of ppm).
 * `balance-drawdown` rules measure the largest share among the chain's assets and trip above their
 * limit (ppm). `balance-emptied` rules count the assets with out > 0 and left × 10⁶ ≤ floorPpm × before
 * (taken down to the floor by outflows) and trip at one (limit 0). An asset whose balance is unknown
 * (no `balanceAfter`) is left out: the rule stays silent about it, and config-time checks say which
 * chains cannot read balances (core/config-check.ts).
 */
export const balanceDrawdown: RuleKind = {
  id: 'balance-drawdown',
  handles: (rule) => rule.measure.kind === 'balance-drawdown' || rule.measure.kind === 'balance-emptied',
  unit: (rule) => (rule.measure.kind === 'balance-emptied' ? 'assets' : 'ppm'),
  shownLevel: (level) => level,
  historyNeeded: (rule) => rule.windowSeconds,
  applies: () => true,
  measureOf: (_rule, r) => r.amount,
};

export const PPM = 1_000_000n;

/** Which asset of its chain an outflow moves (the native coin and each token apart). */
export function balanceAssetKey(r: Pick<OutflowRecord, 'contract'>): string {
  return r.contract ?? '';
}

/** One asset's figures over a window: its outflows to outsiders, and the balance left after the last. */
export interface AssetWindow {
  out: bigint;
  left: bigint | undefined;
}

/** The share (ppm, rounded up) of the balance the window's outflows took; undefined when the balance is unknown or nothing went out. */
export function drawdownShare(w: AssetWindow): bigint | undefined {
  if (w.left === undefined || w.out === 0n) return undefined;
  const before = w.left + w.out;
  return (w.out * PPM + before - 1n) / before;
}

/** Did the window's outflows take the asset down to at most `floorPpm` of the balance they were taken from? */
export function isEmptied(w: AssetWindow, floorPpm: bigint): boolean {
  if (w.left === undefined || w.out === 0n) return false;
  return w.left * PPM <= floorPpm * (w.left + w.out);
}

/**
 * The rule's measure over one window from each asset's figures, and which assets make it up
 * (the largest share for a drawdown rule, the emptied assets for an emptied rule).
 */
export function balanceMeasure(
  measure: { kind: 'balance-drawdown' } | { kind: 'balance-emptied'; floorPpm: bigint },
  assets: ReadonlyMap<string, AssetWindow>,
): { value: bigint; keys: string[] } {
  // Key order, so that every evaluator picks the same asset on a tie.
  const sorted = [...assets].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (measure.kind === 'balance-emptied') {
    const keys = sorted.filter(([, w]) => isEmptied(w, measure.floorPpm)).map(([k]) => k);
    return { value: BigInt(keys.length), keys };
  }
  let value = 0n;
  let keys: string[] = [];
  for (const [key, w] of sorted) {
    const share = drawdownShare(w);
    if (share === undefined) continue;
    if (share > value || keys.length === 0) {
      value = share;
      keys = [key];
    }
  }
  return { value, keys };
}
