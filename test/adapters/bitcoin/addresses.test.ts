import { address as baddress, networks } from 'bitcoinjs-lib';
import { describe, expect, it } from 'vitest';
import {
  addressToScript,
  canonicalAddress,
  hexToBytes,
  scriptToAddress,
} from '../../../functions/adapters/bitcoin/addresses.ts';
import { testWallet } from '../../support/bitcoin-node.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('bitcoin addresses', () => {
  it.each([
    // BIP173 / BIP350 test vectors and well-known mainnet addresses.
    ['P2PKH', '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2', '76a91477bff20c60e522dfaa3350c39b030a5d004e839a88ac'],
    ['P2SH', '3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy', 'a914b472a266d0bd89c13706a4132ccfb16f7c3b9fcb87'],
    ['P2WPKH', 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', '0014751e76e8199196d454941c45d1b3a323f1433bd6'],
    [
      'P2WSH',
      'bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3',
      '00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262',
    ],
    [
      'P2TR',
      'bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0',
      '512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798',
    ],
  ])('%s %s ↔ %s', (_type, text, script) => {
    expect(hex(addressToScript(text, networks.bitcoin))).toBe(script);
    expect(scriptToAddress(hexToBytes(script), networks.bitcoin)).toBe(text);
  });

  it('agrees with bitcoinjs for every wallet type the tests use', () => {
    for (const type of ['p2pkh', 'p2sh-p2wpkh', 'p2wpkh', 'p2tr'] as const) {
      const wallet = testWallet(`agree-${type}`, type);
      expect(hex(addressToScript(wallet.address, networks.regtest))).toBe(hex(wallet.output));
      expect(scriptToAddress(wallet.output, networks.regtest)).toBe(wallet.address);
      expect(baddress.fromOutputScript(wallet.output, networks.regtest)).toBe(wallet.address);
    }
  });

  it('names a P2PK output by the P2PKH address of its key (the genesis coinbase pays 1A1zP1…)', () => {
    const genesisOutput =
      '4104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac';
    expect(scriptToAddress(hexToBytes(genesisOutput), networks.bitcoin)).toBe('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa');
  });

  it('has no address for OP_RETURN, bare multisig or non-standard scripts', () => {
    for (const script of ['6a0401020304', `5121${'02'.repeat(33)}51ae`, '51', '']) {
      expect(scriptToAddress(hexToBytes(script), networks.bitcoin)).toBeNull();
    }
  });

  it('canonicalises upper-case bech32 and rejects other networks and bad checksums', () => {
    expect(canonicalAddress('BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4', networks.bitcoin)).toBe(
      'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4',
    );
    expect(() => canonicalAddress('tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx', networks.bitcoin)).toThrow(
      /has prefix "tb", expected "bc"/,
    );
    expect(() => canonicalAddress('1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2', networks.testnet)).toThrow(/another network/);
    expect(() => canonicalAddress('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5', networks.bitcoin)).toThrow(
      /not a valid address/,
    );
    // A bech32 (not bech32m) encoding of a v1 program is invalid since BIP350.
    expect(() =>
      canonicalAddress('bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx', networks.bitcoin),
    ).toThrow();
  });
});
