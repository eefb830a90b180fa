import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BtcTx, transfersOfTx, type WalletView } from '../../../functions/adapters/bitcoin/outflows.ts';
import type { BlockRef } from '../../../functions/core/model.ts';

const HOT1 = 'bcrt1qhot1';
const HOT2 = 'bcrt1qhot2';
const wallets: WalletView = {
  chain: 'btc',
  hot: new Map([
    [HOT1, HOT1],
    [HOT2, HOT2],
  ]),
  spelling: new Map(),
};
const block: BlockRef = { number: 7, hash: 'h'.repeat(64), parentHash: 'p'.repeat(64), time: 1_700_000_000 };

function tx(inputs: [string, bigint][], outputs: [string, bigint][]): BtcTx {
  return {
    txid: 't'.repeat(64),
    vin: inputs.map(([address, value], i) => ({
      coinbase: false,
      txid: 'f'.repeat(64),
      vout: i,
      prevout: { address, value },
    })),
    vout: outputs.map(([address, value], n) => ({ n, address, value })),
  };
}

const amounts = (t: BtcTx) => transfersOfTx(t, block, wallets).map((x) => [x.index, x.to, x.amount, x.fee]);

describe('transfersOfTx', () => {
  it.each([
    {
      case: 'a payment with change: the payment, fee on it',
      tx: tx(
        [[HOT1, 100n]],
        [
          ['pay', 60n],
          [HOT1, 39n],
        ],
      ),
      want: [[0, 'pay', 60n, 1n]],
    },
    {
      case: 'change to another hot wallet is still change',
      tx: tx(
        [[HOT1, 100n]],
        [
          [HOT2, 39n],
          ['pay', 60n],
        ],
      ),
      want: [[1, 'pay', 60n, 1n]],
    },
    {
      case: 'a consolidation between hot wallets: nothing',
      tx: tx(
        [
          [HOT1, 50n],
          [HOT2, 50n],
        ],
        [[HOT1, 99n]],
      ),
      want: [],
    },
    {
      case: 'a zero-value OP_RETURN moves nothing and is skipped',
      tx: tx(
        [[HOT1, 100n]],
        [
          ['raw(6a0401020304)', 0n],
          ['pay', 99n],
        ],
      ),
      want: [[1, 'pay', 99n, 1n]],
    },
    {
      case: 'a script without an address is still a destination',
      tx: tx([[HOT1, 100n]], [['raw(5121aa51ae)', 90n]]),
      want: [[0, 'raw(5121aa51ae)', 90n, 10n]],
    },
    {
      case: 'a payment into a hot wallet from outside: nothing',
      tx: tx([['someone', 100n]], [[HOT1, 99n]]),
      want: [],
    },
    {
      case: 'coinjoin: capped at hot input − change, outputs taken in vout order',
      tx: tx(
        [
          [HOT1, 100n],
          ['peer', 100n],
        ],
        [
          ['peer-out', 80n],
          ['pay', 60n],
          [HOT1, 50n],
        ],
      ),
      want: [[0, 'peer-out', 50n, 10n]],
    },
    {
      case: 'coinjoin spread over two outputs',
      tx: tx(
        [
          [HOT1, 100n],
          ['peer', 100n],
        ],
        [
          ['a', 30n],
          ['b', 30n],
          ['c', 30n],
          [HOT1, 50n],
          ['peer-change', 50n],
        ],
      ),
      want: [
        [0, 'a', 30n, 10n],
        [1, 'b', 20n, undefined],
      ],
    },
    {
      case: 'payjoin into the hot wallet (more comes back than went in): nothing',
      tx: tx(
        [
          [HOT1, 100n],
          ['payer', 300n],
        ],
        [
          [HOT1, 250n],
          ['payer-change', 149n],
        ],
      ),
      want: [],
    },
  ])('$case', ({ tx: t, want }) => {
    expect(amounts(t)).toEqual(want);
  });

  it('ignores a coinbase transaction', () => {
    const coinbase: BtcTx = {
      txid: 'c'.repeat(64),
      vin: [{ coinbase: true, txid: '0'.repeat(64), vout: 0, prevout: undefined }],
      vout: [{ n: 0, address: HOT1, value: 5n }],
    };
    expect(transfersOfTx(coinbase, block, wallets)).toEqual([]);
  });

  it('uses the config spelling of the sender and of an own destination', () => {
    const view: WalletView = {
      chain: 'btc',
      hot: new Map([[HOT1, 'HOT-AS-WRITTEN']]),
      spelling: new Map([['cold', 'COLD-AS-WRITTEN']]),
    };
    expect(transfersOfTx(tx([[HOT1, 10n]], [['cold', 9n]]), block, view)).toMatchObject([
      { from: 'HOT-AS-WRITTEN', to: 'COLD-AS-WRITTEN' },
    ]);
  });

  it('rejects a transaction whose outputs exceed its inputs (a malformed endpoint reply)', () => {
    expect(() => transfersOfTx(tx([[HOT1, 10n]], [['pay', 11n]]), block, wallets)).toThrow(
      /spends 11 sat but its inputs hold 10/,
    );
  });

  const addr = fc.constantFrom(HOT1, HOT2, 'x', 'y', 'z');
  const sats = fc.bigInt({ min: 0n, max: 2_100_000_000_000_000n });
  const anyTx = fc
    .tuple(
      fc.array(fc.tuple(addr, sats), { minLength: 1, maxLength: 6 }),
      fc.array(fc.tuple(addr, sats), { maxLength: 8 }),
    )
    .filter(([ins, outs]) => outs.reduce((s, [, v]) => s + v, 0n) <= ins.reduce((s, [, v]) => s + v, 0n))
    .map(([ins, outs]) => tx(ins, outs));

  it('never counts more than the hot wallets lost, and exactly that less the fee when every input is hot', () => {
    fc.assert(
      fc.property(anyTx, (t) => {
        const transfers = transfersOfTx(t, block, wallets);
        const prevouts = t.vin.map((i) => i.prevout as { address: string; value: bigint });
        const hotIn = prevouts.filter((p) => wallets.hot.has(p.address)).reduce((s, p) => s + p.value, 0n);
        const change = t.vout.filter((o) => wallets.hot.has(o.address)).reduce((s, o) => s + o.value, 0n);
        const fee = prevouts.reduce((s, p) => s + p.value, 0n) - t.vout.reduce((s, o) => s + o.value, 0n);
        const counted = transfers.reduce((s, x) => s + x.amount, 0n);
        if (hotIn === 0n) return transfers.length === 0;
        const budget = hotIn - change > 0n ? hotIn - change : 0n;
        const pureHot = prevouts.every((p) => wallets.hot.has(p.address));
        return (
          counted <= budget &&
          (!pureHot || counted === hotIn - change - fee) &&
          transfers.every((x) => x.amount > 0n && !wallets.hot.has(x.to)) &&
          transfers.filter((x) => x.fee !== undefined).length === Math.min(1, transfers.length)
        );
      }),
    );
  });
});
