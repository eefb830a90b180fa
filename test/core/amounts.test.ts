import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatUnits, formatUsd, parseUnits, usdToMicros, valueInMicros } from '../../functions/core/amounts.ts';

describe('parseUnits / formatUnits', () => {
  it.each([
    ['12.5', 18, 12_500_000_000_000_000_000n],
    ['1', 6, 1_000_000n],
    ['0.000001', 6, 1n],
    ['1500000', 6, 1_500_000_000_000n],
    ['007.50', 2, 750n],
    ['3', 0, 3n],
    [' 2.5 ', 1, 25n],
  ])('parses %j with %i decimals to %s base units', (text, decimals, expected) => {
    expect(parseUnits(text, decimals)).toBe(expected);
  });

  it.each([
    ['1.0000001', 6, /more than 6 decimal places/],
    ['0.5', 0, /more than 0 decimal places/],
    ['', 18, /not a non-negative decimal/],
    ['-1', 18, /not a non-negative decimal/],
    ['1e18', 18, /not a non-negative decimal/],
    ['1,000', 18, /not a non-negative decimal/],
    ['.5', 18, /not a non-negative decimal/],
    ['1.', 18, /not a non-negative decimal/],
    ['0x10', 18, /not a non-negative decimal/],
    ['NaN', 18, /not a non-negative decimal/],
  ])('rejects %j with %i decimals rather than guessing', (text, decimals, message) => {
    expect(() => parseUnits(text, decimals)).toThrow(message);
  });

  it.each([
    [12_500_000_000_000_000_000n, 18, '12.5'],
    [1n, 18, '0.000000000000000001'],
    [0n, 6, '0'],
    [1_000_000n, 6, '1'],
    [42n, 0, '42'],
    [-1_500_000n, 6, '-1.5'],
  ])('formats %s with %i decimals as %j (no trailing zeros, no exponent)', (amount, decimals, expected) => {
    expect(formatUnits(amount, decimals)).toBe(expected);
  });

  it('round-trips every non-negative amount: parseUnits(formatUnits(x)) = x', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), fc.integer({ min: 0, max: 36 }), (amount, decimals) => {
        expect(parseUnits(formatUnits(amount, decimals), decimals)).toBe(amount);
      }),
    );
  });

  it('formats what it parsed canonically: the same number, never a different one', () => {
    const decimalText = fc
      .tuple(fc.stringMatching(/^\d{1,30}$/), fc.option(fc.stringMatching(/^\d{1,18}$/), { nil: undefined }))
      .map(([w, f]) => (f === undefined ? w : `${w}.${f}`));
    fc.assert(
      fc.property(decimalText, (text) => {
        const formatted = formatUnits(parseUnits(text, 18), 18);
        expect(parseUnits(formatted, 18)).toBe(parseUnits(text, 18));
        expect(formatted).toMatch(/^(0|[1-9]\d*)(\.\d*[1-9])?$/);
      }),
    );
  });
});

describe('usdToMicros', () => {
  it.each([
    [3300, 3_300_000_000n],
    [0.5, 500_000n],
    ['1.2345675', 1_234_568n], // 7th digit 5: half up
    ['1.23456749', 1_234_567n],
    [0.0000005, 1n],
    [0.0000004, 0n],
    ['0', 0n],
    ['25000000', 25_000_000_000_000n],
    [0.1 + 0.2, 300_000n], // float noise below a micro-dollar does not leak into limits
  ])('%j USD is %s micro-USD', (input, expected) => {
    expect(usdToMicros(input)).toBe(expected);
  });

  it.each([[-1], [Number.NaN], [Number.POSITIVE_INFINITY], ['-1'], ['1e6'], ['$5'], ['']])('rejects %j', (input) => {
    expect(() => usdToMicros(input)).toThrow(RangeError);
  });
});

describe('valueInMicros', () => {
  it.each([
    // 1.5 ETH at $3,300
    [1_500_000_000_000_000_000n, 18, 3_300_000_000n, 4_950_000_000n],
    // 1 wei of ETH is worth a fraction of a micro-dollar: valued at 1 micro-dollar, never 0
    [1n, 18, 3_300_000_000n, 1n],
    // 1.000001 USDT at $1
    [1_000_001n, 6, 1_000_000n, 1_000_001n],
    [0n, 18, 3_300_000_000n, 0n],
  ])('%s base units (%i decimals) at %s µUSD/unit = %s µUSD', (amount, decimals, price, expected) => {
    expect(valueInMicros(amount, decimals, price)).toBe(expected);
  });

  it('rounds up: never undervalues, and never by a whole micro-dollar too much', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 40n }),
        fc.integer({ min: 0, max: 36 }),
        fc.bigInt({ min: 0n, max: 10n ** 15n }),
        (amount, decimals, price) => {
          const v = valueInMicros(amount, decimals, price);
          const exact = amount * price; // in micro-USD × 10^decimals
          const scale = 10n ** BigInt(decimals);
          expect(v * scale >= exact).toBe(true);
          expect(v === 0n || (v - 1n) * scale < exact).toBe(true);
        },
      ),
    );
  });
});

describe('formatUsd', () => {
  it.each([
    [0n, '$0.00'],
    [4_999n, '$0.00'],
    [5_000n, '$0.01'],
    [1_234_567_890_000n, '$1,234,567.89'],
    [1_234_567_895_000n, '$1,234,567.90'],
    [999_995_000n, '$1,000.00'],
    [3_120_000_000_000n, '$3,120,000.00'],
    [100_000_000n, '$100.00'],
  ])('%s µUSD → %s', (micros, expected) => {
    expect(formatUsd(micros)).toBe(expected);
  });
});
