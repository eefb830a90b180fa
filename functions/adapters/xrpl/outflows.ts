import type { BlockRef, ChainTransfer } from '../../core/model.ts';
import { add, type Decimal, negate, parseDecimal, sign, subtract, toUnits, ZERO } from './amounts.ts';

/** One entry of a transaction's `meta.AffectedNodes`, as the reader has checked it. */
export interface AffectedNode {
  readonly change: 'Created' | 'Modified' | 'Deleted';
  readonly entryType: string;
  /** NewFields of a created entry, FinalFields otherwise. */
  readonly fields: Readonly<Record<string, unknown>>;
  /** PreviousFields: the fields that changed, before; empty for a created entry. */
  readonly previous: Readonly<Record<string, unknown>>;
}

export interface XrplTx {
  readonly hash: string;
  readonly type: string;
  /** The sending account (classic address). */
  readonly account: string;
  /** Drops the sending account paid and the network destroyed. */
  readonly fee: bigint;
  readonly destination: string | undefined;
  /** `tesSUCCESS`, a `tec…` code (applied: only the fee moved, plus any side effect the metadata shows). */
  readonly result: string;
  readonly nodes: readonly AffectedNode[];
}

export interface XrplLedger {
  readonly ref: BlockRef;
  readonly txs: readonly XrplTx[];
}

/** What outflow extraction knows about the chain's wallets and currencies. */
export interface XrplWalletView {
  readonly chain: string;
  readonly hot: ReadonlySet<string>;
  /** Decimals each configured issued currency (`<currency>.<issuer>`) is counted at. */
  readonly decimals: ReadonlyMap<string, number>;
}

/** Decimals an issued currency the config does not name is counted at (its 15-16 significant digits fit). */
export const UNKNOWN_IOU_DECIMALS = 15;
/** `to` of value that left a hot wallet without reaching any account the metadata shows (an offer consumed it). */
export const UNSEEN_DESTINATION = 'unseen';
const XRP = 'XRP';

/**
 * Ledger entry types that never hold a hot wallet's XRP or issued currencies themselves: what they
 * move shows in an AccountRoot or RippleState of the same metadata (an escrow's XRP leaves the
 * owner's AccountRoot), or they move nothing fungible (NFTokenPage: NFTs are not counted, docs/XRPL.md).
 * Any other type owned by a hot wallet (MPToken, Vault, a type a future amendment adds) stops the
 * read with UnseenMovementError, which the poll reports as blindness, rather than pass unseen.
 */
const VALUE_NEUTRAL_ENTRIES = new Set([
  'Offer',
  'DirectoryNode',
  'Escrow',
  'PayChannel',
  'Check',
  'SignerList',
  'Ticket',
  'DepositPreauth',
  'NFTokenPage',
  'NFTokenOffer',
  'AMM',
  'Bridge',
  'XChainOwnedClaimID',
  'XChainOwnedCreateAccountClaimID',
  'DID',
  'Oracle',
  'Credential',
  'PermissionedDomain',
  'Delegate',
  'LedgerHashes',
  'Amendments',
  'FeeSettings',
  'NegativeUNL',
]);

/** A hot wallet owns a ledger entry whose value the breaker cannot read: the read stops (fail loud). */
export class UnseenMovementError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnseenMovementError';
  }
}

/** One account's change in one asset, from one affected node. */
interface BalanceChange {
  readonly account: string;
  /** `XRP`, or the token id `<currency>.<counterparty>` as that account holds it. */
  readonly asset: string;
  /** Drops for XRP, the currency's value for an IOU; from the account's side, fee added back. */
  readonly delta: Decimal;
}

/**
 * The transfers out of the hot wallets in one transaction, from its metadata's balance changes (never
 * from `Amount` or `delivered_amount`, which say what was asked for and what the destination got):
 *  - XRP: each AccountRoot of a hot wallet, Final − Previous Balance, with the fee added back when the
 *    wallet sent the transaction (the fee is recorded in `fee`, never counted). A `tec…` result
 *    therefore yields nothing unless the metadata shows another debit.
 *  - Issued currencies: each RippleState (trust line) a hot wallet is a side of. Its Balance is the low
 *    account's holding; the high account holds its negation. The token is the currency and the other
 *    side of the line (`USD.rIssuer`).
 * A debit goes to the accounts whose balance of the same asset rose in the same metadata — the
 * transaction's Destination first, then the sending account (a CheckCash by the payee), then others
 * in node order (offer owners) — each credited at most what it received. What no account received
 * (XRP into an escrow or a channel) goes to the Destination when the transaction names one, else to
 * UNSEEN_DESTINATION. So a cross-currency Payment whose Destination is a cold wallet counts the XRP
 * the offers took as lost: only what the cold wallet itself received of that asset is own.
 *
 * `index`: the transfer's position in this list, which is a function of the metadata alone (nodes
 * in AffectedNodes order, destinations in the order above), so every read of the ledger emits the
 * same indexes.
 */
export function transfersOfTx(tx: XrplTx, ledger: BlockRef, wallets: XrplWalletView): ChainTransfer[] {
  checkEntryTypes(tx, wallets);
  const { changes, issuerNet } = balanceChanges(tx);
  const received = receivedBy(changes, issuerNet);
  const transfers: ChainTransfer[] = [];
  for (const debit of changes) {
    if (!wallets.hot.has(debit.account) || sign(debit.delta) >= 0) continue;
    const decimals = debit.asset === XRP ? 0 : (wallets.decimals.get(debit.asset) ?? UNKNOWN_IOU_DECIMALS);
    let left = toUnits(debit.delta, decimals, 'up');
    const emit = (to: string, amount: bigint) => {
      transfers.push({
        chain: wallets.chain,
        block: ledger.number,
        blockHash: ledger.hash,
        blockTime: ledger.time,
        txHash: tx.hash,
        index: transfers.length,
        contract: debit.asset === XRP ? null : debit.asset,
        from: debit.account,
        to,
        amount,
        ...(transfers.length === 0 && wallets.hot.has(tx.account) ? { fee: tx.fee } : {}),
      });
    };
    for (const to of candidates(tx, debit, changes)) {
      if (left === 0n) break;
      const key = `${to}|${debit.asset}`;
      const got = received.get(key) ?? ZERO;
      const take = minBig(left, toUnits(got, decimals, 'down'));
      if (take === 0n) continue;
      received.set(key, add(got, { coefficient: -take, exponent: -decimals }));
      emit(to, take);
      left -= take;
    }
    if (left > 0n) {
      emit(
        tx.destination !== undefined && tx.destination !== debit.account ? tx.destination : UNSEEN_DESTINATION,
        left,
      );
    }
  }
  return transfers;
}

export function transfersOfLedgers(ledgers: readonly XrplLedger[], wallets: XrplWalletView): ChainTransfer[] {
  return ledgers.flatMap((l) => l.txs.flatMap((tx) => transfersOfTx(tx, l.ref, wallets)));
}

function checkEntryTypes(tx: XrplTx, wallets: XrplWalletView): void {
  for (const node of tx.nodes) {
    if (node.entryType === 'AccountRoot' || node.entryType === 'RippleState') continue;
    if (VALUE_NEUTRAL_ENTRIES.has(node.entryType)) continue;
    const owner = [node.fields.Account, node.fields.Owner, node.fields.Issuer, node.fields.Holder].find(
      (a) => typeof a === 'string' && wallets.hot.has(a),
    );
    if (owner !== undefined) {
      throw new UnseenMovementError(
        `transaction ${tx.hash} changed a ${node.entryType} entry of hot wallet ${owner}: the breaker does not read ${node.entryType} balances, so what it moved would go uncounted`,
      );
    }
  }
}

function balanceChanges(tx: XrplTx): { changes: BalanceChange[]; issuerNet: BalanceChange[] } {
  const changes: BalanceChange[] = [];
  const issuerNet: BalanceChange[] = [];
  for (const node of tx.nodes) {
    if (node.entryType === 'AccountRoot') {
      const account = expectString(node.fields.Account, 'AccountRoot Account');
      const final = node.change === 'Deleted' && node.fields.Balance === undefined ? 0n : drops(node.fields.Balance);
      const before = node.change === 'Created' ? 0n : drops(node.previous.Balance ?? node.fields.Balance);
      const delta = final - before + (account === tx.account ? tx.fee : 0n);
      if (delta !== 0n) changes.push({ account, asset: XRP, delta: { coefficient: delta, exponent: 0 } });
    } else if (node.entryType === 'RippleState') {
      const low = issuerOf(node.fields.LowLimit, 'LowLimit');
      const high = issuerOf(node.fields.HighLimit, 'HighLimit');
      const balance = amountObject(node.fields.Balance, 'Balance');
      const final = parseDecimal(balance.value);
      const before =
        node.change === 'Created'
          ? ZERO
          : parseDecimal(amountObject(node.previous.Balance ?? node.fields.Balance, 'PreviousFields.Balance').value);
      const delta = subtract(final, before);
      if (sign(delta) === 0n) continue;
      const lowSide = delta;
      const highSide = negate(delta);
      changes.push({ account: low, asset: `${balance.currency}.${high}`, delta: lowSide });
      changes.push({ account: high, asset: `${balance.currency}.${low}`, delta: highSide });
      // An issuer's holding of its own currency is minus what others hold: a redemption raises it.
      issuerNet.push({ account: low, asset: `${balance.currency}.${low}`, delta: lowSide });
      issuerNet.push({ account: high, asset: `${balance.currency}.${high}`, delta: highSide });
    }
  }
  return { changes, issuerNet };
}

/** What each (account, asset) received in the transaction: the positive net of its changes. */
function receivedBy(changes: readonly BalanceChange[], issuerNet: readonly BalanceChange[]): Map<string, Decimal> {
  const net = new Map<string, Decimal>();
  for (const c of [...changes, ...issuerNet]) {
    const key = `${c.account}|${c.asset}`;
    net.set(key, add(net.get(key) ?? ZERO, c.delta));
  }
  for (const [key, value] of net) if (sign(value) <= 0n) net.delete(key);
  return net;
}

function candidates(tx: XrplTx, debit: BalanceChange, changes: readonly BalanceChange[]): string[] {
  const ordered = [tx.destination, tx.account, ...changes.filter((c) => c.asset === debit.asset).map((c) => c.account)];
  // The issuer of the debited currency receives it on a redemption.
  if (debit.asset !== XRP) ordered.push(debit.asset.slice(debit.asset.indexOf('.') + 1));
  const unique = new Set(ordered.filter((a): a is string => a !== undefined));
  unique.delete(debit.account);
  return [...unique];
}

function drops(value: unknown): bigint {
  if (typeof value !== 'string' || !/^\d{1,20}$/.test(value)) {
    throw new TypeError(`AccountRoot Balance is not drops: ${JSON.stringify(value)?.slice(0, 80)}`);
  }
  return BigInt(value);
}

function expectString(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${what} is not a string`);
  return value;
}

function issuerOf(limit: unknown, what: string): string {
  return expectString((limit as { issuer?: unknown } | undefined)?.issuer, `RippleState ${what}.issuer`);
}

function amountObject(value: unknown, what: string): { currency: string; value: string } {
  const v = value as { currency?: unknown; value?: unknown } | undefined;
  if (typeof v?.currency !== 'string' || typeof v.value !== 'string') {
    throw new TypeError(`RippleState ${what} is not an issued-currency amount`);
  }
  return { currency: v.currency, value: v.value };
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
