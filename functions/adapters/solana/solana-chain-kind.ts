import type { AddressRules, ChainKind, ChainReader, ReadableChain, TokenRules } from '../../core/chain-kind.ts';
import { base58Encode, base58Problem } from '../encoding/base58.ts';
import { SolanaChainReader } from './solana-chain-reader.ts';
import { SOLANA_KIND_ID, solanaSettings } from './solana-settings.ts';

/** An account address (a wallet, a token account): a base58 32-byte key, case-sensitive, compared as written. */
class SolanaAddressRules implements AddressRules {
  problem(text: string): string | undefined {
    return base58Problem(text, 32, 'Solana address');
  }
  normalise(text: string): string {
    return text;
  }
}

/** A token is named by its mint address (SPL Token and Token-2022 alike), as written. */
class SolanaMintRules implements TokenRules {
  problem(text: string): string | undefined {
    return base58Problem(text, 32, 'Solana mint address');
  }
  normalise(text: string): string {
    return text;
  }
}

/** Solana (mainnet-beta, devnet or a private cluster), read at `finalized` over JSON-RPC. */
class SolanaChainKind implements ChainKind {
  readonly id = SOLANA_KIND_ID;
  readonly name = 'Solana';
  readonly address = new SolanaAddressRules();
  readonly tokens = new SolanaMintRules();
  /**
   * The reader reads only finalized slots, which do not roll back; `confirmations` adds slots on top.
   * The memory is in slot numbers, and skipped slots use some of it.
   */
  readonly finality = { confirmations: 'slots on top of the finalized slot', reorgMemoryBlocks: 128 };
  /** Slots are 400 ms and finality trails the tip by ~32 of them: 150 slots is a minute of slack. */
  readonly deadManSlackBlocks = 150;
  readonly hostsPriceFeeds = false;
  /** getBalance / getTokenAccountsByOwner at finalized (solana-balances.ts). */
  readonly readsBalances = true;
  readonly hasAccountNonces = false;
  /** A transfer's index is the position of the instruction that moved it (solana-outflows.ts). */
  readonly outputIndexName = 'instruction';

  settings() {
    return solanaSettings;
  }
  txUrl(explorer: string, signature: string): string {
    return `${explorer}/tx/${signature}`;
  }
  hashFromHex(hex: string): string {
    return base58Encode(Uint8Array.from(hex.match(/../g) ?? [], (h) => Number.parseInt(h, 16)));
  }
  createReader(chain: ReadableChain): ChainReader {
    return new SolanaChainReader(chain);
  }
}

export const solanaChainKind: ChainKind = new SolanaChainKind();
