import { z } from 'zod';
import type { ReadableChain } from '../../core/chain-kind.ts';
import { httpUrl, rpcMaxResponseBytes } from '../../core/config/schema.ts';

/** The config's `kind:` value for this kind. */
export const TRON_KIND_ID = 'tron';

/** Block 0's blockID on Tron mainnet: the reader refuses an endpoint that serves another chain. */
export const TRON_MAINNET_GENESIS = '00000000000000001ebf88508a03865c71d452e25f4d51194196a1d22b6653dc';

/** java-tron's getblockbylimitnext serves at most 100 blocks per request. */
export const TRON_MAX_BLOCKS_PER_REQUEST = 100;

/** A Tron chain's own settings (`kind: tron`). */
export const tronSettings = {
  /** java-tron HTTP API base URLs (full node or solidity node); the reader uses their `/walletsolidity/*` paths. */
  http: z.array(httpUrl).min(1, { error: 'at least one HTTP API URL is required' }),
  /**
   * Ethereum-compatible JSON-RPC URLs (java-tron's `/jsonrpc`), optional: with one, TRC-20 Transfers
   * from the hot wallets come from one eth_getLogs per range and transaction info is fetched only for
   * candidate transactions; without, the reader fetches every block's transaction info.
   */
  jsonRpc: z.array(httpUrl).default([]),
  /** Block 0's blockID (64 hex digits). @default Tron mainnet's; set it for Nile, Shasta or a private network. */
  genesisBlockId: z
    .string()
    .regex(/^[0-9a-f]{64}$/, { error: 'expected 64 lower-case hex digits (block 0 blockID)' })
    .default(TRON_MAINNET_GENESIS),
  /** Blocks per getblockbylimitnext request (java-tron allows at most 100). */
  blocksPerRequest: z.number().int().min(1).max(TRON_MAX_BLOCKS_PER_REQUEST).default(TRON_MAX_BLOCKS_PER_REQUEST),
  rpcTimeoutMs: z.number().int().min(100).max(60_000).default(10_000),
  rpcMaxResponseBytes,
  /** With ≥ 2 HTTP endpoints: one whose solidified head lags the best by more than this many blocks is not read from. */
  rpcMaxLagBlocks: z.number().int().min(0).max(10_000).default(20),
  /** With ≥ 2 HTTP endpoints: cross-check their solidified heads every this many head reads (and on the first). */
  rpcCrossCheckEveryPolls: z.number().int().min(1).max(10_000).default(10),
};

export type TronSettings = z.output<z.ZodObject<typeof tronSettings>>;

/** The Tron settings of a configured chain; undefined when the chain is of another kind. */
export function tronSettingsOf(chain: ReadableChain): TronSettings | undefined {
  return chain.kind.id === TRON_KIND_ID ? (chain.raw as unknown as TronSettings) : undefined;
}
