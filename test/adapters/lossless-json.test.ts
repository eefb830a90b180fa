import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJsonWithAmounts } from '../../functions/adapters/bitcoin/http.ts';
import { parseLosslessJson } from '../../functions/adapters/lossless-json.ts';

/** JSON text for a value tree whose bigints are written as plain digits (how Solana and Tron send u64s). */
function toJson(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What the parser must give back: integers beyond 2^53 as bigints, everything else as JSON.parse does. */
function expected(value: unknown): unknown {
  if (typeof value === 'bigint') return value >= -MAX_SAFE && value <= MAX_SAFE ? Number(value) : value;
  if (Array.isArray(value)) return value.map(expected);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expected(v)]));
  }
  return value;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const U64 = 2n ** 64n - 1n;

const integer = fc.oneof(
  fc.bigInt({ min: -MAX_SAFE, max: MAX_SAFE }),
  fc.bigInt({ min: MAX_SAFE - 10n, max: MAX_SAFE + 10n }),
  fc.bigInt({ min: 0n, max: U64 }),
  fc.bigInt({ min: -(2n ** 128n), max: 2n ** 128n }),
);
const leaf = fc.oneof(
  integer,
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
);
const tree = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    leaf,
    fc.array(tie('node'), { maxLength: 5 }),
    fc.dictionary(fc.string(), tie('node'), { maxKeys: 5 }),
  ),
})).node;

describe('parseLosslessJson', () => {
  it('gives back every integer exactly, wherever it is: beyond 2^53 as a bigint, else as JSON.parse would', () => {
    fc.assert(
      fc.property(tree, (value) => {
        expect(parseLosslessJson(toJson(value))).toEqual(expected(value));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps u64 amounts that JSON.parse would round (a Solana lamport balance, a Tron sun amount)', () => {
    const text = '{"result":{"value":[{"lamports":18446744073709551615,"slot":123}]},"amounts":[9007199254740993]}';
    expect(JSON.parse(text).amounts[0]).toBe(9007199254740992); // the float loses the last digit
    expect(parseLosslessJson(text)).toEqual({
      result: { value: [{ lamports: 18446744073709551615n, slot: 123 }] },
      amounts: [9007199254740993n],
    });
  });

  it('leaves fractions and exponent forms as numbers, and revives named fields by their own function', () => {
    expect(parseLosslessJson('{"difficulty":1.5e300,"x":1e21,"fee":0.1}')).toEqual({
      difficulty: 1.5e300,
      x: 1e21,
      fee: 0.1,
    });
    const fields = new Map([['fee', (source: string) => `exact:${source}`]]);
    expect(parseLosslessJson('{"fee":0.10000000,"n":[{"fee":3}]}', fields)).toEqual({
      fee: 'exact:0.10000000',
      n: [{ fee: 'exact:3' }],
    });
  });

  it('agrees with JSON.parse on any text: rejects what it rejects, else the same values (large integers exact)', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        let native: unknown;
        try {
          native = JSON.parse(text);
        } catch {
          expect(() => parseLosslessJson(text)).toThrow(SyntaxError);
          return;
        }
        expect(parseLosslessJson(text)).toEqual(
          typeof native === 'number' && !Number.isSafeInteger(native) && /^\s*-?\d+\s*$/.test(text)
            ? BigInt(text.trim())
            : native,
        );
      }),
      { numRuns: 500 },
    );
  });
});

describe("Bitcoin's amount fields are a use of it", () => {
  it('BTC with 8 decimals become exact satoshis, other large integers bigints, malformed JSON an endpoint error', () => {
    const keys = new Set(['value']);
    expect(parseJsonWithAmounts('{"value":20999999.97690000,"n":9007199254740993}', keys, 'btc')).toEqual({
      value: 2_099_999_997_690_000n,
      n: 9007199254740993n,
    });
    expect(parseJsonWithAmounts('{"value":123}', keys, 'sat')).toEqual({ value: 123n });
    expect(() => parseJsonWithAmounts('{"value":', keys, 'sat')).toThrow(/malformed JSON/);
  });
});
