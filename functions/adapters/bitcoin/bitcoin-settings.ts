import { z } from 'zod';
import type { ReadableChain } from '../../core/chain-kind.ts';
import { httpUrl, type ParsedChain, rpcMaxResponseBytes } from '../../core/config/schema.ts';

// Deep validation (checksums, network prefix) happens in the reader; this catches typos early.
export const BITCOIN_ADDRESS = /^(bc1|tb1|bcrt1)[02-9ac-hj-np-z]{8,87}$|^[123mn][1-9A-HJ-NP-Za-km-z]{25,34}$/;

/** The config's `kind:` value for this kind. */
export const BITCOIN_KIND_ID = 'bitcoin';

/** A Bitcoin chain's own settings (`kind: bitcoin`). */
export const bitcoinSettings = {
  network: z.enum(['mainnet', 'testnet', 'regtest']).default('mainnet'),
  /** Bitcoin Core JSON-RPC endpoints (user:pass may be in the URL). */
  rpc: z.array(httpUrl).default([]),
  /** Esplora REST API base URLs (electrs, mempool). */
  esplora: z.array(httpUrl).default([]),
  rpcTimeoutMs: z.number().int().min(100).max(60_000).default(10_000),
  rpcMaxResponseBytes,
};

/** The chain's own settings, and its own addresses (checked against the network by the reader). */
export type BitcoinSettings = z.output<z.ZodObject<typeof bitcoinSettings>> & Pick<ParsedChain, 'ownAddresses'>;

/** The Bitcoin settings of a configured chain; undefined when the chain is of another kind. */
export function bitcoinSettingsOf(chain: ReadableChain): BitcoinSettings | undefined {
  return chain.kind.id === BITCOIN_KIND_ID ? (chain.raw as unknown as BitcoinSettings) : undefined;
}
