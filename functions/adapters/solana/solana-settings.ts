import { z } from 'zod';
import type { ReadableChain } from '../../core/chain-kind.ts';
import { httpUrl, type ParsedChain, rpcMaxResponseBytes } from '../../core/config/schema.ts';
import { base58Problem } from '../encoding/base58.ts';

/** The config's `kind:` value for this kind. */
export const SOLANA_KIND_ID = 'solana';

/** Genesis hashes of the public clusters (what `getGenesisHash` answers there). */
export const CLUSTER_GENESIS = {
  'mainnet-beta': '5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d',
  devnet: 'EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG',
} as const;

const base58Key = z.string().refine((s) => base58Problem(s, 32, 'Solana address') === undefined, {
  error: (issue) => base58Problem(String(issue.input), 32, 'Solana address') ?? 'not a Solana address',
});

/** A Solana chain's own settings (`kind: solana`). */
export const solanaSettings = {
  /** The public cluster the endpoints must serve (checked with getGenesisHash before an endpoint is used). */
  cluster: z.enum(['mainnet-beta', 'devnet']).default('mainnet-beta'),
  /** The genesis hash of a private or local cluster, in place of `cluster`'s. */
  genesisHash: z
    .string()
    .refine((s) => base58Problem(s, 32, 'genesis hash') === undefined, { error: 'not a base58 32-byte hash' })
    .optional(),
  /** JSON-RPC endpoints in order of preference; every call is read at `finalized`. */
  rpc: z.array(httpUrl).min(1, { error: 'a solana chain needs at least one rpc endpoint' }),
  /**
   * Token accounts whose transactions are read besides the hot wallets' own: accounts a delegate or a
   * Token-2022 permanent delegate can debit without the owner signing (docs/SOLANA.md, what cannot be seen).
   */
  tokenAccounts: z.array(base58Key).default([]),
  rpcTimeoutMs: z.number().int().min(100).max(60_000).default(10_000),
  /** JSON-RPC calls per HTTP request (some providers cap batches at 10). */
  rpcBatchSize: z.number().int().min(1).max(1000).default(100),
  rpcMaxResponseBytes,
  /** With two or more endpoints: an endpoint whose finalized slot is this far behind the best is set aside. */
  rpcMaxLagSlots: z.number().int().min(1).max(100_000).default(150),
  /** With two or more endpoints: cross-check their heads every this many polls (and on the first). */
  rpcCrossCheckEveryPolls: z.number().int().min(1).max(10_000).default(10),
};

/** The chain's own settings, as the reader reads them back from `ChainConfig.raw`. */
export type SolanaSettings = z.output<z.ZodObject<typeof solanaSettings>> & Pick<ParsedChain, 'ownAddresses'>;

/** The Solana settings of a configured chain; undefined when the chain is of another kind. */
export function solanaSettingsOf(chain: ReadableChain): SolanaSettings | undefined {
  return chain.kind.id === SOLANA_KIND_ID ? (chain.raw as unknown as SolanaSettings) : undefined;
}
