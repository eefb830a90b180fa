import type { ChainReader, ReadableChain } from '../../core/chain-kind.ts';
import { ChainReadError, ConfigError } from '../../core/errors.ts';
import type { BlockRef, RangeRead } from '../../core/model.ts';
import type { BalanceReader } from '../../core/ports.ts';
import { describe, EndpointError, newCounters, type RequestCounters } from '../http/http-request.ts';
import { classicAddress } from './addresses.ts';
import { expectObject, ledgerRef, ledgerTransactions, parseTransaction, touchesAny } from './ledger-shapes.ts';
import { transfersOfLedgers, UnseenMovementError, type XrplLedger, type XrplWalletView } from './outflows.ts';
import { readXrplBalances } from './xrpl-balances.ts';
import { XrplRpcEndpoint } from './xrpl-rpc.ts';
import { type XrplSettings, xrplSettingsOf } from './xrpl-settings.ts';

/** account_tx pages per hot wallet per read, at 400 transactions a page: a bound, never reached by a sane range. */
const MAX_ACCOUNT_TX_PAGES = 500;

/**
 * Reads XRP Ledger hot-wallet outflows from validated ledgers over JSON-RPC (rippled/xrpld or Clio).
 *
 * Endpoints are tried in config order, the last one that worked first; each call runs whole on one
 * endpoint (a range is never stitched from two servers' views) and moves to the next on any failure:
 * unreachable, timeout, `lgrNotFound` (history pruned), a ledger that is not validated, ledgers that
 * do not link by parent hash, malformed data. When every endpoint fails, ChainReadError names each
 * endpoint and why. Before its first use an endpoint must say it serves the configured network.
 *
 * `head()` cross-checks the endpoints when there are several (see `crossCheckHeads`).
 * What counts as an outflow is in outflows.ts; the two read modes are in docs/XRPL.md.
 */
export class XrplChainReader implements ChainReader, BalanceReader {
  readonly chain: string;
  private readonly settings: XrplSettings;
  private readonly endpoints: XrplRpcEndpoint[];
  private readonly wallets: XrplWalletView;
  private readonly verified = new Set<XrplRpcEndpoint>();
  /** Endpoints the last head cross-check found disagreeing with the majority or lagging, and why. */
  private readonly suspended = new Map<XrplRpcEndpoint, string>();
  private readonly requestCounters = newCounters();
  private preferred = 0;

  constructor(config: ReadableChain) {
    const settings = xrplSettingsOf(config);
    if (!settings) {
      throw new ConfigError(`chain ${config.id}`, [`chains.${config.id}.kind: the xrpl reader needs kind "xrpl"`]);
    }
    this.chain = config.id;
    this.settings = settings;
    this.wallets = {
      chain: config.id,
      hot: new Set(config.hotWallets.map(classicAddress)),
      decimals: new Map((settings.tokens ?? []).map((t) => [t.contract, t.decimals])),
    };
    this.endpoints = settings.rpc.map(
      (url) =>
        new XrplRpcEndpoint(url, {
          timeoutMs: settings.rpcTimeoutMs,
          batchSize: settings.batchSize,
          concurrency: settings.concurrency,
          counters: this.requestCounters,
          maxResponseBytes: settings.rpcMaxResponseBytes,
        }),
    );
  }

  /** Requests sent so far (for benchmarks and metrics). */
  counters(): RequestCounters {
    return { ...this.requestCounters };
  }

  async head(): Promise<number> {
    if (this.endpoints.length === 1)
      return this.withFailover('head()', (e) => this.validatedRef(e).then((r) => r.number));
    return this.crossCheckHeads();
  }

  async readRange(from: number, to: number): Promise<RangeRead> {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from) {
      throw new RangeError(`readRange(${from}, ${to}): expected 0 <= from <= to`);
    }
    return this.withFailover(`readRange(${from}, ${to})`, async (endpoint) => {
      const ledgers =
        this.settings.readMode === 'ledger'
          ? await this.readLedgers(endpoint, from, to)
          : await this.readAccountTx(endpoint, from, to);
      checkLinks(ledgers.map((l) => l.ref));
      return { blocks: ledgers.map((l) => l.ref), transfers: transfersOfLedgers(ledgers, this.wallets) };
    });
  }

  /** The hot wallets' balances at a validated ledger, by its hash (xrpl-balances.ts). */
  balancesAt(
    block: { number: number; hash: string },
    contracts: readonly (string | null)[],
  ): Promise<Map<string | null, bigint>> {
    return this.withFailover(`balancesAt(${block.number})`, (endpoint) =>
      readXrplBalances(endpoint, this.wallets, block, contracts),
    );
  }

  blockRefs(numbers: number[]): Promise<BlockRef[]> {
    if (numbers.length === 0) return Promise.resolve([]);
    return this.withFailover(`blockRefs(${numbers.join(', ')})`, (endpoint) => this.headers(endpoint, numbers));
  }

  /** Every ledger of the range with its transactions and metadata: one `ledger` call per ledger. */
  private async readLedgers(endpoint: XrplRpcEndpoint, from: number, to: number): Promise<XrplLedger[]> {
    const indexes = range(from, to);
    const results = await endpoint.calls(
      'ledger',
      indexes.map((n) => ({ ledger_index: n, transactions: true, expand: true, binary: false })),
    );
    return results.map((result, i) => {
      const ref = ledgerRef(result, indexes[i]);
      const txs = ledgerTransactions(result, ref)
        .map((entry) => parseTransaction(entry, ref.number))
        .sort((a, b) => a.position - b.position)
        .filter((tx) => touchesAny(tx, this.wallets.hot));
      return { ref, txs };
    });
  }

  /**
   * The hot wallets' transactions from `account_tx` (one call per wallet, more when it pages) and a
   * header per ledger. account_tx says which ledgers it searched; a server whose history starts
   * later answers a narrower range, which fails the endpoint rather than read as "no transactions".
   */
  private async readAccountTx(endpoint: XrplRpcEndpoint, from: number, to: number): Promise<XrplLedger[]> {
    const refs = await this.headers(endpoint, range(from, to));
    const byLedger = new Map<number, Map<string, ReturnType<typeof parseTransaction>>>();
    for (const account of this.wallets.hot) {
      let marker: unknown;
      for (let page = 0; ; page++) {
        if (page === MAX_ACCOUNT_TX_PAGES) {
          throw new EndpointError(`account_tx ${account} ${from}–${to}: more than ${MAX_ACCOUNT_TX_PAGES} pages`);
        }
        const result = await endpoint.call('account_tx', {
          account,
          ledger_index_min: from,
          ledger_index_max: to,
          forward: true,
          binary: false,
          limit: 400,
          ...(marker === undefined ? {} : { marker }),
        });
        if (result.ledger_index_min !== from || result.ledger_index_max !== to) {
          throw new EndpointError(
            `account_tx ${account}: asked for ledgers ${from}–${to}, the server searched ${String(result.ledger_index_min)}–${String(result.ledger_index_max)} (history not available)`,
          );
        }
        const items = result.transactions;
        if (!Array.isArray(items)) throw new EndpointError(`account_tx ${account}: transactions is not an array`);
        for (const item of items) {
          const entry = expectObject(item, `account_tx ${account}: a transaction`);
          const ledger = entry.ledger_index;
          const ref = typeof ledger === 'number' ? refs[ledger - from] : undefined;
          if (!ref || entry.validated !== true || String(entry.ledger_hash).toUpperCase() !== ref.hash) {
            throw new EndpointError(
              `account_tx ${account}: transaction ${String(entry.hash)} is not in validated ledger ${String(ledger)} of ${from}–${to} (ledger_hash ${String(entry.ledger_hash)})`,
            );
          }
          const tx = parseTransaction(entry, ledger as number);
          const txs = byLedger.get(ref.number) ?? new Map();
          txs.set(tx.hash, tx);
          byLedger.set(ref.number, txs);
        }
        marker = result.marker;
        if (marker === undefined) break;
      }
    }
    return refs.map((ref) => ({
      ref,
      txs: [...(byLedger.get(ref.number)?.values() ?? [])].sort((a, b) => a.position - b.position),
    }));
  }

  private async headers(endpoint: XrplRpcEndpoint, numbers: readonly number[]): Promise<BlockRef[]> {
    const results = await endpoint.calls(
      'ledger',
      numbers.map((n) => ({ ledger_index: n, transactions: false, expand: false })),
    );
    return results.map((result, i) => ledgerRef(result, numbers[i]));
  }

  private async validatedRef(endpoint: XrplRpcEndpoint): Promise<BlockRef> {
    await this.verifyNetwork(endpoint);
    return ledgerRef(await endpoint.call('ledger', { ledger_index: 'validated', transactions: false }), undefined);
  }

  /**
   * With several endpoints: ask each for its validated ledger. One trailing the best by more than
   * `maxLagLedgers` is suspended. The others must agree on the hash of the lowest of their validated
   * ledgers (validated ledgers never fork, so a disagreement is a lying or foreign endpoint): the
   * minority is suspended; with no majority (one against one) nothing can be trusted and head()
   * throws ChainReadError, so polls fail loudly until they agree. The head is the lowest validated
   * ledger of the agreeing endpoints, which each of them can serve. Cost: one call per endpoint, plus
   * one header from each endpoint that is ahead of the lowest.
   */
  private async crossCheckHeads(): Promise<number> {
    const answers = await Promise.all(
      this.endpoints.map(async (endpoint) => {
        try {
          return { endpoint, ref: await this.validatedRef(endpoint) };
        } catch (e) {
          this.requestCounters.endpointFailures++;
          return { endpoint, failure: describe(e) };
        }
      }),
    );
    const live = answers.flatMap((a) => (a.ref ? [{ endpoint: a.endpoint, ref: a.ref }] : []));
    if (live.length === 0) {
      throw new ChainReadError(
        `${this.chain}: head() failed on every endpoint:\n  - ${answers.map((a) => `${a.endpoint.label}: ${a.failure}`).join('\n  - ')}`,
      );
    }
    const best = Math.max(...live.map((a) => a.ref.number));
    this.suspended.clear();
    for (const a of answers) if (a.failure) this.suspended.set(a.endpoint, a.failure);
    const current = live.filter((a) => {
      const behind = best - a.ref.number;
      if (behind > this.settings.maxLagLedgers)
        this.suspended.set(a.endpoint, `${behind} ledgers behind the best endpoint`);
      return behind <= this.settings.maxLagLedgers;
    });
    const reference = Math.min(...current.map((a) => a.ref.number));
    const hashes = await Promise.all(
      current.map(async (a) => {
        if (a.ref.number === reference) return { ...a, hash: a.ref.hash };
        try {
          const [ref] = await this.headers(a.endpoint, [reference]);
          return { ...a, hash: (ref as BlockRef).hash };
        } catch (e) {
          this.suspended.set(a.endpoint, `cannot serve ledger ${reference}: ${describe(e)}`);
          return undefined;
        }
      }),
    );
    const compared = hashes.filter((h) => h !== undefined);
    const votes = new Map<string, number>();
    for (const h of compared) votes.set(h.hash, (votes.get(h.hash) ?? 0) + 1);
    const [majority, count] = [...votes].sort((a, b) => b[1] - a[1])[0] ?? ['', 0];
    if (votes.size > 1 && count * 2 <= compared.length) {
      throw new ChainReadError(
        `${this.chain}: endpoints disagree on validated ledger ${reference} with no majority: ${compared.map((h) => `${h.endpoint.label} says ${h.hash}`).join(', ')}`,
      );
    }
    const agreeing = compared.filter((h) => {
      if (h.hash !== majority)
        this.suspended.set(h.endpoint, `says ledger ${reference} is ${h.hash}, the majority ${majority}`);
      return h.hash === majority;
    });
    return Math.min(...agreeing.map((h) => h.ref.number));
  }

  private async withFailover<T>(what: string, op: (endpoint: XrplRpcEndpoint) => Promise<T>): Promise<T> {
    const failures: string[] = [];
    const causes: unknown[] = [];
    for (let attempt = 0; attempt < this.endpoints.length; attempt++) {
      const i = (this.preferred + attempt) % this.endpoints.length;
      const endpoint = this.endpoints[i] as XrplRpcEndpoint;
      const suspension = this.suspended.get(endpoint);
      if (suspension !== undefined) {
        failures.push(`${endpoint.label}: not used: ${suspension}`);
        continue;
      }
      try {
        await this.verifyNetwork(endpoint);
        const result = await op(endpoint);
        this.preferred = i;
        return result;
      } catch (e) {
        if (e instanceof UnseenMovementError)
          throw new ChainReadError(`${this.chain}: ${what}: ${e.message}`, { cause: e });
        this.requestCounters.endpointFailures++;
        failures.push(
          `${endpoint.label}: ${e instanceof EndpointError ? e.message : `malformed data: ${describe(e)}`}`,
        );
        causes.push(e);
      }
    }
    throw new ChainReadError(`${this.chain}: ${what} failed on every endpoint:\n  - ${failures.join('\n  - ')}`, {
      cause: new AggregateError(causes),
    });
  }

  private async verifyNetwork(endpoint: XrplRpcEndpoint): Promise<void> {
    if (this.verified.has(endpoint)) return;
    const info = expectObject((await endpoint.call('server_info', {})).info, 'server_info: info');
    const networkId = info.network_id ?? 0;
    if (networkId !== this.settings.networkId) {
      throw new EndpointError(
        `serves network_id ${JSON.stringify(networkId)}, but the config says networkId ${this.settings.networkId}`,
      );
    }
    this.verified.add(endpoint);
  }
}

function checkLinks(refs: readonly BlockRef[]): void {
  for (let i = 1; i < refs.length; i++) {
    const prev = refs[i - 1] as BlockRef;
    const ref = refs[i] as BlockRef;
    if (ref.parentHash !== prev.hash) {
      throw new EndpointError(
        `ledger ${ref.number} (${ref.hash}) has parent ${ref.parentHash}, not ledger ${prev.number} (${prev.hash})`,
      );
    }
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
