/**
 * Money is bigint in base units (wei, satoshi, token units). USD is bigint micro-dollars, so that
 * valuation and limits never touch floating point.
 */
export const MICRO_USD_PER_USD = 1_000_000n;

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/** "12.5" with 18 decimals → 12500000000000000000n. Rejects more fractional digits than decimals. */
export function parseUnits(text: string, decimals: number): bigint {
  const m = DECIMAL.exec(text.trim());
  if (!m) throw new RangeError(`not a non-negative decimal number: "${text}"`);
  const whole = m[1] ?? '0';
  const frac = m[2] ?? '';
  if (frac.length > decimals) {
    throw new RangeError(`"${text}" has more than ${decimals} decimal places`);
  }
  return BigInt(whole + frac.padEnd(decimals, '0'));
}

/** 12500000000000000000n with 18 decimals → "12.5" (no trailing zeros, no exponent). */
export function formatUnits(amount: bigint, decimals: number): string {
  const negative = amount < 0n;
  const digits = (negative ? -amount : amount).toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const frac = digits.slice(digits.length - decimals).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

/** A USD figure from config or a scenario (a JS number or decimal string) → micro-USD, rounded half up. */
export function usdToMicros(usd: number | string): bigint {
  const text = typeof usd === 'number' ? usdNumberToText(usd) : usd;
  const m = DECIMAL.exec(text.trim());
  if (!m) throw new RangeError(`not a non-negative USD amount: "${text}"`);
  const frac = (m[2] ?? '').padEnd(7, '0');
  const micros = BigInt((m[1] ?? '0') + frac.slice(0, 6));
  return Number(frac[6]) >= 5 ? micros + 1n : micros;
}

function usdNumberToText(usd: number): string {
  if (!Number.isFinite(usd) || usd < 0) throw new RangeError(`not a non-negative USD amount: ${usd}`);
  // toFixed switches to exponent notation from 1e21 on; doubles that large are whole numbers.
  return usd >= 1e21 ? BigInt(usd).toString() : usd.toFixed(7);
}

/** amount (base units) × price (micro-USD per whole unit) → micro-USD, rounded up (never undervalue). */
export function valueInMicros(amount: bigint, decimals: number, priceMicros: bigint): bigint {
  const scale = 10n ** BigInt(decimals);
  const product = amount * priceMicros;
  return (product + scale - 1n) / scale;
}

/** micro-USD → "$1,234,567.89" for pages and tables. */
export function formatUsd(micros: bigint): string {
  const cents = (micros + 5_000n) / 10_000n;
  const whole = (cents / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `$${whole}.${(cents % 100n).toString().padStart(2, '0')}`;
}

/** micro-USD → a JS number of dollars, only for reports and charts (never for decisions). */
export function microsToUsdNumber(micros: bigint): number {
  return Number(micros) / 1e6;
}
