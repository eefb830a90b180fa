import type { BlockRef, ChainTransfer, HotSpend } from '../../core/model.ts';

/** The endpoint-independent shape of a block, as the Core and Esplora readers normalise it. */
export interface BtcOutput {
  n: number;
  /** Satoshis. */
  value: bigint;
  /** Canonical address, or `raw(<script hex>)` for a script without one. */
  address: string;
}

export interface BtcInput {
  coinbase: boolean;
  txid: string;
  vout: number;
  /** The output this input spends; undefined until the reader has found it. */
  prevout: { value: bigint; address: string } | undefined;
}

export interface BtcTx {
  txid: string;
  vin: BtcInput[];
  vout: BtcOutput[];
}

export interface BtcBlock {
  ref: BlockRef;
  txs: BtcTx[];
}

/** What outflow extraction needs to know about the watched wallets. */
export interface WalletView {
  chain: string;
  /** Canonical address → the spelling the config uses, for this chain's hot wallets. */
  hot: ReadonlyMap<string, string>;
  /**
   * Canonical address → config spelling for every address the core treats as own, so that `to`
   * matches `ChainConfig.ownAddresses` exactly even when the config spells an address in upper case.
   */
  spelling: ReadonlyMap<string, string>;
}

/**
 * The transfers out of the hot wallets in one transaction.
 *
 * A transaction matters when at least one input spends a hot-wallet output. Each output to a
 * non-hot address is one transfer (vout = index); outputs back to a hot wallet are change and are
 * not emitted; outputs to own addresses (cold wallets) are emitted and the core marks them own.
 * Outputs of value 0 move nothing and are skipped.
 *
 * Fee: inputs − outputs, put on the first emitted transfer.
 *
 * Mixed inputs (coinjoin, payjoin): when some inputs are not the hot wallets', nothing on chain says
 * which outputs the hot wallets paid for. The hot wallets can lose at most what they put in minus
 * what came back to them (hot input value − change), so that is the budget: the non-hot outputs are
 * taken in vout order, each counted up to what is left of the budget, and none once it is spent.
 * The total is exact; which output carries it may not be. The hot wallets' share of the fee cannot
 * be separated either, so it stays inside the budget (counted, conservatively) and `fee` records the
 * whole transaction's fee for reference.
 */
export function transfersOfTx(tx: BtcTx, block: BlockRef, wallets: WalletView): ChainTransfer[] {
  let hotIn = 0n;
  let foreignIn = 0n;
  let from: string | undefined;
  for (const input of tx.vin) {
    if (input.coinbase) return [];
    if (!input.prevout) throw new TypeError(`input ${input.txid}:${input.vout} of ${tx.txid} has no prevout`);
    const owner = wallets.hot.get(input.prevout.address);
    if (owner === undefined) {
      foreignIn += input.prevout.value;
    } else {
      hotIn += input.prevout.value;
      from ??= owner;
    }
  }
  if (from === undefined) return [];

  let totalOut = 0n;
  let change = 0n;
  const destinations: BtcOutput[] = [];
  for (const output of tx.vout) {
    totalOut += output.value;
    if (wallets.hot.has(output.address)) change += output.value;
    else if (output.value > 0n) destinations.push(output);
  }
  const fee = hotIn + foreignIn - totalOut;
  if (fee < 0n) throw new TypeError(`${tx.txid} spends ${totalOut} sat but its inputs hold ${hotIn + foreignIn}`);
  let budget = foreignIn === 0n ? undefined : hotIn - change;

  const transfers: ChainTransfer[] = [];
  for (const output of destinations) {
    let amount = output.value;
    if (budget !== undefined) {
      if (budget <= 0n) break;
      if (amount > budget) amount = budget;
      budget -= amount;
    }
    transfers.push({
      chain: wallets.chain,
      block: block.number,
      blockHash: block.hash,
      blockTime: block.time,
      txHash: tx.txid,
      index: output.n,
      contract: null,
      from,
      to: wallets.spelling.get(output.address) ?? output.address,
      amount,
      ...(transfers.length === 0 ? { fee } : {}),
    });
  }
  return transfers;
}

export function transfersOfBlocks(blocks: BtcBlock[], wallets: WalletView): ChainTransfer[] {
  return blocks.flatMap((b) => b.txs.flatMap((tx) => transfersOfTx(tx, b.ref, wallets)));
}

/**
 * The hot-wallet outputs a transaction spends (the spent-outpoint watermark judges them), or undefined
 * when it spends none. Unlike transfersOfTx this includes a transaction that pays nothing out: one
 * that only pays the hot wallets back to themselves is still signed with a hot key.
 */
export function hotSpendOfTx(tx: BtcTx, wallets: WalletView, tag: HotSpend['tag']): HotSpend | undefined {
  const inputs: HotSpend['inputs'] = [];
  for (const input of tx.vin) {
    if (input.coinbase) return undefined;
    if (!input.prevout) throw new TypeError(`input ${input.txid}:${input.vout} of ${tx.txid} has no prevout`);
    const owner = wallets.hot.get(input.prevout.address);
    if (owner !== undefined) inputs.push({ outpoint: `${input.txid}:${input.vout}`, wallet: owner });
  }
  return inputs.length === 0 ? undefined : { txid: tx.txid, inputs, tag };
}

export function hotSpendsOfBlocks(blocks: BtcBlock[], wallets: WalletView): HotSpend[] {
  return blocks.flatMap((b) => b.txs.flatMap((tx) => hotSpendOfTx(tx, wallets, 'latest') ?? []));
}
