import { valueInMicros } from '../amounts.ts';
import type { OutflowRecord } from '../model.ts';
import type { UnlistedPriceSource } from './discovery.ts';

/**
 * Values a poll's outflows of tokens the config does not list at their discovered price
 * (core/prices/discovery.ts), read once per token at the range's last block. A token nothing prices
 * keeps the worst case classification gave it (`unknownAssets.usdPerTransfer`, never zero). Only
 * polls with an unlisted token call the source, so a poll of listed assets costs no extra RPC call.
 */
export async function valueUnlistedOutflows(
  records: OutflowRecord[],
  source: UnlistedPriceSource,
  at: { chain: string; block: number; nowS: number },
): Promise<void> {
  const unlisted = records.filter((r) => !r.known && r.contract !== null);
  const tokens = [...new Set(unlisted.map((r) => r.contract as string))];
  const prices = new Map(
    await Promise.all(
      tokens.map(async (token) => [token, await source.price(at.chain, token, at.block, at.nowS)] as const),
    ),
  );
  for (const r of unlisted) {
    const price = prices.get(r.contract as string);
    if (price?.kind !== 'priced') continue;
    r.usdMicros = valueInMicros(r.amount, price.decimals, price.priceMicros);
    r.priceSource = 'discovered';
  }
}
