import { describe, expect, it } from 'vitest';
import { base58Encode } from '../../../functions/adapters/encoding/base58.ts';
import {
  type SolInstruction,
  type SolTokenBalance,
  type SolTx,
  SYSTEM_PROGRAM,
  TOKEN_PROGRAM,
  transfersOfTx,
  UNATTRIBUTED,
} from '../../../functions/adapters/solana/solana-outflows.ts';
import type { BlockRef } from '../../../functions/core/model.ts';

/**
 * The balance-change rules on hand-made transactions, for the cases the stand-in cannot produce on
 * its own (a program that moves SOL without a System leg, a token account handed to a new owner,
 * legs that overshoot what the wallet lost).
 */

const key = (n: number) => base58Encode(Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? n : 7)));
const HOT = key(1);
const HOT2 = key(2);
const OTHER = key(3);
const PROGRAM = key(4);
const MINT = key(5);
const HOT_TOKEN = key(6);
const OTHER_TOKEN = key(7);
const BLOCK: BlockRef = { number: 100, hash: key(9), parentHash: key(8), time: 1_700_000_000 };

function u64(n: bigint): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n, true);
  return [...b];
}
const systemTransfer = (programIdIndex: number, from: number, to: number, lamports: bigint): SolInstruction => ({
  programIdIndex,
  accounts: [from, to],
  data: Uint8Array.from([2, 0, 0, 0, ...u64(lamports)]),
});
const tokenTransfer = (programIdIndex: number, from: number, to: number, amount: bigint): SolInstruction => ({
  programIdIndex,
  accounts: [from, to, 0],
  data: Uint8Array.from([3, ...u64(amount)]),
});
const balance = (accountIndex: number, owner: string, amount: bigint): SolTokenBalance => ({
  accountIndex,
  mint: MINT,
  owner,
  amount,
});

function tx(t: Partial<SolTx> & Pick<SolTx, 'accountKeys' | 'preBalances' | 'postBalances'>): SolTx {
  return {
    signature: 'sig',
    slot: 100,
    failed: false,
    fee: 5000n,
    preTokenBalances: [],
    postTokenBalances: [],
    instructions: [],
    innerInstructions: [],
    ...t,
  };
}

const read = (t: SolTx, hot = [HOT, HOT2]) =>
  transfersOfTx(t, BLOCK, 'sol', new Set(hot)).map((x) => ({
    from: x.from,
    to: x.to,
    amount: x.amount,
    index: x.index,
    contract: x.contract,
    fee: x.fee,
  }));

describe('Solana outflows from balance changes', () => {
  it('a SOL drop no instruction explains (a program debiting the wallet) is counted to unattributed', () => {
    const t = tx({
      accountKeys: [HOT, OTHER, PROGRAM],
      preBalances: [10_000n, 0n, 1n],
      postBalances: [10_000n - 5000n - 700n, 700n, 1n],
      instructions: [{ programIdIndex: 2, accounts: [0, 1], data: Uint8Array.from([9]) }],
    });
    expect(read(t)).toEqual([{ from: HOT, to: UNATTRIBUTED, amount: 700n, index: -1, contract: null, fee: 5000n }]);
  });

  it('legs beyond what the wallet lost are capped: sent 500 and got 200 back counts 300', () => {
    const t = tx({
      accountKeys: [HOT, OTHER, SYSTEM_PROGRAM],
      preBalances: [10_000n, 1_000n, 1n],
      postBalances: [10_000n - 5000n - 300n, 1_300n, 1n],
      instructions: [systemTransfer(2, 0, 1, 500n), systemTransfer(2, 1, 0, 200n)],
    });
    expect(read(t)).toEqual([{ from: HOT, to: OTHER, amount: 300n, index: 0, contract: null, fee: 5000n }]);
  });

  it('a transfer between two hot wallets is the sender’s loss, named to the other hot wallet (which the core marks own)', () => {
    const t = tx({
      accountKeys: [HOT, HOT2, SYSTEM_PROGRAM],
      preBalances: [10_000n, 0n, 1n],
      postBalances: [4_000n, 1_000n, 1n],
      instructions: [systemTransfer(2, 0, 1, 1_000n)],
    });
    expect(read(t)).toEqual([{ from: HOT, to: HOT2, amount: 1_000n, index: 0, contract: null, fee: 5000n }]);
  });

  it('a failed transaction counts nothing, whatever its instructions say', () => {
    const t = tx({
      failed: true,
      accountKeys: [HOT, OTHER, SYSTEM_PROGRAM],
      preBalances: [10_000n, 0n, 1n],
      postBalances: [5_000n, 0n, 1n],
      instructions: [systemTransfer(2, 0, 1, 4_000n)],
    });
    expect(read(t)).toEqual([]);
  });

  it('a token account handed to another owner (SetAuthority) is a loss of its whole balance', () => {
    const t = tx({
      accountKeys: [HOT, HOT_TOKEN, TOKEN_PROGRAM],
      preBalances: [10_000n, 2_039_280n, 1n],
      postBalances: [5_000n, 2_039_280n, 1n],
      preTokenBalances: [balance(1, HOT, 123_456n)],
      postTokenBalances: [balance(1, OTHER, 123_456n)],
      instructions: [
        { programIdIndex: 2, accounts: [1, 0], data: Uint8Array.from([6, 2, 1, ...new Array(32).fill(3)]) },
      ],
    });
    expect(read(t)).toEqual([{ from: HOT, to: UNATTRIBUTED, amount: 123_456n, index: -2, contract: MINT, fee: 5000n }]);
  });

  it('a token transfer made by a program (CPI) is named from the inner instruction, to the destination account’s owner', () => {
    const t = tx({
      accountKeys: [OTHER, HOT_TOKEN, OTHER_TOKEN, TOKEN_PROGRAM, PROGRAM, HOT],
      preBalances: [10_000n, 1n, 1n, 1n, 1n, 50n],
      postBalances: [5_000n, 1n, 1n, 1n, 1n, 50n],
      preTokenBalances: [balance(1, HOT, 1_000n), balance(2, OTHER, 0n)],
      postTokenBalances: [balance(1, HOT, 400n), balance(2, OTHER, 600n)],
      instructions: [{ programIdIndex: 4, accounts: [1, 2, 5, 3], data: Uint8Array.from([1]) }],
      innerInstructions: [{ index: 0, instructions: [tokenTransfer(3, 1, 2, 600n)] }],
    });
    expect(read(t)).toEqual([{ from: HOT, to: OTHER, amount: 600n, index: 1, contract: MINT, fee: undefined }]);
  });

  it('Token-2022 transferCheckedWithFee: the sender’s whole debit counts (the fee is withheld on the recipient’s account)', () => {
    const t = tx({
      accountKeys: [HOT, HOT_TOKEN, MINT, OTHER_TOKEN, TOKEN_PROGRAM],
      preBalances: [10_000n, 1n, 1n, 1n, 1n],
      postBalances: [5_000n, 1n, 1n, 1n, 1n],
      preTokenBalances: [balance(1, HOT, 1_000n), balance(3, OTHER, 0n)],
      postTokenBalances: [balance(1, HOT, 0n), balance(3, OTHER, 990n)],
      instructions: [
        { programIdIndex: 4, accounts: [1, 2, 3, 0], data: Uint8Array.from([26, 1, ...u64(1_000n), 6, ...u64(10n)]) },
      ],
    });
    expect(read(t)).toEqual([{ from: HOT, to: OTHER, amount: 1_000n, index: 0, contract: MINT, fee: 5000n }]);
  });

  it('indexes are unique within a transaction: legs by trace position, rests by account', () => {
    const t = tx({
      accountKeys: [HOT, OTHER, SYSTEM_PROGRAM, HOT2, HOT_TOKEN, TOKEN_PROGRAM],
      preBalances: [10_000n, 0n, 1n, 9_000n, 1n, 1n],
      postBalances: [10_000n - 5000n - 100n, 300n, 1n, 8_800n, 1n, 1n],
      preTokenBalances: [balance(4, HOT2, 50n)],
      postTokenBalances: [balance(4, HOT2, 0n)],
      instructions: [systemTransfer(2, 0, 1, 100n), systemTransfer(2, 3, 1, 150n)],
    });
    const out = read(t);
    expect(out.map((o) => [o.from, o.contract, o.amount, o.index])).toEqual([
      [HOT, null, 100n, 0],
      [HOT2, null, 150n, 1000],
      [HOT2, null, 50n, -4],
      [HOT2, MINT, 50n, -5],
    ]);
    expect(new Set(out.map((o) => o.index)).size).toBe(out.length);
  });
});
