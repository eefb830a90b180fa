import type { ActuatorsConfig } from '../actuators/config.ts';
import type { ReconciliationConfig } from '../reconciliation/config.ts';
import type { WatermarkConfig } from '../watermark/config.ts';
import type { Rule } from '../rules/rule.ts';
import type { ParsedConfig } from './schema.ts';

/** The compiled config (functions/core/config/compile.ts builds it): what every part of the breaker reads. */
export interface AssetConfig {
  chain: string;
  symbol: string;
  /** Lower-case token contract; null for the native coin. */
  contract: string | null;
  decimals: number;
  /** Static USD price in micro-USD per whole unit. */
  priceMicros: bigint;
  /** On-chain USD feed; `chain` is the (EVM) chain it is read on. */
  priceFeed?: { chain: string; address: string; maxAgeSeconds: number };
  /** Micro-USD per unit while the feed is stale or unreadable (≥ priceMicros). */
  worstCasePriceMicros?: bigint;
}

export interface ChainConfig {
  id: string;
  kind: 'evm' | 'bitcoin';
  raw: ParsedConfig['chains'][string];
  confirmations: number;
  blockTimeSeconds: number;
  pollIntervalSeconds: number;
  maxBlocksPerPoll: number;
  startBlock: 'latest' | number;
  explorer: string | undefined;
  /** Lower-case (EVM) or as written (Bitcoin). */
  hotWallets: string[];
  /** Hot wallets of every chain plus configured own addresses: transfers here are not losses. */
  ownAddresses: Set<string>;
  native: AssetConfig;
  tokens: Map<string, AssetConfig>;
}

export interface BreakerConfig {
  name: string;
  chains: Map<string, ChainConfig>;
  unknownAssetUsdMicros: bigint;
  rules: Rule[];
  /**
   * How much history evaluation must read, in seconds: the longest rule window, or longer when a
   * drain pattern looks further back (new destinations: window + lookback; wallet profile:
   * baseline + window).
   */
  maxWindowSeconds: number;
  warnRatio: number;
  pages: ParsedConfig['pages'];
  operations: ParsedConfig['operations'];
  /** Approved-withdrawal reconciliation (its rules are in `rules` when enabled). */
  reconciliation: ReconciliationConfig;
  /** The signed-nonce watermark (functions/core/watermark). */
  watermark: WatermarkConfig;
  /** Kill-switch layers beyond the table flag. */
  actuators: ActuatorsConfig;
  /** The validated input, for tools that want to print or re-serialise it. */
  source: ParsedConfig;
}
