import type { Network } from 'bitcoinjs-lib';
import type { BlockRef } from '../../core/model.ts';
import { EndpointError } from '../http/http-request.ts';
import { hexToBytes, normaliseAddress, scriptToAddress } from './addresses.ts';
import type { Unspent } from './bitcoin-balances.ts';
import type { BtcBlock } from './outflows.ts';

/** One endpoint, as the reader sees it: Bitcoin Core JSON-RPC or an Esplora REST API. */
export interface BlockSource {
  /** `rpc <url>` or `esplora <url>`, credentials masked. */
  readonly label: string;
  head(): Promise<number>;
  genesisHash(): Promise<string>;
  /** The coins paying `addresses` (canonical) at the endpoint's tip (bitcoin-balances.ts parses them). */
  unspent(addresses: readonly string[]): Promise<Unspent[]>;
  /** Blocks [from, to] ascending, every input's prevout filled in. */
  readBlocks(from: number, to: number): Promise<BtcBlock[]>;
  blockRefs(numbers: number[]): Promise<BlockRef[]>;
}

export const ZERO_HASH = '0'.repeat(64);

/** The name of an output: its address, or `raw(<script hex>)` for a script that has none. */
export function outputName(scriptHex: unknown, nodeAddress: unknown, network: Network): string {
  if (typeof nodeAddress === 'string' && nodeAddress) return normaliseAddress(nodeAddress);
  if (typeof scriptHex !== 'string')
    throw new EndpointError('malformed response: an output has neither address nor script');
  return scriptToAddress(hexToBytes(scriptHex), network) ?? `raw(${scriptHex.toLowerCase()})`;
}

export function expectHash(value: unknown, what: string): string {
  if (typeof value !== 'string' || !/^[0-9a-f]{64}$/.test(value)) {
    throw new EndpointError(`malformed response: ${what} is not a block hash (${JSON.stringify(value)?.slice(0, 80)})`);
  }
  return value;
}

export function expectInt(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new EndpointError(
      `malformed response: ${what} is not a non-negative integer (${JSON.stringify(value)?.slice(0, 80)})`,
    );
  }
  return value;
}

export function expectSats(value: unknown, what: string): bigint {
  if (typeof value !== 'bigint' || value < 0n) throw new EndpointError(`malformed response: ${what} is not an amount`);
  return value;
}

export function expectArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new EndpointError(`malformed response: ${what} is not an array`);
  return value;
}

export function expectObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EndpointError(`malformed response: ${what} is not an object`);
  }
  return value as Record<string, unknown>;
}

/** Check a block came back for the height and hash asked for. */
export function checkBlockIdentity(ref: BlockRef, height: number, hash: string): void {
  if (ref.hash !== hash) throw new EndpointError(`asked for block ${hash}, got ${ref.hash}`);
  if (ref.number !== height) throw new EndpointError(`block ${hash} is at height ${ref.number}, expected ${height}`);
}
