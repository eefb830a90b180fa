import type { ChainReader } from '../core/chain-kind.ts';
import type { ChainConfig } from '../core/config/types.ts';

/** The chain adapter for a configured chain: used by the Lambda handlers and the local runtime alike. */
export function createChainReader(chain: ChainConfig): ChainReader {
  return chain.kind.createReader(chain);
}
