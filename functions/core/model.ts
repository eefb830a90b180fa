/**
 * The domain model shared by core, adapters and handlers.
 * Amounts are bigint base units; USD values are bigint micro-dollars; times are Unix seconds
 * (chain time) unless a name says `Ms`.
 */

/** One transfer out of a hot wallet, as a chain adapter reads it (before valuation or classification). */
export interface ChainTransfer {
  chain: string;
  block: number;
  blockHash: string;
  /** Block timestamp, Unix seconds. */
  blockTime: number;
  txHash: string;
  /**
   * Position that makes the transfer unique inside its transaction, defined by the chain kind: the log
   * index for a token Transfer, the output index (vout) for Bitcoin, null for an EVM native value
   * transfer; negative for native value an internal call moved (EVM `nativeSource: traces`: -(1 + the
   * frame's trace position)).
   */
  index: number | null;
  /** Token identifier in the chain kind's canonical form (EVM: lower-case contract), null for the native coin. */
  contract: string | null;
  from: string;
  to: string;
  amount: bigint;
  /** Network fee paid by the hot wallet, when the adapter knows it (recorded, never counted as a loss). */
  fee?: bigint;
}

/** A transfer after classification and valuation: what the ledger stores and the rules count. */
export interface OutflowRecord extends ChainTransfer {
  /** Stable identity: `${chain}:${txHash}:${index ?? 'native'}`. */
  id: string;
  /** Monotone time used for windows: max(blockTime, the parent's windowTime). */
  t: number;
  /** Asset symbol; `UNKNOWN` for tokens the config does not know. */
  asset: string;
  decimals: number | null;
  known: boolean;
  /** Destination is an own address (cold wallet, another hot wallet): recorded, never a loss. */
  own: boolean;
  usdMicros: bigint;
  /** How usdMicros was obtained (`discovered`: an unlisted token's on-chain price, core/prices/discovery.ts). */
  priceSource: 'static' | 'feed' | 'worst-case' | 'unknown-asset' | 'discovered' | 'scenario';
  /**
   * The hot wallets' combined balance of this asset (same chain and `contract`) right after this
   * outflow, in base units, when known: what balance-relative rules (rules/kinds/balance-drawdown.ts)
   * measure against. Absent when the chain's reader reads no balances or none was seeded yet.
   */
  balanceAfter?: bigint;
}

export function outflowId(chain: string, txHash: string, index: number | null): string {
  return `${chain}:${txHash}:${index ?? 'native'}`;
}

/** A block as far as reorg detection needs it. */
export interface BlockRef {
  number: number;
  hash: string;
  parentHash: string;
  /** Unix seconds. */
  time: number;
}

/** What a chain adapter returns for one range [from, to]. */
export interface RangeRead {
  /**
   * Every block the chain has in the range, ascending, each the parent of the next. Numbers may be
   * sparse where the chain skips them (Solana slots without a block); none may be left out that exists
   * (core/range-read.ts checks the links, and the next read's first block must link to the last).
   */
  blocks: BlockRef[];
  transfers: ChainTransfer[];
}

/** A halt scope: everything, or one chain. */
export type HaltScope = { kind: 'global' } | { kind: 'chain'; chain: string };

export function scopeKey(scope: HaltScope): string {
  return scope.kind === 'global' ? 'global' : `chain:${scope.chain}`;
}

export function parseScopeKey(key: string): HaltScope {
  if (key === 'global') return { kind: 'global' };
  if (key.startsWith('chain:') && key.length > 6) return { kind: 'chain', chain: key.slice(6) };
  throw new RangeError(`not a halt scope: "${key}" (expected "global" or "chain:<id>")`);
}
