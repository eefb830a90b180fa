import type { BlockRef } from '../../core/model.ts';
import { EndpointError } from '../http/http-request.ts';
import { canonicalCurrency, parseDrops } from './amounts.ts';
import type { AffectedNode, XrplTx } from './outflows.ts';

/**
 * Checks of rippled's API v2 answers, turned into the reader's shapes. Anything malformed is an
 * EndpointError naming what is wrong (the reader moves on to the next endpoint); nothing is skipped
 * or guessed.
 */

/** `close_time` counts seconds from the Ripple epoch, 2000-01-01T00:00:00Z. */
export const RIPPLE_EPOCH_OFFSET = 946_684_800;

const HASH = /^[0-9A-F]{64}$/;

export function expectObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EndpointError(`malformed response: ${what} is not an object`);
  }
  return value as Record<string, unknown>;
}

function expectHash(value: unknown, what: string): string {
  if (typeof value !== 'string' || !HASH.test(value.toUpperCase())) {
    throw new EndpointError(
      `malformed response: ${what} is not a 256-bit hash (${JSON.stringify(value)?.slice(0, 80)})`,
    );
  }
  return value.toUpperCase();
}

function expectIndex(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new EndpointError(
      `malformed response: ${what} is not a ledger index (${JSON.stringify(value)?.slice(0, 80)})`,
    );
  }
  return value;
}

/** The header of a `ledger` answer for ledger `index` (or the validated ledger when index is undefined). */
export function ledgerRef(result: Record<string, unknown>, index: number | undefined): BlockRef {
  const what = `ledger ${index ?? 'validated'}`;
  if (result.validated !== true) {
    throw new EndpointError(
      `${what} is not validated on this endpoint (validated: ${JSON.stringify(result.validated)})`,
    );
  }
  const ledger = expectObject(result.ledger, `${what}: ledger`);
  const number = expectIndex(ledger.ledger_index, `${what}: ledger_index`);
  if (index !== undefined && number !== index)
    throw new EndpointError(`asked for ledger ${index}, got ledger ${number}`);
  const closeTime = ledger.close_time;
  if (typeof closeTime !== 'number' || !Number.isSafeInteger(closeTime) || closeTime < 0) {
    throw new EndpointError(`malformed response: ${what}: close_time is not a number of seconds`);
  }
  return {
    number,
    hash: expectHash(ledger.ledger_hash ?? result.ledger_hash, `${what}: ledger_hash`),
    parentHash: expectHash(ledger.parent_hash, `${what}: parent_hash`),
    time: closeTime + RIPPLE_EPOCH_OFFSET,
  };
}

/** The transactions of an expanded `ledger` answer, in TransactionIndex order. */
export function ledgerTransactions(result: Record<string, unknown>, ref: BlockRef): unknown[] {
  const ledger = expectObject(result.ledger, `ledger ${ref.number}`);
  const txs = ledger.transactions;
  if (!Array.isArray(txs)) {
    throw new EndpointError(
      `malformed response: ledger ${ref.number}: transactions is not an array (expand: true ignored?)`,
    );
  }
  return txs;
}

/** One API v2 transaction entry (`{hash, tx_json, meta}`) of ledger `ledger`, parsed and checked. */
export function parseTransaction(entry: unknown, ledger: number): XrplTx & { position: number } {
  const where = `ledger ${ledger}: a transaction`;
  const e = expectObject(entry, where);
  const hash = expectHash(e.hash, `${where}: hash`);
  const tx = expectObject(e.tx_json, `transaction ${hash}: tx_json (is the endpoint answering API v1?)`);
  const meta = expectObject(e.meta, `transaction ${hash}: meta`);
  const what = `transaction ${hash}`;
  const account = tx.Account;
  if (typeof account !== 'string' || account === '') throw new EndpointError(`malformed response: ${what}: no Account`);
  const type = tx.TransactionType;
  if (typeof type !== 'string') throw new EndpointError(`malformed response: ${what}: no TransactionType`);
  const result = meta.TransactionResult;
  if (typeof result !== 'string' || !/^te[sc]/.test(result)) {
    throw new EndpointError(
      `malformed response: ${what}: TransactionResult ${JSON.stringify(result)} is neither tes… nor tec…`,
    );
  }
  const position = meta.TransactionIndex;
  if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 0) {
    throw new EndpointError(`malformed response: ${what}: meta.TransactionIndex is not an index`);
  }
  const destination = tx.Destination;
  if (destination !== undefined && typeof destination !== 'string') {
    throw new EndpointError(`malformed response: ${what}: Destination is not an address`);
  }
  let fee: bigint;
  try {
    fee = parseDrops(tx.Fee);
  } catch (e) {
    throw new EndpointError(`malformed response: ${what}: Fee: ${(e as Error).message}`);
  }
  const nodes = meta.AffectedNodes;
  if (!Array.isArray(nodes)) throw new EndpointError(`malformed response: ${what}: meta.AffectedNodes is not an array`);
  return {
    hash,
    type,
    account,
    fee,
    destination,
    result,
    position,
    nodes: nodes.map((n, i) => affectedNode(n, `${what}: AffectedNodes[${i}]`)),
  };
}

function affectedNode(value: unknown, what: string): AffectedNode {
  const wrapper = expectObject(value, what);
  const keys = Object.keys(wrapper);
  const key = keys[0];
  const change =
    key === 'CreatedNode'
      ? 'Created'
      : key === 'ModifiedNode'
        ? 'Modified'
        : key === 'DeletedNode'
          ? 'Deleted'
          : undefined;
  if (keys.length !== 1 || change === undefined) {
    throw new EndpointError(`malformed response: ${what} is not one CreatedNode, ModifiedNode or DeletedNode`);
  }
  const node = expectObject(wrapper[key as string], `${what}.${key}`);
  const entryType = node.LedgerEntryType;
  if (typeof entryType !== 'string') throw new EndpointError(`malformed response: ${what}: no LedgerEntryType`);
  const fields = expectObject(change === 'Created' ? node.NewFields : (node.FinalFields ?? {}), `${what}: fields`);
  const previous = expectObject(node.PreviousFields ?? {}, `${what}: PreviousFields`);
  if (entryType === 'RippleState') {
    for (const f of [fields, previous]) {
      const balance = f.Balance as { currency?: unknown } | undefined;
      if (balance !== undefined && typeof balance.currency === 'string') {
        try {
          f.Balance = { ...balance, currency: canonicalCurrency(balance.currency) };
        } catch (e) {
          throw new EndpointError(`malformed response: ${what}: ${(e as Error).message}`);
        }
      }
    }
  }
  return { change, entryType, fields, previous };
}

/** Does any entry the transaction touched name one of `accounts` as its owner or a trust-line side? */
export function touchesAny(tx: XrplTx, accounts: ReadonlySet<string>): boolean {
  return tx.nodes.some((node) =>
    [node.fields, node.previous].some((f) =>
      [f.Account, f.Owner, f.Issuer, f.Holder, f.Destination, issuer(f.LowLimit), issuer(f.HighLimit)].some(
        (a) => typeof a === 'string' && accounts.has(a),
      ),
    ),
  );
}

function issuer(limit: unknown): unknown {
  return (limit as { issuer?: unknown } | undefined)?.issuer;
}
