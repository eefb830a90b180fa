import { describe, expect, it } from 'vitest';
import { hashes, type Transaction, type TransactionMetadata } from 'xrpl';
import { ledgerRef, parseTransaction } from '../../../functions/adapters/xrpl/ledger-shapes.ts';
import { transfersOfTx, UNKNOWN_IOU_DECIMALS } from '../../../functions/adapters/xrpl/outflows.ts';
import ledger7501326 from '../../fixtures/xrpl/ledgerFull7501326.json' with { type: 'json' };
import multipath from '../../fixtures/xrpl/paymentTokenMultipath.json' with { type: 'json' };
import redeem from '../../fixtures/xrpl/paymentTokenRedeem.json' with { type: 'json' };
import type { AppliedTx, ClosedLedger } from '../../support/xrpl/ledger-engine.ts';
import { oracleLosses, transferLosses } from './helpers.ts';

/**
 * Saved mainnet data (test/fixtures/xrpl/README.md) through the reader's parser and outflow rules,
 * with every account treated as a hot wallet: what each account lost, per asset, must be what
 * xrpl.js's getBalanceChanges says it lost (fees added back).
 */

type V1Tx = Record<string, unknown> & { hash: string; metaData?: unknown; meta?: unknown };

/** API v1 → v2: transaction fields under tx_json, metaData as meta (no field changed). */
function asV2(tx: V1Tx): AppliedTx {
  const {
    hash,
    metaData,
    meta,
    date: _date,
    inLedger: _in,
    ledger_index: _li,
    status: _s,
    validated: _v,
    ...fields
  } = tx;
  return { hash, tx_json: fields, meta: (metaData ?? meta) as AppliedTx['meta'], blob: '' };
}

function everyAccount(txs: readonly AppliedTx[]): Set<string> {
  const accounts = new Set<string>();
  for (const t of txs) {
    const text = JSON.stringify(t.meta);
    for (const m of text.matchAll(/"(r[1-9A-HJ-NP-Za-km-z]{24,34})"/g)) accounts.add(m[1] as string);
  }
  accounts.delete('rrrrrrrrrrrrrrrrrrrrBZbvji');
  return accounts;
}

function checkAgainstOracle(txs: AppliedTx[], ledgerIndex: number) {
  const hot = everyAccount(txs);
  const wallets = { chain: 'xrpl', hot, decimals: new Map<string, number>() };
  const ref = { number: ledgerIndex, hash: 'AA'.repeat(32), parentHash: 'BB'.repeat(32), time: 0 };
  const transfers = txs.flatMap((t) => transfersOfTx(parseTransaction(t, ledgerIndex), ref, wallets));
  const closed = [{ transactions: txs }] as unknown as ClosedLedger[];
  expect(transferLosses(transfers)).toEqual(oracleLosses(closed, hot, () => UNKNOWN_IOU_DECIMALS));
  return transfers;
}

describe('saved mainnet ledger 7,501,326', () => {
  const ledger = ledger7501326 as unknown as Record<string, unknown> & { transactions: V1Tx[] };

  it('is untouched: its transactions and metadata hash to its transaction_hash, its header to its ledger_hash', () => {
    expect(
      hashes.hashTxTree(ledger.transactions as unknown as (Transaction & { metaData: TransactionMetadata })[]),
    ).toBe(ledger.transaction_hash);
    // The saved answer predates parent_close_time and close_flags in answers; with the parent's close
    // time equal to its own (both rounded to the 10 s resolution) and no flags, the header hashes to ledger_hash.
    const header = { ...ledger, parent_close_time: ledger.close_time, close_flags: 0 };
    expect(hashes.hashLedgerHeader(header as never)).toBe(ledger.ledger_hash);
  });

  it('parses the header (Ripple-epoch close time) and every transaction; outflows agree with getBalanceChanges', () => {
    const ref = ledgerRef(
      { validated: true, ledger: { ...ledger, ledger_index: Number(ledger.ledger_index) } },
      7_501_326,
    );
    expect(ref).toEqual({
      number: 7_501_326,
      hash: 'E212F3EA7454A298BC0D0BCD79CE37EE08068976216AB94C71E9DDDFE45C81A4',
      parentHash: '664D5B5110E1E9880B4FACD3BDA0996C502E0ABC71C87312900EB57E0E7A2413',
      time: Date.parse('2014-07-01T08:03:50Z') / 1000,
    });
    const transfers = checkAgainstOracle(ledger.transactions.map(asV2), 7_501_326);
    expect(transfers.length).toBeGreaterThan(0);
    expect(transfers.some((t) => t.contract !== null)).toBe(true);
  });
});

describe('saved mainnet tx answers', () => {
  for (const [name, fixture] of [
    ['multipath IOU payment', multipath],
    ['IOU redeemed to its issuer', redeem],
  ] as const) {
    it(`${name}: untouched, and its outflows agree with getBalanceChanges`, () => {
      const tx = fixture.result as unknown as V1Tx;
      const v2 = asV2(tx);
      expect(hashes.hashSignedTx(v2.tx_json as unknown as Transaction)).toBe(tx.hash);
      const transfers = checkAgainstOracle([v2], tx.ledger_index as number);
      expect(transfers.length).toBeGreaterThan(0);
    });
  }
});
