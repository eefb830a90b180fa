import { z } from 'zod';
import type { ReadableChain } from '../../core/chain-kind.ts';
import { httpUrl, rpcMaxResponseBytes } from '../../core/config/schema.ts';

/** The config's `kind:` value for this kind. */
export const EVM_KIND_ID = 'evm';

/** An EVM chain's own settings (`kind: evm`). */
export const evmSettings = {
  chainId: z.number().int().positive(),
  rpc: z.array(httpUrl).min(1, { error: 'at least one RPC URL is required' }),
  rpcBatchSize: z.number().int().min(1).max(1000).default(100),
  rpcTimeoutMs: z.number().int().min(100).max(60_000).default(10_000),
  rpcMaxResponseBytes,
  /** With ≥ 2 endpoints: one lagging the best head by more than this many blocks is not read from. Default max(3, confirmations). */
  rpcMaxLagBlocks: z.number().int().min(0).max(10_000).optional(),
  /** With ≥ 2 endpoints: cross-check the head across endpoints every this many polls (and on a head jump). Default 10. */
  rpcCrossCheckEveryPolls: z.number().int().min(1).max(10_000).optional(),
  /**
   * Where native outflows come from. `blocks` (default): full blocks, plus receipts of blocks with a
   * native send from a hot wallet to drop reverted ones — any endpoint, EOA hot wallets only.
   * `traces`: one `trace_filter` per range (Erigon, Reth, Nethermind, anvil; not geth): fewer calls, and
   * sees native value moved by internal calls (contract hot wallets such as a Safe).
   */
  nativeSource: z.enum(['blocks', 'traces'], { error: 'expected "blocks" or "traces"' }).default('blocks'),
};

export type EvmSettings = z.output<z.ZodObject<typeof evmSettings>>;

/** The EVM settings of a configured chain; throws when the chain is of another kind. */
export function evmSettingsOf(chain: ReadableChain): EvmSettings {
  if (chain.kind.id !== EVM_KIND_ID) throw new TypeError(`chain ${chain.id} is ${chain.kind.id}, not evm`);
  return chain.raw as unknown as EvmSettings;
}
