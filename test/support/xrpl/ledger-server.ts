import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AppliedTx, type ClosedLedger, RIPPLE_EPOCH_OFFSET, type XrplLedgerEngine } from './ledger-engine.ts';

/**
 * Serves an XrplLedgerEngine over rippled's JSON-RPC wire format (API v2), on 127.0.0.1 and a free
 * port: `server_info`, `ledger` (by index or "validated", with or without expanded transactions),
 * `account_tx` (ledger range, forward, limit and marker), `account_info` and `account_lines` (at a
 * ledger index or hash; lines page by `limit` and `marker`) and rippled's `batch` method. Errors are
 * answered as rippled does, HTTP 200 with `result.status: "error"` (`lgrNotFound`, `invalidParams`).
 *
 * Faults a test can set (each documented where it is declared): pruned history, a network id,
 * not-validated answers, a tampered answer, refusing batches, a frozen head.
 */
export interface LedgerServerFaults {
  /** Ledgers below this index answer lgrNotFound (a pruning server). */
  historyFrom?: number;
  /** account_tx searches only from this ledger on, as a server whose transaction history starts later does. */
  accountTxFrom?: number;
  /** server_info's network_id (undefined: left out, as mainnet servers do). */
  networkId?: number;
  /** Ledgers in this set answer with `validated: false`. */
  unvalidated?: Set<number>;
  /** Answer for the validated head as if it were this ledger (a lagging server). */
  headAt?: number;
  /** Refuse `batch` as a method it does not know (Clio, public servers). */
  refuseBatch?: boolean;
  /** Rewrite a `ledger` result before it is sent (a lying endpoint). */
  tamper?: (result: Record<string, unknown>, index: number) => void;
  /** Fail this many HTTP requests with 503 before answering again. */
  fail503?: number;
  /** Rewrite an account_info / account_lines result before it is sent (a lying or broken endpoint). */
  tamperState?: (result: Record<string, unknown>) => void;
}

export interface RequestLog {
  httpRequests: number;
  calls: Record<string, number>;
}

export class XrplLedgerServer {
  readonly faults: LedgerServerFaults = {};
  readonly log: RequestLog = { httpRequests: 0, calls: {} };
  private server: Server | undefined;
  url = '';

  constructor(readonly engine: XrplLedgerEngine) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    return this.url;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    this.log.httpRequests++;
    if (this.faults.fail503 && this.faults.fail503 > 0) {
      this.faults.fail503--;
      res.writeHead(503).end('Server is overloaded');
      return;
    }
    let body: { method?: unknown; params?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400).end('Unable to parse request');
      return;
    }
    let reply: unknown;
    if (body.method === 'batch' && !this.faults.refuseBatch) {
      if (!Array.isArray(body.params)) {
        res.writeHead(400).end('Malformed batch request');
        return;
      }
      reply = body.params.map((item: Record<string, unknown>) => {
        const { method, id, ...params } = item;
        return { result: this.dispatch(String(method), params), ...(id !== undefined ? { id } : {}) };
      });
    } else {
      const params = Array.isArray(body.params) ? (body.params[0] ?? {}) : {};
      reply = { result: this.dispatch(String(body.method), params as Record<string, unknown>) };
    }
    const text = JSON.stringify(reply);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  }

  private dispatch(method: string, params: Record<string, unknown>): Record<string, unknown> {
    this.log.calls[method] = (this.log.calls[method] ?? 0) + 1;
    try {
      switch (method) {
        case 'server_info':
          return this.serverInfo();
        case 'ledger':
          return this.ledger(params);
        case 'account_tx':
          return this.accountTx(params);
        case 'account_info':
          return this.accountInfo(params);
        case 'account_lines':
          return this.accountLines(params);
        default:
          return error('unknownCmd', 'Unknown method.');
      }
    } catch (e) {
      if (e instanceof RpcError) return error(e.code, e.message);
      throw e;
    }
  }

  private head(): number {
    return Math.min(this.faults.headAt ?? Number.POSITIVE_INFINITY, this.engine.validatedIndex);
  }

  private serverInfo(): Record<string, unknown> {
    const first = this.faults.historyFrom ?? (this.engine.ledgers[0] as ClosedLedger).ledger_index;
    const head = this.engine.ledger(this.head()) as ClosedLedger;
    return {
      status: 'success',
      info: {
        build_version: 'stand-in',
        complete_ledgers: `${first}-${head.ledger_index}`,
        server_state: 'full',
        validated_ledger: { seq: head.ledger_index, hash: head.ledger_hash },
        ...(this.faults.networkId !== undefined ? { network_id: this.faults.networkId } : {}),
      },
    };
  }

  private find(index: unknown): ClosedLedger {
    const n = index === 'validated' ? this.head() : index;
    if (typeof n !== 'number' || !Number.isInteger(n)) throw new RpcError('invalidParams', 'ledgerIndexMalformed');
    if (n > this.head() || n < (this.faults.historyFrom ?? 0)) throw new RpcError('lgrNotFound', 'ledgerNotFound');
    const ledger = this.engine.ledger(n);
    if (!ledger) throw new RpcError('lgrNotFound', 'ledgerNotFound');
    return ledger;
  }

  /** The ledger a state query names: `ledger_hash` wins over `ledger_index`, as in rippled. */
  private stateLedger(params: Record<string, unknown>): ClosedLedger {
    if (params.ledger_hash === undefined) return this.find(params.ledger_index ?? 'validated');
    const ledger = this.engine.ledgers.find((l) => l.ledger_hash === params.ledger_hash);
    if (!ledger || ledger.ledger_index > this.head()) throw new RpcError('lgrNotFound', 'ledgerNotFound');
    return this.find(ledger.ledger_index);
  }

  private stateOf(params: Record<string, unknown>) {
    const ledger = this.stateLedger(params);
    if (typeof params.account !== 'string') throw new RpcError('invalidParams', 'Missing field account.');
    const account = this.engine.accountAt(ledger.ledger_index, params.account);
    if (!account) throw new RpcError('actNotFound', 'Account not found.');
    const at = {
      ledger_hash: ledger.ledger_hash,
      ledger_index: ledger.ledger_index,
      validated: !this.faults.unvalidated?.has(ledger.ledger_index),
    };
    return { account, at };
  }

  private accountInfo(params: Record<string, unknown>): Record<string, unknown> {
    const { account, at } = this.stateOf(params);
    const result = {
      account_data: { Account: params.account, Balance: String(account.drops) },
      ...at,
      status: 'success',
    };
    this.faults.tamperState?.(result);
    return result;
  }

  private accountLines(params: Record<string, unknown>): Record<string, unknown> {
    const { account, at } = this.stateOf(params);
    const limit = Math.min(Number(params.limit ?? 200), 400);
    const start = typeof params.marker === 'string' ? Number(params.marker) : 0;
    const page = account.lines.slice(start, start + limit);
    const more = start + limit < account.lines.length;
    const result = {
      account: params.account,
      lines: page.map((l) => ({
        account: l.peer,
        balance: l.balance,
        currency: l.currency,
        limit: '0',
        limit_peer: '0',
      })),
      ...at,
      ...(more ? { marker: String(start + limit) } : {}),
      status: 'success',
    };
    this.faults.tamperState?.(result);
    return result;
  }

  private ledger(params: Record<string, unknown>): Record<string, unknown> {
    const ledger = this.find(params.ledger_index);
    const validated = !this.faults.unvalidated?.has(ledger.ledger_index);
    const header = {
      account_hash: ledger.account_hash,
      close_flags: 0,
      close_time: ledger.close_time,
      close_time_human: new Date((ledger.close_time + RIPPLE_EPOCH_OFFSET) * 1000).toISOString(),
      close_time_iso: new Date((ledger.close_time + RIPPLE_EPOCH_OFFSET) * 1000).toISOString().replace('.000', ''),
      close_time_resolution: 10,
      closed: true,
      ledger_hash: ledger.ledger_hash,
      ledger_index: ledger.ledger_index,
      parent_close_time: ledger.parent_close_time,
      parent_hash: ledger.parent_hash,
      total_coins: ledger.total_coins,
      transaction_hash: ledger.transaction_hash,
    };
    const transactions =
      params.transactions === true
        ? ledger.transactions.map((t) => (params.expand === true ? this.entry(t, ledger, validated) : t.hash))
        : undefined;
    const result = {
      ledger: { ...header, ...(transactions ? { transactions } : {}) },
      ledger_hash: ledger.ledger_hash,
      ledger_index: ledger.ledger_index,
      validated,
      status: 'success',
    };
    this.faults.tamper?.(result, ledger.ledger_index);
    return result;
  }

  private entry(t: AppliedTx, ledger: ClosedLedger, validated: boolean): Record<string, unknown> {
    return {
      hash: t.hash,
      tx_json: t.tx_json,
      meta: t.meta,
      ledger_hash: ledger.ledger_hash,
      ledger_index: ledger.ledger_index,
      validated,
      close_time_iso: new Date((ledger.close_time + RIPPLE_EPOCH_OFFSET) * 1000).toISOString().replace('.000', ''),
    };
  }

  private accountTx(params: Record<string, unknown>): Record<string, unknown> {
    const account = params.account;
    if (typeof account !== 'string') throw new RpcError('invalidParams', 'Missing field account.');
    const first = (this.engine.ledgers[0] as ClosedLedger).ledger_index;
    const historyFrom = Math.max(first, this.faults.historyFrom ?? first, this.faults.accountTxFrom ?? first);
    const min = Math.max(
      Number(params.ledger_index_min ?? -1) < 0 ? historyFrom : Number(params.ledger_index_min),
      historyFrom,
    );
    const max = Math.min(
      Number(params.ledger_index_max ?? -1) < 0 ? this.head() : Number(params.ledger_index_max),
      this.head(),
    );
    const limit = Math.min(Number(params.limit ?? 200), 400);
    const start =
      typeof params.marker === 'object' && params.marker !== null ? (params.marker as { seq: number }).seq : 0;
    const all: Record<string, unknown>[] = [];
    for (let n = min; n <= max; n++) {
      const ledger = this.engine.ledger(n) as ClosedLedger;
      for (const t of ledger.transactions) {
        if (JSON.stringify(t.meta.AffectedNodes).includes(account) || t.tx_json.Account === account) {
          all.push(this.entry(t, ledger, true));
        }
      }
    }
    const page = all.slice(start, start + limit);
    const next = start + limit < all.length ? { marker: { ledger: 0, seq: start + limit } } : {};
    return {
      account,
      ledger_index_min: min,
      ledger_index_max: max,
      limit,
      transactions: page,
      validated: true,
      status: 'success',
      ...next,
    };
  }
}

class RpcError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function error(code: string, message: string): Record<string, unknown> {
  return { error: code, error_message: message, status: 'error' };
}
