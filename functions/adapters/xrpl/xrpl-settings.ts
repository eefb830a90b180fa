import { z } from 'zod';
import type { ReadableChain } from '../../core/chain-kind.ts';
import { httpUrl, type ParsedChain, rpcMaxResponseBytes } from '../../core/config/schema.ts';

/** The config's `kind:` value for this kind. */
export const XRPL_KIND_ID = 'xrpl';

/** An XRP Ledger chain's own settings (`kind: xrpl`). */
export const xrplSettings = {
  /** JSON-RPC endpoints: full-history rippled/xrpld servers or Clio (a pruning server cannot serve catch-up). */
  rpc: z.array(httpUrl).min(1, { error: 'an xrpl chain needs at least one JSON-RPC endpoint' }),
  /**
   * The network every endpoint must serve: `server_info`'s `network_id` (0 mainnet, 1 testnet,
   * 2 devnet). rippled reports it only when one is configured (mainnet servers usually are not), so
   * an answer without it reads as 0.
   */
  networkId: z.number().int().min(0).max(0xffff_ffff).default(0),
  /**
   * `ledger`: one `ledger` call per ledger with every transaction and its metadata (sees everything).
   * `account_tx`: one `account_tx` per hot wallet per poll plus a header per ledger (kilobytes instead of megabytes).
   */
  readMode: z.enum(['ledger', 'account_tx']).default('ledger'),
  /** Calls per HTTP request; above 1 uses rippled's `batch` method, which Clio and public servers may refuse. */
  batchSize: z.number().int().min(1).max(100).default(1),
  /** HTTP requests in flight at once per endpoint. */
  concurrency: z.number().int().min(1).max(16).default(4),
  /** An endpoint whose validated ledger trails the best one by more than this is not used. */
  maxLagLedgers: z.number().int().min(0).max(10_000).default(20),
  rpcTimeoutMs: z.number().int().min(100).max(60_000).default(10_000),
  rpcMaxResponseBytes,
};

/** The chain's own settings, and its issued currencies (the reader counts them at their decimals). */
export type XrplSettings = z.output<z.ZodObject<typeof xrplSettings>> & Pick<ParsedChain, 'tokens'>;

/** The XRPL settings of a configured chain; undefined when the chain is of another kind. */
export function xrplSettingsOf(chain: ReadableChain): XrplSettings | undefined {
  return chain.kind.id === XRPL_KIND_ID ? (chain.raw as unknown as XrplSettings) : undefined;
}
