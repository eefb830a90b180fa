import { parseUnits } from '../core/amounts.ts';
import type { BreakerConfig } from '../core/config/types.ts';
import type { PlatformAsset } from '../core/custody/config.ts';
import { ConfigError } from '../core/errors.ts';

/** A platform's asset ids (Fireblocks `USDT_ERC20`, Cobo `ETH_USDT`, a BitGo wallet id) → the breaker's. */
export type PlatformAssets = ReadonlyMap<string, PlatformAsset>;

/**
 * Check a platform asset map against the breaker config: every entry must name a watched chain and
 * one of its assets, with the decimals the config has for it — a USDT mapped with 18 decimals would
 * approve amounts 10^12 times off. Throws ConfigError listing every bad entry.
 */
export function resolvePlatformAssets(
  map: Record<string, PlatformAsset>,
  config: BreakerConfig,
  path: string,
): PlatformAssets {
  const issues: string[] = [];
  for (const [id, entry] of Object.entries(map)) {
    const chain = config.chains.get(entry.chain);
    if (!chain) {
      issues.push(`${path}.${id}.chain: "${entry.chain}" is not a chain of this config`);
      continue;
    }
    const asset = [chain.native, ...chain.tokens.values()].find((a) => a.symbol === entry.asset);
    if (!asset) {
      issues.push(`${path}.${id}.asset: "${entry.asset}" is not an asset of ${entry.chain}`);
    } else if (asset.decimals !== entry.decimals) {
      issues.push(
        `${path}.${id}.decimals: ${entry.decimals}, but ${entry.chain} ${entry.asset} has ${asset.decimals} in this config`,
      );
    }
  }
  if (issues.length > 0) throw new ConfigError(config.name, issues);
  return new Map(Object.entries(map));
}

/**
 * A platform's whole-unit decimal string ("0.010000000000000000") → base units, exactly. Trailing
 * zeros carry no value and are dropped; a significant digit past the asset's decimals is refused,
 * never rounded. Throws RangeError naming the amount.
 */
export function wholeUnitsToBase(text: string, decimals: number): bigint {
  if (!/^\d{1,60}(\.\d{1,60})?$/.test(text)) {
    throw new RangeError(`amount "${text}" is not a plain non-negative decimal`);
  }
  const trimmed = text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
  return parseUnits(trimmed, decimals);
}
