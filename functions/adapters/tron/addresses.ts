import { base58CheckSum, base58Decode, base58Encode } from '../encoding/base58.ts';

/**
 * Tron addresses: one byte 0x41 then the 20 bytes of an EVM address. People and the HTTP API with
 * `visible: true` write them base58check (`T…`, case-sensitive); the HTTP API's default form is hex
 * with the `41` prefix; logs and the JSON-RPC endpoint use the bare 20 bytes. The breaker keeps the
 * base58check form everywhere, so every comparison is one string comparison.
 */

const PREFIX = 0x41;
const BASE58 = /^T[1-9A-HJ-NP-Za-km-z]{33}$/;
const HEX41 = /^(0x)?41[0-9a-fA-F]{40}$/;

/** Why `text` is not a Tron address in either accepted form, or undefined. */
export function tronAddressProblem(text: string): string | undefined {
  if (HEX41.test(text)) return undefined;
  if (!BASE58.test(text)) return 'not a Tron address (base58check T… or 41-prefixed hex)';
  const bytes = base58Bytes(text);
  if (bytes.length !== 25 || bytes[0] !== PREFIX) return 'not a Tron address (base58check T… or 41-prefixed hex)';
  return base58CheckSum(bytes.subarray(0, 21)).equals(bytes.subarray(21))
    ? undefined
    : 'Tron address checksum mismatch';
}

/** The base58check form of a valid address (either form); throws for anything else. */
export function tronAddress(text: string): string {
  const problem = tronAddressProblem(text);
  if (problem) throw new TypeError(`${problem}: ${JSON.stringify(text).slice(0, 60)}`);
  return HEX41.test(text) ? fromPayload(Buffer.from(text.replace(/^0x/, ''), 'hex')) : text;
}

/** The base58check form of the 20 bytes of an EVM-style address (`0x…` or bare hex, as logs write it). */
export function tronAddressFromEvm(hex20: string): string {
  const bare = hex20.replace(/^0x/, '');
  if (!/^[0-9a-fA-F]{40}$/.test(bare)) throw new TypeError(`not a 20-byte hex address: ${JSON.stringify(hex20)}`);
  return fromPayload(Buffer.from(`41${bare}`, 'hex'));
}

/** The 20 bytes of a Tron address as lower-case hex without `0x` (the form log topics carry, after padding). */
export function evmHexOf(address: string): string {
  return base58Bytes(tronAddress(address)).subarray(1, 21).toString('hex');
}

function fromPayload(payload: Buffer): string {
  return base58Encode(Buffer.concat([payload, base58CheckSum(payload)]));
}

function base58Bytes(text: string): Buffer {
  const bytes = base58Decode(text);
  if (!bytes) throw new RangeError(`not base58: ${text}`);
  return Buffer.from(bytes);
}
