/**
 * Base58 in the Bitcoin alphabet: Solana's keys, hashes and signatures, and Tron's base58check addresses. Small
 * enough to own rather than add a runtime dependency; the stand-in's tests cross-check it with
 * @solana/kit's codec.
 */
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const DIGIT = new Map([...ALPHABET].map((c, i) => [c, BigInt(i)]));

/** The bytes `text` encodes, or undefined when it has a character outside the alphabet. */
export function base58Decode(text: string): Uint8Array | undefined {
  let value = 0n;
  for (const c of text) {
    const digit = DIGIT.get(c);
    if (digit === undefined) return undefined;
    value = value * 58n + digit;
  }
  const body: number[] = [];
  for (; value > 0n; value >>= 8n) body.unshift(Number(value & 0xffn));
  let zeros = 0;
  while (text[zeros] === '1') zeros++;
  return Uint8Array.from([...new Array<number>(zeros).fill(0), ...body]);
}

export function base58Encode(bytes: Uint8Array): string {
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  let text = '';
  for (; value > 0n; value /= 58n) text = ALPHABET[Number(value % 58n)] + text;
  let zeros = 0;
  while (bytes[zeros] === 0 && zeros < bytes.length) zeros++;
  return '1'.repeat(zeros) + text;
}

/** Why `text` is not a base58 string of `length` bytes (the whole message), or undefined. */
export function base58Problem(text: string, length: number, what: string): string | undefined {
  if (text.length === 0 || text.length > 90) return `not a ${what} (base58 of ${length} bytes)`;
  const bytes = base58Decode(text);
  if (!bytes) return `not a ${what}: base58 has no 0, O, I or l`;
  if (bytes.length !== length) return `not a ${what}: base58 of ${bytes.length} bytes, not ${length}`;
  return undefined;
}
