import { address, crypto, type Network, networks } from 'bitcoinjs-lib';

/**
 * Address ↔ output-script conversion for the script types a hot wallet can use, without an ECC
 * library: bitcoinjs' own `toOutputScript`/`fromOutputScript` need one for Taproot (to check the
 * x-only key is on the curve), which an address watcher does not need.
 */

export type BitcoinNetworkName = 'mainnet' | 'testnet' | 'regtest';

export function bitcoinNetwork(name: BitcoinNetworkName): Network {
  switch (name) {
    case 'mainnet':
      return networks.bitcoin;
    case 'testnet':
      return networks.testnet;
    case 'regtest':
      return networks.regtest;
  }
}

const OP_0 = 0x00;
const OP_1 = 0x51;
const OP_16 = 0x60;
const OP_DUP = 0x76;
const OP_HASH160 = 0xa9;
const OP_EQUAL = 0x87;
const OP_EQUALVERIFY = 0x88;
const OP_CHECKSIG = 0xac;

/** The output script an address pays to. Throws RangeError for a bad checksum or another network's address. */
export function addressToScript(text: string, network: Network): Uint8Array {
  let base58: { version: number; hash: Uint8Array } | undefined;
  try {
    base58 = address.fromBase58Check(text);
  } catch {
    base58 = undefined;
  }
  if (base58) {
    if (base58.version === network.pubKeyHash) {
      return Uint8Array.of(OP_DUP, OP_HASH160, 20, ...base58.hash, OP_EQUALVERIFY, OP_CHECKSIG);
    }
    if (base58.version === network.scriptHash) return Uint8Array.of(OP_HASH160, 20, ...base58.hash, OP_EQUAL);
    throw new RangeError(`${text} is a base58 address of another network (version byte ${base58.version})`);
  }
  let segwit: { version: number; prefix: string; data: Uint8Array };
  try {
    segwit = address.fromBech32(text);
  } catch (e) {
    throw new RangeError(`${text} is not a valid address: ${(e as Error).message}`);
  }
  if (segwit.prefix !== network.bech32) {
    throw new RangeError(`${text} has prefix "${segwit.prefix}", expected "${network.bech32}" for this network`);
  }
  const { version, data } = segwit;
  const validProgram =
    version === 0 ? data.length === 20 || data.length === 32 : version <= 16 && data.length >= 2 && data.length <= 40;
  if (!validProgram) throw new RangeError(`${text} is not a valid segwit v${version} program`);
  return Uint8Array.of(version === 0 ? OP_0 : OP_1 + version - 1, data.length, ...data);
}

/**
 * The address an output script pays to, or null when it has none (OP_RETURN, bare multisig,
 * non-standard). A P2PK output is named by the P2PKH address of its key, as explorers and Bitcoin
 * Core before v22 did: the same key spends both, so a hot wallet's P2PK coins are the hot wallet's.
 */
export function scriptToAddress(script: Uint8Array, network: Network): string | null {
  const n = script.length;
  if (n === 25 && script[0] === OP_DUP && script[1] === OP_HASH160 && script[2] === 20) {
    if (script[23] === OP_EQUALVERIFY && script[24] === OP_CHECKSIG) {
      return address.toBase58Check(script.slice(3, 23), network.pubKeyHash);
    }
  }
  if (n === 23 && script[0] === OP_HASH160 && script[1] === 20 && script[22] === OP_EQUAL) {
    return address.toBase58Check(script.slice(2, 22), network.scriptHash);
  }
  const op = script[0] ?? -1;
  if (n >= 4 && n <= 42 && script[1] === n - 2 && (op === OP_0 || (op >= OP_1 && op <= OP_16))) {
    const version = op === OP_0 ? 0 : op - OP_1 + 1;
    const program = script.slice(2);
    if (version === 0 && program.length !== 20 && program.length !== 32) return null;
    return address.toBech32(program, version, network.bech32);
  }
  if ((n === 35 || n === 67) && script[0] === n - 2 && script[n - 1] === OP_CHECKSIG) {
    const key = script.slice(1, n - 1);
    const prefix = key[0];
    const wellFormed = n === 35 ? prefix === 0x02 || prefix === 0x03 : prefix === 0x04;
    if (wellFormed) return address.toBase58Check(crypto.hash160(key), network.pubKeyHash);
  }
  return null;
}

/** One spelling per address: bech32 lower-cased, base58 as is (it is case-sensitive). */
export function normaliseAddress(text: string): string {
  return /^(bc|tb|bcrt)1/i.test(text) ? text.toLowerCase() : text;
}

/** Validate an address for `network` and return its canonical spelling. Throws RangeError. */
export function canonicalAddress(text: string, network: Network): string {
  const canonical = scriptToAddress(addressToScript(text.trim(), network), network);
  if (canonical === null) throw new RangeError(`${text} does not map to a standard output script`);
  return canonical;
}

export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new RangeError('not a hex string');
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}
