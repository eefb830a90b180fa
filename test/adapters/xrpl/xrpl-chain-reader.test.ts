import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNKNOWN_IOU_DECIMALS, UNSEEN_DESTINATION } from '../../../functions/adapters/xrpl/outflows.ts';
import { ChainReadError } from '../../../functions/core/errors.ts';
import type { ChainTransfer } from '../../../functions/core/model.ts';
import type { ClosedLedger } from '../../support/xrpl/ledger-engine.ts';
import { oracleLosses, startXrplWorld, transferLosses, USD_DECIMALS, type XrplWorld } from './helpers.ts';

/**
 * The XRPL reader against the ledger stand-in (real xrpl.js signing and hashes, rippled's JSON-RPC
 * wire format). Every test checks the transfers against xrpl.js's getBalanceChanges as well.
 */
describe('XrplChainReader: what counts', () => {
  let w: XrplWorld;
  beforeAll(async () => {
    w = await startXrplWorld();
  });
  afterAll(async () => {
    await w.stop();
  });

  /** Close one ledger with what `queue` adds, read it, and check the reader against the oracle. */
  async function readOne(
    queue: () => void,
    extra: { hotWallets?: string[]; tokens?: [] } = {},
  ): Promise<{ ledger: ClosedLedger; transfers: ChainTransfer[] }> {
    queue();
    const ledger = w.engine.close();
    const reader = w.reader(extra);
    const read = await reader.readRange(ledger.ledger_index, ledger.ledger_index);
    expect(read.blocks).toEqual([
      {
        number: ledger.ledger_index,
        hash: ledger.ledger_hash,
        parentHash: ledger.parent_hash,
        time: ledger.close_time + 946_684_800,
      },
    ]);
    const hot = new Set(extra.hotWallets ?? [w.hot.classicAddress]);
    const oracle = oracleLosses([ledger], hot, () => (extra.tokens ? UNKNOWN_IOU_DECIMALS : USD_DECIMALS));
    expect(transferLosses(read.transfers)).toEqual(oracle);
    return { ledger, transfers: read.transfers };
  }

  it('an XRP payment: the amount in drops, the fee recorded apart, never counted', async () => {
    let hash = '';
    const { transfers } = await readOne(() => {
      hash = w.engine.payXrp(w.hot, w.customer.classicAddress, 5_000_000n);
    });
    expect(transfers).toEqual([
      expect.objectContaining({
        txHash: hash,
        index: 0,
        contract: null,
        from: w.hot.classicAddress,
        to: w.customer.classicAddress,
        amount: 5_000_000n,
        fee: 12n,
      }),
    ]);
  });

  it('a tec failure is in the ledger but moves only the fee: nothing counted', async () => {
    const { ledger, transfers } = await readOne(() => {
      w.engine.payXrp(w.hot, w.customer.classicAddress, 9_000_000n, { result: 'tecNO_DST_INSUF_XRP' });
    });
    expect(ledger.transactions[0]?.meta.TransactionResult).toBe('tecNO_DST_INSUF_XRP');
    expect(transfers).toEqual([]);
  });

  it('a partial payment counts what left the hot wallet, not Amount', async () => {
    const { ledger, transfers } = await readOne(() => {
      w.engine.payIou(w.hot, w.customer.classicAddress, 'USD', w.issuer.classicAddress, '1000000', { deliver: '3.5' });
    });
    expect(ledger.transactions[0]?.tx_json.Amount).toMatchObject({ value: '1000000' });
    expect(transfers).toEqual([
      expect.objectContaining({ contract: w.usd, to: w.customer.classicAddress, amount: 3_500_000n }),
    ]);
  });

  it('AccountDelete: the whole balance leaves, without an Amount field', async () => {
    const doomed = w.engine.fund(30_000_000n);
    const { ledger, transfers } = await readOne(
      () => {
        w.engine.accountDelete(doomed, w.customer.classicAddress);
      },
      { hotWallets: [w.hot.classicAddress, doomed.classicAddress] },
    );
    expect(ledger.transactions[0]?.tx_json.Amount).toBeUndefined();
    // 30 XRP minus the 0.2 XRP fee reach the destination; the fee is recorded, not counted.
    expect(transfers).toEqual([
      expect.objectContaining({
        from: doomed.classicAddress,
        to: w.customer.classicAddress,
        amount: 29_800_000n,
        fee: 200_000n,
      }),
    ]);
  });

  it('CheckCash sent by the payee: the hot wallet loses XRP in a transaction it did not send', async () => {
    const { transfers } = await readOne(() => {
      w.engine.checkCash(w.hot, w.customer, 7_000_000n);
    });
    expect(transfers).toEqual([
      expect.objectContaining({ from: w.hot.classicAddress, to: w.customer.classicAddress, amount: 7_000_000n }),
    ]);
    expect(transfers[0]?.fee).toBeUndefined();
  });

  it('EscrowCreate: the XRP leaves into the escrow, attributed to its destination', async () => {
    const { transfers } = await readOne(() => {
      w.engine.escrowCreate(w.hot, w.cold.classicAddress, 11_000_000n);
    });
    expect(transfers).toEqual([expect.objectContaining({ to: w.cold.classicAddress, amount: 11_000_000n })]);
  });

  it('a cross-currency drain to a cold wallet: the XRP the offer took is not the cold wallet’s', async () => {
    const attacker = w.engine.fund(20_000_000n);
    w.engine.trustSet(attacker, 'USD', w.issuer.classicAddress);
    w.engine.close();
    w.engine.payIou(w.issuer, attacker.classicAddress, 'USD', w.issuer.classicAddress, '1');
    w.engine.close();
    const { transfers } = await readOne(() => {
      w.engine.crossCurrency(
        w.hot,
        w.cold.classicAddress,
        attacker.classicAddress,
        900_000_000n,
        'USD',
        w.issuer.classicAddress,
        '0.000001',
      );
    });
    expect(transfers).toEqual([
      expect.objectContaining({ contract: null, to: attacker.classicAddress, amount: 900_000_000n }),
    ]);
  });

  it('an issuer transfer fee: the cold wallet is credited what it received, the rest goes to the issuer', async () => {
    const { transfers } = await readOne(() => {
      w.engine.payIou(w.hot, w.cold.classicAddress, 'USD', w.issuer.classicAddress, '100', { transferRate: 1.002 });
    });
    expect(transfers.map((t) => [t.to, t.amount])).toEqual([
      [w.cold.classicAddress, 100_000_000n],
      [w.issuer.classicAddress, 200_000n],
    ]);
  });

  it('IOU precision: a value finer than the configured decimals is rounded up, never lost', async () => {
    const { transfers } = await readOne(() => {
      w.engine.payIou(w.hot, w.customer.classicAddress, 'USD', w.issuer.classicAddress, '0.0000001');
    });
    expect(transfers).toEqual([expect.objectContaining({ contract: w.usd, amount: 1n })]);
  });

  it('a currency the config does not name is emitted with its currency and issuer, at 15 decimals', async () => {
    const { transfers } = await readOne(
      () => {
        w.engine.payIou(w.hot, w.customer.classicAddress, 'USD', w.issuer.classicAddress, '2.5');
      },
      { tokens: [] },
    );
    expect(transfers).toEqual([expect.objectContaining({ contract: w.usd, amount: 2_500_000_000_000_000n })]);
  });

  it('payments into the hot wallet and other accounts’ transfers are not outflows', async () => {
    const { transfers } = await readOne(() => {
      w.engine.payXrp(w.customer, w.hot.classicAddress, 1_000_000n);
      w.engine.payXrp(w.customer, w.cold.classicAddress, 1_000_000n);
    });
    expect(transfers).toEqual([]);
  });

  it('a ledger entry type it cannot read, owned by a hot wallet, stops the read loudly', async () => {
    w.engine.foreignEntry(w.hot, 'MPToken', { Account: w.hot.classicAddress, MPTAmount: '10' });
    const ledger = w.engine.close();
    const error = await w
      .reader()
      .readRange(ledger.ledger_index, ledger.ledger_index)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChainReadError);
    expect((error as Error).message).toMatch(
      /changed a MPToken entry of hot wallet r\w+: the breaker does not read MPToken balances/,
    );
  });

  it('an unknown entry that names a hot wallet only as Destination (anyone can write one) does not stop the read', async () => {
    const { transfers } = await readOne(() => {
      w.engine.foreignEntry(w.customer, 'MPToken', {
        Account: w.customer.classicAddress,
        Destination: w.hot.classicAddress,
      });
    });
    expect(transfers).toEqual([]);
  });

  it('the same range read twice, or as overlapping pieces, gives the same transfers with the same indexes', async () => {
    w.engine.payXrp(w.hot, w.customer.classicAddress, 1n);
    w.engine.payIou(w.hot, w.cold.classicAddress, 'USD', w.issuer.classicAddress, '5', { transferRate: 1.5 });
    const a = w.engine.close();
    w.engine.payXrp(w.hot, w.customer.classicAddress, 2n);
    const b = w.engine.close();
    const reader = w.reader();
    const whole = await reader.readRange(a.ledger_index, b.ledger_index);
    const again = await w.reader().readRange(a.ledger_index, b.ledger_index);
    const pieces = [
      ...(await reader.readRange(a.ledger_index, a.ledger_index)).transfers,
      ...(await reader.readRange(b.ledger_index, b.ledger_index)).transfers,
    ];
    expect(again).toEqual(whole);
    expect(pieces).toEqual(whole.transfers);
    const ids = whole.transfers.map((t) => `${t.txHash}:${t.index}`);
    expect(new Set(ids).size).toBe(ids.length);
    expect(whole.transfers.some((t) => t.to === UNSEEN_DESTINATION)).toBe(false);
  });
});
