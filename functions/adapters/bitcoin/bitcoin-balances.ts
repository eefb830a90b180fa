import { EndpointError } from '../http/http-request.ts';
import { type BlockSource, expectArray, expectHash, expectInt, expectObject, expectSats } from './sources.ts';

/** A coin paying a hot address, as an endpoint lists it. */
export interface Unspent {
  txid: string;
  vout: number;
  /** Satoshis. */
  value: bigint;
  /** The height of the block that created it; null while unconfirmed. */
  height: number | null;
}

/**
 * The hot wallets' BTC at `block`, from the coins an endpoint lists for them at its tip (Core
 * `scantxoutset`, Esplora `/address/:a/utxo`): the confirmed coins created at or below the block.
 * A coin that existed at the block but was spent after it (in the blocks the confirmations hold back,
 * or in the mempool) is missing, so the figure can read LOWER than the balance at the block — never
 * higher: every coin counted was created by then and, being unspent now, was unspent then. A
 * drawdown therefore never reads smaller than it was. After the listing, the block must still be the
 * endpoint's block at that height (else the chain changed under the read: an EndpointError).
 */
export async function bitcoinBalanceAt(
  source: BlockSource,
  hot: readonly string[],
  block: { number: number; hash: string },
): Promise<bigint> {
  const coins = await source.unspent(hot);
  const [ref] = await source.blockRefs([block.number]);
  if (ref?.hash !== block.hash) {
    throw new EndpointError(
      `block ${block.number} is ${ref?.hash} on this endpoint, not ${block.hash}: the chain changed`,
    );
  }
  const counted = new Map<string, bigint>();
  for (const c of coins) if (c.height !== null && c.height <= block.number) counted.set(`${c.txid}:${c.vout}`, c.value);
  let sats = 0n;
  for (const value of counted.values()) sats += value;
  return sats;
}

/** Core's `scantxoutset start` answer (amounts already exact satoshis, see core-rpc-source.ts AMOUNT_KEYS). */
export function coreUnspents(result: unknown): Unspent[] {
  const scan = expectObject(result, 'scantxoutset');
  if (scan.success !== true) throw new EndpointError('scantxoutset: the scan did not complete (success is not true)');
  return expectArray(scan.unspents, 'scantxoutset.unspents').map((u, i) => {
    const what = `scantxoutset.unspents[${i}]`;
    const coin = expectObject(u, what);
    return {
      txid: expectHash(coin.txid, `${what}.txid`),
      vout: expectInt(coin.vout, `${what}.vout`),
      value: expectSats(coin.amount, `${what}.amount`),
      height: expectInt(coin.height, `${what}.height`),
    };
  });
}

/** Esplora's `/address/:a/utxo` answer (values in satoshis). */
export function esploraUnspents(json: unknown, address: string): Unspent[] {
  return expectArray(json, `/address/${address}/utxo`).map((u, i) => {
    const what = `/address/${address}/utxo[${i}]`;
    const coin = expectObject(u, what);
    const status = expectObject(coin.status, `${what}.status`);
    if (typeof status.confirmed !== 'boolean') throw new EndpointError(`malformed response: ${what}.status.confirmed`);
    return {
      txid: expectHash(coin.txid, `${what}.txid`),
      vout: expectInt(coin.vout, `${what}.vout`),
      value: expectSats(coin.value, `${what}.value`),
      height: status.confirmed ? expectInt(status.block_height, `${what}.status.block_height`) : null,
    };
  });
}
