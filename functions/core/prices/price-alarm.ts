import type { AssetConfig, BreakerConfig, ChainConfig } from '../config/types.ts';
import type { ChainTransfer } from '../model.ts';
import type { BreakerState, Page } from '../state.ts';
import type { PriceProblem } from './price-source.ts';

/**
 * A price feed that cannot be used is a blind spot: outflows are then valued at the configured
 * worst case (never zero), and on-call is told — once per feed per hour, not once per poll.
 */
export const PRICE_ALARM_REPEAT_SECONDS = 3600;

/** Assets with a price feed among the transfers of a batch (only these need a feed read). */
export function feedPricedAssets(chain: ChainConfig, transfers: readonly ChainTransfer[]): AssetConfig[] {
  const assets = new Map<string, AssetConfig>();
  for (const t of transfers) {
    const asset = t.contract === null ? chain.native : chain.tokens.get(t.contract);
    if (asset?.priceFeed) assets.set(asset.symbol, asset);
  }
  return [...assets.values()];
}

export function hasPriceFeeds(config: BreakerConfig): boolean {
  return [...config.chains.values()].some((c) =>
    [c.native, ...c.tokens.values()].some((a) => a.priceFeed !== undefined),
  );
}

function alarmKey(p: PriceProblem): string {
  return `price:${p.chain}:${p.asset}`;
}

/** The next state with a page for each problem not paged within the repeat interval, or undefined. */
export function priceAlarmTransition(
  prev: BreakerState,
  problems: readonly PriceProblem[],
  config: BreakerConfig,
  nowMs: number,
): BreakerState | undefined {
  const nowS = Math.floor(nowMs / 1000);
  const due = problems.filter((p) => (prev.warnedUntil[alarmKey(p)] ?? Number.NEGATIVE_INFINITY) <= nowS);
  if (due.length === 0) return undefined;
  const state = structuredClone(prev);
  for (const p of due) state.warnedUntil[alarmKey(p)] = nowS + PRICE_ALARM_REPEAT_SECONDS;
  const page: Page = {
    id: `page-price-${prev.version + 1}`,
    kind: 'blind',
    subject:
      `[BLIND] ${config.name}: price feed unusable for ${due.map((p) => `${p.asset}@${p.chain}`).join(', ')}`.slice(
        0,
        100,
      ),
    text: [
      `Price feeds could not be used; outflows of these assets are valued at their configured worst-case price until they recover:`,
      ...due.map((p) => `  ${p.asset} on ${p.chain} (feed ${p.feed}): ${p.reason}`),
      '',
      'Nothing is halted by this page. Check the feed (and the RPC endpoints of the chain that hosts it).',
    ].join('\n'),
    details: { problems: due },
  };
  state.outbox = [...state.outbox, { kind: 'page', id: page.id, page }];
  state.version = prev.version + 1;
  state.updatedAtMs = nowMs;
  return state;
}
