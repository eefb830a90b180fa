import { base58Decode, base58Problem } from '../encoding/base58.ts';
import type { SolInstruction, SolTokenBalance, SolTx } from './solana-outflows.ts';

/**
 * The Solana JSON-RPC answers the reader uses, checked and normalised. Each `parse…` throws
 * ShapeError naming the field that is wrong; the reader's calls run them as `check`, so a malformed
 * answer fails that endpoint with the reason (and the call moves to the next endpoint), never a
 * silent skip or a guessed value. Amounts arrive as JSON numbers up to 2^64: the client parses them
 * losslessly (bigint beyond 2^53) and `lamports` takes either form.
 */

export class ShapeError extends Error {
  override name = 'ShapeError';
}

/** A `check` for the JSON-RPC client: the parser's complaint, or undefined when it parses. */
export function checkWith(parse: (value: unknown) => unknown): (value: unknown) => string | undefined {
  return (value) => {
    try {
      parse(value);
      return undefined;
    } catch (e) {
      if (e instanceof ShapeError) return e.message;
      throw e;
    }
  };
}

export interface SolBlockHeader {
  slot: number;
  blockhash: string;
  previousBlockhash: string;
  parentSlot: number;
  /** Unix seconds; 0 where the node has no estimate (very old blocks). */
  blockTime: number;
}

export interface SolSignature {
  signature: string;
  slot: number;
  failed: boolean;
}

export function parseSlot(value: unknown, what = 'slot'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ShapeError(`${what} is not a slot number (${show(value)})`);
  }
  return value;
}

export function parseSlots(value: unknown): number[] {
  const slots = array(value, 'getBlocks result').map((s, i) => parseSlot(s, `getBlocks[${i}]`));
  for (let i = 1; i < slots.length; i++) {
    if ((slots[i] as number) <= (slots[i - 1] as number)) throw new ShapeError('getBlocks slots are not ascending');
  }
  return slots;
}

export function parseHash(value: unknown, what: string): string {
  if (typeof value !== 'string' || base58Problem(value, 32, 'hash') !== undefined) {
    throw new ShapeError(`${what} is not a base58 32-byte hash (${show(value)})`);
  }
  return value;
}

export function parseBlockHeader(value: unknown, slot: number): SolBlockHeader {
  const b = object(value, `block ${slot}`);
  const time = b.blockTime === null ? 0 : parseSlot(b.blockTime, `block ${slot} blockTime`);
  return {
    slot,
    blockhash: parseHash(b.blockhash, `block ${slot} blockhash`),
    previousBlockhash: parseHash(b.previousBlockhash, `block ${slot} previousBlockhash`),
    parentSlot: parseSlot(b.parentSlot, `block ${slot} parentSlot`),
    blockTime: time,
  };
}

export function parseSignatures(value: unknown, address: string): SolSignature[] {
  return array(value, `signatures of ${address}`).map((entry, i) => {
    const e = object(entry, `signatures of ${address}[${i}]`);
    if (typeof e.signature !== 'string' || base58Problem(e.signature, 64, 'signature') !== undefined) {
      throw new ShapeError(`signatures of ${address}[${i}].signature is not a base58 signature (${show(e.signature)})`);
    }
    if (!('err' in e)) throw new ShapeError(`signatures of ${address}[${i}] has no err field`);
    return {
      signature: e.signature,
      slot: parseSlot(e.slot, `signatures of ${address}[${i}].slot`),
      failed: e.err !== null,
    };
  });
}

export function parseTransaction(value: unknown, signature: string): SolTx {
  const what = `transaction ${signature}`;
  const t = object(value, what);
  const meta = object(t.meta, `${what} meta`);
  const transaction = object(t.transaction, `${what} transaction`);
  const signatures = array(transaction.signatures, `${what} signatures`);
  if (signatures[0] !== signature) throw new ShapeError(`${what}: the answer is transaction ${show(signatures[0])}`);
  const message = object(transaction.message, `${what} message`);
  const loaded = meta.loadedAddresses === undefined ? {} : object(meta.loadedAddresses, `${what} loadedAddresses`);
  const keys = [
    ...array(message.accountKeys, `${what} accountKeys`),
    ...(loaded.writable === undefined ? [] : array(loaded.writable, `${what} loadedAddresses.writable`)),
    ...(loaded.readonly === undefined ? [] : array(loaded.readonly, `${what} loadedAddresses.readonly`)),
  ].map((k, i) => {
    if (typeof k !== 'string' || base58Problem(k, 32, 'key') !== undefined) {
      throw new ShapeError(`${what} account key ${i} is not an address (${show(k)})`);
    }
    return k;
  });
  const balances = (v: unknown, field: string) => {
    const list = array(v, `${what} ${field}`).map((x, i) => lamports(x, `${what} ${field}[${i}]`));
    if (list.length !== keys.length) {
      throw new ShapeError(`${what} ${field} has ${list.length} entries for ${keys.length} account keys`);
    }
    return list;
  };
  const tokenBalances = (v: unknown, field: string): SolTokenBalance[] =>
    (v === null || v === undefined ? [] : array(v, `${what} ${field}`)).map((x, i) =>
      tokenBalance(x, `${what} ${field}[${i}]`, keys.length),
    );
  const instructions = (v: unknown, field: string) =>
    array(v, `${what} ${field}`).map((x, i) => instruction(x, `${what} ${field}[${i}]`, keys.length));
  const inner = meta.innerInstructions === null || meta.innerInstructions === undefined ? [] : meta.innerInstructions;
  return {
    signature,
    slot: parseSlot(t.slot, `${what} slot`),
    failed: meta.err !== null,
    fee: lamports(meta.fee, `${what} fee`),
    accountKeys: keys,
    preBalances: balances(meta.preBalances, 'preBalances'),
    postBalances: balances(meta.postBalances, 'postBalances'),
    preTokenBalances: tokenBalances(meta.preTokenBalances, 'preTokenBalances'),
    postTokenBalances: tokenBalances(meta.postTokenBalances, 'postTokenBalances'),
    instructions: instructions(message.instructions, 'instructions'),
    innerInstructions: array(inner, `${what} innerInstructions`).map((x, i) => {
      const entry = object(x, `${what} innerInstructions[${i}]`);
      return {
        index: parseSlot(entry.index, `${what} innerInstructions[${i}].index`),
        instructions: instructions(entry.instructions, `innerInstructions[${i}].instructions`),
      };
    }),
  };
}

function tokenBalance(value: unknown, what: string, keyCount: number): SolTokenBalance {
  const b = object(value, what);
  const ui = object(b.uiTokenAmount, `${what}.uiTokenAmount`);
  if (typeof ui.amount !== 'string' || !/^\d{1,20}$/.test(ui.amount)) {
    throw new ShapeError(`${what}.uiTokenAmount.amount is not base units as digits (${show(ui.amount)})`);
  }
  const owner = b.owner === undefined || b.owner === null ? undefined : parseHash(b.owner, `${what}.owner`);
  return {
    accountIndex: index(b.accountIndex, `${what}.accountIndex`, keyCount),
    mint: parseHash(b.mint, `${what}.mint`),
    owner,
    amount: BigInt(ui.amount),
  };
}

/** `getBalance`'s `{ context: { slot }, value: lamports }`, answered at `slot` or later. */
export function parseBalance(value: unknown, address: string, slot: number): bigint {
  const what = `getBalance ${address}`;
  const answer = object(value, what);
  contextAtLeast(answer, slot, what);
  return lamports(answer.value, `${what} value`);
}

/**
 * `getTokenAccountsByOwner(owner, { mint }, jsonParsed)`: the base units the owner's accounts of the
 * mint hold, summed; every account must say that owner and that mint.
 */
export function parseTokenAccounts(value: unknown, owner: string, mint: string, slot: number): bigint {
  const what = `getTokenAccountsByOwner ${owner} ${mint}`;
  const answer = object(value, what);
  contextAtLeast(answer, slot, what);
  let sum = 0n;
  array(answer.value, `${what} value`).forEach((entry, i) => {
    const at = `${what} value[${i}]`;
    const data = object(object(object(entry, at).account, `${at}.account`).data, `${at}.account.data`);
    const info = object(object(data.parsed, `${at}.account.data.parsed`).info, `${at}.account.data.parsed.info`);
    if (info.owner !== owner || info.mint !== mint)
      throw new ShapeError(`${at} is an account of ${show(info.owner)} for mint ${show(info.mint)}`);
    const amount = object(info.tokenAmount, `${at} tokenAmount`).amount;
    if (typeof amount !== 'string' || !/^\d{1,20}$/.test(amount))
      throw new ShapeError(`${at} tokenAmount.amount is not base units as digits (${show(amount)})`);
    sum += BigInt(amount);
  });
  return sum;
}

function contextAtLeast(answer: Record<string, unknown>, slot: number, what: string): void {
  const context = parseSlot(object(answer.context, `${what} context`).slot, `${what} context.slot`);
  if (context < slot) throw new ShapeError(`${what} answered at slot ${context}, before slot ${slot}`);
}

function instruction(value: unknown, what: string, keyCount: number): SolInstruction {
  const ix = object(value, what);
  if (typeof ix.data !== 'string') throw new ShapeError(`${what}.data is not base58 text`);
  const data = base58Decode(ix.data);
  if (!data) throw new ShapeError(`${what}.data is not base58 (${show(ix.data)})`);
  return {
    programIdIndex: index(ix.programIdIndex, `${what}.programIdIndex`, keyCount),
    accounts: array(ix.accounts, `${what}.accounts`).map((a, i) => index(a, `${what}.accounts[${i}]`, keyCount)),
    data,
  };
}

function index(value: unknown, what: string, keyCount: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= keyCount) {
    throw new ShapeError(`${what} is not an account index below ${keyCount} (${show(value)})`);
  }
  return value;
}

function lamports(value: unknown, what: string): bigint {
  if (typeof value === 'bigint' && value >= 0n && value < 2n ** 64n) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  throw new ShapeError(`${what} is not a lamport amount (${show(value)})`);
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ShapeError(`${what} is not an object`);
  return value as Record<string, unknown>;
}

function array(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new ShapeError(`${what} is not an array`);
  return value;
}

function show(value: unknown): string {
  const text = typeof value === 'bigint' ? String(value) : JSON.stringify(value);
  return text === undefined ? 'undefined' : text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
