import type { Network } from 'bitcoinjs-lib';
import type { BlockRef } from '../../core/model.ts';
import { type HttpTarget, httpTarget } from '../http/endpoint-url.ts';
import { EndpointError, httpRequest, mapLimit, type RequestCounters } from '../http/http-request.ts';
import { coreUnspents, type Unspent } from './bitcoin-balances.ts';
import { parseJsonWithAmounts } from './http.ts';
import type { BtcBlock, BtcInput, BtcOutput, BtcTx } from './outflows.ts';
import {
  type BlockSource,
  checkBlockIdentity,
  expectArray,
  expectHash,
  expectInt,
  expectObject,
  expectSats,
  outputName,
  ZERO_HASH,
} from './sources.ts';

export interface CoreRpcSourceOptions {
  network: Network;
  timeoutMs: number;
  /** Calls per JSON-RPC batch request. */
  batchSize: number;
  /** `getblock` requests in flight at once (a verbosity-3 block can be tens of MB of JSON). */
  blockConcurrency: number;
  counters: RequestCounters;
  /** Largest answer read; a larger one fails this endpoint. @default DEFAULT_MAX_RESPONSE_BYTES */
  maxResponseBytes?: number;
}

const AMOUNT_KEYS = new Set(['value', 'fee', 'amount', 'total_amount']);

/**
 * Bitcoin Core JSON-RPC. Blocks come from `getblock <hash> 3`, which carries every input's prevout
 * (Core ≥ 23). Older nodes answer verbosity 3 as 2, without prevouts, and so do current ones for a
 * block that has just left the best chain or whose undo data is pruned; the missing prevouts are
 * then taken from earlier transactions in the same range or fetched with batched
 * `getrawtransaction <txid> true`, which needs `-txindex=1` for confirmed transactions.
 */
export class CoreRpcSource implements BlockSource {
  readonly label: string;
  private readonly target: HttpTarget;
  private nextId = 1;

  constructor(
    url: string,
    private readonly options: CoreRpcSourceOptions,
  ) {
    this.target = httpTarget(url);
    this.label = `rpc ${this.target.label}`;
  }

  async head(): Promise<number> {
    return expectInt(await this.call('getblockcount', []), 'getblockcount');
  }

  async genesisHash(): Promise<string> {
    return expectHash(await this.call('getblockhash', [0]), 'getblockhash 0');
  }

  /** One `scantxoutset` over the UTXO set (confirmed coins only; slow on mainnet, see docs/BALANCES.md). */
  async unspent(addresses: readonly string[]): Promise<Unspent[]> {
    return coreUnspents(await this.call('scantxoutset', ['start', addresses.map((a) => `addr(${a})`)]));
  }

  async readBlocks(from: number, to: number): Promise<BtcBlock[]> {
    const heights = range(from, to);
    const hashes = await this.hashesAt(heights);
    const raw = await mapLimit(hashes, this.options.blockConcurrency, (hash) => this.call('getblock', [hash, 3]));
    const blocks = raw.map((json, i) => this.toBlock(json, heights[i] as number, hashes[i] as string));
    await this.fillPrevouts(blocks);
    return blocks;
  }

  async blockRefs(numbers: number[]): Promise<BlockRef[]> {
    const hashes = await this.hashesAt(numbers);
    const headers = await this.batch(hashes.map((hash) => ['getblockheader', [hash, true]] as const));
    return headers.map((json, i) => {
      const ref = blockRef(json, `getblockheader ${hashes[i]}`);
      checkBlockIdentity(ref, numbers[i] as number, hashes[i] as string);
      checkInBestChain(json, ref);
      return ref;
    });
  }

  private async hashesAt(heights: number[]): Promise<string[]> {
    const results = await this.batch(heights.map((h) => ['getblockhash', [h]] as const));
    return results.map((r, i) => expectHash(r, `getblockhash ${heights[i]}`));
  }

  private toBlock(json: unknown, height: number, hash: string): BtcBlock {
    const what = `getblock ${hash}`;
    const ref = blockRef(json, what);
    checkBlockIdentity(ref, height, hash);
    checkInBestChain(json, ref);
    const block = json as Record<string, unknown>;
    const txs = expectArray(block.tx, `${what}: tx`).map((tx) => this.toTx(tx, what));
    return { ref, txs };
  }

  private toTx(json: unknown, where: string): BtcTx {
    const tx = expectObject(json, `${where}: a transaction (is this node answering verbosity 1?)`);
    const txid = expectHash(tx.txid, `${where}: txid`);
    const vin = expectArray(tx.vin, `${txid}: vin`).map((raw): BtcInput => {
      const input = expectObject(raw, `${txid}: vin[]`);
      if (typeof input.coinbase === 'string') return { coinbase: true, txid: ZERO_HASH, vout: 0, prevout: undefined };
      const vout = expectInt(input.vout, `${txid}: vin vout`);
      const prevout = input.prevout === undefined ? undefined : this.toOutput(input.prevout, vout, `${txid}: prevout`);
      return {
        coinbase: false,
        txid: expectHash(input.txid, `${txid}: vin txid`),
        vout,
        prevout: prevout && { value: prevout.value, address: prevout.address },
      };
    });
    const vout = expectArray(tx.vout, `${txid}: vout`).map((raw, i) => this.toOutput(raw, i, `${txid}: vout[${i}]`));
    return { txid, vin, vout };
  }

  private toOutput(json: unknown, n: number, what: string): BtcOutput {
    const output = expectObject(json, what);
    const spk = expectObject(output.scriptPubKey, `${what}.scriptPubKey`);
    // Core < 22 lists `addresses` (one for single-key scripts); later versions give one `address`.
    const legacy = Array.isArray(spk.addresses) && spk.addresses.length === 1 ? spk.addresses[0] : undefined;
    return {
      n,
      value: expectSats(output.value, `${what}.value`),
      address: outputName(spk.hex, spk.address ?? legacy, this.options.network),
    };
  }

  private async fillPrevouts(blocks: BtcBlock[]): Promise<void> {
    const missing = blocks.flatMap((b) => b.txs.flatMap((tx) => tx.vin.filter((i) => !i.coinbase && !i.prevout)));
    if (missing.length === 0) return;
    const known = new Map<string, BtcOutput[]>();
    for (const block of blocks) for (const tx of block.txs) known.set(tx.txid, tx.vout);
    const fetch = [...new Set(missing.map((i) => i.txid).filter((txid) => !known.has(txid)))];
    const raw = await this.batch(
      fetch.map((txid) => ['getrawtransaction', [txid, true]] as const),
      (message) =>
        /No such mempool or blockchain transaction/i.test(message)
          ? `${message} (blocks without prevouts need -txindex=1, or Core ≥ 23 for getblock verbosity 3)`
          : message,
    );
    raw.forEach((json, i) => {
      const tx = this.toTx(json, `getrawtransaction ${fetch[i]}`);
      known.set(tx.txid, tx.vout);
    });
    for (const input of missing) {
      const output = known.get(input.txid)?.[input.vout];
      if (!output) throw new EndpointError(`malformed response: no output ${input.txid}:${input.vout}`);
      input.prevout = { value: output.value, address: output.address };
    }
  }

  private async call(method: string, params: unknown[]): Promise<unknown> {
    const [result] = await this.batch([[method, params]]);
    return result;
  }

  /** Calls in batches of `batchSize`; results in call order. Any call's error fails the whole read. */
  private async batch(
    calls: ReadonlyArray<readonly [string, readonly unknown[]]>,
    explain: (message: string) => string = (m) => m,
  ): Promise<unknown[]> {
    const results: unknown[] = [];
    for (let start = 0; start < calls.length; start += this.options.batchSize) {
      const chunk = calls.slice(start, start + this.options.batchSize);
      const requests = chunk.map(([method, params]) => ({ jsonrpc: '1.0', id: this.nextId++, method, params }));
      const single = requests.length === 1;
      this.options.counters.rpcCalls += requests.length;
      const reply = await httpRequest(this.target, '', {
        method: 'POST',
        body: JSON.stringify(single ? requests[0] : requests),
        timeoutMs: this.options.timeoutMs,
        counters: this.options.counters,
        maxResponseBytes: this.options.maxResponseBytes,
      });
      if (reply.status === 401 || reply.status === 403) {
        throw new EndpointError(`HTTP ${reply.status}: the node refused the RPC credentials`);
      }
      let body: unknown;
      try {
        body = parseJsonWithAmounts(reply.text, AMOUNT_KEYS, 'btc');
      } catch (e) {
        throw new EndpointError(`HTTP ${reply.status}: ${reply.text.slice(0, 200) || (e as Error).message}`, {
          cause: e,
        });
      }
      const replies = single ? [body] : expectArray(body, 'JSON-RPC batch reply');
      const byId = new Map<unknown, Record<string, unknown>>();
      for (const r of replies) {
        const obj = expectObject(r, 'JSON-RPC reply');
        byId.set(obj.id, obj);
      }
      for (const request of requests) {
        const response = byId.get(request.id);
        if (!response) throw new EndpointError(`JSON-RPC: no reply to ${request.method} (id ${request.id})`);
        if (response.error !== null && response.error !== undefined) {
          const err = expectObject(response.error, `${request.method} error`);
          throw new EndpointError(
            `${request.method}(${request.params.map((p) => JSON.stringify(p)).join(', ')}): ${explain(String(err.message))} (code ${String(err.code)})`,
          );
        }
        if (!('result' in response)) throw new EndpointError(`JSON-RPC: ${request.method} reply has no result`);
        results.push(response.result);
      }
    }
    return results;
  }
}

function blockRef(json: unknown, what: string): BlockRef {
  const block = expectObject(json, what);
  return {
    number: expectInt(block.height, `${what}: height`),
    hash: expectHash(block.hash, `${what}: hash`),
    // Core leaves previousblockhash out for the genesis block.
    parentHash:
      block.previousblockhash === undefined
        ? ZERO_HASH
        : expectHash(block.previousblockhash, `${what}: previousblockhash`),
    time: expectInt(block.time, `${what}: time`),
  };
}

/** Core says -1 confirmations for a block that left the best chain after getblockhash named it: the caller re-reads. */
function checkInBestChain(json: unknown, ref: BlockRef): void {
  if ((json as { confirmations?: unknown }).confirmations === -1) {
    throw new EndpointError(`block ${ref.hash} at height ${ref.number} left the best chain during the read`);
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
