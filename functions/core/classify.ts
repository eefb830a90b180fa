import { canonicalAsset } from './chain-kind.ts';
import type { BreakerConfig, ChainConfig } from './config/types.ts';
import { type ChainTransfer, type OutflowRecord, outflowId } from './model.ts';
import { staticValuation, type Valuation } from './prices/price-source.ts';

export const UNKNOWN_ASSET = 'UNKNOWN';

/**
 * Turn what a chain adapter read into ledger records: which asset, whether the destination is one
 * of our own addresses, and the USD value. Addresses and the token identifier leave here in the
 * chain kind's canonical form, the only form the rules and reconciliation compare. `windowTimeOf` gives each block's monotone window time.
 * `valuation` prices known assets (default: the static prices from config; the poller passes
 * `bookValuation(await priceSource.prices(...))` for feed prices).
 */
export function classifyTransfers(
  config: BreakerConfig,
  chain: ChainConfig,
  transfers: readonly ChainTransfer[],
  windowTimeOf: (block: number) => number,
  valuation: Valuation = staticValuation,
): OutflowRecord[] {
  const { address } = chain.kind;
  return transfers.map((read) => {
    const contract = read.contract === null ? null : canonicalAsset(chain.kind, read.contract);
    const transfer = { ...read, from: address.normalise(read.from), to: address.normalise(read.to), contract };
    const asset = contract === null ? chain.native : chain.tokens.get(contract);
    const base = {
      ...transfer,
      id: outflowId(transfer.chain, transfer.txHash, transfer.index),
      t: windowTimeOf(transfer.block),
      own: chain.ownAddresses.has(transfer.to),
    };
    if (!asset) {
      return {
        ...base,
        asset: UNKNOWN_ASSET,
        decimals: null,
        known: false,
        usdMicros: config.unknownAssetUsdMicros,
        priceSource: 'unknown-asset' as const,
      };
    }
    return {
      ...base,
      asset: asset.symbol,
      decimals: asset.decimals,
      known: true,
      ...valuation.value(asset, transfer),
    };
  });
}

/**
 * Window times are monotone per chain: max(block time, parent's window time). Ethereum-style chains
 * already have increasing timestamps; Bitcoin's may step back, and a window must not.
 */
export function windowTimes(blocks: readonly { number: number; time: number }[], parentT: number): Map<number, number> {
  const times = new Map<number, number>();
  let t = parentT;
  for (const b of blocks) {
    t = Math.max(t, b.time);
    times.set(b.number, t);
  }
  return times;
}
