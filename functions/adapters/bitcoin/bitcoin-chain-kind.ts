import type { AddressRules, ChainKind, ChainReader, ReadableChain } from '../../core/chain-kind.ts';
import { BitcoinChainReader } from './bitcoin-chain-reader.ts';
import { BITCOIN_ADDRESS, BITCOIN_KIND_ID, bitcoinSettings } from './bitcoin-settings.ts';

class BitcoinAddressRules implements AddressRules {
  problem(text: string): string | undefined {
    return BITCOIN_ADDRESS.test(text) ? undefined : 'not a Bitcoin address (P2PKH, P2SH, bech32 or bech32m)';
  }
  /** Base58 is case-sensitive: compared as written (the reader maps each spelling to its script). */
  normalise(text: string): string {
    return text;
  }
}

/** Bitcoin (mainnet, testnet/signet, regtest), read from Bitcoin Core JSON-RPC and/or Esplora. */
class BitcoinChainKind implements ChainKind {
  readonly id = BITCOIN_KIND_ID;
  readonly name = 'Bitcoin';
  readonly address = new BitcoinAddressRules();
  readonly finality = { confirmations: 'blocks mined on top of the block', reorgMemoryBlocks: 64 };
  /** Block intervals are exponential: an hour without a block is routine. */
  readonly deadManSlackBlocks = 10;
  readonly hostsPriceFeeds = false;
  /** From the hot addresses' coins (bitcoin-balances.ts). */
  readonly readsBalances = true;
  readonly hasAccountNonces = false;
  readonly outputIndexName = 'vout';

  settings() {
    return bitcoinSettings;
  }
  checkSettings(chain: Readonly<Record<string, unknown>>): string | undefined {
    const endpoints = (chain.rpc as unknown[]).length + (chain.esplora as unknown[]).length;
    return endpoints > 0 ? undefined : 'a bitcoin chain needs at least one endpoint in rpc or esplora';
  }
  txUrl(explorer: string, txHash: string): string {
    return `${explorer}/tx/${txHash}`;
  }
  hashFromHex(hex: string): string {
    return hex;
  }
  createReader(chain: ReadableChain): ChainReader {
    return new BitcoinChainReader(chain);
  }
}

export const bitcoinChainKind: ChainKind = new BitcoinChainKind();
