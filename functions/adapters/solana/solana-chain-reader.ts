import type { ChainReader, ReadableChain } from '../../core/chain-kind.ts';
import { ChainReadError, ConfigError } from '../../core/errors.ts';
import type { BlockRef, ChainTransfer, RangeRead } from '../../core/model.ts';
import type { BalanceReader } from '../../core/ports.ts';
import { JsonRpcClient, type JsonRpcClientOptions, type RpcCall, type RpcCounters } from '../evm/json-rpc-client.ts';
import { redactEndpoint } from '../http/endpoint-url.ts';
import { SignatureCache } from './signature-cache.ts';
import { readSolanaBalances } from './solana-balances.ts';
import { SolanaHeadCheck } from './solana-head-check.ts';
import { transfersOfTx } from './solana-outflows.ts';
import {
  checkWith,
  parseBlockHeader,
  parseSignatures,
  parseSlot,
  parseSlots,
  parseTransaction,
  type SolBlockHeader,
  type SolSignature,
} from './solana-rpc-shapes.ts';
import { CLUSTER_GENESIS, type SolanaSettings, solanaSettingsOf } from './solana-settings.ts';

export type SolanaChainReaderOptions = Pick<
  JsonRpcClientOptions,
  'fetch' | 'maxAttempts' | 'backoffMs' | 'maxConcurrentRequests'
> & {
  /**
   * Signatures per getSignaturesForAddress page (the API's maximum is 1000).
   * @default 1000
   */
  readonly signaturePageSize?: number;
};

const FINALIZED = 'finalized';
/** Pages of signatures one address may need for one range before the read gives up loudly. */
const MAX_SIGNATURE_PAGES = 1000;

/**
 * Reads Solana hot-wallet outflows at `finalized` over JSON-RPC, per address (docs/SOLANA.md):
 *  1. one batch: `getBlocks(from, to)` (the slots that have a block) and, for each hot wallet and
 *     listed token account, `getSignaturesForAddress` (newest first; more pages only while a page is
 *     full and still above what is needed), unless an earlier read already fetched that address's
 *     signatures for the range (signature-cache.ts);
 *  2. one batch: `getBlock` headers (no transactions) of those slots, and `getTransaction` of every
 *     successful signature in the range (a failed one cost only its fee, which is not counted).
 * Every call carries `minContextSlot: to`, so an endpoint whose finalized slot is behind the range
 * answers −32016 (or −32004 for a block it has not got) and the call moves to the next endpoint; a
 * batch runs whole on one endpoint. Each endpoint must first answer `getGenesisHash` with the
 * configured cluster's (a devnet endpoint in a mainnet config would match no wallet and go blind
 * quietly). With two or more endpoints their heads are cross-checked (solana-head-check.ts).
 * What counts is in solana-outflows.ts.
 */
export class SolanaChainReader implements ChainReader, BalanceReader {
  readonly chain: string;
  private readonly client: JsonRpcClient;
  private readonly hot: ReadonlySet<string>;
  /** Whose signatures are read: the hot wallets, then the listed token accounts. */
  private readonly watched: readonly string[];
  private readonly pageSize: number;
  private readonly headCheck: SolanaHeadCheck | undefined;
  private readonly signatures = new SignatureCache();
  /** With two or more endpoints: one client per endpoint, for second opinions on signature lists. */
  private readonly witnesses: { url: string; client: JsonRpcClient }[];
  /** Endpoints the head cross-check took out of use: no second opinion from them either. */
  private readonly setAside = new Set<string>();

  constructor(config: ReadableChain, options: SolanaChainReaderOptions = {}) {
    const raw = solanaSettingsOf(config);
    if (!raw) {
      throw new ConfigError(`chain ${config.id}`, [`chains.${config.id}.kind: the solana reader needs kind "solana"`]);
    }
    this.chain = config.id;
    this.hot = new Set(config.hotWallets);
    this.watched = [...new Set([...config.hotWallets, ...raw.tokenAccounts])];
    this.pageSize = options.signaturePageSize ?? 1000;
    const networkProbe = genesisProbe(raw);
    this.client = new JsonRpcClient({
      label: `chain ${config.id}`,
      urls: raw.rpc,
      timeoutMs: raw.rpcTimeoutMs,
      batchSize: raw.rpcBatchSize,
      maxResponseBytes: raw.rpcMaxResponseBytes,
      networkProbe,
      ...options,
    });
    this.witnesses =
      raw.rpc.length < 2
        ? []
        : raw.rpc.map((url) => ({
            url,
            client: new JsonRpcClient({
              label: `chain ${config.id} (second opinion from ${redactEndpoint(url)})`,
              urls: [url],
              timeoutMs: raw.rpcTimeoutMs,
              batchSize: raw.rpcBatchSize,
              maxResponseBytes: raw.rpcMaxResponseBytes,
              networkProbe,
              maxAttempts: 1,
              fetch: options.fetch,
            }),
          }));
    if (raw.rpc.length >= 2) {
      this.headCheck = new SolanaHeadCheck({
        label: `chain ${config.id}`,
        urls: raw.rpc,
        timeoutMs: raw.rpcTimeoutMs,
        networkProbe,
        maxLagSlots: raw.rpcMaxLagSlots,
        everyPolls: raw.rpcCrossCheckEveryPolls,
        fetch: options.fetch,
      });
    }
  }

  /** JSON-RPC calls and HTTP requests so far (for benchmarks and metrics); cross-checks are counted apart. */
  counters(): RpcCounters {
    return this.client.counters();
  }

  /** What the head cross-checks and the second endpoint's signature lists cost so far (zeros with one endpoint). */
  crossCheckCounters(): RpcCounters {
    const sum: RpcCounters = { rpcCalls: 0, httpRequests: 0, failedRequests: 0 };
    for (const c of [this.headCheck?.counters(), ...this.witnesses.map((w) => w.client.counters())]) {
      if (!c) continue;
      sum.rpcCalls += c.rpcCalls;
      sum.httpRequests += c.httpRequests;
      sum.failedRequests += c.failedRequests;
    }
    return sum;
  }

  /**
   * With two or more endpoints, each watched address's newest page of signatures from an endpoint
   * other than the one reads use: what it lists in the range is read too, so one endpoint leaving a
   * signature out cannot hide that transaction. At steady state the page covers the range; far
   * behind the tip it covers only its newest part. A witness that fails adds nothing (the read
   * itself does not depend on it).
   */
  private async witnessSignatures(from: number, to: number): Promise<SolSignature[]> {
    const current = this.client.currentUrl();
    const witness = this.witnesses.find((w) => w.url !== current && !this.setAside.has(w.url))?.client;
    if (!witness) return [];
    const pages = await witness
      .batch(
        this.watched.map(
          (address): RpcCall => ({
            method: 'getSignaturesForAddress',
            params: [address, { commitment: FINALIZED, minContextSlot: to, limit: this.pageSize }],
            check: checkWith((v) => parseSignatures(v, address)),
          }),
        ),
      )
      .catch(() => undefined);
    if (!pages) return [];
    return this.watched.flatMap((address, i) =>
      parseSignatures(pages[i], address).filter((s) => s.slot >= from && s.slot <= to),
    );
  }

  /**
   * The finalized slot of the endpoint reads will use. With two or more endpoints, every few polls
   * (and after a failure) all are asked, and one that lags or disagrees on a block hash is set aside.
   */
  async head(): Promise<number> {
    if (this.headCheck?.due()) {
      await this.headCheck.run({
        suspend: (url, why) => {
          this.client.suspend(url, why);
          this.setAside.add(url);
        },
        resume: (url) => {
          this.client.resume(url);
          this.setAside.delete(url);
        },
      });
    }
    const slot = await this.client.call<number>({
      method: 'getSlot',
      params: [{ commitment: FINALIZED }],
      check: checkWith(parseSlot),
    });
    return slot;
  }

  async readRange(from: number, to: number): Promise<RangeRead> {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from) {
      throw new RangeError(`readRange(${from}, ${to}): expected 0 <= from <= to`);
    }
    try {
      const { slots, signatures } = await this.slotsAndSignatures(from, to);
      const witnessed = await this.witnessSignatures(from, to);
      const wanted = [
        ...new Map([...signatures, ...witnessed].filter((s) => !s.failed).map((s) => [s.signature, s])).values(),
      ];
      const answers = await this.client.batch(
        [
          ...slots.map((slot) => blockHeaderCall(slot, to)),
          ...wanted.map(
            (s): RpcCall => ({
              method: 'getTransaction',
              params: [
                s.signature,
                { commitment: FINALIZED, encoding: 'json', maxSupportedTransactionVersion: 0, minContextSlot: to },
              ],
              check: checkWith((v) => parseTransaction(v, s.signature)),
            }),
          ),
        ],
        { atomic: true },
      );
      const headers = slots.map((slot, i) => parseBlockHeader(answers[i], slot));
      const blocks = linkedRefs(this.chain, headers, from);
      const bySlot = new Map(blocks.map((b) => [b.number, b]));
      const transfers: ChainTransfer[] = [];
      wanted.forEach((s, i) => {
        const tx = parseTransaction(answers[slots.length + i], s.signature);
        const block = bySlot.get(tx.slot);
        if (tx.slot !== s.slot || !block) {
          throw new ChainReadError(
            `${this.chain}: transaction ${s.signature} is in slot ${tx.slot}, listed in slot ${s.slot}, and getBlocks(${from}, ${to}) has no block there`,
          );
        }
        transfers.push(...transfersOfTx(tx, block, this.chain, this.hot));
      });
      transfers.sort((a, b) => a.block - b.block || compare(a.txHash, b.txHash) || (a.index ?? 0) - (b.index ?? 0));
      return { blocks, transfers };
    } catch (e) {
      this.headCheck?.recheckNextPoll();
      throw e;
    }
  }

  /** The hot wallets' SOL and token balances at finalized, no earlier than the block (solana-balances.ts). */
  balancesAt(
    block: { number: number; hash: string },
    contracts: readonly (string | null)[],
  ): Promise<Map<string | null, bigint>> {
    return readSolanaBalances(this.client, [...this.hot], block, contracts);
  }

  /** Headers of the given slots that have a block (a skipped slot has none and is left out). */
  async blockRefs(numbers: number[]): Promise<BlockRef[]> {
    if (numbers.length === 0) return [];
    const low = Math.min(...numbers);
    const high = Math.max(...numbers);
    const produced = new Set(await this.getBlocks(low, high));
    const slots = [...new Set(numbers)].filter((n) => produced.has(n)).sort((a, b) => a - b);
    const answers = await this.client.batch(
      slots.map((slot) => blockHeaderCall(slot, high)),
      { atomic: true },
    );
    return slots.map((slot, i) => toRef(parseBlockHeader(answers[i], slot)));
  }

  private getBlocks(from: number, to: number): Promise<number[]> {
    return this.client.call<number[]>(getBlocksCall(from, to));
  }

  /**
   * Round 1 (`getBlocks` and each address's first signature page), and further pages while an
   * address's page is full and has not reached what the reader needs; addresses whose signatures
   * for the range are already known (signature-cache.ts) cost nothing.
   */
  private async slotsAndSignatures(from: number, to: number): Promise<{ slots: number[]; signatures: SolSignature[] }> {
    const page = (address: string, before: string | undefined, until: string | undefined): RpcCall => ({
      method: 'getSignaturesForAddress',
      params: [
        address,
        {
          commitment: FINALIZED,
          minContextSlot: to,
          limit: this.pageSize,
          ...(before && { before }),
          ...(until && { until }),
        },
      ],
      check: checkWith((v) => parseSignatures(v, address)),
    });
    let open = this.watched.flatMap((address) => {
      const plan = this.signatures.plan(address, from, to);
      return plan.kind === 'fetch'
        ? [{ address, stopSlot: plan.stopSlot, until: plan.until, fetched: [] as SolSignature[] }]
        : [];
    });
    const [rawSlots, ...firstPages] = await this.client.batch(
      [getBlocksCall(from, to), ...open.map((o) => page(o.address, undefined, o.until))],
      { atomic: true },
    );
    const slots = parseSlots(rawSlots);
    if (slots.some((s) => s < from || s > to)) {
      throw new ChainReadError(`${this.chain}: getBlocks(${from}, ${to}) answered slots outside the range`);
    }
    let pages = firstPages;
    for (let round = 1; open.length > 0; round++) {
      const more: typeof open = [];
      open.forEach((o, i) => {
        const got = parseSignatures(pages[i], o.address);
        o.fetched.push(...got);
        const oldest = got[got.length - 1];
        const full = got.length === this.pageSize;
        if (full && oldest && oldest.slot > o.stopSlot) more.push(o);
        else this.signatures.record(o.address, from, to, o.stopSlot, o.fetched, !full);
      });
      if (more.length === 0) break;
      if (round >= MAX_SIGNATURE_PAGES) {
        throw new ChainReadError(
          `${this.chain}: ${more[0]?.address} has more than ${MAX_SIGNATURE_PAGES} pages of signatures above slot ${from}`,
        );
      }
      open = more;
      pages = await this.client.batch(
        open.map((o) => page(o.address, o.fetched[o.fetched.length - 1]?.signature, o.until)),
        { atomic: true },
      );
    }
    return { slots, signatures: this.watched.flatMap((address) => this.signatures.inRange(address, from, to)) };
  }
}

function getBlocksCall(from: number, to: number): RpcCall {
  return {
    method: 'getBlocks',
    params: [from, to, { commitment: FINALIZED, minContextSlot: to }],
    check: checkWith(parseSlots),
  };
}

function blockHeaderCall(slot: number, minContextSlot: number): RpcCall {
  return {
    method: 'getBlock',
    params: [
      slot,
      {
        commitment: FINALIZED,
        transactionDetails: 'none',
        rewards: false,
        maxSupportedTransactionVersion: 0,
        minContextSlot,
      },
    ],
    check: checkWith((v) => parseBlockHeader(v, slot)),
  };
}

function toRef(h: SolBlockHeader): BlockRef {
  return { number: h.slot, hash: h.blockhash, parentHash: h.previousBlockhash, time: h.blockTime };
}

/** The range's refs, after checking each block names the one before it as its parent (slot and hash). */
function linkedRefs(chain: string, headers: SolBlockHeader[], from: number): BlockRef[] {
  headers.forEach((h, i) => {
    const previous = headers[i - 1];
    if (
      previous ? h.parentSlot !== previous.slot || h.previousBlockhash !== previous.blockhash : h.parentSlot >= from
    ) {
      throw new ChainReadError(
        `${chain}: block ${h.slot} names slot ${h.parentSlot} (${h.previousBlockhash}) as its parent, not ` +
          (previous ? `slot ${previous.slot} (${previous.blockhash})` : `a slot below ${from}`) +
          ': getBlocks and getBlock disagree',
      );
    }
  });
  return headers.map(toRef);
}

function genesisProbe(raw: SolanaSettings) {
  const expected = raw.genesisHash ?? CLUSTER_GENESIS[raw.cluster];
  const clusterOf = (hash: unknown) => Object.entries(CLUSTER_GENESIS).find(([, h]) => h === hash)?.[0];
  return {
    method: 'getGenesisHash',
    params: [],
    problem: (result: unknown) =>
      result === expected
        ? undefined
        : `serves ${clusterOf(result) ?? 'another cluster'} (genesis ${String(result)}), but the config expects ${
            raw.genesisHash ? `genesis ${expected}` : raw.cluster
          }`,
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
