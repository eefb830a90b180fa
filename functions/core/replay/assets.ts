import { parseUnits } from '../amounts.ts';
import type { AssetConfig, ChainConfig } from '../config/types.ts';

/** How a replay names the assets of a scenario (symbols, whole units) on a configured chain. */

const SYMBOLS = new WeakMap<ChainConfig, Map<string, AssetConfig>>();

/** The chain's assets by symbol: its native coin and its listed tokens. */
export function symbolsOf(chain: ChainConfig): Map<string, AssetConfig> {
  let symbols = SYMBOLS.get(chain);
  if (!symbols) {
    symbols = new Map<string, AssetConfig>([[chain.native.symbol, chain.native]]);
    for (const token of chain.tokens.values()) symbols.set(token.symbol, token);
    SYMBOLS.set(chain, symbols);
  }
  return symbols;
}

/** The token identifier a replay gives an asset the config does not list (its records' `contract`). */
export function unknownContract(symbol: string): string {
  return `unknown:${symbol}`;
}

/** Whole units → base units, rounded up past the asset's decimals (an outflow is never undervalued). */
export function unitsRoundedUp(text: string, decimals: number): bigint {
  const kept = unitsRoundedDown(text, decimals);
  const frac = text.split('.')[1] ?? '';
  return /[1-9]/.test(frac.slice(decimals)) ? kept + 1n : kept;
}

/** Whole units → base units, rounded down past the asset's decimals (a balance is never overstated). */
export function unitsRoundedDown(text: string, decimals: number): bigint {
  const [whole = '0', frac = ''] = text.split('.');
  return parseUnits(frac.length <= decimals ? text : `${whole}.${frac.slice(0, decimals)}`, decimals);
}
