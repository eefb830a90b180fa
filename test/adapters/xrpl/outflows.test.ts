import { describe, expect, it } from 'vitest';
import { transfersOfTx, UNSEEN_DESTINATION, type XrplTx } from '../../../functions/adapters/xrpl/outflows.ts';

/** Outflow rules on hand-written metadata, for what the stand-in does not build. */
const HOT = 'rEb8TK3gBgk5auZkwc6sHnwrGVJH8DuaLh';
const OTHER = 'rvYAfWj5gh67oV6fW32ZzP3Aw4Eubs59B';
const ledger = { number: 5, hash: 'AA'.repeat(32), parentHash: 'BB'.repeat(32), time: 1 };
const wallets = { chain: 'xrpl', hot: new Set([HOT]), decimals: new Map<string, number>() };

function tx(partial: Partial<XrplTx>): XrplTx {
  return {
    hash: 'CC'.repeat(32),
    type: 'PaymentChannelFund',
    account: HOT,
    fee: 10n,
    destination: undefined,
    result: 'tesSUCCESS',
    nodes: [],
    ...partial,
  };
}

describe('XRPL outflow rules', () => {
  it('XRP that no account received, in a transaction without Destination, goes to "unseen" and is counted', () => {
    const transfers = transfersOfTx(
      tx({
        nodes: [
          {
            change: 'Modified',
            entryType: 'AccountRoot',
            fields: { Account: HOT, Balance: '890' },
            previous: { Balance: '1000' },
          },
          {
            change: 'Modified',
            entryType: 'PayChannel',
            fields: { Account: HOT, Destination: OTHER, Amount: '100' },
            previous: { Amount: '0' },
          },
        ],
      }),
      ledger,
      wallets,
    );
    expect(transfers).toEqual([
      expect.objectContaining({ from: HOT, to: UNSEEN_DESTINATION, amount: 100n, fee: 10n, index: 0 }),
    ]);
  });

  it('a hot wallet on the high side of a trust line holds the negated Balance', () => {
    const line = (value: string) => ({
      Balance: { currency: 'USD', issuer: 'rrrrrrrrrrrrrrrrrrrrBZbvji', value },
      LowLimit: { currency: 'USD', issuer: OTHER, value: '0' },
      HighLimit: { currency: 'USD', issuer: HOT, value: '1000' },
    });
    // Balance −5 → −2: the high side (hot) held 5, now 2: 3 USD left, to the issuer (a redemption).
    const transfers = transfersOfTx(
      tx({
        type: 'Payment',
        destination: OTHER,
        nodes: [{ change: 'Modified', entryType: 'RippleState', fields: line('-2'), previous: line('-5') }],
      }),
      ledger,
      { ...wallets, decimals: new Map([[`USD.${OTHER}`, 2]]) },
    );
    expect(transfers).toEqual([expect.objectContaining({ contract: `USD.${OTHER}`, to: OTHER, amount: 300n })]);
  });
});
