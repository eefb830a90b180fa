import type { BlockRef } from '../../core/model.ts';
import { type HttpTarget, httpTarget } from '../http/endpoint-url.ts';
import { EndpointError, httpRequest, type RequestCounters } from '../http/http-request.ts';
import { parseLosslessJson } from '../lossless-json.ts';
import { arr, obj, parseBlock, parseBlockId, parseTxInfo, type TronBlock, type TronTxInfo } from './wire.ts';

export interface TronHttpApiOptions {
  timeoutMs: number;
  counters: RequestCounters;
  maxResponseBytes: number;
}

/**
 * One java-tron HTTP API endpoint, read through its solidity paths (`/walletsolidity/*`): only
 * solidified (irreversible) blocks and their transaction info. Every answer is checked against what
 * was asked (block numbers, transaction ids); a short or empty answer is this endpoint lacking the
 * data, never an empty chain.
 */
export class TronHttpApi {
  readonly label: string;
  private readonly target: HttpTarget;

  constructor(
    url: string,
    private readonly options: TronHttpApiOptions,
  ) {
    this.target = httpTarget(url);
    this.label = `http ${this.target.label}`;
  }

  /** The latest solidified block's header. */
  async solidHead(): Promise<BlockRef> {
    return parseBlock(await this.post('getnowblock', {}), 'getnowblock').ref;
  }

  /** Block `num`'s blockID, reading nothing else of the block. */
  async blockId(num: number): Promise<string> {
    const { number, hash } = parseBlockId(await this.post('getblockbynum', { num }), `getblockbynum(${num})`);
    if (number !== num) throw new EndpointError(`getblockbynum(${num}) answered block ${number}`);
    return hash;
  }

  async block(num: number): Promise<TronBlock> {
    const block = parseBlock(await this.post('getblockbynum', { num }), `getblockbynum(${num})`);
    if (block.ref.number !== num) throw new EndpointError(`getblockbynum(${num}) answered block ${block.ref.number}`);
    return block;
  }

  /** Blocks [from, to], ascending; the caller keeps `to - from` below 100 (java-tron's limit, end exclusive). */
  async blocks(from: number, to: number): Promise<TronBlock[]> {
    const what = `getblockbylimitnext(${from}, ${to + 1})`;
    // java-tron answers {} for a range it cannot serve (beyond its solidified head, or too long).
    const answer = obj(await this.post('getblockbylimitnext', { startNum: from, endNum: to + 1 }), what);
    const blocks = arr(answer.block ?? [], `${what}.block`).map((b, i) => parseBlock(b, `${what}.block[${i}]`));
    blocks.forEach((b, i) => {
      if (b.ref.number !== from + i) {
        throw new EndpointError(`${what}: block ${i} of the answer is block ${b.ref.number}, expected ${from + i}`);
      }
    });
    if (blocks.length !== to - from + 1) {
      throw new EndpointError(
        `${what} served ${blocks.length} of ${to - from + 1} blocks (not yet solidified on this endpoint?)`,
      );
    }
    return blocks;
  }

  async txInfo(id: string): Promise<TronTxInfo> {
    const what = `gettransactioninfobyid(${id})`;
    const answer = obj(await this.post('gettransactioninfobyid', { value: id }), what);
    if (Object.keys(answer).length === 0)
      throw new EndpointError(`${what}: the endpoint has no info for this transaction`);
    const info = parseTxInfo(answer, what);
    if (info.id !== id) throw new EndpointError(`${what} answered the info of ${info.id}`);
    return info;
  }

  /** The info of every transaction of block `num` (an empty block has none). */
  async txInfosOfBlock(num: number): Promise<TronTxInfo[]> {
    const what = `gettransactioninfobyblocknum(${num})`;
    const answer = await this.post('gettransactioninfobyblocknum', { num });
    // An empty block: java-tron answers [] (or {}).
    const list = Array.isArray(answer) ? answer : Object.keys(obj(answer, what)).length === 0 ? [] : arr(answer, what);
    return list.map((info, i) => parseTxInfo(info, `${what}[${i}]`));
  }

  /** `getaccount` at the solidified head (`{}` for an account that does not exist). */
  async account(address: string): Promise<Record<string, unknown>> {
    return obj(await this.post('getaccount', { address, visible: true }), `getaccount(${address})`);
  }

  /** A read-only call at the solidified head: `triggerconstantcontract` (tron-balances.ts reads its answer). */
  async constantCall(contract: string, selector: string, parameter: string): Promise<Record<string, unknown>> {
    const body = {
      owner_address: contract,
      contract_address: contract,
      function_selector: selector,
      parameter,
      visible: true,
    };
    return obj(await this.post('triggerconstantcontract', body), `triggerconstantcontract(${contract}, ${selector})`);
  }

  private async post(method: string, body: Record<string, unknown>): Promise<unknown> {
    this.options.counters.rpcCalls++;
    const reply = await httpRequest(this.target, `/walletsolidity/${method}`, {
      method: 'POST',
      body: JSON.stringify(body),
      timeoutMs: this.options.timeoutMs,
      counters: this.options.counters,
      maxResponseBytes: this.options.maxResponseBytes,
    });
    if (reply.status !== 200) {
      throw new EndpointError(`POST /walletsolidity/${method}: HTTP ${reply.status}: ${reply.text.slice(0, 200)}`);
    }
    let parsed: unknown;
    try {
      parsed = parseLosslessJson(reply.text);
    } catch (e) {
      throw new EndpointError(`POST /walletsolidity/${method}: malformed JSON: ${(e as Error).message}`, { cause: e });
    }
    // java-tron reports failures as 200 with {"Error": "…"}.
    if (parsed && typeof parsed === 'object' && 'Error' in parsed) {
      throw new EndpointError(
        `POST /walletsolidity/${method}: ${String((parsed as { Error: unknown }).Error).slice(0, 200)}`,
      );
    }
    return parsed;
  }
}
