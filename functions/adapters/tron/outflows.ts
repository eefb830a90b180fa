import type { ChainTransfer } from '../../core/model.ts';
import { decodeErc20Transfer } from '../evm/rpc-shapes.ts';
import { EndpointError } from '../http/http-request.ts';
import { tronAddressFromEvm } from './addresses.ts';
import type { TronBlock, TronTx, TronTxInfo } from './wire.ts';

/**
 * What counts as a hot-wallet outflow on Tron, from solidified blocks and their transaction info.
 *
 * A transaction counts only if it succeeded (`contractRet` SUCCESS; for a contract call also the
 * receipt): a reverted or failed one is in the block and pays its fee, but moves nothing. Per
 * successful transaction, with a stable `index` so the same transfer is the same outflow on every read:
 *  - TransferContract (TRX) or TransferAssetContract (TRC-10) owned by a hot wallet: `index` null;
 *  - TriggerSmartContract owned by a hot wallet: its `call_value` (TRX, `index` null) and its
 *    `call_token_value` (TRC-10 `token_id`, `index` -1) sent into the contract;
 *  - each TRC-20 `Transfer(from = hot wallet)` log, whoever sent the transaction (an approved spender's
 *    transferFrom, a contract): `index` = the log's position in the transaction's info;
 *  - each value of a non-rejected internal transaction whose caller is a hot wallet (a contract hot
 *    wallet paying out): `index` -(2 + k), k counting those values through the transaction.
 */

export interface TronWalletView {
  chain: string;
  /** Hot wallets, T… form. */
  hot: ReadonlySet<string>;
}

/** Does this transaction need its info read (its outcome, logs or internal transactions decide what it moved)? */
export function needsInfo(tx: TronTx, hot: ReadonlySet<string>): boolean {
  return tx.contract.type === 'TriggerSmartContract' && (hot.has(tx.contract.owner) || hot.has(tx.contract.contract));
}

/**
 * The outflows of `block`. `infos` holds the info of every transaction that `needsInfo`, and of every
 * transaction a TRC-20 Transfer from a hot wallet may be in (the reader's candidates); transactions
 * without info are read from the block alone.
 */
export function transfersOfBlock(
  block: TronBlock,
  infos: ReadonlyMap<string, TronTxInfo>,
  wallets: TronWalletView,
): ChainTransfer[] {
  const out: ChainTransfer[] = [];
  for (const tx of block.txs) {
    const info = infos.get(tx.id);
    if (!info && needsInfo(tx, wallets.hot)) {
      throw new EndpointError(`no transaction info for ${tx.id} in block ${block.ref.number}`);
    }
    if (info && info.blockNumber !== block.ref.number) {
      throw new EndpointError(
        `transaction info for ${tx.id} says block ${info.blockNumber}, but the tx is in block ${block.ref.number}`,
      );
    }
    if (!succeeded(tx, info)) continue;
    const base = {
      chain: wallets.chain,
      block: block.ref.number,
      blockHash: block.ref.hash,
      blockTime: block.ref.time,
      txHash: tx.id,
    };
    const emit = (index: number | null, contract: string | null, from: string, to: string, amount: bigint) => {
      if (amount > 0n) out.push({ ...base, index, contract, from, to, amount });
    };
    const c = tx.contract;
    if (c.type === 'TransferContract' && wallets.hot.has(c.owner)) emit(null, null, c.owner, c.to, c.amount);
    if (c.type === 'TransferAssetContract' && wallets.hot.has(c.owner)) emit(null, c.tokenId, c.owner, c.to, c.amount);
    if (c.type === 'TriggerSmartContract' && wallets.hot.has(c.owner)) {
      emit(null, null, c.owner, c.contract, c.callValue);
      if (c.callTokenValue > 0n && c.tokenId === undefined) {
        throw new EndpointError(`transaction ${tx.id} sends call_token_value without a token_id`);
      }
      emit(-1, c.tokenId ?? null, c.owner, c.contract, c.callTokenValue);
    }
    if (!info) continue;
    info.logs.forEach((log, position) => {
      const t = trc20Transfer(log.topics, log.data);
      if (t && wallets.hot.has(t.from)) emit(position, log.address, t.from, t.to, t.amount);
    });
    internalTransfers(tx, info, wallets, emit);
  }
  return out;
}

/** `ret` says how the transaction ended; a contract call's receipt must say the same. */
function succeeded(tx: TronTx, info: TronTxInfo | undefined): boolean {
  const ok = tx.result === 'SUCCESS';
  if (info?.receiptResult !== undefined && (info.receiptResult === 'SUCCESS') !== ok) {
    throw new EndpointError(`transaction ${tx.id}: block says ${tx.result}, its info says ${info.receiptResult}`);
  }
  return ok;
}

function internalTransfers(
  tx: TronTx,
  info: TronTxInfo,
  wallets: TronWalletView,
  emit: (index: number, contract: string | null, from: string, to: string, amount: bigint) => void,
): void {
  const c = tx.contract;
  // A call into a contract hot wallet that shows no internal transactions: either it moved nothing, or the
  // node does not record them (java-tron's vm.saveInternalTx off) and TRX/TRC-10 it paid out is invisible.
  // The two look the same, so the reader refuses the answer: being blind must page, never look like zero.
  if (info.internal === undefined && c.type === 'TriggerSmartContract' && wallets.hot.has(c.contract)) {
    throw new EndpointError(
      `transaction ${tx.id} calls hot-wallet contract ${c.contract} but the node reports no internal transactions: enable vm.saveInternalTx on the node, or its payouts cannot be seen`,
    );
  }
  let k = 0;
  for (const itx of info.internal ?? []) {
    for (const v of itx.values) {
      const index = -(2 + k++);
      if (!itx.rejected && wallets.hot.has(itx.caller)) emit(index, v.tokenId ?? null, itx.caller, itx.to, v.amount);
    }
  }
}

/**
 * A TRC-20 `Transfer(from, to, value)` log decoded by the EVM adapter's strict ERC-20 rule (any other
 * shape, an ERC-721 Transfer included, is not a token transfer), with its addresses in T… form.
 */
export function trc20Transfer(
  topics: readonly string[],
  data: string,
): { from: string; to: string; amount: bigint } | undefined {
  const t = decodeErc20Transfer({ topics: topics.map((topic) => `0x${topic}`), data: `0x${data}` });
  return t && { from: tronAddressFromEvm(t.from), to: tronAddressFromEvm(t.to), amount: t.amount };
}
