import { createHash } from 'node:crypto';

/**
 * Base58: the Bitcoin alphabet for Solana's keys, hashes and signatures and Tron's addresses, Ripple's for XRPL. Small
 * enough to own rather than add a runtime dependency; the stand-in's tests cross-check it with
 * @solana/kit's codec.
 */
export interface Base58Codec {
  /** The bytes `text` encodes, or undefined when it has a character outside the alphabet. */
  decode(text: string): Uint8Array | undefined;
  encode(bytes: Uint8Array): string;
}

/** Base58 in `alphabet`: each leading zero digit stands for one leading zero byte. */
export function base58Codec(alphabet: string): Base58Codec {
  const digit = new Map([...alphabet].map((c, i) => [c, BigInt(i)]));
  const zero = alphabet[0] as string;
  return {
    decode(text) {
      let value = 0n;
      for (const c of text) {
        const d = digit.get(c);
        if (d === undefined) return undefined;
        value = value * 58n + d;
      }
      const body: number[] = [];
      for (; value > 0n; value >>= 8n) body.unshift(Number(value & 0xffn));
      let zeros = 0;
      while (text[zeros] === zero) zeros++;
      return Uint8Array.from([...new Array<number>(zeros).fill(0), ...body]);
    },
    encode(bytes) {
      let value = 0n;
      for (const b of bytes) value = (value << 8n) | BigInt(b);
      let text = '';
      for (; value > 0n; value /= 58n) text = alphabet[Number(value % 58n)] + text;
      let zeros = 0;
      while (bytes[zeros] === 0 && zeros < bytes.length) zeros++;
      return zero.repeat(zeros) + text;
    },
  };
}

const BITCOIN = base58Codec('123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz');
export const base58Decode = BITCOIN.decode;
export const base58Encode = BITCOIN.encode;

/** The base58check checksum: the first 4 bytes of SHA-256(SHA-256(payload)) (Bitcoin, Tron, XRPL). */
export function base58CheckSum(payload: Uint8Array): Buffer {
  const once = createHash('sha256').update(payload).digest();
  return createHash('sha256').update(once).digest().subarray(0, 4);
}

/** Why `text` is not a base58 string of `length` bytes (the whole message), or undefined. */
export function base58Problem(text: string, length: number, what: string): string | undefined {
  if (text.length === 0 || text.length > 90) return `not a ${what} (base58 of ${length} bytes)`;
  const bytes = base58Decode(text);
  if (!bytes) return `not a ${what}: base58 has no 0, O, I or l`;
  if (bytes.length !== length) return `not a ${what}: base58 of ${bytes.length} bytes, not ${length}`;
  return undefined;
}
