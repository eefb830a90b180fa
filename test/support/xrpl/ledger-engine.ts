import {
  decode,
  decodeAccountID,
  getBalanceChanges,
  hashes,
  type Transaction,
  type TransactionMetadata,
  Wallet,
} from 'xrpl';

/**
 * A small XRP Ledger engine for tests: no rippled/xrpld installs here, so this builds what a server
 * would serve. Transactions are signed with xrpl.js (real blobs and hashes); each closed ledger's
 * transaction tree, state tree and header hash are computed with xrpl.js's `hashes`, so ledgers link
 * by real parent hashes. The metadata (AffectedNodes with PreviousFields/FinalFields/NewFields, as
 * https://xrpl.org/docs/references/protocol/transactions/metadata.md documents) is written here for
 * the transaction types the breaker must understand — it is our model of rippled, which is why every
 * test also checks our outflows against xrpl.js's independent `getBalanceChanges`.
 */

export const RIPPLE_EPOCH_OFFSET = 946_684_800;
const ISSUER_ONE = 'rrrrrrrrrrrrrrrrrrrrBZbvji';
const FEE = 12n;
const TF_PARTIAL_PAYMENT = 0x00020000;

export interface Account {
  wallet: Wallet;
  balance: bigint;
  sequence: number;
  ownerCount: number;
}

interface TrustLine {
  low: string;
  high: string;
  currency: string;
  /** The low account's holding, scaled by 10^12 (positive: the high account is the issuer). */
  scaled: bigint;
  limitLow: string;
  limitHigh: string;
}

/** One applied transaction as a server returns it (API v2) and as the tests check it. */
export interface AppliedTx {
  hash: string;
  tx_json: Record<string, unknown>;
  meta: Record<string, unknown> & { AffectedNodes: unknown[]; TransactionResult: string };
  /** The tx blob (for the tree hash). */
  blob: string;
}

export interface ClosedLedger {
  ledger_index: number;
  ledger_hash: string;
  parent_hash: string;
  close_time: number;
  parent_close_time: number;
  transaction_hash: string;
  account_hash: string;
  total_coins: string;
  transactions: AppliedTx[];
}

type Node = Record<string, Record<string, unknown>>;

interface LedgerState {
  drops: Map<string, bigint>;
  lines: TrustLine[];
}

/** Exact decimal strings for IOU values: the engine keeps them as scaled bigints (12 decimals). */
const SCALE = 12;
function toScaled(value: string): bigint {
  const [whole = '0', frac = ''] = value.replace(/^-/, '').split('.');
  const v = BigInt(whole) * 10n ** BigInt(SCALE) + BigInt((frac + '0'.repeat(SCALE)).slice(0, SCALE) || '0');
  return value.startsWith('-') ? -v : v;
}
export function scaledText(v: bigint): string {
  const neg = v < 0n;
  const m = neg ? -v : v;
  const whole = m / 10n ** BigInt(SCALE);
  const frac = (m % 10n ** BigInt(SCALE)).toString().padStart(SCALE, '0').replace(/0+$/, '');
  const text = frac ? `${whole}.${frac}` : `${whole}`;
  return neg && text !== '0' ? `-${text}` : text;
}

/**
 * An IOU balance kept to 15 significant digits (the low digits cut toward zero), as the XRPL stores
 * at most 16: what the metadata shows is then what the binary codec can encode.
 */
function significant(v: bigint): bigint {
  const digits = (v < 0n ? -v : v).toString().length;
  if (digits <= 15) return v;
  const unit = 10n ** BigInt(digits - 15);
  return (v / unit) * unit;
}

function lowHigh(a: string, b: string): [string, string] {
  return Buffer.compare(Buffer.from(decodeAccountID(a)), Buffer.from(decodeAccountID(b))) < 0 ? [a, b] : [b, a];
}

export class XrplLedgerEngine {
  readonly accounts = new Map<string, Account>();
  private readonly lines = new Map<string, TrustLine>();
  private readonly pending: { build: (index: number) => AppliedTx | undefined }[] = [];
  readonly ledgers: ClosedLedger[] = [];
  /** Each closed ledger's account state, for account_info / account_lines at a past ledger. */
  private readonly states = new Map<number, LedgerState>();
  private closeTime: number;

  constructor(startCloseTime = 800_000_000) {
    this.closeTime = startCloseTime;
    const genesisHash = '0'.repeat(64);
    this.ledgers.push({
      ledger_index: 1,
      ledger_hash: genesisHash,
      parent_hash: '0'.repeat(64),
      close_time: this.closeTime,
      parent_close_time: this.closeTime,
      transaction_hash: '0'.repeat(64),
      account_hash: '0'.repeat(64),
      total_coins: '100000000000000000',
      transactions: [],
    });
  }

  /** A funded account (created in the state directly, as the genesis account would have funded it). */
  fund(drops: bigint, wallet = Wallet.generate()): Wallet {
    this.accounts.set(wallet.classicAddress, { wallet, balance: drops, sequence: 1, ownerCount: 0 });
    return wallet;
  }

  get validatedIndex(): number {
    return (this.ledgers.at(-1) as ClosedLedger).ledger_index;
  }

  ledger(index: number): ClosedLedger | undefined {
    const first = (this.ledgers[0] as ClosedLedger).ledger_index;
    return this.ledgers[index - first];
  }

  private account(address: string): Account {
    const a = this.accounts.get(address);
    if (!a) throw new Error(`no account ${address}`);
    return a;
  }

  /** Signs `tx` for its Account with the next sequence and the standard fee; returns hash and signed JSON. */
  private sign(tx: Record<string, unknown>, fee = FEE): { hash: string; blob: string; json: Record<string, unknown> } {
    const account = this.account(tx.Account as string);
    const signed = account.wallet.sign({
      ...tx,
      Fee: String(fee),
      Sequence: account.sequence,
      Flags: tx.Flags ?? 0,
    } as Transaction);
    return { hash: signed.hash, blob: signed.tx_blob, json: decode(signed.tx_blob) as Record<string, unknown> };
  }

  private rootNode(
    address: string,
    before: { balance: bigint; sequence: number },
    after: { sequence?: number; change?: 'Modified' | 'Deleted' } = {},
  ): Node {
    const a = this.account(address);
    const sequence = after.sequence ?? before.sequence;
    const previous: Record<string, unknown> = {};
    if (before.balance !== a.balance) previous.Balance = String(before.balance);
    if (before.sequence !== sequence) previous.Sequence = before.sequence;
    return {
      [`${after.change ?? 'Modified'}Node`]: {
        LedgerEntryType: 'AccountRoot',
        LedgerIndex: hashes.hashAccountRoot(address),
        FinalFields: {
          Account: address,
          Balance: String(a.balance),
          Flags: 0,
          OwnerCount: a.ownerCount,
          Sequence: sequence,
        },
        ...(Object.keys(previous).length > 0 ? { PreviousFields: previous } : {}),
      },
    };
  }

  private lineKey(a: string, b: string, currency: string): string {
    const [low, high] = lowHigh(a, b);
    return `${low}|${high}|${currency}`;
  }

  private lineFields(line: TrustLine): Record<string, unknown> {
    return {
      Balance: { currency: line.currency, issuer: ISSUER_ONE, value: scaledText(line.scaled) },
      Flags: 0,
      HighLimit: { currency: line.currency, issuer: line.high, value: line.limitHigh },
      HighNode: '0',
      LowLimit: { currency: line.currency, issuer: line.low, value: line.limitLow },
      LowNode: '0',
    };
  }

  /**
   * Queue a transaction: `apply` runs at close (in queue order) and returns the result and the nodes
   * other than the sender's AccountRoot, which this adds (fee and sequence). Nodes are then sorted by
   * LedgerIndex, the order rippled writes AffectedNodes in.
   */
  private queue(
    tx: Record<string, unknown>,
    apply: () => { result: string; nodes: Node[]; delivered?: unknown; senderDeleted?: boolean },
    fee = FEE,
  ): string {
    const signed = this.sign(tx, fee);
    const sender = this.account(tx.Account as string);
    const sequence = sender.sequence++;
    this.pending.push({
      build: (index) => {
        const before = { balance: sender.balance, sequence };
        sender.balance -= fee;
        const { result, nodes, delivered, senderDeleted } = apply();
        nodes.push(
          this.rootNode(tx.Account as string, before, {
            sequence: sequence + 1,
            change: senderDeleted ? 'Deleted' : 'Modified',
          }),
        );
        if (senderDeleted) this.accounts.delete(tx.Account as string);
        const key = (n: Node) => String((Object.values(n)[0] as { LedgerIndex?: string }).LedgerIndex);
        nodes.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
        const meta = {
          AffectedNodes: nodes,
          TransactionIndex: index,
          TransactionResult: result,
          ...(delivered !== undefined ? { delivered_amount: delivered } : {}),
        };
        return { hash: signed.hash, tx_json: signed.json, meta, blob: signed.blob };
      },
    });
    return signed.hash;
  }

  payXrp(from: Wallet, to: string, drops: bigint, options: { result?: string } = {}): string {
    const tx = { TransactionType: 'Payment', Account: from.classicAddress, Destination: to, Amount: String(drops) };
    return this.queue(tx, () => {
      if (options.result) return { result: options.result, nodes: [] };
      const sender = this.account(from.classicAddress);
      const dest = this.account(to);
      const destBefore = { balance: dest.balance, sequence: dest.sequence };
      sender.balance -= drops;
      dest.balance += drops;
      return { result: 'tesSUCCESS', nodes: [this.rootNode(to, destBefore)], delivered: String(drops) };
    });
  }

  trustSet(holder: Wallet, currency: string, issuer: string, limit = '1000000000'): string {
    const tx = {
      TransactionType: 'TrustSet',
      Account: holder.classicAddress,
      LimitAmount: { currency, issuer, value: limit },
    };
    return this.queue(tx, () => {
      const [low, high] = lowHigh(holder.classicAddress, issuer);
      const line = {
        low,
        high,
        currency,
        scaled: 0n,
        limitLow: low === holder.classicAddress ? limit : '0',
        limitHigh: high === holder.classicAddress ? limit : '0',
      };
      this.lines.set(this.lineKey(holder.classicAddress, issuer, currency), line);
      this.account(holder.classicAddress).ownerCount++;
      return {
        result: 'tesSUCCESS',
        nodes: [
          {
            CreatedNode: {
              LedgerEntryType: 'RippleState',
              LedgerIndex: hashes.hashTrustline(low, high, currency),
              NewFields: this.lineFields(line),
            },
          },
        ],
      };
    });
  }

  /** Move `value` of `currency` on the holder↔issuer line: + raises the holder's holding. */
  private moveOnLine(holder: string, issuer: string, currency: string, delta: bigint): Node {
    const line = this.lines.get(this.lineKey(holder, issuer, currency));
    if (!line) throw new Error(`no trust line ${holder}↔${issuer} ${currency}`);
    const before = line.scaled;
    line.scaled = significant(line.scaled + (holder === line.low ? delta : -delta));
    return {
      ModifiedNode: {
        LedgerEntryType: 'RippleState',
        LedgerIndex: hashes.hashTrustline(line.low, line.high, currency),
        FinalFields: this.lineFields(line),
        PreviousFields: { Balance: { currency, issuer: ISSUER_ONE, value: scaledText(before) } },
      },
    };
  }

  /**
   * An issued-currency Payment rippling through `issuer`. `deliver` (default: amount) is what the
   * destination receives: less than `amount` makes it a partial payment (tfPartialPayment), whose
   * `Amount` field overstates what moved. `transferRate` (e.g. 1.002) makes the sender pay more.
   */
  payIou(
    from: Wallet,
    to: string,
    currency: string,
    issuer: string,
    amount: string,
    options: { deliver?: string; transferRate?: number; result?: string } = {},
  ): string {
    const deliver = options.deliver ?? amount;
    const partial = deliver !== amount;
    const tx = {
      TransactionType: 'Payment',
      Account: from.classicAddress,
      Destination: to,
      Amount: { currency, issuer, value: amount },
      ...(partial ? { Flags: TF_PARTIAL_PAYMENT, SendMax: { currency, issuer, value: amount } } : {}),
    };
    return this.queue(tx, () => {
      if (options.result) return { result: options.result, nodes: [] };
      const delivered = toScaled(deliver);
      const rateMillionths = BigInt(Math.round((options.transferRate ?? 1) * 1e6));
      const spent =
        from.classicAddress === issuer || to === issuer
          ? delivered
          : (delivered * rateMillionths + 999_999n) / 1_000_000n;
      const nodes: Node[] = [];
      if (from.classicAddress !== issuer) nodes.push(this.moveOnLine(from.classicAddress, issuer, currency, -spent));
      if (to !== issuer) nodes.push(this.moveOnLine(to, issuer, currency, delivered));
      return { result: 'tesSUCCESS', nodes, delivered: { currency, issuer, value: scaledText(delivered) } };
    });
  }

  /** AccountDelete: the whole balance minus the fee (the owner reserve, 0.2 XRP) goes to `to`. */
  accountDelete(from: Wallet, to: string): string {
    const tx = { TransactionType: 'AccountDelete', Account: from.classicAddress, Destination: to };
    return this.queue(
      tx,
      () => {
        const sender = this.account(from.classicAddress);
        const dest = this.account(to);
        const destBefore = { balance: dest.balance, sequence: dest.sequence };
        dest.balance += sender.balance;
        sender.balance = 0n;
        return { result: 'tesSUCCESS', nodes: [this.rootNode(to, destBefore)], senderDeleted: true };
      },
      200_000n,
    );
  }

  /** EscrowCreate: the XRP leaves the sender's balance into an Escrow entry (no account receives it yet). */
  escrowCreate(from: Wallet, to: string, drops: bigint): string {
    const tx = {
      TransactionType: 'EscrowCreate',
      Account: from.classicAddress,
      Destination: to,
      Amount: String(drops),
      FinishAfter: 900_000_000,
    };
    return this.queue(tx, () => {
      const sender = this.account(from.classicAddress);
      sender.balance -= drops;
      sender.ownerCount++;
      return {
        result: 'tesSUCCESS',
        nodes: [
          {
            CreatedNode: {
              LedgerEntryType: 'Escrow',
              LedgerIndex: hashes.hashEscrow(from.classicAddress, sender.sequence - 1),
              NewFields: {
                Account: from.classicAddress,
                Destination: to,
                Amount: String(drops),
                FinishAfter: 900_000_000,
              },
            },
          },
        ],
      };
    });
  }

  /** CheckCash by the payee `casher` of a check `hot` wrote: the payee sends the transaction, XRP leaves `hot`. */
  checkCash(hot: Wallet, casher: Wallet, drops: bigint): string {
    const checkId = hashes.hashSignedTx(this.sign({ TransactionType: 'AccountSet', Account: hot.classicAddress }).blob);
    const tx = {
      TransactionType: 'CheckCash',
      Account: casher.classicAddress,
      CheckID: checkId,
      Amount: String(drops),
    };
    return this.queue(tx, () => {
      const payer = this.account(hot.classicAddress);
      const before = { balance: payer.balance, sequence: payer.sequence };
      payer.balance -= drops;
      this.account(casher.classicAddress).balance += drops;
      return {
        result: 'tesSUCCESS',
        nodes: [
          this.rootNode(hot.classicAddress, before),
          {
            DeletedNode: {
              LedgerEntryType: 'Check',
              LedgerIndex: checkId,
              FinalFields: {
                Account: hot.classicAddress,
                Destination: casher.classicAddress,
                SendMax: String(drops),
                Sequence: 1,
                Flags: 0,
                OwnerNode: '0',
                DestinationNode: '0',
                PreviousTxnID: '0'.repeat(64),
                PreviousTxnLgrSeq: 1,
              },
            },
          },
        ],
        delivered: String(drops),
      };
    });
  }

  /**
   * A cross-currency Payment from `hot` to `destination` that spends `xrp` drops into `offerOwner`'s
   * offer, which sells `iouValue` of `currency`.`issuer` delivered to `destination`: the drain the
   * research describes (a huge XRP spend delivering a token worth little).
   */
  crossCurrency(
    hot: Wallet,
    destination: string,
    offerOwner: string,
    xrp: bigint,
    currency: string,
    issuer: string,
    iouValue: string,
  ): string {
    const tx = {
      TransactionType: 'Payment',
      Account: hot.classicAddress,
      Destination: destination,
      Amount: { currency, issuer, value: iouValue },
      SendMax: String(xrp),
    };
    return this.queue(tx, () => {
      const sender = this.account(hot.classicAddress);
      const owner = this.account(offerOwner);
      const ownerBefore = { balance: owner.balance, sequence: owner.sequence };
      sender.balance -= xrp;
      owner.balance += xrp;
      const value = toScaled(iouValue);
      return {
        result: 'tesSUCCESS',
        nodes: [
          this.rootNode(offerOwner, ownerBefore),
          this.moveOnLine(offerOwner, issuer, currency, -value),
          this.moveOnLine(destination, issuer, currency, value),
          {
            DeletedNode: {
              LedgerEntryType: 'Offer',
              LedgerIndex: hashes.hashOfferId(offerOwner, 7),
              FinalFields: {
                Account: offerOwner,
                Sequence: 7,
                TakerPays: '0',
                TakerGets: { currency, issuer, value: '0' },
                BookDirectory: '0'.repeat(64),
                BookNode: '0',
                OwnerNode: '0',
                Flags: 0,
                PreviousTxnID: '0'.repeat(64),
                PreviousTxnLgrSeq: 1,
              },
            },
          },
        ],
        delivered: { currency, issuer, value: iouValue },
      };
    });
  }

  /**
   * A transaction from `sender` that changes an entry of a type the breaker does not read, with
   * `fields` (e.g. an MPToken whose Account is a hot wallet, or a future type naming it as Destination).
   */
  foreignEntry(sender: Wallet, entryType: string, fields: Record<string, unknown>): string {
    const tx = { TransactionType: 'AccountSet', Account: sender.classicAddress };
    return this.queue(tx, () => ({
      result: 'tesSUCCESS',
      nodes: [{ ModifiedNode: { LedgerEntryType: entryType, LedgerIndex: 'AB'.repeat(32), FinalFields: fields } }],
    }));
  }

  /** Close a ledger with the queued transactions (real hashes); returns it. */
  close(seconds = 4): ClosedLedger {
    const parent = this.ledgers.at(-1) as ClosedLedger;
    const batch = this.pending.splice(0);
    const transactions: AppliedTx[] = [];
    for (const p of batch) {
      const applied = p.build(transactions.length);
      if (applied) transactions.push(applied);
    }
    this.closeTime += seconds;
    const transaction_hash =
      transactions.length === 0
        ? '0'.repeat(64)
        : hashes.hashTxTree(
            transactions.map((t) => {
              const { delivered_amount: _served, ...meta } = t.meta;
              // rippled inserts delivered_amount when it serves the metadata; it is not part of the hashed tree.
              return { ...(decode(t.blob) as object), metaData: meta } as unknown as Transaction & {
                metaData: TransactionMetadata;
              };
            }),
          );
    const account_hash = hashes.hashStateTree(
      [...this.accounts].map(([address, a]) => ({
        LedgerEntryType: 'AccountRoot',
        index: hashes.hashAccountRoot(address),
        Account: address,
        Balance: String(a.balance),
        Flags: 0,
        OwnerCount: a.ownerCount,
        Sequence: a.sequence,
        PreviousTxnID: '0'.repeat(64),
        PreviousTxnLgrSeq: 0,
      })) as never,
    );
    const header = {
      ledger_index: parent.ledger_index + 1,
      total_coins: parent.total_coins,
      parent_hash: parent.ledger_hash,
      transaction_hash,
      account_hash,
      parent_close_time: parent.close_time,
      close_time: this.closeTime,
      close_time_resolution: 10,
      close_flags: 0,
    };
    const ledger: ClosedLedger = { ...header, ledger_hash: hashes.hashLedgerHeader(header as never), transactions };
    this.ledgers.push(ledger);
    this.states.set(ledger.ledger_index, {
      drops: new Map([...this.accounts].map(([address, a]) => [address, a.balance])),
      lines: [...this.lines.values()].map((l) => ({ ...l })),
    });
    return ledger;
  }

  /**
   * An account's XRP (drops) and trust lines as of a closed ledger, from its own side (a positive
   * `balance` is what it holds), as account_info / account_lines report them; undefined when the
   * account did not exist then. Ledger 1 (genesis) has no recorded state.
   */
  accountAt(
    index: number,
    address: string,
  ): { drops: bigint; lines: { peer: string; currency: string; balance: string }[] } | undefined {
    const state = this.states.get(index);
    const drops = state?.drops.get(address);
    if (!state || drops === undefined) return undefined;
    const lines = state.lines
      .filter((l) => l.low === address || l.high === address)
      .map((l) => ({
        peer: l.low === address ? l.high : l.low,
        currency: l.currency,
        balance: scaledText(l.low === address ? l.scaled : -l.scaled),
      }));
    return { drops, lines };
  }
}

/** xrpl.js's independent view of what the metadata moved: account → asset → net change (XRP in drops, fee included). */
export function oracleChanges(meta: AppliedTx['meta']): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const { account, balances } of getBalanceChanges(meta as unknown as TransactionMetadata)) {
    const byAsset = new Map<string, string>();
    for (const b of balances) {
      byAsset.set(b.currency === 'XRP' ? 'XRP' : `${b.currency}.${b.issuer}`, b.value);
    }
    out.set(account, byAsset);
  }
  return out;
}
