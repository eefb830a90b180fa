/**
 * The breaker configs the benchmarks run: one EVM chain `devnet` on the local anvil, shaped like
 * config/example.yaml (global, chain and asset limits over 10m / 1h / 24h windows, a single-transaction
 * limit, a cold wallet as own address), so evaluation reads the same history a real deployment would.
 */

import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import type { Page } from '../../functions/core/state.ts';
import { LOCAL_CHAIN_ID } from './chain-tools.ts';

export const BENCH_CHAIN = 'devnet';
export const ETH_USD = 3000;

export interface BenchChainOptions {
  rpc: string;
  hotWallets: readonly string[];
  ownAddresses?: readonly string[];
  tokens?: readonly { symbol: string; contract: string; decimals: number; usdPrice: number }[];
  confirmations: number;
  blockTimeSeconds: number;
  pollIntervalSeconds?: number;
  maxBlocksPerPoll?: number;
  rpcBatchSize?: number;
  /** @default 'blocks' */
  nativeSource?: 'blocks' | 'traces';
  startBlock?: number | 'latest';
  /** Global single-transaction USD limit. Default: so high nothing trips (catch-up measures reading and recording). */
  singleTxUsd?: number;
}

export function benchConfig(o: BenchChainOptions): BreakerConfig {
  return compileConfig(benchConfigSource(o), 'bench');
}

/** The config file's contents benchConfig compiles (for a bench that adds chains of its own). */
export function benchConfigSource(o: BenchChainOptions) {
  const huge = 1e12;
  return {
    name: 'bench',
    chains: {
      [BENCH_CHAIN]: {
        kind: 'evm',
        chainId: LOCAL_CHAIN_ID,
        rpc: [o.rpc],
        rpcBatchSize: o.rpcBatchSize ?? 100,
        nativeSource: o.nativeSource ?? 'blocks',
        confirmations: o.confirmations,
        blockTimeSeconds: o.blockTimeSeconds,
        ...(o.pollIntervalSeconds === undefined ? {} : { pollIntervalSeconds: o.pollIntervalSeconds }),
        maxBlocksPerPoll: o.maxBlocksPerPoll ?? 100,
        startBlock: o.startBlock ?? 0,
        explorer: 'https://explorer.invalid',
        hotWallets: [...o.hotWallets],
        ownAddresses: [...(o.ownAddresses ?? [])],
        native: { symbol: 'ETH', decimals: 18, usdPrice: ETH_USD },
        tokens: [...(o.tokens ?? [])],
      },
    },
    unknownAssets: { usdPerTransfer: 100 },
    limits: {
      warnRatio: 0.8,
      global: {
        usd: { '10m': huge, '1h': 2 * huge, '24h': 5 * huge },
        count: { '10m': 1e9, '1h': 2e9 },
        singleTxUsd: o.singleTxUsd ?? huge,
      },
      chains: {
        [BENCH_CHAIN]: {
          usd: { '10m': huge, '1h': 2 * huge },
          halt: 'chain',
          assets: {
            ETH: { units: { '1h': '1000000000' } },
            ...Object.fromEntries((o.tokens ?? []).map((t) => [t.symbol, { units: { '1h': '1000000000000' } }])),
          },
        },
      },
    },
  };
}

/** Pages go nowhere in a benchmark, but are kept: a page during catch-up means the limits tripped. */
export class CollectingPublisher {
  readonly pages: Page[] = [];
  async publish(page: Page): Promise<void> {
    this.pages.push(page);
  }
}
