import type { ChainKind } from '../core/chain-kind.ts';
import { bitcoinChainKind } from './bitcoin/bitcoin-chain-kind.ts';
import { evmChainKind } from './evm/evm-chain-kind.ts';
import { solanaChainKind } from './solana/solana-chain-kind.ts';
import { tronChainKind } from './tron/tron-chain-kind.ts';
import { xrplChainKind } from './xrpl/xrpl-chain-kind.ts';

/**
 * Every chain kind the breaker can watch: the one list a new kind is added to (docs/ARCHITECTURE.md).
 * The config loader (adapters/config/config-file.ts) hands it to the compiler.
 */
export const CHAIN_KINDS: readonly ChainKind[] = [
  evmChainKind,
  bitcoinChainKind,
  xrplChainKind,
  solanaChainKind,
  tronChainKind,
];
