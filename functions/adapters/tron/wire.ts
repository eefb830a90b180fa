import type { BlockRef } from '../../core/model.ts';
import { EndpointError } from '../http/http-request.ts';
import { tronAddress, tronAddressFromEvm } from './addresses.ts';

/**
 * java-tron's HTTP answers, checked and reduced to what the breaker reads. Anything missing or of the
 * wrong shape throws EndpointError naming the field: a malformed answer is never skipped or guessed.
 * Amounts arrive through the lossless parser (adapters/lossless-json.ts): a safe integer as a number,
 * a larger one as a bigint; both become bigint here.
 */

export type TronContract =
  | { type: 'TransferContract'; owner: string; to: string; amount: bigint }
  | { type: 'TransferAssetContract'; owner: string; to: string; amount: bigint; tokenId: string }
  | {
      type: 'TriggerSmartContract';
      owner: string;
      contract: string;
      callValue: bigint;
      callTokenValue: bigint;
      tokenId: string | undefined;
    }
  /** Every other contract type (freezes, votes, permission updates …): moves no value the breaker counts. */
  | { type: 'other'; name: string; owner: string | undefined };

export interface TronTx {
  id: string;
  /** `ret[0].contractRet`: SUCCESS, REVERT, OUT_OF_ENERGY … */
  result: string;
  contract: TronContract;
}

export interface TronBlock {
  ref: BlockRef;
  txs: TronTx[];
}

export interface TronLog {
  /** The emitting contract, T… form. */
  address: string;
  /** Lower-case hex without 0x, as java-tron writes them. */
  topics: string[];
  data: string;
}

export interface TronInternalTx {
  caller: string;
  to: string;
  rejected: boolean;
  values: { amount: bigint; tokenId: string | undefined }[];
}

export interface TronTxInfo {
  id: string;
  blockNumber: number;
  /** The contract call's outcome (`receipt.result`): SUCCESS, REVERT, OUT_OF_ENERGY …; undefined for non-calls. */
  receiptResult: string | undefined;
  logs: TronLog[];
  /** Undefined when the answer has no `internal_transactions` (none happened, or the node does not save them). */
  internal: TronInternalTx[] | undefined;
}

const HASH = /^[0-9a-f]{64}$/;

/**
 * A block's ID and number only. The genesis block is read this way: mainnet's block 0 carries no
 * number, timestamp or ordinary transactions (its allocations have no owner).
 */
export function parseBlockId(value: unknown, what: string): { number: number; hash: string } {
  const block = obj(value, what);
  const hash = hash64(block.blockID, `${what}.blockID`);
  const raw = obj(obj(block.block_header, `${what}.block_header`).raw_data, `${what}.block_header.raw_data`);
  const number = int(raw.number ?? 0, `${what}.block_header.raw_data.number`);
  // blockID's first 8 bytes are the block number: a cheap proof the ID belongs to this header.
  if (BigInt(`0x${hash.slice(0, 16)}`) !== BigInt(number)) {
    throw new EndpointError(`malformed response: ${what}.blockID ${hash} does not start with block number ${number}`);
  }
  return { number, hash };
}

export function parseBlock(value: unknown, what: string): TronBlock {
  const { number, hash } = parseBlockId(value, what);
  const block = obj(value, what);
  const raw = obj(obj(block.block_header, `${what}.block_header`).raw_data, `${what}.block_header.raw_data`);
  const parentHash = number === 0 ? '0'.repeat(64) : hash64(raw.parentHash, `${what}.block_header.raw_data.parentHash`);
  const timestampMs = int(raw.timestamp ?? 0, `${what}.block_header.raw_data.timestamp`);
  const txs = arr(block.transactions ?? [], `${what}.transactions`).map((t, i) =>
    parseTx(t, `${what}.transactions[${i}]`),
  );
  return { ref: { number, hash, parentHash, time: Math.floor(timestampMs / 1000) }, txs };
}

function parseTx(value: unknown, what: string): TronTx {
  const tx = obj(value, what);
  const id = hash64(tx.txID, `${what}.txID`);
  const ret = arr(tx.ret, `${what}.ret`);
  const result = ret.length === 0 ? undefined : obj(ret[0], `${what}.ret[0]`).contractRet;
  if (typeof result !== 'string') throw new EndpointError(`malformed response: ${what}.ret[0].contractRet is missing`);
  const contracts = arr(obj(tx.raw_data, `${what}.raw_data`).contract, `${what}.raw_data.contract`);
  // java-tron executes exactly one contract per transaction; a second would be value the reader skips.
  if (contracts.length !== 1) {
    throw new EndpointError(`malformed response: ${what} has ${contracts.length} contracts, expected exactly 1`);
  }
  return { id, result, contract: parseContract(contracts[0], `${what}.raw_data.contract[0]`) };
}

function parseContract(value: unknown, what: string): TronContract {
  const c = obj(value, what);
  const type = c.type;
  if (typeof type !== 'string') throw new EndpointError(`malformed response: ${what}.type is missing`);
  const v = obj(obj(c.parameter, `${what}.parameter`).value, `${what}.parameter.value`);
  const at = (field: string) => `${what}.parameter.value.${field}`;
  switch (type) {
    case 'TransferContract':
      return {
        type,
        owner: addr(v.owner_address, at('owner_address')),
        to: addr(v.to_address, at('to_address')),
        amount: amount(v.amount, at('amount')),
      };
    case 'TransferAssetContract':
      return {
        type,
        owner: addr(v.owner_address, at('owner_address')),
        to: addr(v.to_address, at('to_address')),
        amount: amount(v.amount, at('amount')),
        tokenId: assetId(v.asset_name, at('asset_name')),
      };
    case 'TriggerSmartContract':
      return {
        type,
        owner: addr(v.owner_address, at('owner_address')),
        contract: addr(v.contract_address, at('contract_address')),
        callValue: amount(v.call_value ?? 0, at('call_value')),
        callTokenValue: amount(v.call_token_value ?? 0, at('call_token_value')),
        tokenId: v.token_id === undefined || v.token_id === 0 ? undefined : tokenIdOf(v.token_id, at('token_id')),
      };
    default:
      return {
        type: 'other',
        name: type,
        owner: v.owner_address === undefined ? undefined : addr(v.owner_address, at('owner_address')),
      };
  }
}

export function parseTxInfo(value: unknown, what: string): TronTxInfo {
  const info = obj(value, what);
  const id = hash64(info.id, `${what}.id`);
  const blockNumber = int(info.blockNumber, `${what}.blockNumber`);
  const receipt = info.receipt === undefined ? {} : obj(info.receipt, `${what}.receipt`);
  const receiptResult = receipt.result === undefined ? undefined : str(receipt.result, `${what}.receipt.result`);
  const logs = arr(info.log ?? [], `${what}.log`).map((l, i) => {
    const log = obj(l, `${what}.log[${i}]`);
    return {
      address: evmAddr(log.address, `${what}.log[${i}].address`),
      topics: arr(log.topics ?? [], `${what}.log[${i}].topics`).map((t, j) => hex(t, `${what}.log[${i}].topics[${j}]`)),
      data: log.data === undefined ? '' : hex(log.data, `${what}.log[${i}].data`),
    };
  });
  const internal =
    info.internal_transactions === undefined
      ? undefined
      : arr(info.internal_transactions, `${what}.internal_transactions`).map((t, i) =>
          internalTx(t, `${what}.internal_transactions[${i}]`),
        );
  return { id, blockNumber, receiptResult, logs, internal };
}

function internalTx(value: unknown, what: string): TronInternalTx {
  const t = obj(value, what);
  const values = arr(t.callValueInfo ?? [], `${what}.callValueInfo`).map((v, i) => {
    const info = obj(v, `${what}.callValueInfo[${i}]`);
    return {
      amount: amount(info.callValue ?? 0, `${what}.callValueInfo[${i}].callValue`),
      // TRX carries no tokenId (some serialisers write it empty).
      tokenId:
        info.tokenId === undefined || info.tokenId === ''
          ? undefined
          : tokenIdOf(info.tokenId, `${what}.callValueInfo[${i}].tokenId`),
    };
  });
  if (t.rejected !== undefined && typeof t.rejected !== 'boolean') {
    throw new EndpointError(`malformed response: ${what}.rejected is not a boolean`);
  }
  return {
    caller: addr(t.caller_address, `${what}.caller_address`),
    to: addr(t.transferTo_address, `${what}.transferTo_address`),
    rejected: t.rejected === true,
    values,
  };
}

/** TRC-10 `asset_name`: the token id's UTF-8 bytes in hex (`31303032303030` = 1002000), or the id itself with `visible: true`. */
function assetId(value: unknown, what: string): string {
  const text = str(value, what);
  if (/^([0-9a-f]{2})+$/.test(text)) {
    const decoded = Buffer.from(text, 'hex').toString('utf8');
    if (/^\d{1,19}$/.test(decoded)) return BigInt(decoded).toString();
  }
  if (/^\d{1,19}$/.test(text)) return BigInt(text).toString();
  throw new EndpointError(
    `malformed response: ${what} is not a TRC-10 token id (${JSON.stringify(text).slice(0, 40)})`,
  );
}

function tokenIdOf(value: unknown, what: string): string {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  if (typeof value === 'string' && /^\d{1,19}$/.test(value)) return BigInt(value).toString();
  throw new EndpointError(`malformed response: ${what} is not a TRC-10 token id`);
}

function addr(value: unknown, what: string): string {
  const text = str(value, what);
  try {
    return tronAddress(text);
  } catch (e) {
    throw new EndpointError(`malformed response: ${what}: ${(e as Error).message}`);
  }
}

/** A log's emitter: java-tron writes the 20 bytes without the 41 prefix. */
function evmAddr(value: unknown, what: string): string {
  const text = str(value, what);
  if (/^[0-9a-f]{40}$/.test(text)) return tronAddressFromEvm(text);
  return addr(text, what);
}

function amount(value: unknown, what: string): bigint {
  if (typeof value === 'bigint' && value >= 0n) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  throw new EndpointError(
    `malformed response: ${what} is not a non-negative integer amount (${String(value).slice(0, 40)})`,
  );
}

function int(value: unknown, what: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw new EndpointError(`malformed response: ${what} is not a non-negative integer (${String(value).slice(0, 40)})`);
}

function hash64(value: unknown, what: string): string {
  if (typeof value !== 'string' || !HASH.test(value)) {
    throw new EndpointError(
      `malformed response: ${what} is not a 32-byte hex hash (${JSON.stringify(value)?.slice(0, 80)})`,
    );
  }
  return value;
}

function hex(value: unknown, what: string): string {
  const text = str(value, what).toLowerCase();
  if (!/^[0-9a-f]*$/.test(text)) throw new EndpointError(`malformed response: ${what} is not hex`);
  return text;
}

function str(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new EndpointError(`malformed response: ${what} is not a string`);
  return value;
}

export function obj(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EndpointError(`malformed response: ${what} is not an object`);
  }
  return value as Record<string, unknown>;
}

export function arr(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new EndpointError(`malformed response: ${what} is not an array`);
  return value;
}
