import type { ChainConfig } from '../core/config/types.ts';
import type { ChainReader } from '../core/ports.ts';
import { BitcoinChainReader } from './bitcoin/bitcoin-chain-reader.ts';
import { EvmChainReader } from './evm/evm-chain-reader.ts';

/** The chain adapter for a configured chain: used by the Lambda handlers and the local runtime alike. */
export function createChainReader(chain: ChainConfig): ChainReader {
  switch (chain.kind) {
    case 'evm':
      return new EvmChainReader(chain);
    case 'bitcoin':
      return new BitcoinChainReader(chain);
  }
}
