import type { AddressRules, ChainKind, ChainReader, ReadableChain, TokenRules } from '../../core/chain-kind.ts';
import { classicAddress, xrplAddressProblem } from './addresses.ts';
import { canonicalTokenId, tokenIdProblem } from './amounts.ts';
import { XrplChainReader } from './xrpl-chain-reader.ts';
import { XRPL_KIND_ID, xrplSettings } from './xrpl-settings.ts';

class XrplAddressRules implements AddressRules {
  problem(text: string): string | undefined {
    return xrplAddressProblem(text);
  }
  /** Classic `r…` addresses as written (base58 is case-sensitive); an X-address becomes its classic address. */
  normalise(text: string): string {
    return classicAddress(text);
  }
}

/** Issued currencies as `<currency>.<issuer>`: `USD.rhub8VRN55s94qWKDv6jmDy1pUykJzF3wq`. */
class XrplTokenRules implements TokenRules {
  problem(text: string): string | undefined {
    return tokenIdProblem(text);
  }
  normalise(text: string): string {
    return canonicalTokenId(text);
  }
}

/** The XRP Ledger, read from rippled/xrpld or Clio JSON-RPC: validated ledgers only. */
class XrplChainKind implements ChainKind {
  readonly id = XRPL_KIND_ID;
  readonly name = 'XRP Ledger';
  readonly address = new XrplAddressRules();
  readonly tokens = new XrplTokenRules();
  /** A validated ledger is final: no reorgs; the parent-hash check still catches an endpoint that lies. */
  readonly finality = {
    confirmations: 'validated ledgers after the ledger (0: validated is final)',
    reorgMemoryBlocks: 64,
  };
  /** Ledgers close every 3–5 s, steadily. */
  readonly deadManSlackBlocks = 10;
  readonly hostsPriceFeeds = false;
  /** account_info / account_lines at a validated ledger's hash (xrpl-balances.ts). */
  readonly readsBalances = true;
  /** Accounts have sequence numbers, but tickets let a stolen key sign out of order: no watermark. */
  readonly hasAccountNonces = false;
  /** A transfer's place among its transaction's outflows (outflows.ts), not a log index. */
  readonly outputIndexName = 'position';

  settings() {
    return xrplSettings;
  }
  txUrl(explorer: string, txHash: string): string {
    return `${explorer}/transactions/${txHash}`;
  }
  hashFromHex(hex: string): string {
    return hex.toUpperCase();
  }
  createReader(chain: ReadableChain): ChainReader {
    return new XrplChainReader(chain);
  }
}

export const xrplChainKind: ChainKind = new XrplChainKind();
