import type { BlockRef, ChainTransfer } from '../../core/model.ts';

/**
 * What a Solana transaction took out of the hot wallets, from the balances the chain recorded
 * before and after it (its metadata), not from its instructions:
 *  - SOL: for each hot wallet among the account keys, post − pre balance, with the fee added back
 *    for the fee payer (key 0): the fee is recorded on the transfer, never counted as a loss;
 *  - SPL Token and Token-2022: the token balances summed by **owner** and mint, before and after, so
 *    a debit signed by a delegate, a transfer made by a program (CPI), a `transferChecked` and a
 *    token account closed or handed to a new owner all show as the owner's balance going down;
 *  - a failed transaction moved nothing but its fee: it yields no transfer.
 * Instructions (top level and inner) only name where a loss went: each System or Token transfer leg
 * out of a hot wallet (or its token account) takes its amount, in trace order, up to what the wallet
 * lost in that asset; whatever no leg explains is still counted, as one transfer to `unattributed`.
 * So the total per wallet and asset is exactly the balance drop, whatever the instructions were.
 *
 * `index`, unique in the transaction and the same on every read:
 *  - a leg: 1000 × its top-level instruction + (0 for the instruction itself, 1 + its position among
 *    that instruction's inner instructions);
 *  - an unexplained rest: −(1 + the account index) of the wallet (SOL) or of its first token account
 *    of that mint.
 */

export interface SolTokenBalance {
  accountIndex: number;
  mint: string;
  /** The token account's owner; absent in transactions older than the field (2021). */
  owner: string | undefined;
  /** Base units. */
  amount: bigint;
}

export interface SolInstruction {
  programIdIndex: number;
  accounts: number[];
  data: Uint8Array;
}

/** A transaction as the reader normalises `getTransaction` (encoding `json`). */
export interface SolTx {
  signature: string;
  slot: number;
  failed: boolean;
  /** Lamports, charged to account key 0 (the fee payer) even when the transaction failed. */
  fee: bigint;
  /** Static keys, then loaded writable, then loaded read-only (address lookup tables). */
  accountKeys: string[];
  preBalances: bigint[];
  postBalances: bigint[];
  preTokenBalances: SolTokenBalance[];
  postTokenBalances: SolTokenBalance[];
  instructions: SolInstruction[];
  innerInstructions: { index: number; instructions: SolInstruction[] }[];
}

export const SYSTEM_PROGRAM = '11111111111111111111111111111111';
export const TOKEN_PROGRAM = 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA';
export const TOKEN_2022_PROGRAM = 'TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb';

/** Where a loss no instruction explains is recorded as going. */
export const UNATTRIBUTED = 'unattributed';

interface Loss {
  owner: string;
  contract: string | null;
  amount: bigint;
  restIndex: number;
}

interface Leg {
  index: number;
  from: string;
  contract: string | null;
  to: string;
  amount: bigint;
}

export function transfersOfTx(tx: SolTx, block: BlockRef, chain: string, hot: ReadonlySet<string>): ChainTransfer[] {
  if (tx.failed) return [];
  const losses = lossesOf(tx, hot);
  if (losses.length === 0) return [];
  const legs = legsOf(tx, hot);
  const transfers: ChainTransfer[] = [];
  const emit = (loss: Loss, index: number, to: string, amount: bigint) =>
    transfers.push({
      chain,
      block: block.number,
      blockHash: block.hash,
      blockTime: block.time,
      txHash: tx.signature,
      index,
      contract: loss.contract,
      from: loss.owner,
      to,
      amount,
    });
  for (const loss of losses) {
    let budget = loss.amount;
    for (const leg of legs) {
      if (budget === 0n) break;
      if (leg.from !== loss.owner || leg.contract !== loss.contract || leg.amount === 0n) continue;
      // biome-ignore lint/complexity/useMathMinMax: bigints; Math.min takes numbers
      const amount = leg.amount < budget ? leg.amount : budget;
      budget -= amount;
      emit(loss, leg.index, leg.to, amount);
    }
    if (budget > 0n) emit(loss, loss.restIndex, UNATTRIBUTED, budget);
  }
  const payer = tx.accountKeys[0];
  const paid = transfers.find((t) => t.from === payer);
  if (paid) paid.fee = tx.fee;
  return transfers;
}

/** Each hot wallet's drop per asset: SOL first (by account index), then tokens (by first token account). */
function lossesOf(tx: SolTx, hot: ReadonlySet<string>): Loss[] {
  const losses: Loss[] = [];
  tx.accountKeys.forEach((key, i) => {
    if (!hot.has(key)) return;
    const pre = tx.preBalances[i];
    const post = tx.postBalances[i];
    if (pre === undefined || post === undefined) {
      throw new TypeError(`${tx.signature}: no pre/post balance for account ${i} (${key})`);
    }
    const delta = post - pre + (i === 0 ? tx.fee : 0n);
    if (delta < 0n) losses.push({ owner: key, contract: null, amount: -delta, restIndex: -(1 + i) });
  });

  const byOwnerMint = new Map<string, { owner: string; mint: string; pre: bigint; post: bigint; first: number }>();
  const add = (b: SolTokenBalance, side: 'pre' | 'post') => {
    if (b.owner === undefined || !hot.has(b.owner)) return;
    const key = `${b.owner} ${b.mint}`;
    const entry = byOwnerMint.get(key) ?? { owner: b.owner, mint: b.mint, pre: 0n, post: 0n, first: b.accountIndex };
    entry[side] += b.amount;
    entry.first = Math.min(entry.first, b.accountIndex);
    byOwnerMint.set(key, entry);
  };
  for (const b of tx.preTokenBalances) add(b, 'pre');
  for (const b of tx.postTokenBalances) add(b, 'post');
  for (const e of byOwnerMint.values()) {
    if (e.post < e.pre)
      losses.push({ owner: e.owner, contract: e.mint, amount: e.pre - e.post, restIndex: -(1 + e.first) });
  }
  return losses;
}

/** System and Token transfer legs out of a hot wallet or a hot-owned token account, in trace order. */
function legsOf(tx: SolTx, hot: ReadonlySet<string>): Leg[] {
  const tokenOwner = (balances: SolTokenBalance[], accountIndex: number | undefined) =>
    balances.find((b) => b.accountIndex === accountIndex);
  const key = (accountIndex: number | undefined) =>
    accountIndex === undefined ? undefined : tx.accountKeys[accountIndex];
  const legs: Leg[] = [];
  const visit = (ix: SolInstruction, index: number) => {
    const program = key(ix.programIdIndex);
    if (program === SYSTEM_PROGRAM) {
      const sol = systemLeg(ix.data);
      const from = key(ix.accounts[0]);
      const to = key(ix.accounts[sol?.toPosition ?? 1]);
      if (sol && from && to && hot.has(from)) legs.push({ index, from, contract: null, to, amount: sol.lamports });
    } else if (program === TOKEN_PROGRAM || program === TOKEN_2022_PROGRAM) {
      const token = tokenLeg(ix.data);
      if (!token) return;
      const source = tokenOwner(tx.preTokenBalances, ix.accounts[0]);
      if (!source?.owner || !hot.has(source.owner)) return;
      const destination =
        token.toPosition === undefined
          ? undefined
          : (tokenOwner(tx.postTokenBalances, ix.accounts[token.toPosition]) ??
            tokenOwner(tx.preTokenBalances, ix.accounts[token.toPosition]));
      const to =
        token.toPosition === undefined
          ? source.mint // a burn: the tokens went back to their mint, destroyed
          : (destination?.owner ?? key(ix.accounts[token.toPosition]) ?? UNATTRIBUTED);
      legs.push({ index, from: source.owner, contract: source.mint, to, amount: token.amount });
    }
  };
  tx.instructions.forEach((ix, i) => {
    visit(ix, 1000 * i);
    const inner = tx.innerInstructions.find((x) => x.index === i)?.instructions ?? [];
    inner.forEach((innerIx, j) => {
      visit(innerIx, 1000 * i + j + 1);
    });
  });
  return legs;
}

/** System program: Transfer (2), CreateAccount (0), TransferWithSeed (11), CreateAccountWithSeed (3). */
function systemLeg(data: Uint8Array): { lamports: bigint; toPosition: number } | undefined {
  const tag = u32(data, 0);
  if (tag === 0 || tag === 2) return at(u64(data, 4), 1);
  if (tag === 11) return at(u64(data, 4), 2);
  if (tag === 3) {
    // base (32 bytes), seed (u64 length + bytes), then lamports
    const seedLength = u64(data, 36);
    return seedLength === undefined || seedLength > 1024n ? undefined : at(u64(data, 44 + Number(seedLength)), 1);
  }
  return undefined;
}

/**
 * Token program (and Token-2022, same layout): Transfer (3), TransferChecked (12), Burn (8), BurnChecked
 * (15), and Token-2022's TransferCheckedWithFee (26, 1). `toPosition` undefined: a burn.
 */
function tokenLeg(data: Uint8Array): { amount: bigint; toPosition: number | undefined } | undefined {
  const tag = data[0];
  const amount = (offset: number) => u64(data, offset);
  const leg = (a: bigint | undefined, toPosition: number | undefined) =>
    a === undefined ? undefined : { amount: a, toPosition };
  if (tag === 3) return leg(amount(1), 1);
  if (tag === 12) return leg(amount(1), 2);
  if (tag === 8 || tag === 15) return leg(amount(1), undefined);
  if (tag === 26 && data[1] === 1) return leg(amount(2), 2);
  return undefined;
}

function at(lamports: bigint | undefined, toPosition: number) {
  return lamports === undefined ? undefined : { lamports, toPosition };
}

function u32(data: Uint8Array, offset: number): number | undefined {
  if (data.length < offset + 4) return undefined;
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(offset, true);
}

function u64(data: Uint8Array, offset: number): bigint | undefined {
  if (data.length < offset + 8) return undefined;
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getBigUint64(offset, true);
}
