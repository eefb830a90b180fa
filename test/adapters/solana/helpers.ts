import { compileConfig } from '../../../functions/adapters/config/config-file.ts';
import {
  SolanaChainReader,
  type SolanaChainReaderOptions,
} from '../../../functions/adapters/solana/solana-chain-reader.ts';
import type { ChainConfig } from '../../../functions/core/config/types.ts';

export interface SolanaChainInput {
  rpc: string[];
  genesisHash?: string;
  cluster?: 'mainnet-beta' | 'devnet';
  hotWallets: string[];
  ownAddresses?: string[];
  tokenAccounts?: string[];
  tokens?: { symbol: string; contract: string; decimals: number; usdPrice: number }[];
  startBlock?: number;
  rpcBatchSize?: number;
  rpcTimeoutMs?: number;
  maxBlocksPerPoll?: number;
  rpcMaxLagSlots?: number;
  rpcMaxResponseBytes?: number;
}

/** A solana ChainConfig as the core compiles it from a config file (chain id `sol`). */
export function solanaChainConfig(input: SolanaChainInput): ChainConfig {
  const config = compileConfig(
    {
      name: 'sol-test',
      chains: { sol: solanaChainInput(input) },
      limits: { global: { usd: { '1h': 1_000_000 } } },
    },
    'test config',
  );
  const chain = config.chains.get('sol');
  if (!chain) throw new Error('chain sol missing');
  return chain;
}

/** The `chains.sol` object of a config file. */
export function solanaChainInput(input: SolanaChainInput): Record<string, unknown> {
  return {
    kind: 'solana',
    rpc: input.rpc,
    ...(input.genesisHash && { genesisHash: input.genesisHash }),
    ...(input.cluster && { cluster: input.cluster }),
    rpcTimeoutMs: input.rpcTimeoutMs ?? 5_000,
    ...(input.rpcBatchSize !== undefined && { rpcBatchSize: input.rpcBatchSize }),
    ...(input.rpcMaxLagSlots !== undefined && { rpcMaxLagSlots: input.rpcMaxLagSlots }),
    ...(input.rpcMaxResponseBytes !== undefined && { rpcMaxResponseBytes: input.rpcMaxResponseBytes }),
    tokenAccounts: input.tokenAccounts ?? [],
    confirmations: 0,
    blockTimeSeconds: 0.4,
    ...(input.startBlock !== undefined && { startBlock: input.startBlock }),
    ...(input.maxBlocksPerPoll !== undefined && { maxBlocksPerPoll: input.maxBlocksPerPoll }),
    explorer: 'https://explorer.solana.com',
    hotWallets: input.hotWallets,
    ownAddresses: input.ownAddresses ?? [],
    native: { symbol: 'SOL', decimals: 9, usdPrice: 200 },
    tokens: input.tokens ?? [],
  };
}

export function solanaReader(input: SolanaChainInput, options?: SolanaChainReaderOptions): SolanaChainReader {
  return new SolanaChainReader(solanaChainConfig(input), { backoffMs: 1, ...options });
}
