import { parseUnits } from '../../core/amounts.ts';
import { EndpointError } from '../http/http-request.ts';
import { parseLosslessJson } from '../lossless-json.ts';

/**
 * The lossless JSON parser (adapters/lossless-json.ts) with the fields named in `amountKeys` revived
 * as exact satoshi bigints from the number's source text: Core writes BTC with 8 decimals, Esplora satoshis.
 */
export function parseJsonWithAmounts(text: string, amountKeys: ReadonlySet<string>, unit: 'btc' | 'sat'): unknown {
  const toSats = unit === 'btc' ? btcToSats : (source: string) => BigInt(source);
  try {
    return parseLosslessJson(text, new Map([...amountKeys].map((k) => [k, toSats])));
  } catch (e) {
    if (e instanceof TypeError) throw new EndpointError(e.message, { cause: e });
    throw new EndpointError(`malformed JSON: ${(e as Error).message}`, { cause: e });
  }
}

function btcToSats(source: string): bigint {
  const negative = source.startsWith('-');
  const sats = parseUnits(negative ? source.slice(1) : source, 8);
  return negative ? -sats : sats;
}
