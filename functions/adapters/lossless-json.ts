/**
 * One JSON parser for chain endpoints that never lets an amount pass through a float. JSON numbers
 * beyond 2^53 lose digits in JSON.parse (Solana and Tron send u64 lamports/sun as plain numbers), so
 * every number is read from its source text (JSON.parse source text access, Node ≥ 21):
 *  - an integer written as digits that is not a safe integer becomes a bigint, wherever it appears;
 *    safe integers stay numbers, so code reading block heights or counts is unaffected;
 *  - a property named in `fields` is revived by its own function from the source text, whatever its
 *    size (Bitcoin Core's BTC amounts with 8 decimals → satoshi bigints);
 *  - other numbers (fractions, exponent forms such as `1e21`) stay JavaScript numbers: a chain that
 *    means an exact amount writes it as digits, and a field reviver covers the exceptions.
 * Throws SyntaxError for malformed JSON, TypeError where the runtime lacks source text access, and
 * whatever a field reviver throws.
 */
export function parseLosslessJson(text: string, fields?: ReadonlyMap<string, (source: string) => unknown>): unknown {
  return JSON.parse(text, (key: string, value: unknown, context?: { source?: string }) => {
    if (typeof value !== 'number') return value;
    const source = context?.source;
    if (source === undefined) throw new TypeError('this runtime lacks JSON.parse source text access (Node ≥ 21)');
    const revive = fields?.get(key);
    if (revive) return revive(source);
    return Number.isSafeInteger(value) || !INTEGER.test(source) ? value : BigInt(source);
  });
}

const INTEGER = /^-?\d+$/;
