import { FallbackProvider, JsonRpcProvider, type Provider } from 'ethers';
import type { ChainConfig } from '../../core/config/types.ts';
import { evmSettingsOf } from '../evm/evm-settings.ts';

/**
 * An ethers provider on an EVM chain's configured RPC endpoints, for the price reads (feeds, pools):
 * public data, so the first endpoint that answers is enough. ethers batches the calls made in one
 * tick into one HTTP request.
 */
export function evmPriceProvider(chain: ChainConfig): Provider {
  const { chainId, rpc } = evmSettingsOf(chain);
  const each = rpc.map((url) => new JsonRpcProvider(url, chainId, { staticNetwork: true }));
  return each.length === 1
    ? (each[0] as JsonRpcProvider)
    : new FallbackProvider(
        each.map((provider, priority) => ({ provider, priority, weight: 1, stallTimeout: 1500 })),
        chainId,
        { quorum: 1 },
      );
}
