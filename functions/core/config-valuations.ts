/**
 * Valuation is part of strictness: every USD limit is only as strict as the prices that feed it. A
 * redeploy that lowers an asset's static price a million-fold, raises its decimals, drops it from the
 * list or cheapens unlisted tokens loosens every USD rule at once without touching a limit. The
 * recorded config (core/config-record.ts) keeps each listed asset's valuation; a change that values
 * outflows lower is paged as looser, and while the loosening delay runs the poll counts each outflow
 * at the higher of its recorded value and what the previous config would have valued it at.
 */
import { valueInMicros } from './amounts.ts';
import type { AssetConfig, BreakerConfig } from './config/types.ts';
import type { OutflowRecord } from './model.ts';
import type { ConfigSummary, RecordedValuation } from './state.ts';

function valuationKey(chain: string, contract: string | null): string {
  return `${chain}:${contract ?? 'native'}`;
}

export function summariseValuations(config: BreakerConfig): Record<string, RecordedValuation> {
  const out: Record<string, RecordedValuation> = {};
  for (const chain of config.chains.values()) {
    for (const asset of [chain.native, ...chain.tokens.values()]) {
      out[valuationKey(chain.id, asset.contract)] = recordValuation(asset);
    }
  }
  return out;
}

function recordValuation(asset: AssetConfig): RecordedValuation {
  return {
    symbol: asset.symbol,
    decimals: asset.decimals,
    priceMicros: asset.priceMicros.toString(),
    ...(asset.worstCasePriceMicros !== undefined && { worstCasePriceMicros: asset.worstCasePriceMicros.toString() }),
    ...(asset.priceFeed && { priceFeed: `${asset.priceFeed.chain}:${asset.priceFeed.address.toLowerCase()}` }),
  };
}

/** What values outflows lower from `before` to `after`, in words; empty when nothing does (or no valuations were recorded). */
export function valuationLoosenings(before: ConfigSummary, after: ConfigSummary): string[] {
  const out: string[] = [];
  const now = after.valuations ?? {};
  for (const [key, was] of Object.entries(before.valuations ?? {})) {
    const is = now[key];
    const name = `${was.symbol} (${key})`;
    if (!is) {
      out.push(`asset ${name} no longer listed (valued as an unlisted token)`);
      continue;
    }
    if (BigInt(is.priceMicros) < BigInt(was.priceMicros)) {
      out.push(`price of ${name} lowered from ${was.priceMicros} to ${is.priceMicros} micro-USD`);
    }
    if (is.decimals !== was.decimals) out.push(`decimals of ${name} changed from ${was.decimals} to ${is.decimals}`);
    if (
      was.worstCasePriceMicros !== undefined &&
      BigInt(is.worstCasePriceMicros ?? is.priceMicros) < BigInt(was.worstCasePriceMicros)
    ) {
      out.push(`worst-case price of ${name} lowered from ${was.worstCasePriceMicros} micro-USD`);
    }
    if (was.priceFeed !== undefined && is.priceFeed !== was.priceFeed) {
      out.push(`price feed of ${name} changed from ${was.priceFeed} to ${is.priceFeed ?? 'none'}`);
    }
  }
  if (
    before.unknownAssetUsdMicros !== undefined &&
    BigInt(after.unknownAssetUsdMicros ?? 0) < BigInt(before.unknownAssetUsdMicros)
  ) {
    out.push(
      `unlisted-token value lowered from ${before.unknownAssetUsdMicros} to ${after.unknownAssetUsdMicros ?? 0} micro-USD`,
    );
  }
  if (before.unlistedPricing !== undefined && after.unlistedPricing !== before.unlistedPricing) {
    out.push(
      `on-chain pricing of unlisted tokens changed from ${before.unlistedPricing} to ${after.unlistedPricing ?? 'off'}`,
    );
  }
  return out;
}

/**
 * While a loosening waits: each outflow at the higher of its recorded value and the previous config's
 * valuation of it — its static price (the worst-case price for an outflow valued at the worst case),
 * or the unlisted-token value. An outflow priced by a feed keeps the feed's price unless the change
 * replaced or removed that feed (a feed that answers what its deployer wants is a loosening too).
 */
export function previousValuation(
  previous: ConfigSummary,
  current: ConfigSummary,
): (r: OutflowRecord) => OutflowRecord {
  const was = previous.valuations ?? {};
  const is = current.valuations ?? {};
  const unknownMicros = previous.unknownAssetUsdMicros === undefined ? 0n : BigInt(previous.unknownAssetUsdMicros);
  return (r) => {
    const key = valuationKey(r.chain, r.contract);
    const before = was[key];
    if (r.priceSource === 'feed' && before?.priceFeed !== undefined && before.priceFeed === is[key]?.priceFeed)
      return r;
    const value = before ? valueInMicros(r.amount, before.decimals, priceFor(r, before)) : unknownMicros;
    return value > r.usdMicros ? { ...r, usdMicros: value } : r;
  };
}

function priceFor(r: OutflowRecord, v: RecordedValuation): bigint {
  const price = BigInt(v.priceMicros);
  const worst = v.worstCasePriceMicros === undefined ? 0n : BigInt(v.worstCasePriceMicros);
  return r.priceSource === 'worst-case' && worst > price ? worst : price;
}
