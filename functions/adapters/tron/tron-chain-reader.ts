import type { ChainReader, ReadableChain } from '../../core/chain-kind.ts';
import { ChainReadError, ConfigError } from '../../core/errors.ts';
import type { BlockRef, ChainTransfer, RangeRead } from '../../core/model.ts';
import type { BalanceReader } from '../../core/ports.ts';
import { JsonRpcClient } from '../evm/json-rpc-client.ts';
import { addressTopic, checkLogs, type RpcLog, TRANSFER_TOPIC, toQuantity } from '../evm/rpc-shapes.ts';
import { describe, EndpointError, mapLimit, newCounters, type RequestCounters } from '../http/http-request.ts';
import { evmHexOf, tronAddress } from './addresses.ts';
import { TronHeadCheck } from './head-check.ts';
import { TronHttpApi } from './http-api.ts';
import { needsInfo, type TronWalletView, transfersOfBlock } from './outflows.ts';
import { readTronBalances } from './tron-balances.ts';
import { type TronSettings, tronSettingsOf } from './tron-settings.ts';
import type { TronBlock, TronTxInfo } from './wire.ts';

export interface TronChainReaderOptions {
  /**
   * Transaction-info requests in flight at once on one endpoint.
   * @default 4
   */
  readonly infoConcurrency?: number;
}

/**
 * Reads Tron hot-wallet outflows from solidified blocks (what counts: outflows.ts).
 *
 * Per range [from, to]:
 *  1. `/walletsolidity/getblockbylimitnext` for up to 100 blocks per request: headers and every
 *     transaction with its result;
 *  2. with a JSON-RPC endpoint: one batch of `eth_getBlockByNumber(to)` (proving the endpoint has the
 *     range and is on the same chain: its hash must be block `to`'s blockID) and ONE `eth_getLogs` for
 *     TRC-20 Transfers from any hot wallet; then `/walletsolidity/gettransactioninfobyid` for the
 *     candidate transactions only (those logs' transactions, contract calls by or into a hot wallet);
 *  3. without one: `/walletsolidity/gettransactioninfobyblocknum` for every block with transactions.
 *
 * HTTP endpoints are tried in config order, the last one that worked first; each step runs whole on
 * one endpoint and moves to the next on any failure (unreachable, timeout, error, short or malformed
 * answer). JSON-RPC endpoints fail over inside their client. Before first use an HTTP endpoint must
 * serve the configured genesis block; with two or more, their solidified heads are cross-checked
 * (head-check.ts). When nothing can be read the call throws ChainReadError naming each endpoint and why.
 */
export class TronChainReader implements ChainReader, BalanceReader {
  readonly chain: string;
  private readonly settings: TronSettings;
  private readonly apis: TronHttpApi[];
  private readonly jsonRpc: JsonRpcClient | undefined;
  private readonly wallets: TronWalletView;
  private readonly hotTopics: string[];
  private readonly headCheck: TronHeadCheck;
  private readonly verified = new Set<TronHttpApi>();
  private readonly requestCounters = newCounters();
  private readonly infoConcurrency: number;
  private suspended: ReadonlyMap<TronHttpApi, string> = new Map();
  private preferred = 0;

  constructor(config: ReadableChain, options: TronChainReaderOptions = {}) {
    const raw = tronSettingsOf(config);
    if (!raw) {
      throw new ConfigError(`chain ${config.id}`, [`chains.${config.id}.kind: the tron reader needs kind "tron"`]);
    }
    this.chain = config.id;
    this.settings = raw;
    this.infoConcurrency = options.infoConcurrency ?? 4;
    const hot = new Set(config.hotWallets.map(tronAddress));
    this.wallets = { chain: config.id, hot };
    this.hotTopics = [...hot].map((a) => addressTopic(`0x${evmHexOf(a)}`));
    const apiOptions = {
      timeoutMs: raw.rpcTimeoutMs,
      counters: this.requestCounters,
      maxResponseBytes: raw.rpcMaxResponseBytes,
    };
    this.apis = raw.http.map((url) => new TronHttpApi(url, apiOptions));
    this.jsonRpc =
      raw.jsonRpc.length === 0
        ? undefined
        : new JsonRpcClient({
            label: `${config.id} (tron json-rpc)`,
            urls: raw.jsonRpc,
            timeoutMs: raw.rpcTimeoutMs,
            batchSize: 2,
            maxResponseBytes: raw.rpcMaxResponseBytes,
          });
    this.headCheck = new TronHeadCheck({
      chain: config.id,
      maxLagBlocks: raw.rpcMaxLagBlocks,
      everyPolls: raw.rpcCrossCheckEveryPolls,
    });
  }

  /** Requests sent so far, HTTP API and JSON-RPC together (for benchmarks and metrics). */
  counters(): RequestCounters {
    const rpc = this.jsonRpc?.counters() ?? { rpcCalls: 0, httpRequests: 0 };
    return {
      httpRequests: this.requestCounters.httpRequests + rpc.httpRequests,
      rpcCalls: this.requestCounters.rpcCalls + rpc.rpcCalls,
      endpointFailures: this.requestCounters.endpointFailures,
    };
  }

  /** The solidified head of the first usable endpoint (after the cross-check when it is due). */
  async head(): Promise<number> {
    if (this.apis.length > 1 && this.headCheck.due()) {
      // Only endpoints proven to serve the configured chain take part; one that fails the genesis pin is
      // left out here and reported by withFailover when a read reaches it.
      for (const api of this.apis) await this.verifyNetwork(api).catch(() => undefined);
      this.suspended = (await this.headCheck.run(this.apis.filter((api) => this.verified.has(api)))).suspended;
    }
    return this.withFailover('head()', async (api) => (await api.solidHead()).number);
  }

  async readRange(from: number, to: number): Promise<RangeRead> {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from) {
      throw new RangeError(`readRange(${from}, ${to}): expected 0 <= from <= to`);
    }
    const blocks = await this.withFailover(`readRange(${from}, ${to}) blocks`, (api) => this.readBlocks(api, from, to));
    const infos = this.jsonRpc
      ? await this.candidateInfos(blocks, await this.logCandidates(blocks, from, to))
      : await this.withFailover(`readRange(${from}, ${to}) transaction info by block`, (api) =>
          this.blockInfos(api, blocks),
        );
    let transfers: ChainTransfer[];
    try {
      transfers = blocks.flatMap((b) => transfersOfBlock(b, infos, this.wallets));
    } catch (e) {
      throw new ChainReadError(`${this.chain}: readRange(${from}, ${to}): ${describe(e)}`, { cause: e });
    }
    return { blocks: blocks.map((b) => b.ref), transfers };
  }

  blockRefs(numbers: number[]): Promise<BlockRef[]> {
    if (numbers.length === 0) return Promise.resolve([]);
    return this.withFailover(`blockRefs(${numbers.join(', ')})`, (api) =>
      mapLimit(numbers, this.infoConcurrency, async (n) => (await api.block(n)).ref),
    );
  }

  /** The hot wallets' TRX, TRC-10 and TRC-20 balances at the solidified head, at or past the block (tron-balances.ts). */
  balancesAt(
    block: { number: number; hash: string },
    contracts: readonly (string | null)[],
  ): Promise<Map<string | null, bigint>> {
    const hot = [...this.wallets.hot];
    return this.withFailover(`balancesAt(${block.number})`, (api) => readTronBalances(api, hot, block, contracts));
  }

  private async readBlocks(api: TronHttpApi, from: number, to: number): Promise<TronBlock[]> {
    const blocks: TronBlock[] = [];
    for (let start = from; start <= to; start += this.settings.blocksPerRequest) {
      blocks.push(...(await api.blocks(start, Math.min(to, start + this.settings.blocksPerRequest - 1))));
    }
    for (let i = 1; i < blocks.length; i++) {
      const prev = (blocks[i - 1] as TronBlock).ref;
      const ref = (blocks[i] as TronBlock).ref;
      if (ref.parentHash !== prev.hash) {
        throw new EndpointError(
          `block ${ref.number}'s parent ${ref.parentHash} is not block ${prev.number} (${prev.hash})`,
        );
      }
    }
    return blocks;
  }

  /** The transactions a TRC-20 Transfer from a hot wallet is in, by one eth_getLogs over the range. */
  private async logCandidates(blocks: TronBlock[], from: number, to: number): Promise<Set<string>> {
    const client = this.jsonRpc as JsonRpcClient;
    const last = (blocks[blocks.length - 1] as TronBlock).ref;
    const hashOf = new Map(blocks.map((b) => [b.ref.number, `0x${b.ref.hash}`]));
    const [, logs] = (await client.batch(
      [
        {
          method: 'eth_getBlockByNumber',
          params: [toQuantity(to), false],
          check: (r) =>
            (r as { hash?: unknown }).hash === `0x${last.hash}`
              ? undefined
              : `block ${to} is ${(r as { hash?: unknown }).hash}, the HTTP API's solidified block is 0x${last.hash}`,
        },
        {
          method: 'eth_getLogs',
          params: [{ fromBlock: toQuantity(from), toBlock: toQuantity(to), topics: [TRANSFER_TOPIC, this.hotTopics] }],
          check: (r) => checkLogs(r) ?? logsOutside(r as RpcLog[], hashOf),
        },
      ],
      // Both answers from one endpoint: the block proves that endpoint had the whole range.
      { atomic: true },
    )) as [unknown, RpcLog[]];
    return new Set(logs.map((l) => l.transactionHash.replace(/^0x/, '').toLowerCase()));
  }

  private async candidateInfos(blocks: TronBlock[], fromLogs: Set<string>): Promise<Map<string, TronTxInfo>> {
    const inRange = new Set(blocks.flatMap((b) => b.txs.map((t) => t.id)));
    for (const id of fromLogs) {
      if (!inRange.has(id)) {
        throw new ChainReadError(
          `${this.chain}: eth_getLogs names transaction ${id}, which no block of the range holds`,
        );
      }
    }
    const ids = blocks.flatMap((b) =>
      b.txs.filter((t) => fromLogs.has(t.id) || needsInfo(t, this.wallets.hot)).map((t) => t.id),
    );
    if (ids.length === 0) return new Map();
    return this.withFailover(`transaction info of ${ids.length} candidate(s)`, async (api) => {
      const infos = await mapLimit(ids, this.infoConcurrency, (id) => api.txInfo(id));
      return new Map(infos.map((i) => [i.id, i]));
    });
  }

  private async blockInfos(api: TronHttpApi, blocks: TronBlock[]): Promise<Map<string, TronTxInfo>> {
    const withTxs = blocks.filter((b) => b.txs.length > 0);
    const lists = await mapLimit(withTxs, this.infoConcurrency, async (b) => {
      const infos = await api.txInfosOfBlock(b.ref.number);
      const ids = new Set(b.txs.map((t) => t.id));
      for (const info of infos) {
        if (!ids.has(info.id))
          throw new EndpointError(
            `gettransactioninfobyblocknum(${b.ref.number}) has info of ${info.id}, not in the block`,
          );
      }
      return infos;
    });
    return new Map(lists.flat().map((i) => [i.id, i]));
  }

  private async withFailover<T>(what: string, op: (api: TronHttpApi) => Promise<T>): Promise<T> {
    const failures: string[] = [];
    const causes: unknown[] = [];
    for (let attempt = 0; attempt < this.apis.length; attempt++) {
      const i = (this.preferred + attempt) % this.apis.length;
      const api = this.apis[i] as TronHttpApi;
      const suspended = this.suspended.get(api);
      if (suspended) {
        failures.push(`${api.label}: suspended by the head cross-check (${suspended})`);
        continue;
      }
      try {
        await this.verifyNetwork(api);
        const result = await op(api);
        this.preferred = i;
        return result;
      } catch (e) {
        this.requestCounters.endpointFailures++;
        failures.push(`${api.label}: ${e instanceof EndpointError ? e.message : `malformed data: ${describe(e)}`}`);
        causes.push(e);
      }
    }
    throw new ChainReadError(`${this.chain}: ${what} failed on every endpoint:\n  - ${failures.join('\n  - ')}`, {
      cause: new AggregateError(causes),
    });
  }

  private async verifyNetwork(api: TronHttpApi): Promise<void> {
    if (this.verified.has(api)) return;
    const genesis = await api.blockId(0);
    if (genesis !== this.settings.genesisBlockId) {
      throw new EndpointError(
        `serves a chain whose block 0 is ${genesis}, but the config's genesisBlockId is ${this.settings.genesisBlockId}`,
      );
    }
    this.verified.add(api);
  }
}

/** Why logs do not belong to the blocks read (another block number, another fork), or undefined. */
function logsOutside(logs: RpcLog[], hashOf: ReadonlyMap<number, string>): string | undefined {
  for (const l of logs) {
    const expected = hashOf.get(Number.parseInt(l.blockNumber, 16));
    if (expected === undefined) return `log of tx ${l.transactionHash} is in block ${l.blockNumber}, outside the range`;
    if (l.blockHash.toLowerCase() !== expected)
      return `log of tx ${l.transactionHash} is in block ${l.blockHash}, not ${expected}`;
  }
  return undefined;
}
