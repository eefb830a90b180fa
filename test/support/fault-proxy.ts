/**
 * A fault-injecting HTTP proxy on 127.0.0.1, in front of a real stand-in: anvil (JSON-RPC), dynalite
 * (the DynamoDB protocol) or local SNS. Every request goes through the current `Fault`, which decides
 * per request whether to forward it untouched, answer for the upstream (an error the real service
 * would give), never answer, drop the connection, or forward and then tamper with, or lose, the
 * answer. The adapters under test talk to the proxy exactly as they would talk to the real service.
 *
 * Fault factories below cover the failures the breaker must survive: for JSON-RPC timeouts, 429/5xx,
 * error envelopes in HTTP 200, truncated or garbled JSON, null results, a stale head, a head ahead of
 * reality and a node on another fork (consistently rewritten block hashes); for DynamoDB throttling
 * (ProvisionedThroughputExceededException, ThrottlingException), injected conditional-check
 * failures, writes applied whose answer is lost, and a crash after the n-th write; for SNS failed
 * Publish calls.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ProxyRequest {
  /** 1-based count of requests this proxy received. */
  readonly n: number;
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface Upstream {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type Outcome = Upstream | 'hang' | 'reset';

export type Action =
  /** Forward (optionally a rewritten body) and pass the answer through `response` if given. */
  | { readonly kind: 'forward'; readonly body?: string; readonly response?: (up: Upstream) => Outcome }
  /** Answer without asking the upstream. */
  | {
      readonly kind: 'answer';
      readonly status: number;
      readonly body: unknown;
      readonly headers?: Record<string, string>;
    }
  | { readonly kind: 'hang' }
  | { readonly kind: 'reset' };

export type Fault = (req: ProxyRequest) => Action | Promise<Action>;

export const FORWARD: Action = { kind: 'forward' };

export interface FaultProxy {
  readonly url: string;
  /** Requests received, and how many of them the fault did not simply forward. */
  readonly stats: { requests: number; injected: number };
  /** Replace the fault (undefined: forward everything). */
  set(fault: Fault | undefined): void;
  stop(): Promise<void>;
}

export async function startFaultProxy(target: string, initial?: Fault): Promise<FaultProxy> {
  let fault = initial;
  const stats = { requests: 0, injected: 0 };
  const sockets = new Set<Socket>();
  const upstream = new URL(target);

  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request: ProxyRequest = {
      n: ++stats.requests,
      method: req.method ?? 'POST',
      path: req.url ?? '/',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    let action: Action;
    try {
      action = fault ? await fault(request) : FORWARD;
    } catch (e) {
      res.writeHead(599).end(`fault proxy: the fault threw: ${String(e)}`);
      return;
    }
    if (action !== FORWARD) stats.injected++;
    const deliver = (out: Outcome) => {
      if (out === 'hang') return;
      if (out === 'reset') {
        req.socket.destroy();
        return;
      }
      res.writeHead(out.status, out.headers);
      res.end(out.body);
    };
    if (action.kind === 'hang') return;
    if (action.kind === 'reset') return deliver('reset');
    if (action.kind === 'answer') {
      const body = typeof action.body === 'string' ? action.body : JSON.stringify(action.body);
      return deliver({
        status: action.status,
        headers: { 'content-type': 'application/json', ...action.headers },
        body,
      });
    }
    try {
      const up = await forward(upstream, request, action.body ?? request.body);
      deliver(action.response ? action.response(up) : up);
    } catch (e) {
      res.writeHead(502).end(`fault proxy: upstream unreachable: ${String(e)}`);
    }
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    set(next) {
      fault = next;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const HOP_BY_HOP = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);

async function forward(target: URL, req: ProxyRequest, body: string): Promise<Upstream> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  const response = await fetch(new URL(req.path, target), {
    method: req.method,
    headers,
    body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
    signal: AbortSignal.timeout(10_000),
  });
  const out: Upstream = { status: response.status, headers: {}, body: await response.text() };
  response.headers.forEach((v, k) => {
    if (!HOP_BY_HOP.has(k) && k !== 'content-encoding') out.headers[k] = v;
  });
  return out;
}

/** Combine faults: the first that does not forward untouched decides. */
export function firstOf(...faults: Fault[]): Fault {
  return async (req) => {
    for (const f of faults) {
      const a = await f(req);
      if (a !== FORWARD) return a;
    }
    return FORWARD;
  };
}

/** Apply `fault` to the requests `when` picks, forward the others. */
export function only(when: (req: ProxyRequest) => boolean, fault: Fault): Fault {
  return (req) => (when(req) ? fault(req) : FORWARD);
}

/** Every `every`-th request (1 = all), counting only requests the predicate accepts. */
export function everyNth(every: number, fault: Fault, accept: (req: ProxyRequest) => boolean = () => true): Fault {
  let seen = 0;
  return (req) => {
    if (!accept(req)) return FORWARD;
    seen++;
    return seen % every === 0 ? fault(req) : FORWARD;
  };
}

// ---- JSON-RPC (anvil) ----

interface RpcMessage {
  id: number | string;
  method: string;
  params?: unknown[];
}

interface RpcReply {
  id: number | string | null;
  result?: unknown;
  error?: unknown;
}

export function rpcMessages(req: ProxyRequest): RpcMessage[] {
  try {
    const parsed = JSON.parse(req.body) as RpcMessage | RpcMessage[];
    return Array.isArray(parsed) ? parsed : [parsed];
  } catch {
    return [];
  }
}

function mapReplies(
  up: Upstream,
  f: (reply: RpcReply, message: RpcMessage) => RpcReply,
  messages: RpcMessage[],
): Upstream {
  const parsed = JSON.parse(up.body) as RpcReply | RpcReply[];
  const replies = Array.isArray(parsed) ? parsed : [parsed];
  const byId = new Map(messages.map((m) => [String(m.id), m]));
  const mapped = replies.map((r) => {
    const m = byId.get(String(r.id));
    return m ? f(r, m) : r;
  });
  return { ...up, body: JSON.stringify(Array.isArray(parsed) ? mapped : mapped[0]) };
}

/** Rewrite the answers of the given methods (the upstream's answers as JSON-RPC replies). */
export function rewriteReplies(
  f: (reply: RpcReply, message: RpcMessage) => RpcReply,
  body?: (req: ProxyRequest) => string,
): Fault {
  return (req) => {
    const messages = rpcMessages(req);
    return { kind: 'forward', body: body?.(req), response: (up) => mapReplies(up, f, messages) };
  };
}

export const rpcFaults = {
  /** Never answers: the client's timeout fires. */
  timeout: (): Fault => () => ({ kind: 'hang' }),
  /** An HTTP error status with a plausible body (429 rate limit, 502/503 gateway). */
  status:
    (status: number): Fault =>
    () => ({
      kind: 'answer',
      status,
      body: status === 429 ? { error: 'Too Many Requests' } : `<html>${status}</html>`,
    }),
  /** HTTP 200 carrying a JSON-RPC error envelope for every call of the request. */
  errorEnvelopes:
    (code = -32000, message = 'header not found'): Fault =>
    (req) => {
      const replies = rpcMessages(req).map((m) => ({ jsonrpc: '2.0', id: m.id, error: { code, message } }));
      return { kind: 'answer', status: 200, body: replies.length === 1 ? replies[0] : replies };
    },
  /** HTTP 200 with a body of `bytes` bytes (whitespace inside a JSON array): an endpoint exhausting memory. */
  oversized:
    (bytes: number): Fault =>
    () => ({ kind: 'answer', status: 200, body: `[${' '.repeat(Math.max(0, bytes - 2))}]` }),
  /** The upstream's answer cut off mid-body (a dropped connection behind a gateway). */
  truncated: (): Fault => () => ({
    kind: 'forward',
    response: (up) => ({ ...up, body: up.body.slice(0, Math.max(1, Math.floor(up.body.length / 2))) }),
  }),
  /** The upstream's answer with bytes flipped and braces swapped: not JSON any more. */
  garbled: (): Fault => () => ({
    kind: 'forward',
    response: (up) => ({ ...up, body: up.body.replace(/[{":]/g, (c) => ({ '{': '}', '"': "'", ':': ';' })[c] ?? c) }),
  }),
  /** null for every result (a node that has not got the data). */
  nullResults: (): Fault => rewriteReplies((r) => ('result' in r ? { ...r, result: null } : r)),
  /**
   * A node stuck at `frozenAt`: reports that head, has no block above it, and refuses logs past it.
   * `frozenAt` is read on every request, so a test can move it.
   */
  staleHead: (frozenAt: () => number): Fault =>
    rewriteReplies((r, m) => {
      const f = frozenAt();
      if (m.method === 'eth_blockNumber') return { ...r, result: `0x${f.toString(16)}` };
      if (m.method === 'eth_getBlockByNumber' && blockParam(m) > f) return { ...r, result: null };
      if (m.method === 'eth_getLogs' && logsTo(m) > f) {
        return { id: r.id, error: { code: -32000, message: 'block range extends beyond current head block' } };
      }
      return r;
    }),
  /** Reports a head `by` blocks ahead of reality (it has no such blocks). */
  headAhead: (by: number): Fault =>
    rewriteReplies((r, m) =>
      m.method === 'eth_blockNumber' && typeof r.result === 'string'
        ? { ...r, result: `0x${(Number(r.result) + by).toString(16)}` }
        : r,
    ),
  /**
   * A node on another fork: every block hash it reports (blocks, parent links, logs, receipts,
   * transactions) is consistently different from the real one, and hashes it handed out are
   * translated back when asked about, so its answers are self-consistent.
   */
  forkedHashes: (): Fault => {
    const fake = (h: string) => `0x${[...h.slice(2)].map((c) => (15 - Number.parseInt(c, 16)).toString(16)).join('')}`;
    const issued = new Set<string>();
    const swap = (h: unknown) => {
      if (typeof h !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(h)) return h;
      const f = fake(h.toLowerCase());
      issued.add(f);
      return f;
    };
    const rewrite = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(rewrite);
      if (typeof v !== 'object' || v === null) return v;
      const o = { ...(v as Record<string, unknown>) };
      if ('parentHash' in o) {
        o.hash = swap(o.hash);
        o.parentHash = swap(o.parentHash);
      }
      if ('blockHash' in o) o.blockHash = swap(o.blockHash);
      if (Array.isArray(o.transactions)) o.transactions = o.transactions.map(rewrite);
      return o;
    };
    const unswap = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(unswap);
      if (typeof v === 'string' && issued.has(v.toLowerCase())) return fake(v.toLowerCase());
      if (typeof v === 'object' && v !== null) {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unswap(x)]));
      }
      return v;
    };
    return rewriteReplies(
      (r) => ('result' in r ? { ...r, result: rewrite(r.result) } : r),
      (req) => {
        const parsed = JSON.parse(req.body) as RpcMessage | RpcMessage[];
        const fix = (m: RpcMessage) => ({ ...m, params: unswap(m.params ?? []) });
        return JSON.stringify(Array.isArray(parsed) ? parsed.map(fix) : fix(parsed));
      },
    );
  },
};

function blockParam(m: RpcMessage): number {
  const p = m.params?.[0];
  return typeof p === 'string' && p.startsWith('0x') ? Number(p) : Number.POSITIVE_INFINITY;
}

function logsTo(m: RpcMessage): number {
  const filter = m.params?.[0] as { toBlock?: string } | undefined;
  return filter?.toBlock?.startsWith('0x') ? Number(filter.toBlock) : Number.POSITIVE_INFINITY;
}

// ---- DynamoDB (dynalite) ----

/** The DynamoDB operation of a request (`PutItem`, `BatchWriteItem`, …), from its X-Amz-Target. */
export function dynamoOperation(req: ProxyRequest): string {
  const target = req.headers['x-amz-target'];
  return typeof target === 'string' ? (target.split('.')[1] ?? '') : '';
}

export const DYNAMO_WRITES: ReadonlySet<string> = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);

export function isDynamoWrite(req: ProxyRequest): boolean {
  return DYNAMO_WRITES.has(dynamoOperation(req));
}

function dynamoError(type: string, message: string, status = 400): Action {
  return {
    kind: 'answer',
    status,
    body: { __type: type, message },
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': type.split('#')[1] ?? type },
  };
}

export const dynamoFaults = {
  /** Provisioned throughput exceeded (HTTP 400): the SDK retries it, then the store reports STORE_UNAVAILABLE. */
  throughputExceeded: (): Fault => () =>
    dynamoError(
      'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
      'The level of configured provisioned throughput for the table was exceeded.',
    ),
  /** Request-rate throttling (HTTP 400). */
  throttling: (): Fault => () =>
    dynamoError(
      'com.amazon.coral.availability#ThrottlingException',
      'Rate of requests exceeds the allowed throughput.',
    ),
  /** A conditional write refused although its condition held (nothing written). */
  conditionalCheckFailed: (): Fault => () =>
    dynamoError('com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException', 'The conditional request failed'),
  /** The write is applied, but its answer is lost (HTTP 500): the client cannot know it succeeded. */
  lostAnswer: (): Fault => () => ({
    kind: 'forward',
    response: () => ({
      status: 500,
      headers: { 'content-type': 'application/x-amz-json-1.0' },
      body: JSON.stringify({
        __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
        message: 'Internal server error',
      }),
    }),
  }),
  /**
   * A process killed after its n-th write: that write reaches the table, every later request of this
   * client fails as if the process were gone (the connection drops).
   */
  crashAfterWrites: (n: number): Fault => {
    let writes = 0;
    let crashed = false;
    return (req) => {
      if (crashed) return { kind: 'reset' };
      if (isDynamoWrite(req) && ++writes === n) {
        crashed = true;
        return { kind: 'forward', response: () => 'reset' };
      }
      return FORWARD;
    };
  },
};

// ---- SNS (local SNS, Query protocol) ----

export function isSnsPublish(req: ProxyRequest): boolean {
  return new URLSearchParams(req.body).get('Action') === 'Publish';
}

export const snsFaults = {
  /** Publish answered with an SNS-shaped HTTP 500 (or 400 Throttling); other calls pass. */
  publishFails: (code: 'InternalError' | 'Throttling' = 'InternalError'): Fault =>
    only(isSnsPublish, () => ({
      kind: 'answer',
      status: code === 'Throttling' ? 400 : 500,
      headers: { 'content-type': 'text/xml' },
      body: `<ErrorResponse><Error><Type>${code === 'Throttling' ? 'Sender' : 'Receiver'}</Type><Code>${code}</Code><Message>injected by the fault proxy</Message></Error><RequestId>fault</RequestId></ErrorResponse>`,
    })),
};
