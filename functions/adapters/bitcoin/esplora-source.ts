import type { Network } from 'bitcoinjs-lib';
import type { BlockRef } from '../../core/model.ts';
import { type HttpTarget, httpTarget } from '../http/endpoint-url.ts';
import { EndpointError, httpRequest, mapLimit, type RequestCounters } from '../http/http-request.ts';
import { esploraUnspents, type Unspent } from './bitcoin-balances.ts';
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

export interface EsploraSourceOptions {
  network: Network;
  timeoutMs: number;
  /** HTTP requests in flight at once. */
  concurrency: number;
  counters: RequestCounters;
  /** Largest answer read; a larger one fails this endpoint. @default DEFAULT_MAX_RESPONSE_BYTES */
  maxResponseBytes?: number;
}

/** Esplora serves a block's transactions 25 at a time; the start index must be a multiple of 25. */
export const ESPLORA_PAGE = 25;

const AMOUNT_KEYS = new Set(['value', 'fee']);

/** The Esplora REST API (Blockstream electrs, mempool.space): every input comes with its prevout. */
export class EsploraSource implements BlockSource {
  readonly label: string;
  private readonly target: HttpTarget;

  constructor(
    url: string,
    private readonly options: EsploraSourceOptions,
  ) {
    this.target = httpTarget(url);
    this.label = `esplora ${this.target.label}`;
  }

  async head(): Promise<number> {
    return expectInt(Number(await this.text('/blocks/tip/height')), 'GET /blocks/tip/height');
  }

  async genesisHash(): Promise<string> {
    return this.hashAt(0);
  }

  /** `GET /address/:a/utxo` per address (confirmed and mempool coins). */
  async unspent(addresses: readonly string[]): Promise<Unspent[]> {
    const lists = await mapLimit([...addresses], this.options.concurrency, async (a) =>
      esploraUnspents(await this.json(`/address/${a}/utxo`), a),
    );
    return lists.flat();
  }

  async readBlocks(from: number, to: number): Promise<BtcBlock[]> {
    const heights = Array.from({ length: to - from + 1 }, (_, i) => from + i);
    // Blocks one after another, pages of each in parallel: the concurrency limit holds overall.
    const blocks: BtcBlock[] = [];
    for (const height of heights) blocks.push(await this.readBlock(height));
    return blocks;
  }

  async blockRefs(numbers: number[]): Promise<BlockRef[]> {
    return mapLimit(numbers, this.options.concurrency, async (height) => {
      const hash = await this.hashAt(height);
      const { ref } = await this.header(hash);
      checkBlockIdentity(ref, height, hash);
      return ref;
    });
  }

  private async readBlock(height: number): Promise<BtcBlock> {
    const hash = await this.hashAt(height);
    const { ref, txCount } = await this.header(hash);
    checkBlockIdentity(ref, height, hash);
    const starts = Array.from({ length: Math.ceil(txCount / ESPLORA_PAGE) }, (_, i) => i * ESPLORA_PAGE);
    const pages = await mapLimit(starts, this.options.concurrency, async (start) => {
      const path = `/block/${hash}/txs/${start}`;
      return expectArray(await this.json(path), `GET ${path}`).map((tx) => this.toTx(tx, path));
    });
    const txs = pages.flat();
    if (txs.length !== txCount)
      throw new EndpointError(`block ${hash}: tx_count is ${txCount} but ${txs.length} were served`);
    return { ref, txs };
  }

  private async hashAt(height: number): Promise<string> {
    return expectHash((await this.text(`/block-height/${height}`)).trim(), `GET /block-height/${height}`);
  }

  private async header(hash: string): Promise<{ ref: BlockRef; txCount: number }> {
    const what = `GET /block/${hash}`;
    const block = expectObject(await this.json(`/block/${hash}`), what);
    const parent = block.previousblockhash;
    return {
      ref: {
        number: expectInt(block.height, `${what}: height`),
        hash: expectHash(block.id, `${what}: id`),
        // electrs writes null for the genesis block's parent.
        parentHash:
          parent === null || parent === undefined ? ZERO_HASH : expectHash(parent, `${what}: previousblockhash`),
        time: expectInt(block.timestamp, `${what}: timestamp`),
      },
      txCount: expectInt(block.tx_count, `${what}: tx_count`),
    };
  }

  private toTx(json: unknown, where: string): BtcTx {
    const tx = expectObject(json, `${where}: a transaction`);
    const txid = expectHash(tx.txid, `${where}: txid`);
    const vin = expectArray(tx.vin, `${txid}: vin`).map((raw): BtcInput => {
      const input = expectObject(raw, `${txid}: vin[]`);
      if (input.is_coinbase === true) return { coinbase: true, txid: ZERO_HASH, vout: 0, prevout: undefined };
      const vout = expectInt(input.vout, `${txid}: vin vout`);
      if (input.prevout === null || input.prevout === undefined) {
        throw new EndpointError(`malformed response: input ${String(input.txid)}:${vout} of ${txid} has no prevout`);
      }
      const prevout = this.toOutput(input.prevout, vout, `${txid}: prevout`);
      return {
        coinbase: false,
        txid: expectHash(input.txid, `${txid}: vin txid`),
        vout,
        prevout: { value: prevout.value, address: prevout.address },
      };
    });
    const vout = expectArray(tx.vout, `${txid}: vout`).map((raw, i) => this.toOutput(raw, i, `${txid}: vout[${i}]`));
    return { txid, vin, vout };
  }

  private toOutput(json: unknown, n: number, what: string): BtcOutput {
    const output = expectObject(json, what);
    return {
      n,
      value: expectSats(output.value, `${what}.value`),
      address: outputName(output.scriptpubkey, output.scriptpubkey_address, this.options.network),
    };
  }

  private async text(path: string): Promise<string> {
    const reply = await httpRequest(this.target, path, {
      method: 'GET',
      timeoutMs: this.options.timeoutMs,
      counters: this.options.counters,
      maxResponseBytes: this.options.maxResponseBytes,
    });
    if (reply.status !== 200)
      throw new EndpointError(`GET ${path}: HTTP ${reply.status} ${reply.text.slice(0, 200)}`.trim());
    return reply.text;
  }

  private async json(path: string): Promise<unknown> {
    return parseJsonWithAmounts(await this.text(path), AMOUNT_KEYS, 'sat');
  }
}
