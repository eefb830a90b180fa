import type { ChainReader, ReadableChain } from '../../core/chain-kind.ts';
import { ChainReadError } from '../../core/errors.ts';
import type { BlockRef, ChainTransfer, RangeRead } from '../../core/model.ts';
import type {
  BalanceReader,
  NonceObservation,
  NonceReader,
  NonceTag,
  PendingHotTransaction,
  PendingTransactionReader,
} from '../../core/ports.ts';
import { evmSettingsOf } from './evm-settings.ts';
import { type CrossCheckReport, EvmHeadCheck } from './head-check.ts';
import {
  isMethodUnsupported,
  JsonRpcClient,
  type JsonRpcClientOptions,
  type RpcCall,
  RpcCallError,
  type RpcCounters,
} from './json-rpc-client.ts';
import { PendingTransactionFilter } from './pending-filter.ts';
import {
  addressTopic,
  balanceOfData,
  checkBalance,
  checkBalanceOfWord,
  checkBlock,
  checkBlockReceipts,
  checkLogs,
  checkReceipt,
  checkTraces,
  decodeErc20Transfer,
  quantityToNumber,
  type RpcBlock,
  type RpcLog,
  type RpcReceipt,
  type RpcTrace,
  type RpcTransaction,
  TRANSFER_TOPIC,
  toQuantity,
  traceNumber,
} from './rpc-shapes.ts';

export type EvmChainReaderOptions = Pick<
  JsonRpcClientOptions,
  'fetch' | 'maxAttempts' | 'backoffMs' | 'maxConcurrentRequests'
>;

interface Candidate {
  block: RpcBlock;
  txs: RpcTransaction[];
}

interface Positioned {
  transfer: ChainTransfer;
  txIndex: number;
  /** Within the transaction: native value first (NATIVE_ORDER + its trace position), then tokens by log index. */
  order: number;
}

const NATIVE_ORDER = -(2 ** 31);

/**
 * Reads hot-wallet outflows from an EVM chain with as few HTTP requests as the JSON-RPC API allows:
 *  1. one batch: every block of the range with full transactions, plus ONE eth_getLogs for ERC-20
 *     Transfer events whose `from` is any hot wallet (all tokens, known or not);
 *  2. only if some transaction sends native value from a hot wallet: one batch of eth_getBlockReceipts
 *     for those blocks, to drop reverted sends (falls back to eth_getTransactionReceipt per transaction
 *     where the endpoint lacks block receipts).
 * Native value moved by internal calls (a contract hot wallet, an EIP-7702 delegate) is not seen: hot
 * wallets are expected to be EOAs.
 *
 * With `nativeSource: traces` native value comes from traces instead, and a range is ONE batch: block
 * headers, the eth_getLogs above, and ONE `trace_filter` for frames sent from a hot wallet. That sees
 * value moved by internal calls too (contract hot wallets). Only where a hot wallet moved value in an
 * internal frame does the reader fetch that transaction's whole trace (`trace_transaction`), since an
 * ancestor frame that reverted, and so undid the transfer, need not be in the filtered answer.
 */
export class EvmChainReader implements ChainReader, NonceReader, BalanceReader, PendingTransactionReader {
  readonly chain: string;
  private readonly client: JsonRpcClient;
  private readonly hotWallets: ReadonlySet<string>;
  private readonly hotTopics: readonly string[];
  private readonly nativeSource: 'blocks' | 'traces';
  /** Turned off for good once every endpoint said it has no eth_getBlockReceipts. */
  private blockReceipts = true;
  /** With two or more endpoints: compares their heads and hashes, and takes bad ones out of use. */
  private readonly headCheck: EvmHeadCheck | undefined;

  constructor(config: ReadableChain, options: EvmChainReaderOptions = {}) {
    const raw = evmSettingsOf(config);
    this.chain = config.id;
    this.hotWallets = new Set(config.hotWallets.map((w) => w.toLowerCase()));
    this.hotTopics = [...this.hotWallets].map(addressTopic);
    this.nativeSource = raw.nativeSource;
    this.client = new JsonRpcClient({
      label: `chain ${config.id}`,
      urls: raw.rpc,
      timeoutMs: raw.rpcTimeoutMs,
      batchSize: raw.rpcBatchSize,
      maxResponseBytes: raw.rpcMaxResponseBytes,
      chainId: raw.chainId,
      ...options,
    });
    if (raw.rpc.length >= 2) {
      this.headCheck = new EvmHeadCheck({
        label: `chain ${config.id}`,
        urls: raw.rpc,
        timeoutMs: raw.rpcTimeoutMs,
        chainId: raw.chainId,
        maxLagBlocks: raw.rpcMaxLagBlocks ?? Math.max(3, config.confirmations),
        everyPolls: raw.rpcCrossCheckEveryPolls ?? 10,
        blockTimeSeconds: config.blockTimeSeconds,
        confirmations: config.confirmations,
        fetch: options.fetch,
      });
    }
  }

  /** JSON-RPC calls and HTTP requests made so far (for benchmarks and metrics); cross-checks are counted apart. */
  counters(): RpcCounters {
    return this.client.counters();
  }

  /** What the head cross-checks cost so far (zeros with one endpoint). */
  crossCheckCounters(): RpcCounters {
    return this.headCheck?.counters() ?? { rpcCalls: 0, httpRequests: 0, failedRequests: 0 };
  }

  resetCounters(): void {
    this.client.resetCounters();
    this.headCheck?.resetCounters();
  }

  /** The last head cross-check's verdict per endpoint (undefined with one endpoint or before the first). */
  crossCheck(): CrossCheckReport | undefined {
    return this.headCheck?.report();
  }

  /**
   * The head reads go on from: `eth_blockNumber` of the preferred endpoint that is in use (failing
   * over like every call). With two or more endpoints it is cross-checked (head-check.ts) every few
   * polls, on a jump, and after a failed read: endpoints that lag, claim a head they cannot serve or
   * sit on a minority fork are taken out of use, and when no endpoint can be trusted this throws
   * ChainReadError rather than answer. A head is never more than the chosen endpoint can serve, so
   * every block up to it can be read.
   */
  async head(): Promise<number> {
    const check = this.headCheck;
    if (!check) return this.readHead();
    let head: number;
    try {
      head = await this.readHead();
    } catch (e) {
      // Perhaps every endpoint left in use is down while a suspended one has recovered; if not, the
      // read's own error says best what failed.
      if (!(e instanceof ChainReadError) || !check.hasSuspensions()) throw e;
      return this.crossCheckedHead(check).catch(() => Promise.reject(e));
    }
    if (!check.due(head)) {
      check.settle(head);
      return head;
    }
    return this.crossCheckedHead(check);
  }

  private async crossCheckedHead(check: EvmHeadCheck): Promise<number> {
    const report = await check.run(this.client);
    const url = this.client.currentUrl();
    const verdict = report.endpoints.find((e) => e.url === url)?.verdict;
    const head = verdict?.status === 'ok' ? verdict.head : await this.readHead();
    check.settle(head);
    return head;
  }

  private async readHead(): Promise<number> {
    const hex = await this.client.call<string>({
      method: 'eth_blockNumber',
      params: [],
      check: (r) => (typeof r === 'string' && /^0x[0-9a-fA-F]+$/.test(r) ? undefined : 'not a hex quantity'),
    });
    return quantityToNumber(hex);
  }

  /**
   * Every hot wallet's next nonce, in one request: `eth_getTransactionCount` counts every transaction
   * the wallet signed, approvals and contract calls that move nothing included; the transfers
   * readRange finds do not show those.
   */
  private pendingFilter: PendingTransactionFilter | undefined;

  /** The hot wallets' transactions new in the mempool since the last call (pending-filter.ts); undefined when filters are refused. */
  pendingHotTransactions(): Promise<PendingHotTransaction[] | undefined> {
    this.pendingFilter ??= new PendingTransactionFilter(this.client, this.hotWallets);
    return this.pendingFilter.newHotTransactions();
  }

  async nextNonces(tag: NonceTag): Promise<NonceObservation[]> {
    const wallets = [...this.hotWallets];
    const counts = await this.client.batch(
      wallets.map((w) => ({ method: 'eth_getTransactionCount', params: [w, tag], check: checkNonce })),
      { atomic: true },
    );
    return wallets.map((wallet, i) => ({ wallet, nextNonce: BigInt(counts[i] as string) }));
  }

  /**
   * The hot wallets' combined balance of each asset at one block, in ONE request: per hot wallet,
   * `eth_getBalance` for the native coin and `balanceOf` through `eth_call` for each token, all pinned
   * to the block's hash (EIP-1898), so an answer from another fork is an error rather than a balance.
   * The poll asks only for the assets its range moved, and only when it moved any.
   *
   * Anyone can emit a Transfer log "from" a hot wallet out of their own contract, so a token whose
   * contract refuses balanceOf (every endpoint answers with a revert or a non-word) is left out of the
   * answer rather than failing the read: a stranger's contract must not be able to stop the poller.
   * The poll refuses to go on without a listed token's balance (core/balances.ts). Only then are the
   * assets read one request each, to find the ones that refuse.
   */
  async balancesAt(
    block: { number: number; hash: string },
    contracts: readonly (string | null)[],
  ): Promise<Map<string | null, bigint>> {
    try {
      return this.sums(contracts, await this.client.batch(this.balanceCalls(block, contracts), { atomic: true }));
    } catch (e) {
      if (!refusedByContract(e)) throw e;
    }
    const balances = new Map<string | null, bigint>();
    for (const contract of contracts) {
      try {
        const answers = await this.client.batch(this.balanceCalls(block, [contract]), { atomic: true });
        balances.set(contract, this.sums([contract], answers).get(contract) as bigint);
      } catch (e) {
        if (contract === null || !refusedByContract(e)) throw e;
      }
    }
    return balances;
  }

  private balanceCalls(block: { hash: string }, contracts: readonly (string | null)[]): RpcCall[] {
    const at = { blockHash: block.hash, requireCanonical: true };
    return contracts.flatMap((contract) =>
      [...this.hotWallets].map((wallet) =>
        contract === null
          ? { method: 'eth_getBalance', params: [wallet, at], check: checkBalance }
          : {
              method: 'eth_call',
              params: [{ to: contract, data: balanceOfData(wallet) }, at],
              check: checkBalanceOfWord,
            },
      ),
    );
  }

  /** Per asset, the sum of the hot wallets' answers (answers ordered asset by asset, wallet by wallet). */
  private sums(contracts: readonly (string | null)[], answers: readonly unknown[]): Map<string | null, bigint> {
    const n = this.hotWallets.size;
    return new Map(
      contracts.map((contract, c) => {
        let sum = 0n;
        for (let w = 0; w < n; w++) sum += BigInt(answers[c * n + w] as string);
        return [contract, sum];
      }),
    );
  }

  async readRange(from: number, to: number): Promise<RangeRead> {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from) {
      throw new RangeError(`chain ${this.chain}: not a block range: [${from}, ${to}]`);
    }
    const traces = this.nativeSource === 'traces';
    const calls: RpcCall[] = [];
    for (let n = from; n <= to; n++) {
      calls.push({ method: 'eth_getBlockByNumber', params: [toQuantity(n), !traces], check: checkBlock(n, !traces) });
    }
    // Last, so they share a request with block `to`: the endpoint that answers them has the whole range.
    calls.push({
      method: 'eth_getLogs',
      params: [{ fromBlock: toQuantity(from), toBlock: toQuantity(to), topics: [TRANSFER_TOPIC, this.hotTopics] }],
      check: checkLogs,
    });
    if (traces) {
      calls.push({
        method: 'trace_filter',
        params: [{ fromBlock: toQuantity(from), toBlock: toQuantity(to), fromAddress: [...this.hotWallets] }],
        check: checkTraces(),
      });
    }
    // Atomic: a request's answers all come from one endpoint, so a lagging endpoint cannot slip in an
    // empty log list for blocks another endpoint served.
    const results = await this.client.batch(calls, { atomic: true }).catch((e: unknown) => {
      throw this.explainNoTraces(e);
    });
    const count = to - from + 1;
    const rawBlocks = results.slice(0, count) as RpcBlock[];
    const logs = results[count] as RpcLog[];

    const blocks = this.linkedRefs(rawBlocks);
    const byNumber = new Map(blocks.map((b) => [b.number, b]));
    const found = traces
      ? await this.nativeFromTraces(results[count + 1] as RpcTrace[], byNumber)
      : await this.nativeFromBlocks(rawBlocks, byNumber);
    found.push(...this.tokenTransfers(logs, byNumber));
    found.sort((a, b) => a.transfer.block - b.transfer.block || a.txIndex - b.txIndex || a.order - b.order);
    return { blocks, transfers: found.map((p) => p.transfer) };
  }

  /** Native sends from a hot wallet, from full blocks; receipts drop the reverted ones. */
  private async nativeFromBlocks(rawBlocks: RpcBlock[], byNumber: Map<number, BlockRef>): Promise<Positioned[]> {
    const found: Positioned[] = [];
    const candidates: Candidate[] = [];
    for (const block of rawBlocks) {
      const txs = (block.transactions as RpcTransaction[]).filter(
        (tx) => this.hotWallets.has(tx.from.toLowerCase()) && BigInt(tx.value) > 0n,
      );
      if (txs.length > 0) candidates.push({ block, txs });
    }
    const receipts = await this.receiptsFor(candidates);
    for (const { block, txs } of candidates) {
      const ref = byNumber.get(quantityToNumber(block.number))!;
      for (const tx of txs) {
        const receipt = receipts.get(tx.hash.toLowerCase());
        if (!receipt) throw new ChainReadError(`chain ${this.chain}: no receipt for ${tx.hash} in block ${ref.number}`);
        if (receipt.status === '0x0') continue;
        found.push({
          transfer: {
            chain: this.chain,
            block: ref.number,
            blockHash: ref.hash,
            blockTime: ref.time,
            txHash: tx.hash.toLowerCase(),
            index: null,
            contract: null,
            from: tx.from.toLowerCase(),
            // A contract creation carries value too; it goes to the new contract.
            to: (tx.to ?? receipt.contractAddress ?? '0x0000000000000000000000000000000000000000').toLowerCase(),
            amount: BigInt(tx.value),
            ...(receipt.effectiveGasPrice === undefined
              ? {}
              : { fee: BigInt(receipt.gasUsed) * BigInt(receipt.effectiveGasPrice) }),
          },
          txIndex: quantityToNumber(tx.transactionIndex),
          order: NATIVE_ORDER,
        });
      }
    }
    return found;
  }

  /**
   * Native value leaving a hot wallet, from `trace_filter` frames: plain calls (not delegatecall,
   * staticcall or callcode, which move no value of the caller's) and creations, with value > 0, that
   * neither reverted nor sit under a frame that reverted.
   *
   * `index`: null for the transaction's top-level frame, so a send has the id `chain:tx:native` in both
   * modes. An internal frame gets -(1 + its position in the transaction's whole trace, depth-first as
   * trace_transaction lists it); the top-level frame is position 0, so these are ≤ -2, distinct from log
   * indexes (≥ 0) and from each other, and the same on every re-read of the block. The fee is not known
   * in this mode (no receipts are read).
   */
  private async nativeFromTraces(traces: RpcTrace[], byNumber: Map<number, BlockRef>): Promise<Positioned[]> {
    const sends: { trace: RpcTrace; ref: BlockRef; to: string }[] = [];
    for (const trace of traces) {
      const to = this.valueRecipient(trace);
      if (to === undefined || trace.error !== undefined) continue;
      const ref = this.blockOf('trace', traceNumber(trace.blockNumber), trace.blockHash, byNumber);
      sends.push({ trace, ref, to });
    }

    const internalTxs = [
      ...new Set(
        sends.filter((s) => s.trace.traceAddress.length > 0).map((s) => s.trace.transactionHash.toLowerCase()),
      ),
    ];
    const lists = (await this.client.batch(
      internalTxs.map((hash) => ({ method: 'trace_transaction', params: [hash], check: checkTraces(hash) })),
    )) as RpcTrace[][];
    const whole = new Map(internalTxs.map((hash, i) => [hash, lists[i]!]));

    const found: Positioned[] = [];
    for (const { trace, ref, to } of sends) {
      const txHash = trace.transactionHash.toLowerCase();
      let position = 0;
      if (trace.traceAddress.length > 0) {
        const all = whole.get(txHash)!;
        position = all.findIndex((t) => samePath(t.traceAddress, trace.traceAddress));
        const at = all[position];
        if (
          !at ||
          at.type !== trace.type ||
          at.blockHash.toLowerCase() !== ref.hash ||
          BigInt(at.action.value ?? -1) !== BigInt(trace.action.value!)
        ) {
          throw new ChainReadError(
            `chain ${this.chain}: trace_transaction(${txHash}) does not hold the frame [${trace.traceAddress}] ` +
              `that trace_filter returned in block ${ref.number} (${ref.hash})`,
          );
        }
        const undone = all.some(
          (t) => t.error !== undefined && t.traceAddress.every((step, k) => trace.traceAddress[k] === step),
        );
        if (undone) continue;
      }
      found.push({
        transfer: {
          chain: this.chain,
          block: ref.number,
          blockHash: ref.hash,
          blockTime: ref.time,
          txHash,
          index: position === 0 ? null : -(1 + position),
          contract: null,
          from: trace.action.from!.toLowerCase(),
          to,
          amount: BigInt(trace.action.value!),
        },
        txIndex: traceNumber(trace.transactionPosition),
        order: NATIVE_ORDER + position,
      });
    }
    return found;
  }

  /** Where a frame sends a hot wallet's native value, or undefined when it sends none. */
  private valueRecipient(trace: RpcTrace): string | undefined {
    const { from, value, callType, to } = trace.action;
    if (from === undefined || !this.hotWallets.has(from.toLowerCase())) return undefined;
    if (value === undefined || BigInt(value) === 0n) return undefined;
    if (trace.type === 'call' && callType === 'call') return to?.toLowerCase();
    if (trace.type === 'create') return trace.result?.address?.toLowerCase();
    return undefined;
  }

  /** An endpoint without trace_filter cannot serve traces mode: say so rather than read less. */
  private explainNoTraces(e: unknown): unknown {
    if (e instanceof RpcCallError && e.method === 'trace_filter' && e.attempts.every(isMethodUnsupported)) {
      return new ChainReadError(
        `chain ${this.chain}: nativeSource: traces needs trace_filter (Erigon, Reth, Nethermind, anvil); ` +
          `use nativeSource: blocks (${e.endpoint}: ${e.attempts[e.attempts.length - 1]?.detail})`,
        { cause: e },
      );
    }
    return e;
  }

  /** The block read that a log or trace claims to be in; anything else came from another fork. */
  private blockOf(what: 'log' | 'trace', number: number, blockHash: string, byNumber: Map<number, BlockRef>): BlockRef {
    const ref = byNumber.get(number);
    if (!ref || ref.hash !== blockHash.toLowerCase()) {
      throw new ChainReadError(
        `chain ${this.chain}: ${what} in block ${number} (${blockHash}) does not match the block read ` +
          `(${ref?.hash ?? 'outside the range'}): the endpoint answered from another fork`,
      );
    }
    return ref;
  }

  /** ERC-20 Transfer logs out of a hot wallet. */
  private tokenTransfers(logs: RpcLog[], byNumber: Map<number, BlockRef>): Positioned[] {
    const found: Positioned[] = [];
    for (const log of logs) {
      if (log.removed === true) continue;
      const ref = this.blockOf('log', quantityToNumber(log.blockNumber), log.blockHash, byNumber);
      const decoded = decodeErc20Transfer(log);
      // Zero-value transfers move nothing and are a common address-poisoning spam (anyone may
      // transferFrom 0 out of any address).
      if (!decoded || !this.hotWallets.has(decoded.from) || decoded.amount === 0n) continue;
      const logIndex = quantityToNumber(log.logIndex);
      found.push({
        transfer: {
          chain: this.chain,
          block: ref.number,
          blockHash: ref.hash,
          blockTime: ref.time,
          txHash: log.transactionHash.toLowerCase(),
          index: logIndex,
          contract: log.address.toLowerCase(),
          from: decoded.from,
          to: decoded.to,
          amount: decoded.amount,
        },
        txIndex: quantityToNumber(log.transactionIndex),
        order: logIndex,
      });
    }
    return found;
  }

  async blockRefs(numbers: number[]): Promise<BlockRef[]> {
    // Asked only when blocks stopped linking (a reorg, or an endpoint on another fork): take endpoints
    // that disagree with the majority out of use first, so the common ancestor is found on the real chain.
    if (this.headCheck) await this.headCheck.run(this.client);
    const unique = [...new Set(numbers)];
    for (const n of unique) {
      if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`chain ${this.chain}: not a block number: ${n}`);
    }
    const results = await this.client.batch(
      unique.map((n) => ({
        method: 'eth_getBlockByNumber',
        params: [toQuantity(n), false],
        check: checkBlock(n, false),
      })),
    );
    return (results as RpcBlock[]).map(toBlockRef);
  }

  /** BlockRefs ascending, each the parent of the next: else the answers mix two forks. */
  private linkedRefs(rawBlocks: RpcBlock[]): BlockRef[] {
    const refs = rawBlocks.map(toBlockRef);
    for (let i = 1; i < refs.length; i++) {
      const prev = refs[i - 1]!;
      const ref = refs[i]!;
      if (ref.parentHash !== prev.hash) {
        throw new ChainReadError(
          `chain ${this.chain}: block ${ref.number} has parent ${ref.parentHash}, but block ${prev.number} ` +
            `read as ${prev.hash}: the endpoints answered from different forks`,
        );
      }
    }
    return refs;
  }

  /** Receipts of the candidate transactions, by lower-case transaction hash. */
  private async receiptsFor(candidates: Candidate[]): Promise<Map<string, RpcReceipt>> {
    if (candidates.length === 0) return new Map();
    if (this.blockReceipts) {
      try {
        // By hash, not number: the receipts must be those of the block just read, whatever the endpoint.
        const lists = (await this.client.batch(
          candidates.map(({ block }) => ({
            method: 'eth_getBlockReceipts',
            params: [block.hash],
            check: checkBlockReceipts(block.hash, block.transactions.length),
          })),
        )) as RpcReceipt[][];
        return new Map(lists.flat().map((r) => [r.transactionHash.toLowerCase(), r]));
      } catch (e) {
        // Endpoints that answered but refused (no such method, no block-hash parameter): ask per transaction.
        if (!(e instanceof RpcCallError) || !e.attempts.every((a) => a.reason === 'rpc-error')) throw e;
        if (e.attempts.every(isMethodUnsupported)) this.blockReceipts = false;
      }
    }
    const receipts = (await this.client.batch(
      candidates.flatMap(({ block, txs }) =>
        txs.map((tx) => ({
          method: 'eth_getTransactionReceipt',
          params: [tx.hash],
          check: (r: unknown) => checkReceipt(r, block.hash),
        })),
      ),
    )) as RpcReceipt[];
    return new Map(receipts.map((r) => [r.transactionHash.toLowerCase(), r]));
  }
}

function toBlockRef(block: RpcBlock): BlockRef {
  return {
    number: quantityToNumber(block.number),
    hash: block.hash.toLowerCase(),
    parentHash: block.parentHash.toLowerCase(),
    time: quantityToNumber(block.timestamp),
  };
}

/** A balanceOf every endpoint answered, with a revert or a non-word: the contract refuses, the endpoints are fine. */
function refusedByContract(e: unknown): boolean {
  return (
    e instanceof RpcCallError &&
    e.method === 'eth_call' &&
    e.attempts.every((a) => (a.reason === 'rpc-error' && !isMethodUnsupported(a)) || a.reason === 'invalid-result')
  );
}

function samePath(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((step, k) => b[k] === step);
}

function checkNonce(result: unknown): string | undefined {
  return typeof result === 'string' && /^0x[0-9a-fA-F]{1,16}$/.test(result) ? undefined : 'not a hex nonce';
}
