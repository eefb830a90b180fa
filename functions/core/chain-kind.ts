import type { z } from 'zod';
import type { BlockRef, RangeRead } from './model.ts';

/**
 * A chain kind is a plug-in: everything the breaker knows about one family of chains (EVM, Bitcoin, …)
 * that is not a transfer. Core, the guard, the console, replay and infra ask `chain.kind` (this object)
 * and never compare kind names; each adapter folder exports one (`adapters/evm/evm-chain-kind.ts`) and
 * `adapters/chain-kinds.ts` lists them. docs/ARCHITECTURE.md walks through adding one.
 *
 * Implement it as a class, and `address`/`tokens` as class instances: a kind sits inside every
 * ChainConfig, and the compiled config is data that tools and tests copy with structuredClone, which
 * copies own data fields and cannot copy functions. Own fields hold data; behaviour lives on prototypes.
 */
export interface ChainKind {
  /** The config's `kind:` value (`evm`, `bitcoin`). */
  readonly id: string;
  /** For messages: `EVM`, `Bitcoin`. */
  readonly name: string;
  /**
   * The zod fields of the chain's own settings (endpoints, network, batch sizes), merged into the chain
   * object beside the fields every chain has (confirmations, hotWallets, native, …; see
   * config/schema.ts). The kind's reader reads them back from `ChainConfig.raw`.
   */
  settings(): z.ZodRawShape;
  /** A check across the chain's own settings, or undefined: returns the problem (e.g. "needs an endpoint"). */
  checkSettings?(chain: Readonly<Record<string, unknown>>): string | undefined;
  readonly address: AddressRules;
  /** How tokens are named on this chain; undefined when the chain has only its native coin (no `tokens:`). */
  readonly tokens?: TokenRules;
  readonly finality: Finality;
  /**
   * Block times of slack the dead-man alarm allows beyond confirmations before the poller counts as
   * falling behind: generous where block intervals vary widely (Bitcoin's are exponential).
   */
  readonly deadManSlackBlocks: number;
  /** Can a USD price feed (Chainlink-style aggregator) be read on a chain of this kind? */
  readonly hostsPriceFeeds: boolean;
  /**
   * Do its accounts sign with sequential nonces, so the guard can watermark them (core/watermark)? Then
   * the kind's reader must also implement NonceReader (ports.ts). EVM: yes; Bitcoin: no (UTXOs).
   */
  readonly hasAccountNonces: boolean;
  /**
   * Do its wallets spend outputs (UTXOs), so the guard can watermark the outpoints a withdrawal spends
   * (core/watermark/outpoints.ts)? Then the kind's reader must put `hotSpends` in every RangeRead and,
   * for `watermark.pending`, implement PendingSpendReader (ports.ts). Bitcoin: yes. Absent means no.
   */
  readonly spendsOutpoints?: boolean;
  /**
   * Does the kind's reader also implement BalanceReader (ports.ts), so balance-relative rules
   * (`limits.patterns.balanceDrawdown`) can watch its chains? Absent means no: the config refuses such
   * a rule on its chains rather than let it stay silent unnoticed.
   */
  readonly readsBalances?: boolean;
  /**
   * Where `ChainTransfer.index` is not a log index, the name tools print it under: Bitcoin `vout`
   * (one transfer per output), XRPL `position` (its place among the transaction's outflows).
   * Undefined where the index is a log index.
   */
  readonly outputIndexName?: string;
  /** The explorer page of a transaction (`${explorer}/tx/${hash}`; Tronscan: `${explorer}/#/transaction/${hash}`). */
  txUrl(explorer: string, txHash: string): string;
  /** A 32-byte hash written this chain's way, from 64 hex digits (replay's synthetic hashes): EVM adds `0x`. */
  hashFromHex(hex: string): string;
  /** The reader of a configured chain of this kind (the adapter behind the ChainReader port). */
  createReader(chain: ReadableChain): ChainReader;
}

/**
 * What a reader is built from: a compiled chain (ChainConfig is one; this view keeps the port free of
 * the config's types). `raw` holds the kind's own settings, which only the kind's adapter reads.
 */
export interface ReadableChain {
  readonly id: string;
  readonly kind: ChainKind;
  readonly raw: Readonly<Record<string, unknown>>;
  readonly confirmations: number;
  readonly blockTimeSeconds: number;
  /** Normalised by the kind's address rules. */
  readonly hotWallets: readonly string[];
  /** Own addresses of every chain (hot wallets included), normalised. */
  readonly ownAddresses: ReadonlySet<string>;
}

/**
 * What an address is on this chain. Every address the breaker compares (hot wallets, own addresses,
 * transfer from/to, approved destinations, allowed destinations) is compared in `normalise`d form,
 * and nothing else normalises addresses.
 */
export interface AddressRules {
  /** Why `text` is not an address of this kind (the whole message, e.g. `not a 20-byte 0x address`), or undefined. */
  problem(text: string): string | undefined;
  /**
   * The one canonical form of a valid address. EVM: lower-case (hex is case-insensitive). Base58 ids
   * (Bitcoin legacy, Solana, XRPL, Tron) are case-sensitive: as written.
   */
  normalise(address: string): string;
}

/**
 * How a token is named on this chain: the `contract` field of a `tokens:` entry, and `ChainTransfer.contract`.
 * EVM: the contract address, lower-case. A kind whose tokens are named otherwise (an SPL mint, base58;
 * an XRPL currency + issuer; a TRC-10 numeric id) defines its own text form here; its reader must put
 * exactly that form in `ChainTransfer.contract`.
 */
export interface TokenRules {
  /** Why `text` is not a token identifier of this kind (the whole message), or undefined. */
  problem(text: string): string | undefined;
  /** The canonical form of a valid identifier (what `ChainTransfer.contract` holds). */
  normalise(text: string): string;
}

/** What confirmed means on this chain, and how far back a reorg is detected. */
export interface Finality {
  /** What `confirmations: N` counts, for docs and messages (`blocks on top of the block`). */
  readonly confirmations: string;
  /**
   * How far back (in block numbers) a chain cursor's reorg checkpoints reach (core/reorg-checkpoints.ts);
   * a reorg below them is paged as blind with the range to audit. Sized in block numbers, so on a chain that skips numbers (Solana
   * slots) it covers fewer blocks than it says.
   */
  readonly reorgMemoryBlocks: number;
}

/** The registered kinds by id, checked for duplicates (the config compiler's input). */
export function chainKindsById(kinds: readonly ChainKind[]): ReadonlyMap<string, ChainKind> {
  const byId = new Map<string, ChainKind>();
  for (const k of kinds) {
    if (byId.has(k.id)) throw new TypeError(`chain kind "${k.id}" is registered twice`);
    byId.set(k.id, k);
  }
  if (byId.size === 0) throw new TypeError('no chain kinds registered');
  return byId;
}

/** An asset as a caller names it (a symbol, or a token identifier in any spelling): identifiers canonical, symbols as written. */
export function canonicalAsset(kind: ChainKind, asset: string): string {
  return kind.tokens && kind.tokens.problem(asset) === undefined ? kind.tokens.normalise(asset) : asset;
}

/** Reads one chain: the adapter a ChainKind builds (EVM: adapters/evm/evm-chain-reader.ts). */
export interface ChainReader {
  readonly chain: string;
  /**
   * The head reads go on from: a block number every block up to which the reader can serve from the
   * endpoint it will use. It may trail the true tip (a slow endpoint); with several endpoints the
   * adapter cross-checks them (EVM: adapters/evm/head-check.ts) and throws ChainReadError rather than
   * answer when none can be trusted. A head that stops advancing is caught by core/use-cases/watch-blindness.ts.
   */
  head(): Promise<number>;
  /** Blocks [from, to] (sparse where the chain skips numbers) with every hot-wallet transfer in them. Throws ChainReadError. */
  readRange(from: number, to: number): Promise<RangeRead>;
  /** Headers of the given blocks (any order), for finding a reorg's common ancestor. */
  blockRefs(numbers: number[]): Promise<BlockRef[]>;
}
