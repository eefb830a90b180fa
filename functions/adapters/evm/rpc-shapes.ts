/**
 * The parts of Ethereum JSON-RPC answers the reader uses, and checks that reject malformed answers
 * before they are trusted (a failed check sends the call to the next endpoint).
 */

export interface RpcTransaction {
  hash: string;
  from: string;
  to: string | null;
  value: string;
  transactionIndex: string;
}

export interface RpcBlock {
  number: string;
  hash: string;
  parentHash: string;
  timestamp: string;
  /** Full transaction objects when asked for with `true`, hashes otherwise. */
  transactions: RpcTransaction[] | string[];
}

export interface RpcLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
  transactionIndex: string;
  logIndex: string;
  removed?: boolean;
}

export interface RpcReceipt {
  transactionHash: string;
  blockHash: string;
  /** "0x1" success, "0x0" reverted; absent before Byzantium. */
  status?: string;
  gasUsed: string;
  effectiveGasPrice?: string;
  contractAddress: string | null;
}

/**
 * One Parity/OpenEthereum-style trace (`trace_filter`, `trace_transaction`): a call frame or a contract
 * creation. Only the fields the reader uses; block rewards and self-destructs are skipped unchecked.
 */
export interface RpcTrace {
  type: string;
  action: { from?: string; to?: string; value?: string; callType?: string };
  /** For a `create`: the new contract's address. */
  result?: { address?: string } | null;
  /** Present when the frame reverted (or ran out of gas): its value moved nothing, nor did its children's. */
  error?: string;
  blockHash: string;
  /** A JSON number in Parity's format (some servers send a hex quantity). */
  blockNumber: number | string;
  transactionHash: string;
  transactionPosition: number | string;
  /** Path from the transaction's top-level frame ([]) down to this frame. */
  traceAddress: number[];
}

/** keccak256("Transfer(address,address,uint256)"): ERC-20 and ERC-721 share it; ERC-721 indexes the id. */
export const TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';

const HASH = /^0x[0-9a-fA-F]{64}$/;
const QUANTITY = /^0x[0-9a-fA-F]{1,64}$/;
/** A quantity the reader turns into a JS number (block numbers, indexes, timestamps): at most 52 bits. */
const SMALL_QUANTITY = /^0x[0-9a-fA-F]{1,13}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const ADDRESS_TOPIC = /^0x0{24}([0-9a-fA-F]{40})$/;

export function toQuantity(n: number): string {
  return `0x${n.toString(16)}`;
}

/** A hex quantity that must fit a JS number (block numbers, indexes, timestamps). */
export function quantityToNumber(hex: string): number {
  const n = Number(hex);
  if (!QUANTITY.test(hex) || !Number.isSafeInteger(n)) throw new RangeError(`not a small hex quantity: ${hex}`);
  return n;
}

/** A 20-byte address left-padded to a 32-byte topic, as Solidity indexes `address` parameters. */
export function addressTopic(address: string): string {
  return `0x${'0'.repeat(24)}${address.slice(2).toLowerCase()}`;
}

/** `balanceOf(address)` call data (selector 0x70a08231, the address left-padded to 32 bytes). */
export function balanceOfData(address: string): string {
  return `0x70a08231${'0'.repeat(24)}${address.slice(2).toLowerCase()}`;
}

/** eth_getBalance's answer: a hex quantity of up to 256 bits. */
export function checkBalance(result: unknown): string | undefined {
  return typeof result === 'string' && QUANTITY.test(result) ? undefined : 'not a hex balance';
}

/** balanceOf's answer through eth_call: exactly one 32-byte word (anything else is not an ERC-20 balance). */
export function checkBalanceOfWord(result: unknown): string | undefined {
  return typeof result === 'string' && HASH.test(result)
    ? undefined
    : 'not a 32-byte balanceOf answer (is the token an ERC-20 contract at this block?)';
}

export function checkBlock(expectedNumber: number, full: boolean) {
  return (result: unknown): string | undefined => {
    const b = result as Partial<RpcBlock>;
    if (typeof b !== 'object' || Array.isArray(b)) return 'block is not an object';
    if (typeof b.number !== 'string' || !QUANTITY.test(b.number) || Number(b.number) !== expectedNumber) {
      return `asked for block ${expectedNumber}, got ${String(b.number)}`;
    }
    if (typeof b.hash !== 'string' || !HASH.test(b.hash)) return `block ${expectedNumber}: bad hash`;
    if (typeof b.parentHash !== 'string' || !HASH.test(b.parentHash)) return `block ${expectedNumber}: bad parentHash`;
    if (typeof b.timestamp !== 'string' || !SMALL_QUANTITY.test(b.timestamp))
      return `block ${expectedNumber}: bad timestamp`;
    if (!Array.isArray(b.transactions)) return `block ${expectedNumber}: no transaction list`;
    if (full) {
      for (const tx of b.transactions as unknown[]) {
        const problem = checkTransaction(tx);
        if (problem) return `block ${expectedNumber}: ${problem}`;
      }
    }
    return undefined;
  };
}

function checkTransaction(result: unknown): string | undefined {
  const tx = result as Partial<RpcTransaction>;
  if (typeof tx !== 'object' || tx === null) return 'transaction is not an object (asked for full transactions)';
  if (typeof tx.hash !== 'string' || !HASH.test(tx.hash)) return 'transaction without a hash';
  if (typeof tx.from !== 'string' || !ADDRESS.test(tx.from)) return `transaction ${tx.hash}: bad from`;
  if (tx.to !== null && (typeof tx.to !== 'string' || !ADDRESS.test(tx.to))) return `transaction ${tx.hash}: bad to`;
  if (typeof tx.value !== 'string' || !QUANTITY.test(tx.value)) return `transaction ${tx.hash}: bad value`;
  if (typeof tx.transactionIndex !== 'string' || !SMALL_QUANTITY.test(tx.transactionIndex)) {
    return `transaction ${tx.hash}: bad transactionIndex`;
  }
  return undefined;
}

export function checkLogs(result: unknown): string | undefined {
  if (!Array.isArray(result)) return 'logs are not an array';
  for (const log of result as Partial<RpcLog>[]) {
    if (typeof log !== 'object' || log === null) return 'log is not an object';
    if (
      typeof log.blockHash !== 'string' ||
      typeof log.blockNumber !== 'string' ||
      typeof log.transactionHash !== 'string' ||
      typeof log.transactionIndex !== 'string' ||
      typeof log.logIndex !== 'string' ||
      typeof log.address !== 'string' ||
      typeof log.data !== 'string' ||
      !Array.isArray(log.topics) ||
      !log.topics.every((t) => typeof t === 'string')
    ) {
      return 'log without block, transaction, index, address, data or topics';
    }
    // Garbled numbers or hashes are a broken answer, not a log to skip (the reader decodes them).
    if (
      !SMALL_QUANTITY.test(log.blockNumber) ||
      !SMALL_QUANTITY.test(log.transactionIndex) ||
      !SMALL_QUANTITY.test(log.logIndex)
    ) {
      return `log in tx ${log.transactionHash}: block number, transaction index or log index not a hex quantity`;
    }
    if (!HASH.test(log.blockHash) || !HASH.test(log.transactionHash) || !ADDRESS.test(log.address)) {
      return `log in tx ${log.transactionHash}: malformed block hash, transaction hash or address`;
    }
  }
  return undefined;
}

/** The receipts of one whole block: one per transaction, all of that block. */
export function checkBlockReceipts(blockHash: string, transactionCount: number) {
  return (result: unknown): string | undefined => {
    if (!Array.isArray(result)) return 'receipts are not an array';
    if (result.length !== transactionCount) {
      return `block ${blockHash} has ${transactionCount} transactions but ${result.length} receipts`;
    }
    for (const r of result) {
      const problem = checkReceipt(r, blockHash);
      if (problem) return problem;
    }
    return undefined;
  };
}

export function checkReceipt(result: unknown, blockHash: string): string | undefined {
  const r = result as Partial<RpcReceipt>;
  if (typeof r !== 'object' || r === null) return 'receipt is not an object';
  if (typeof r.transactionHash !== 'string') return 'receipt without transactionHash';
  if (typeof r.blockHash !== 'string' || r.blockHash.toLowerCase() !== blockHash.toLowerCase()) {
    return `receipt of ${r.transactionHash} is from block ${String(r.blockHash)}, not ${blockHash}`;
  }
  if (r.status !== undefined && r.status !== '0x0' && r.status !== '0x1') return `receipt status ${r.status}`;
  if (!HASH.test(r.transactionHash)) return `receipt of ${r.transactionHash}: malformed transaction hash`;
  // The fee is computed from these: a garbled one must fail the read, not the arithmetic.
  if (typeof r.gasUsed !== 'string' || !QUANTITY.test(r.gasUsed)) return `receipt of ${r.transactionHash}: bad gasUsed`;
  if (
    r.effectiveGasPrice !== undefined &&
    (typeof r.effectiveGasPrice !== 'string' || !QUANTITY.test(r.effectiveGasPrice))
  ) {
    return `receipt of ${r.transactionHash}: bad effectiveGasPrice`;
  }
  if (
    r.contractAddress !== undefined &&
    r.contractAddress !== null &&
    (typeof r.contractAddress !== 'string' || !ADDRESS.test(r.contractAddress))
  ) {
    return `receipt of ${r.transactionHash}: bad contractAddress`;
  }
  return undefined;
}

/**
 * An ERC-20 Transfer(from, to, value), decoded strictly: exactly three topics (an ERC-721 Transfer has
 * four), clean address topics and a 32-byte value. Anything else is not an ERC-20 transfer: undefined.
 */
export function decodeErc20Transfer(
  log: Pick<RpcLog, 'topics' | 'data'>,
): { from: string; to: string; amount: bigint } | undefined {
  if (log.topics.length !== 3 || log.topics[0]?.toLowerCase() !== TRANSFER_TOPIC) return undefined;
  const from = ADDRESS_TOPIC.exec(log.topics[1] ?? '');
  const to = ADDRESS_TOPIC.exec(log.topics[2] ?? '');
  if (!from || !to || !HASH.test(log.data)) return undefined;
  return { from: `0x${from[1]!.toLowerCase()}`, to: `0x${to[1]!.toLowerCase()}`, amount: BigInt(log.data) };
}

/** A trace's block number or transaction position: a JSON number or a hex quantity, whichever the server sends. */
export function traceNumber(value: number | string): number {
  return typeof value === 'number' ? value : quantityToNumber(value);
}

function isTraceNumber(value: unknown): boolean {
  return (
    (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) ||
    (typeof value === 'string' && SMALL_QUANTITY.test(value))
  );
}

/**
 * A list of traces. Call and create frames must be complete (the reader decodes them); other kinds are
 * passed through. With `transactionHash`, every trace must belong to that transaction (trace_transaction).
 */
export function checkTraces(transactionHash?: string) {
  return (result: unknown): string | undefined => {
    if (!Array.isArray(result)) return 'traces are not an array';
    for (const t of result as Partial<RpcTrace>[]) {
      if (typeof t !== 'object' || t === null) return 'trace is not an object';
      if (t.type !== 'call' && t.type !== 'create') continue;
      const a = t.action as Partial<RpcTrace['action']> | undefined;
      if (typeof a !== 'object' || a === null) return `${t.type} trace without an action`;
      if (typeof t.transactionHash !== 'string' || !HASH.test(t.transactionHash))
        return 'trace without a transaction hash';
      const where = `trace in tx ${t.transactionHash}`;
      if (transactionHash !== undefined && t.transactionHash.toLowerCase() !== transactionHash.toLowerCase()) {
        return `${where}, asked for ${transactionHash}`;
      }
      if (typeof t.blockHash !== 'string' || !HASH.test(t.blockHash)) return `${where}: bad blockHash`;
      if (!isTraceNumber(t.blockNumber) || !isTraceNumber(t.transactionPosition)) {
        return `${where}: block number or transaction position not a number`;
      }
      if (!Array.isArray(t.traceAddress) || !t.traceAddress.every((i) => Number.isSafeInteger(i) && i >= 0)) {
        return `${where}: bad traceAddress`;
      }
      if (typeof a.from !== 'string' || !ADDRESS.test(a.from)) return `${where}: bad from`;
      if (typeof a.value !== 'string' || !QUANTITY.test(a.value)) return `${where}: bad value`;
      if (t.error !== undefined && typeof t.error !== 'string') return `${where}: bad error`;
      if (t.type === 'call') {
        if (typeof a.callType !== 'string') return `${where}: call without callType`;
        if (typeof a.to !== 'string' || !ADDRESS.test(a.to)) return `${where}: bad to`;
      } else if (t.error === undefined) {
        const address = t.result?.address;
        if (typeof address !== 'string' || !ADDRESS.test(address)) return `${where}: create without the new address`;
      }
    }
    return undefined;
  };
}
