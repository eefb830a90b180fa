import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classicAddressToXAddress, Wallet } from 'xrpl';
import { classicAddress, xrplAddressProblem } from '../../../functions/adapters/xrpl/addresses.ts';
import {
  canonicalCurrency,
  canonicalTokenId,
  parseDecimal,
  subtract,
  tokenIdProblem,
  toUnits,
} from '../../../functions/adapters/xrpl/amounts.ts';

describe('XRPL addresses (checked against xrpl.js)', () => {
  it('accepts classic addresses and X-addresses (with and without tag, main and test net), as xrpl.js makes them', () => {
    for (let i = 0; i < 20; i++) {
      const address = Wallet.generate().classicAddress;
      expect(xrplAddressProblem(address)).toBeUndefined();
      expect(classicAddress(address)).toBe(address);
      for (const [tag, test] of [
        [false, false],
        [12345, false],
        [4294967295, true],
      ] as const) {
        const x = classicAddressToXAddress(address, tag, test);
        expect(xrplAddressProblem(x)).toBeUndefined();
        expect(classicAddress(x)).toBe(address);
      }
    }
  });

  it('decodes the XLS-5 example X-address to its classic address', () => {
    expect(classicAddress('XVLhHMPHU98es4dbozjVtdWzVrDjtV18pX8yuPT7y4xaEHi')).toBe(
      'rGWrZyQqhTp9Xu7G5Pkayo7bXjH4k4QYpf',
    );
  });

  it('refuses a wrong checksum, another case, an EVM address and garbage, saying what an address is', () => {
    const address = 'rG31cLyErnqeVj2eomEjBZtq7PYaupGYzL';
    const problem = 'not an XRP Ledger address (a classic r… address or an X-address, with a valid checksum)';
    for (const bad of [
      'rG31cLyErnqeVj2eomEjBZtq7PYaupGYzM',
      address.toLowerCase(),
      '0x1111111111111111111111111111111111111111',
      'r',
      'XVLhHMPHU98es4dbozjVtdWzVrDjtV18pX8yuPT7y4xaEHj',
    ]) {
      expect(xrplAddressProblem(bad)).toBe(problem);
    }
  });
});

describe('XRPL amounts: exact, magnitude rounded up', () => {
  it.each([
    ['-9.980959751659681', 15, 9_980_959_751_659_681n],
    ['1.234567890123456e-5', 6, 13n],
    ['1000000000000000e-96', 6, 1n],
    ['9999999999999999e80', 0, 9_999_999_999_999_999n * 10n ** 80n],
    ['0.1', 6, 100_000n],
    ['100', 2, 10_000n],
    ['-0.0000001', 6, 1n],
  ])('%s at %i decimals → %s units', (text, decimals, units) => {
    expect(toUnits(parseDecimal(text), decimals, 'up')).toBe(units);
  });

  it('rounds down what a destination received (an own address is never credited more than it got)', () => {
    expect(toUnits(parseDecimal('1.0000009'), 6, 'down')).toBe(1_000_000n);
    expect(toUnits(parseDecimal('1.0000009'), 6, 'up')).toBe(1_000_001n);
  });

  it('subtracts exactly across exponents, the way a float cannot', () => {
    const d = subtract(parseDecimal('1e-20'), parseDecimal('1000000000000000'));
    expect(toUnits(d, 20, 'up')).toBe(10n ** 35n - 1n);
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(toUnits(subtract(parseDecimal('0.3'), parseDecimal('0.1')), 1, 'up')).toBe(2n);
  });

  it('property: rounding up never loses value and adds less than one unit', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 16n), max: 10n ** 16n }),
        fc.integer({ min: -96, max: 80 }),
        fc.integer({ min: 0, max: 18 }),
        (c, e, d) => {
          const units = toUnits({ coefficient: c, exponent: e }, d, 'up');
          const magnitude = c < 0n ? -c : c;
          // units × 10^-d ≥ |c| × 10^e, and (units − 1) × 10^-d < |c| × 10^e
          const scale = Math.max(d, -e, 0);
          const lhs = units * 10n ** BigInt(scale - d);
          const value = magnitude * 10n ** BigInt(scale + e);
          return lhs >= value && (units === 0n || (units - 1n) * 10n ** BigInt(scale - d) < value);
        },
      ),
    );
  });

  it('refuses what is not a decimal, naming it', () => {
    expect(() => parseDecimal('1,5')).toThrow('not a decimal number: "1,5"');
    expect(() => parseDecimal('NaN')).toThrow(RangeError);
  });
});

describe('XRPL issued-currency ids', () => {
  const issuer = 'rhub8VRN55s94qWKDv6jmDy1pUykJzF3wq';
  it('names a currency by code and issuer; a standard code in hex becomes its 3 letters', () => {
    expect(canonicalTokenId(`USD.${issuer}`)).toBe(`USD.${issuer}`);
    expect(canonicalCurrency('0000000000000000000000005553440000000000')).toBe('USD');
    expect(canonicalCurrency('524c555344000000000000000000000000000000')).toBe(
      '524C555344000000000000000000000000000000',
    );
    const x = classicAddressToXAddress(issuer, false, false);
    expect(canonicalTokenId(`USD.${x}`)).toBe(`USD.${issuer}`);
  });

  it('refuses XRP, a missing issuer and malformed codes, saying what is expected', () => {
    expect(tokenIdProblem('USD')).toMatch(/expected <currency>\.<issuer>/);
    expect(tokenIdProblem(`XRP.${issuer}`)).toBe(
      'not an XRPL issued currency: XRP is the native coin, not an issued currency',
    );
    expect(tokenIdProblem(`US.${issuer}`)).toMatch(/neither a 3-character code nor 40 hex digits/);
    expect(tokenIdProblem('USD.rNotAnAddress')).toMatch(/the issuer is not an XRP Ledger address/);
  });
});
