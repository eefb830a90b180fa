import type { AddressRules, ChainKind, ChainReader, ReadableChain, TokenRules } from '../../core/chain-kind.ts';
import { tronAddress, tronAddressProblem } from './addresses.ts';
import { TronChainReader } from './tron-chain-reader.ts';
import { TRON_KIND_ID, tronSettings } from './tron-settings.ts';

class TronAddressRules implements AddressRules {
  problem(text: string): string | undefined {
    return tronAddressProblem(text);
  }
  /**
   * Base58check T… as written (case-sensitive); a 41-prefixed hex address becomes its T… form. Text
   * that is neither stays as written: it then matches no configured address, which are all valid.
   */
  normalise(text: string): string {
    return tronAddressProblem(text) === undefined ? tronAddress(text) : text;
  }
}

/** A TRC-10 token id as the HTTP API reports it (decimal digits; ids start at 1000001). */
const TRC10_ID = /^\d{1,19}$/;

/** A TRC-20 token is its contract's address (T… form); a TRC-10 token its numeric id. */
class TronTokenRules implements TokenRules {
  problem(text: string): string | undefined {
    if (TRC10_ID.test(text)) return undefined;
    return tronAddressProblem(text) && 'not a TRC-20 contract address (T… or 41… hex) or a TRC-10 token id (digits)';
  }
  normalise(text: string): string {
    return TRC10_ID.test(text) ? BigInt(text).toString() : tronAddress(text);
  }
}

/** Tron mainnet, Nile, Shasta or a private network, read from java-tron's HTTP API (+ optional JSON-RPC). */
class TronChainKind implements ChainKind {
  readonly id = TRON_KIND_ID;
  readonly name = 'Tron';
  readonly address = new TronAddressRules();
  readonly tokens = new TronTokenRules();
  readonly finality = {
    // The reader serves solidified blocks only (irreversible once 19 of 27 SRs built on them).
    confirmations: 'blocks on top of the latest solidified block',
    reorgMemoryBlocks: 64,
  };
  /** The solidified head trails the tip by about 19 blocks (~1 min); allow that and some. */
  readonly deadManSlackBlocks = 30;
  readonly hostsPriceFeeds = false;
  /** getaccount and TRC-20 balanceOf at the solidified head (tron-balances.ts). */
  readonly readsBalances = true;
  /** Tron transactions name a recent block (ref_block) and expire; accounts have no sequential nonce. */
  readonly hasAccountNonces = false;

  settings() {
    return tronSettings;
  }
  txUrl(explorer: string, txHash: string): string {
    return `${explorer}/#/transaction/${txHash}`;
  }
  hashFromHex(hex: string): string {
    return hex;
  }
  createReader(chain: ReadableChain): ChainReader {
    return new TronChainReader(chain);
  }
}

export const tronChainKind: ChainKind = new TronChainKind();
