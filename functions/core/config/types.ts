import type { ActuatorsConfig } from '../actuators/config.ts';
import type { ChainKind } from '../chain-kind.ts';
import type { PriceDiscoveryConfig } from '../prices/discovery.ts';
import type { ReconciliationConfig } from '../reconciliation/config.ts';
import type { Rule } from '../rules/rule.ts';
import type { WatermarkConfig } from '../watermark/config.ts';
import type { ParsedChain, ParsedConfig } from './schema.ts';

/** The compiled config (functions/core/config/compile.ts builds it): what every part of the breaker reads. */
export interface AssetConfig {
  chain: string;
  symbol: string;
  /** Token identifier in the kind's canonical form (EVM: lower-case contract); null for the native coin. */
  contract: string | null;
  decimals: number;
  /** Static USD price in micro-USD per whole unit. */
  priceMicros: bigint;
  /** On-chain USD feed; `chain` is the chain it is read on (one whose kind hosts price feeds). */
  priceFeed?: { chain: string; address: string; maxAgeSeconds: number };
  /** Micro-USD per unit while the feed is stale or unreadable (≥ priceMicros). */
  worstCasePriceMicros?: bigint;
}

export interface ChainConfig {
  id: string;
  /** What kind of chain this is: address rules, explorer links, finality, the reader (core/chain-kind.ts). */
  kind: ChainKind;
  /** The chain as parsed: the common fields and the kind's own settings (its reader reads them). */
  raw: ParsedChain;
  confirmations: number;
  blockTimeSeconds: number;
  pollIntervalSeconds: number;
  maxBlocksPerPoll: number;
  startBlock: 'latest' | number;
  explorer: string | undefined;
  /** Normalised by the kind's address rules (EVM: lower-case; base58: as written). */
  hotWallets: string[];
  /** Hot wallets of every chain plus configured own addresses: transfers here are not losses. */
  ownAddresses: Set<string>;
  native: AssetConfig;
  tokens: Map<string, AssetConfig>;
}

/** Chains one poller function polls together, each in its own loop (config `pollerGroups`). */
export interface PollerGroup {
  /** The group's name; for a chain in no group, the chain's id. */
  readonly id: string;
  readonly chains: readonly string[];
}

export interface BreakerConfig {
  name: string;
  chains: Map<string, ChainConfig>;
  unknownAssetUsdMicros: bigint;
  /** On-chain prices for unlisted tokens (off unless `unknownAssets.discovery.enabled`). */
  priceDiscovery: PriceDiscoveryConfig;
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
  /** Every chain's poller, each chain in exactly one: configured groups in config order, then lone chains in chain order. */
  pollerGroups: readonly PollerGroup[];
  /** The validated input, for tools that want to print or re-serialise it. */
  source: ParsedConfig;
}
