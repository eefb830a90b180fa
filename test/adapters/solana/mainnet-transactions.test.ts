import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLosslessJson } from '../../../functions/adapters/lossless-json.ts';
import { transfersOfTx } from '../../../functions/adapters/solana/solana-outflows.ts';
import { parseTransaction } from '../../../functions/adapters/solana/solana-rpc-shapes.ts';
import type { ChainTransfer } from '../../../functions/core/model.ts';

/** The reader's parser and outflow rules on saved mainnet responses (test/fixtures/solana/README.md). */

function load(slot: number) {
  const text = readFileSync(new URL(`../../fixtures/solana/getTransaction-${slot}.json`, import.meta.url), 'utf8');
  const envelope = parseLosslessJson(text) as { result: { transaction: { signatures: string[] } } };
  return parseTransaction(envelope.result, envelope.result.transaction.signatures[0]!);
}

function outflows(slot: number, hot: string[]) {
  const tx = load(slot);
  const block = { number: tx.slot, hash: 'h', parentHash: 'p', time: 0 };
  return transfersOfTx(tx, block, 'sol', new Set(hot)).map((t: ChainTransfer) => [
    t.from,
    t.to,
    t.contract,
    t.amount,
    t.index,
    t.fee,
  ]);
}

describe('Solana mainnet transactions', () => {
  it('PumpSwap sell: the seller’s Token-2022 debit, moved by two CPI transferChecked legs, counts in full', () => {
    const seller = '95rVs91daKmzom4SM41dg4MRmy5M7rMEHPerenZwWaCq';
    const mint = 'EWV6bjhKF5zkXANCdWPvDs7dofRVk4pKyVTitqgEWj8E';
    // 944,780,237,596,635 − 475,845,960,900,177 base units left the seller's token account.
    expect(outflows(376243586, [seller])).toEqual([
      [seller, 'CW644FAJoQE9B9MGqmdfDseS4XfsmgS77ve7zJDJxiPS', mint, 468_700_510_855_632n, 1003, 5000n],
      [seller, 'JCRGumoE9Qi5BBgULTgdgTLjSgkCMSbF62ZZfGs84JeU', mint, 233_765_840_826n, 1004, undefined],
    ]);
  });

  it('PumpSwap sell, seen from the pool: its wrapped SOL paid out to a token account closed in the same transaction', () => {
    const pool = 'CW644FAJoQE9B9MGqmdfDseS4XfsmgS77ve7zJDJxiPS';
    expect(outflows(376243586, [pool])).toEqual([
      [
        pool,
        'CK1VokWFPPd2K4u3Jah4EPpjoADkyWXasy5gdHH7CZR4',
        'So11111111111111111111111111111111111111112',
        201_692_493n,
        1002,
        undefined,
      ],
    ]);
  });

  it('v0 with a lookup table: loaded keys resolved in order; createAccount, transfer and CPI legs sum to the SOL drop', () => {
    const payer = 'G2341KGbNxuSAfCfqNuPhfLQtPB94hPfgyVPC89Faor4';
    const tx = load(376396640);
    expect(tx.accountKeys).toHaveLength(11 + 8 + 11);
    const legs = outflows(376396640, [payer]);
    expect(legs.map(([, , , amount, index]) => [amount, index])).toEqual([
      [2_039_280n, 2000],
      [3_651_694n, 4000],
      [231_305n, 6002],
    ]);
    // Pre − post − fee of the payer, from the raw numbers: 5,959,630 − 37,351.
    expect(legs.reduce((sum, l) => sum + (l[3] as bigint), 0n)).toBe(5_959_630n - 37_351n);
  });

  it('a top-level transfer with a priority fee: the amount counted, the fee recorded apart', () => {
    const payer = '98QXkwe6DThTsTq7tukKF4g9Wc6WnRbZyTBZ1iBupY39';
    expect(outflows(376411673, [payer])).toEqual([[payer, expect.any(String), null, 300_000_000n, 2000, 6500n]]);
  });

  it('a wallet the transaction does not debit yields nothing', () => {
    expect(outflows(376411673, ['JCRGumoE9Qi5BBgULTgdgTLjSgkCMSbF62ZZfGs84JeU'])).toEqual([]);
  });
});
