import { type HttpTarget, httpTarget } from '../http/endpoint-url.ts';
import { EndpointError, httpRequest, mapLimit, type RequestCounters } from '../http/http-request.ts';
import { parseLosslessJson } from '../lossless-json.ts';

export interface XrplRpcOptions {
  timeoutMs: number;
  /** Calls per HTTP request: 1 sends each alone; more uses rippled's `batch` method. */
  batchSize: number;
  /** HTTP requests in flight at once. */
  concurrency: number;
  counters: RequestCounters;
  maxResponseBytes: number;
}

export type RpcParams = Readonly<Record<string, unknown>>;

/**
 * One rippled/xrpld or Clio JSON-RPC endpoint. rippled answers errors with HTTP 200 and
 * `result.status: "error"` (`lgrNotFound` for a ledger outside its history); every such answer, an
 * HTTP error or a malformed body is an EndpointError naming the method, and the reader moves on to
 * the next endpoint. Every request asks for API version 2 (ledger indexes as numbers, `tx_json` + `meta`).
 *
 * Batches use rippled's undocumented `{"method": "batch", "params": [{"method": …, …params}]}`
 * (ServerHandler.cpp), answered with an array of `{"result": …}` in request order; Clio and public
 * servers may not offer it, so it is opt-in (`batchSize` > 1).
 */
export class XrplRpcEndpoint {
  readonly label: string;
  private readonly target: HttpTarget;

  constructor(
    url: string,
    private readonly options: XrplRpcOptions,
  ) {
    this.target = httpTarget(url);
    this.label = this.target.label;
  }

  async call(method: string, params: RpcParams): Promise<Record<string, unknown>> {
    const [result] = await this.calls(method, [params]);
    return result as Record<string, unknown>;
  }

  /** The same method with each params object; results in order. Any error fails the whole set. */
  async calls(method: string, paramsList: readonly RpcParams[]): Promise<Record<string, unknown>[]> {
    const chunks: RpcParams[][] = [];
    for (let i = 0; i < paramsList.length; i += this.options.batchSize) {
      chunks.push(paramsList.slice(i, i + this.options.batchSize));
    }
    const answers = await mapLimit(chunks, this.options.concurrency, (chunk) =>
      chunk.length === 1 ? this.single(method, chunk[0] as RpcParams) : this.batch(method, chunk),
    );
    return answers.flat();
  }

  private async single(method: string, params: RpcParams): Promise<Record<string, unknown>[]> {
    const body = await this.post({ method, params: [{ ...params, api_version: 2 }] }, method, 1);
    return [resultOf(body, method, params)];
  }

  private async batch(method: string, chunk: readonly RpcParams[]): Promise<Record<string, unknown>[]> {
    const requests = chunk.map((params, id) => ({ method, ...params, api_version: 2, id }));
    const body = await this.post(
      { method: 'batch', params: requests },
      `batch of ${chunk.length} ${method}`,
      chunk.length,
    );
    if (!Array.isArray(body) || body.length !== chunk.length) {
      throw new EndpointError(
        `batch of ${chunk.length} ${method}: expected an array of ${chunk.length} replies (does this server accept rippled's "batch" method? set batchSize: 1)`,
      );
    }
    return body.map((reply, i) => {
      const id = (reply as { id?: unknown } | null)?.id;
      if (id !== i) throw new EndpointError(`batch of ${chunk.length} ${method}: reply ${i} has id ${String(id)}`);
      return resultOf(reply, method, chunk[i] as RpcParams);
    });
  }

  private async post(payload: unknown, what: string, calls: number): Promise<unknown> {
    this.options.counters.rpcCalls += calls;
    const reply = await httpRequest(this.target, '', {
      method: 'POST',
      body: JSON.stringify(payload),
      timeoutMs: this.options.timeoutMs,
      counters: this.options.counters,
      maxResponseBytes: this.options.maxResponseBytes,
    });
    if (reply.status !== 200) {
      throw new EndpointError(`${what}: HTTP ${reply.status} ${reply.text.slice(0, 200)}`);
    }
    try {
      // Drops and IOU values are strings on the XRPL; the lossless parse still guards every other number.
      return parseLosslessJson(reply.text);
    } catch (e) {
      throw new EndpointError(`${what}: malformed JSON: ${(e as Error).message}`, { cause: e });
    }
  }
}

/** The server answered with an error (`code`: rippled's `error`, e.g. `actNotFound`, `lgrNotFound`). */
export class XrplErrorReply extends EndpointError {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

function resultOf(body: unknown, method: string, params: RpcParams): Record<string, unknown> {
  const result = (body as { result?: unknown } | null)?.result;
  if (typeof result !== 'object' || result === null || Array.isArray(result)) {
    throw new EndpointError(`${method} ${describeParams(params)}: the reply has no result object`);
  }
  const r = result as Record<string, unknown>;
  if (r.status === 'error' || r.error !== undefined) {
    const message = typeof r.error_message === 'string' ? `: ${r.error_message}` : '';
    throw new XrplErrorReply(`${method} ${describeParams(params)}: ${String(r.error)}${message}`, String(r.error));
  }
  if (r.status !== 'success') {
    throw new EndpointError(`${method} ${describeParams(params)}: status ${JSON.stringify(r.status)}, not "success"`);
  }
  return r;
}

function describeParams(params: RpcParams): string {
  const shown = ['ledger_index', 'account', 'ledger_index_min', 'ledger_index_max']
    .filter((k) => params[k] !== undefined)
    .map((k) => `${k}=${String(params[k])}`);
  return shown.length > 0 ? `(${shown.join(' ')})` : '';
}
