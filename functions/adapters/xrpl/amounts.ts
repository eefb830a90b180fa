import { classicAddress, xrplAddressProblem } from './addresses.ts';

/**
 * Exact XRPL amounts. XRP is an integer number of drops (1 XRP = 10^6 drops), written as a decimal
 * string. An issued currency (IOU) value is a decimal string with up to 16 significant digits and an
 * exponent from −96 to 80, sometimes in exponent form (`1.234567890123456e-5`): not an integer, and
 * not something a float holds. Values are kept as `coefficient × 10^exponent` with a bigint
 * coefficient, added and subtracted exactly, and turned into base units at the decimals the config
 * gives the currency only at the end, rounding the magnitude up (the breaker never under-counts).
 */

export interface Decimal {
  readonly coefficient: bigint;
  readonly exponent: number;
}

export const ZERO: Decimal = { coefficient: 0n, exponent: 0 };

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([-+]?\d+))?$/;

/** An exact decimal from its text; throws RangeError naming the text when it is not a decimal number. */
export function parseDecimal(text: string): Decimal {
  const m = DECIMAL.exec(text);
  if (!m) throw new RangeError(`not a decimal number: ${JSON.stringify(text).slice(0, 80)}`);
  const [, sign, whole, fraction = '', exp = '0'] = m;
  const exponent = Number(exp) - fraction.length;
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 400) {
    throw new RangeError(`decimal exponent out of range: ${text.slice(0, 80)}`);
  }
  const digits = BigInt(`${whole}${fraction}`);
  return { coefficient: sign === '-' ? -digits : digits, exponent };
}

function aligned(a: Decimal, b: Decimal): [bigint, bigint, number] {
  const exponent = Math.min(a.exponent, b.exponent);
  return [
    a.coefficient * 10n ** BigInt(a.exponent - exponent),
    b.coefficient * 10n ** BigInt(b.exponent - exponent),
    exponent,
  ];
}

export function subtract(a: Decimal, b: Decimal): Decimal {
  const [x, y, exponent] = aligned(a, b);
  return { coefficient: x - y, exponent };
}

export function add(a: Decimal, b: Decimal): Decimal {
  const [x, y, exponent] = aligned(a, b);
  return { coefficient: x + y, exponent };
}

export function negate(a: Decimal): Decimal {
  return { coefficient: -a.coefficient, exponent: a.exponent };
}

export function sign(a: Decimal): -1n | 0n | 1n {
  return a.coefficient < 0n ? -1n : a.coefficient > 0n ? 1n : 0n;
}

/**
 * The magnitude of `value` in base units of `decimals` (value × 10^decimals), exact when it is
 * representable; otherwise rounded up (`up`, for what leaves a hot wallet) or down (`down`, for
 * what reaches a destination, so an own address is never credited with more than it got).
 */
export function toUnits(value: Decimal, decimals: number, rounding: 'up' | 'down'): bigint {
  const magnitude = value.coefficient < 0n ? -value.coefficient : value.coefficient;
  const shift = value.exponent + decimals;
  if (shift >= 0) return magnitude * 10n ** BigInt(shift);
  const divisor = 10n ** BigInt(-shift);
  const units = magnitude / divisor;
  return rounding === 'up' && units * divisor !== magnitude ? units + 1n : units;
}

/** XRP in drops, from rippled's decimal-string drops (`"1000000"`); throws RangeError when malformed. */
export function parseDrops(text: unknown): bigint {
  if (typeof text !== 'string' || !/^-?\d{1,20}$/.test(text)) {
    throw new RangeError(`not an amount of drops: ${JSON.stringify(text)?.slice(0, 80)}`);
  }
  return BigInt(text);
}

// rippled's characters for a 3-character currency code; "XRP" is reserved for the native coin.
const STANDARD_CODE = /^[A-Za-z0-9?!@#$%^&*<>(){}[\]|]{3}$/;
const HEX_CODE = /^[0-9A-Fa-f]{40}$/;

/**
 * The canonical text of a currency code: a 3-character code as written (codes are case-sensitive),
 * or 40 hex digits upper-cased; the hex form of a standard code (zero bytes around 3 ASCII
 * characters) is written as its 3 characters, as rippled writes it. Throws RangeError.
 */
export function canonicalCurrency(code: string): string {
  if (STANDARD_CODE.test(code)) {
    if (code === 'XRP') throw new RangeError('XRP is the native coin, not an issued currency');
    return code;
  }
  if (!HEX_CODE.test(code)) {
    throw new RangeError(`currency "${code.slice(0, 60)}" is neither a 3-character code nor 40 hex digits`);
  }
  const hex = code.toUpperCase();
  const bytes = Buffer.from(hex, 'hex');
  const standardForm = bytes.subarray(0, 12).every((b) => b === 0) && bytes.subarray(15).every((b) => b === 0);
  if (!standardForm) {
    if (bytes[0] === 0) throw new RangeError(`currency ${hex} starts with a zero byte but is not a standard code`);
    return hex;
  }
  return canonicalCurrency(bytes.subarray(12, 15).toString('latin1'));
}

/**
 * An issued currency is named `<currency>.<issuer>` (`USD.rhub8VRN55s94qWKDv6jmDy1pUykJzF3wq`): the
 * token identifier of the `tokens:` config and of `ChainTransfer.contract`.
 */
export function tokenIdProblem(text: string): string | undefined {
  const dot = text.indexOf('.');
  if (dot < 0)
    return 'not an XRPL issued currency: expected <currency>.<issuer>, e.g. USD.rhub8VRN55s94qWKDv6jmDy1pUykJzF3wq';
  try {
    canonicalCurrency(text.slice(0, dot));
  } catch (e) {
    return `not an XRPL issued currency: ${(e as Error).message}`;
  }
  const issuerProblem = xrplAddressProblem(text.slice(dot + 1));
  return issuerProblem && `not an XRPL issued currency: the issuer is ${issuerProblem}`;
}

export function canonicalTokenId(text: string): string {
  const dot = text.indexOf('.');
  return tokenId(canonicalCurrency(text.slice(0, dot)), classicAddress(text.slice(dot + 1)));
}

export function tokenId(currency: string, issuer: string): string {
  return `${currency}.${issuer}`;
}
