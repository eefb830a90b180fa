import type { AddressRules, ChainKind, ChainReader, ReadableChain, TokenRules } from '../../core/chain-kind.ts';
import { EvmChainReader } from './evm-chain-reader.ts';
import { EVM_KIND_ID, evmSettings } from './evm-settings.ts';

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** A 20-byte hex address: wallets and token contracts alike. */
class HexAddressRules implements AddressRules, TokenRules {
  problem(text: string): string | undefined {
    return ADDRESS.test(text) ? undefined : 'not a 20-byte 0x address';
  }
  /** Hex is case-insensitive; the mixed case of EIP-55 is only a checksum. */
  normalise(text: string): string {
    return text.toLowerCase();
  }
}

/** Ethereum and every chain that speaks its JSON-RPC (BSC, Polygon, Arbitrum, Base, …). */
class EvmChainKind implements ChainKind {
  readonly id = EVM_KIND_ID;
  readonly name = 'EVM';
  readonly address = new HexAddressRules();
  readonly tokens = new HexAddressRules();
  readonly finality = {
    confirmations: 'blocks built on top of the block',
    // Covers Ethereum's finality (two epochs of 32 slots); no EVM chain watched reorganises deeper in practice.
    reorgMemoryBlocks: 64,
  };
  readonly deadManSlackBlocks = 5;
  readonly hostsPriceFeeds = true;
  readonly hasAccountNonces = true;
  readonly readsBalances = true;

  settings() {
    return evmSettings;
  }
  txUrl(explorer: string, txHash: string): string {
    return `${explorer}/tx/${txHash}`;
  }
  hashFromHex(hex: string): string {
    return `0x${hex}`;
  }
  createReader(chain: ReadableChain): ChainReader {
    return new EvmChainReader(chain);
  }
}

export const evmChainKind: ChainKind = new EvmChainKind();
