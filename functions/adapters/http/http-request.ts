import { BodyTooLargeError, DEFAULT_MAX_RESPONSE_BYTES, readCappedText } from './capped-body.ts';
import { type HttpTarget, scrubbed } from './endpoint-url.ts';

/**
 * HTTP plumbing every non-EVM chain reader shares (Bitcoin Core/Esplora, XRPL): timeouts, a cap on
 * the answer's size, credentials taken out of the URL (fetch refuses URLs that carry them) and error
 * messages with the URL's secrets scrubbed. Endpoint failures are EndpointErrors, which a reader
 * collects per endpoint into one ChainReadError.
 */

/** Why one endpoint failed; the reader collects these into a ChainReadError. */
export class EndpointError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EndpointError';
  }
}

/** What the reader has sent, for metrics and benchmarks. */
export interface RequestCounters {
  /** HTTP requests sent, to every endpoint. */
  httpRequests: number;
  /** JSON-RPC calls sent (a batch request carries several). */
  rpcCalls: number;
  /** Reader calls an endpoint failed (each moved on to the next endpoint, or ended in ChainReadError). */
  endpointFailures: number;
}

export function newCounters(): RequestCounters {
  return { httpRequests: 0, rpcCalls: 0, endpointFailures: 0 };
}

export interface HttpReply {
  status: number;
  text: string;
}

export async function httpRequest(
  target: HttpTarget,
  path: string,
  init: {
    method: 'GET' | 'POST';
    body?: string;
    timeoutMs: number;
    counters: RequestCounters;
    /** @default DEFAULT_MAX_RESPONSE_BYTES (32 MiB) */
    maxResponseBytes?: number;
  },
): Promise<HttpReply> {
  init.counters.httpRequests++;
  const headers: Record<string, string> = {};
  if (target.authorization) headers.authorization = target.authorization;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const url = path ? `${target.url.replace(/\/+$/, '')}${path}` : target.url;
  let response: Response;
  try {
    response = await fetch(url, {
      method: init.method,
      headers,
      body: init.body,
      signal: AbortSignal.timeout(init.timeoutMs),
    });
    return {
      status: response.status,
      text: await readCappedText(response, init.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES),
    };
  } catch (e) {
    if (e instanceof BodyTooLargeError) throw new EndpointError(e.message, { cause: e });
    const err = e as Error & { cause?: { code?: string; message?: string } };
    if (err.name === 'TimeoutError') throw new EndpointError(`timed out after ${init.timeoutMs} ms`, { cause: e });
    const detail = err.cause?.code ?? err.cause?.message ?? err.message;
    throw new EndpointError(`request failed: ${scrubbed(detail, target)}`, { cause: e });
  }
}

/** Run `fn` over `items` with at most `limit` in flight, keeping the order of results. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
