import { ChainReadError } from '../../core/errors.ts';
import { BodyTooLargeError, DEFAULT_MAX_RESPONSE_BYTES, readCappedText } from '../http/capped-body.ts';
import { type HttpTarget, httpTarget, redactEndpoint, scrubbed } from '../http/endpoint-url.ts';
import { parseLosslessJson } from '../lossless-json.ts';

/**
 * A small Ethereum JSON-RPC client over HTTP: calls go out in batches (one HTTP request carries up to
 * `batchSize` calls), each request has a timeout, and failed calls move to the chain's next endpoint.
 * ethers' providers hide batching and failover behind heuristics (stall timers, quorum); the breaker
 * needs to know exactly how many requests it makes and why a read failed, so it talks JSON-RPC itself.
 */

/** Why one attempt at a call failed: a closed set, so callers and pages can branch on it. */
export type RpcFailureReason =
  | 'timeout'
  | 'connection'
  | 'http-status'
  /** The answer was larger than `maxResponseBytes`. */
  | 'too-large'
  | 'bad-json'
  | 'rpc-error'
  | 'missing-response'
  | 'null-result'
  | 'invalid-result'
  | 'wrong-chain'
  /** The head cross-check took the endpoint out of use (lagging, lying about its head, on another fork). */
  | 'suspended';

export interface RpcCall {
  readonly method: string;
  readonly params: readonly unknown[];
  /** A null result is an answer. Otherwise null means "this endpoint lacks the data" and the call moves on. */
  readonly nullable?: boolean;
  /** Says why a result is unusable (the call then moves to the next endpoint), or undefined when it is fine. */
  readonly check?: (result: unknown) => string | undefined;
}

export interface RpcAttempt {
  /** Redacted endpoint URL (redactEndpoint: no credentials, no API-key path segments, no query). */
  readonly endpoint: string;
  readonly method: string;
  readonly reason: RpcFailureReason;
  readonly detail: string;
  /** The JSON-RPC error code, when the endpoint answered with an error envelope. */
  readonly rpcCode?: number;
}

/** Every attempt at a call failed. Carries the attempts so callers can tell "unsupported" from "down". */
export class RpcCallError extends ChainReadError {
  readonly method: string;
  readonly endpoint: string;
  readonly reason: RpcFailureReason;
  readonly rpcCode: number | undefined;
  readonly attempts: readonly RpcAttempt[];

  constructor(label: string, attempts: readonly RpcAttempt[]) {
    const last = attempts[attempts.length - 1];
    if (!last) throw new RangeError('RpcCallError needs at least one attempt');
    const tried = [...new Set(attempts.map((a) => a.endpoint))].join(', ');
    super(
      `${label}: ${last.method} failed on ${last.endpoint}: ${last.reason} (${last.detail}); ` +
        `${attempts.length} attempt(s) over ${tried}`,
    );
    this.method = last.method;
    this.endpoint = last.endpoint;
    this.reason = last.reason;
    this.rpcCode = last.rpcCode;
    this.attempts = attempts;
  }
}

/** JSON-RPC error codes meaning "this endpoint does not offer the method" (standard and common vendor codes). */
export function isMethodUnsupported(attempt: Pick<RpcAttempt, 'reason' | 'rpcCode' | 'detail'>): boolean {
  if (attempt.reason !== 'rpc-error') return false;
  if (attempt.rpcCode === -32601 || attempt.rpcCode === -32004) return true;
  return /method .*(not found|not supported|does not exist|not available|unsupported)/i.test(attempt.detail);
}

export interface JsonRpcClientOptions {
  /** Names the chain in error messages. */
  readonly label: string;
  /** Endpoints in order of preference. */
  readonly urls: readonly string[];
  /** Per HTTP request, including reading the body. */
  readonly timeoutMs: number;
  /** Most JSON-RPC calls in one HTTP request. */
  readonly batchSize: number;
  /**
   * Expected `eth_chainId`. Checked once per endpoint, inside that endpoint's first request (no extra
   * round trip); an endpoint serving another chain is never used again.
   * @default not checked
   */
  readonly chainId?: number;
  /**
   * Another chain's identity check in place of `chainId` (Solana: `getGenesisHash`), sent the same way:
   * once per endpoint, inside its first request.
   * @default the eth_chainId check when `chainId` is set
   */
  readonly networkProbe?: NetworkProbe;
  /** Attempts per call, across endpoints. @default max(3, 2 × urls.length) */
  readonly maxAttempts?: number;
  /** Pause before a retry once every endpoint has failed in turn; doubles each round (capped at 2 s). @default 100 */
  readonly backoffMs?: number;
  /** HTTP requests in flight at once for one `batch()`. @default 4 */
  readonly maxConcurrentRequests?: number;
  /** Largest answer read from an endpoint; a larger one fails that endpoint. @default 32 MiB */
  readonly maxResponseBytes?: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** A call whose answer says which chain an endpoint serves. */
export interface NetworkProbe {
  readonly method: string;
  readonly params: readonly unknown[];
  /** Why the answer shows the endpoint serves the wrong chain (the whole message), or undefined when it is the right one. */
  problem(result: unknown): string | undefined;
}

function chainIdProbe(chainId: number): NetworkProbe {
  return {
    method: 'eth_chainId',
    params: [],
    problem: (result) => {
      const served = typeof result === 'string' ? Number(result) : Number.NaN;
      return served === chainId ? undefined : `serves chain id ${String(result)}, expected ${chainId}`;
    },
  };
}

export interface RpcCounters {
  /** JSON-RPC calls sent, retries and chain-id probes included. */
  rpcCalls: number;
  /** HTTP requests sent. */
  httpRequests: number;
  /** HTTP requests in which at least one call failed. */
  failedRequests: number;
}

export interface BatchOptions {
  /**
   * When any call of a request fails, retry every call of that request on the next endpoint, so all
   * answers of one request come from one endpoint (used where answers must agree with each other).
   * @default false: only the failed calls are retried
   */
  readonly atomic?: boolean;
}

type Outcome = { ok: true; value: unknown } | { ok: false; failure: Omit<RpcAttempt, 'endpoint' | 'method'> };

interface Endpoint {
  /** As configured: how callers name it (suspend, resume, currentUrl). */
  readonly url: string;
  readonly name: string;
  readonly target: HttpTarget;
  chainChecked: boolean;
  /** Set when the endpoint serves another chain: it is skipped from then on. */
  wrongChain: string | undefined;
  /** Set while the head cross-check finds the endpoint lagging or lying: skipped until resumed. */
  suspended: string | undefined;
}

export class JsonRpcClient {
  readonly label: string;
  private readonly endpoints: Endpoint[];
  private readonly timeoutMs: number;
  private readonly batchSize: number;
  private readonly probe: NetworkProbe | undefined;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly maxConcurrent: number;
  private readonly maxResponseBytes: number;
  private readonly fetchFn: typeof fetch;
  private readonly counts: RpcCounters = { rpcCalls: 0, httpRequests: 0, failedRequests: 0 };
  /** The endpoint new requests go to; it moves on when that endpoint fails (sticky failover). */
  private current = 0;
  private nextId = 1;

  constructor(options: JsonRpcClientOptions) {
    if (options.urls.length === 0) throw new RangeError(`${options.label}: at least one RPC URL is required`);
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new RangeError(`${options.label}: batchSize must be a positive integer`);
    }
    this.label = options.label;
    this.endpoints = options.urls.map((url) => ({
      url,
      name: redactEndpoint(url),
      target: httpTarget(url),
      chainChecked: false,
      wrongChain: undefined,
      suspended: undefined,
    }));
    this.timeoutMs = options.timeoutMs;
    this.batchSize = options.batchSize;
    this.probe = options.networkProbe ?? (options.chainId === undefined ? undefined : chainIdProbe(options.chainId));
    this.maxAttempts = options.maxAttempts ?? Math.max(3, 2 * options.urls.length);
    this.backoffMs = options.backoffMs ?? 100;
    this.maxConcurrent = options.maxConcurrentRequests ?? 4;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.fetchFn = options.fetch ?? globalThis.fetch;
  }

  /** A snapshot of the counters since construction (or the last `resetCounters`). */
  counters(): RpcCounters {
    return { ...this.counts };
  }

  resetCounters(): void {
    this.counts.rpcCalls = 0;
    this.counts.httpRequests = 0;
    this.counts.failedRequests = 0;
  }

  /** Stop sending requests to `url` (one of `urls`) until `resume(url)`; `why` appears in errors. */
  suspend(url: string, why: string): void {
    const endpoint = this.endpoints.find((e) => e.url === url);
    if (!endpoint) throw new RangeError(`${this.label}: ${redactEndpoint(url)} is not one of its endpoints`);
    endpoint.suspended = why;
  }

  resume(url: string): void {
    const endpoint = this.endpoints.find((e) => e.url === url);
    if (endpoint) endpoint.suspended = undefined;
  }

  /** The URL new requests go to: the preferred endpoint that is neither suspended nor on the wrong chain. */
  currentUrl(): string | undefined {
    for (let k = 0; k < this.endpoints.length; k++) {
      const e = this.endpoints[(this.current + k) % this.endpoints.length]!;
      if (e.wrongChain === undefined && e.suspended === undefined) return e.url;
    }
    return undefined;
  }

  async call<T>(call: RpcCall): Promise<T> {
    const [result] = await this.batch([call]);
    return result as T;
  }

  /**
   * Results in the order of `calls`. Calls are split into requests of at most `batchSize`, sent
   * concurrently. Throws RpcCallError (a ChainReadError) when a call failed on every attempt.
   */
  async batch(calls: readonly RpcCall[], options: BatchOptions = {}): Promise<unknown[]> {
    if (calls.length === 0) return [];
    const chunks = splitEvenly(calls.length, this.batchSize);
    const results: unknown[] = new Array(calls.length);
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) {
        const chunk = chunks[next++]!;
        const values = await this.runChunk(calls.slice(chunk.start, chunk.end), options.atomic ?? false);
        for (let i = 0; i < values.length; i++) results[chunk.start + i] = values[i];
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.maxConcurrent, chunks.length) }, worker));
    return results;
  }

  private async runChunk(calls: readonly RpcCall[], atomic: boolean): Promise<unknown[]> {
    const results: unknown[] = new Array(calls.length);
    const history: RpcAttempt[] = [];
    let pending = calls.map((_, i) => i);
    let endpoint = this.usableFrom(this.current, history, calls[0]!.method);
    for (let attempt = 1; ; attempt++) {
      const outcomes = await this.send(
        endpoint,
        pending.map((i) => calls[i]!),
      );
      const failed: number[] = [];
      let firstFailure: RpcAttempt | undefined;
      outcomes.forEach((outcome, k) => {
        const index = pending[k]!;
        if (outcome.ok) {
          results[index] = outcome.value;
        } else {
          failed.push(index);
          firstFailure ??= { endpoint: endpoint.name, method: calls[index]!.method, ...outcome.failure };
        }
      });
      if (!firstFailure) return results;

      this.counts.failedRequests++;
      history.push(firstFailure);
      if (atomic) pending = calls.map((_, i) => i);
      else pending = failed;
      const failedAt = this.endpoints.indexOf(endpoint);
      if (this.current === failedAt) this.current = (failedAt + 1) % this.endpoints.length;
      if (attempt >= this.maxAttempts) throw new RpcCallError(this.label, history);
      endpoint = this.usableFrom((failedAt + 1) % this.endpoints.length, history, firstFailure.method);
      // A full round over the endpoints failed: give them a moment before the next round.
      if (attempt % this.endpoints.length === 0) {
        await sleep(Math.min(2000, this.backoffMs * 2 ** (attempt / this.endpoints.length - 1)));
      }
    }
  }

  /** The first endpoint from `start` on that serves the right chain and is not suspended. */
  private usableFrom(start: number, history: RpcAttempt[], method: string): Endpoint {
    for (let k = 0; k < this.endpoints.length; k++) {
      const candidate = this.endpoints[(start + k) % this.endpoints.length]!;
      if (candidate.wrongChain === undefined && candidate.suspended === undefined) return candidate;
    }
    const reasons = this.endpoints.map((e) => ({
      endpoint: e.name,
      method,
      reason: e.wrongChain !== undefined ? ('wrong-chain' as const) : ('suspended' as const),
      detail: e.wrongChain ?? e.suspended ?? '',
    }));
    throw new RpcCallError(this.label, [...history, ...reasons]);
  }

  /** One HTTP request; one outcome per call, in order. Never throws. */
  private async send(endpoint: Endpoint, calls: readonly RpcCall[]): Promise<Outcome[]> {
    const probe = this.probe !== undefined && !endpoint.chainChecked ? this.probe : undefined;
    const wire = probe ? [{ method: probe.method, params: probe.params }, ...calls] : calls;
    const ids = wire.map(() => this.nextId++);
    const messages = wire.map((c, i) => ({ jsonrpc: '2.0', id: ids[i], method: c.method, params: c.params }));
    this.counts.httpRequests++;
    this.counts.rpcCalls += wire.length;

    const all = (failure: Outcome & { ok: false }): Outcome[] => calls.map(() => failure);
    let text: string;
    try {
      const { target } = endpoint;
      const response = await this.fetchFn(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(target.authorization && { authorization: target.authorization }),
        },
        body: JSON.stringify(messages.length === 1 ? messages[0] : messages),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await readCappedText(response, this.maxResponseBytes);
      if (!response.ok) {
        return all(fail('http-status', `HTTP ${response.status}${snippet(text)}`));
      }
    } catch (e) {
      if (e instanceof BodyTooLargeError) return all(fail('too-large', e.message));
      if (isTimeout(e)) return all(fail('timeout', `no answer within ${this.timeoutMs} ms`));
      return all(fail('connection', scrubbed(describe(e), endpoint.target)));
    }

    let parsed: unknown;
    try {
      // Lossless: Solana and Tron write u64 amounts as JSON numbers beyond 2^53.
      parsed = parseLosslessJson(text);
    } catch {
      return all(fail('bad-json', `not JSON${snippet(text)}`));
    }
    const envelopes = (Array.isArray(parsed) ? parsed : [parsed]).filter(isObject);
    const byId = new Map<string, Record<string, unknown>>();
    let batchError: Record<string, unknown> | undefined;
    for (const env of envelopes) {
      if (env.id === null || env.id === undefined) batchError ??= env;
      else byId.set(String(env.id), env);
    }

    const outcomes = wire.map((call, i): Outcome => {
      const env = byId.get(String(ids[i]));
      if (!env) {
        if (batchError && isObject(batchError.error)) return rpcFailure(batchError.error);
        return fail('missing-response', `no answer with id ${ids[i]}`);
      }
      if (env.error !== undefined && env.error !== null) return rpcFailure(env.error);
      if (!('result' in env)) return fail('invalid-result', 'envelope has neither result nor error');
      const result = env.result;
      if (result === null && !call.nullable) return fail('null-result', 'null where a value is required');
      const problem = result === null ? undefined : call.check?.(result);
      if (problem !== undefined) return fail('invalid-result', problem);
      return { ok: true, value: result };
    });

    if (!probe) return outcomes;
    const chainOutcome = outcomes.shift()!;
    if (!chainOutcome.ok) return outcomes.map(() => chainOutcome);
    const wrongChain = probe.problem(chainOutcome.value);
    if (wrongChain !== undefined) {
      endpoint.wrongChain = wrongChain;
      return all(fail('wrong-chain', endpoint.wrongChain));
    }
    endpoint.chainChecked = true;
    return outcomes;
  }
}

/** `total` items split into the fewest chunks of at most `size`, of near-equal length. */
export function splitEvenly(total: number, size: number): { start: number; end: number }[] {
  const count = Math.ceil(total / size);
  const chunks: { start: number; end: number }[] = [];
  for (let k = 0; k < count; k++) {
    chunks.push({ start: Math.floor((k * total) / count), end: Math.floor(((k + 1) * total) / count) });
  }
  return chunks;
}

function fail(reason: RpcFailureReason, detail: string): Outcome & { ok: false } {
  return { ok: false, failure: { reason, detail } };
}

function rpcFailure(error: unknown): Outcome & { ok: false } {
  const e = isObject(error) ? error : {};
  const code = typeof e.code === 'number' ? e.code : undefined;
  const message = typeof e.message === 'string' ? e.message : JSON.stringify(error);
  return { ok: false, failure: { reason: 'rpc-error', detail: `${code ?? '?'}: ${message}`, rpcCode: code } };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isTimeout(e: unknown): boolean {
  return e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause instanceof Error ? `: ${(e.cause as NodeJS.ErrnoException).code ?? e.cause.message}` : '';
  return `${e.message}${cause}`;
}

function snippet(text: string): string {
  const t = text.trim();
  return t ? `: ${t.length > 120 ? `${t.slice(0, 120)}…` : t}` : '';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
