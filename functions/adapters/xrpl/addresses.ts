import { base58CheckSum, base58Codec } from '../encoding/base58.ts';

/**
 * XRP Ledger account addresses without a library: classic `r…` addresses (base58 in Ripple's
 * alphabet, type byte 0x00, a 20-byte account id, a double-SHA-256 checksum) and X-addresses
 * (XLS-5: the same account id with a destination tag and the network packed in). The breaker
 * compares classic addresses only: an X-address is decoded to its classic address, and its tag is
 * dropped because a tag names a customer of the account, not another account.
 */

const RIPPLE = base58Codec('rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz');
const ACCOUNT_ID_TYPE = 0x00;
const X_PREFIX_MAINNET = [0x05, 0x44];
const X_PREFIX_TESTNET = [0x04, 0x93];

/** The payload of a base58check string, or undefined when the characters or the checksum are wrong. */
function decodeChecked(text: string): Uint8Array | undefined {
  const bytes = RIPPLE.decode(text);
  if (!bytes || bytes.length < 5) return undefined;
  const payload = bytes.subarray(0, bytes.length - 4);
  return base58CheckSum(payload).equals(bytes.subarray(bytes.length - 4)) ? payload : undefined;
}

export function classicAddressOf(accountId: Uint8Array): string {
  const payload = Uint8Array.of(ACCOUNT_ID_TYPE, ...accountId);
  return RIPPLE.encode(Uint8Array.of(...payload, ...base58CheckSum(payload)));
}

function isClassic(text: string): boolean {
  if (!/^r[1-9A-HJ-NP-Za-km-z]{24,34}$/.test(text)) return false;
  const payload = decodeChecked(text);
  return payload !== undefined && payload.length === 21 && payload[0] === ACCOUNT_ID_TYPE;
}

/** The classic address inside an X-address, or undefined when `text` is not a valid X-address. */
function classicOfXAddress(text: string): string | undefined {
  if (!/^[XT][1-9A-HJ-NP-Za-km-z]{40,50}$/.test(text)) return undefined;
  const payload = decodeChecked(text);
  if (payload?.length !== 31) return undefined;
  const prefix = [payload[0], payload[1]];
  const known = [X_PREFIX_MAINNET, X_PREFIX_TESTNET].some((p) => p[0] === prefix[0] && p[1] === prefix[1]);
  const flag = payload[22];
  // Flag 0: no tag (the tag bytes must be zero); 1: a 32-bit tag. 64-bit tags are reserved.
  const tagHighBytesZero = payload.subarray(27, 31).every((b) => b === 0);
  const noTagIsZero = flag !== 0 || payload.subarray(23, 27).every((b) => b === 0);
  if (!known || (flag !== 0 && flag !== 1) || !tagHighBytesZero || !noTagIsZero) return undefined;
  return classicAddressOf(payload.subarray(2, 22));
}

/** Why `text` is not an XRPL address (classic or X-address), or undefined. */
export function xrplAddressProblem(text: string): string | undefined {
  if (isClassic(text) || classicOfXAddress(text) !== undefined) return undefined;
  return 'not an XRP Ledger address (a classic r… address or an X-address, with a valid checksum)';
}

/** The classic address of a valid address: classic as written, an X-address decoded (its tag dropped). */
export function classicAddress(text: string): string {
  return classicOfXAddress(text) ?? text;
}

export function isClassicAddress(text: unknown): text is string {
  return typeof text === 'string' && isClassic(text);
}
