import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { LambdaFunctionURLEvent } from 'aws-lambda';

/**
 * One transport-free shape for every custody callback: the raw request in (platforms sign the raw
 * body, so it is never parsed before verification), the exact bytes to answer out.
 */
export interface CustodyRequest {
  method: string;
  path: string;
  /** Lower-case header names. */
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface CustodyResponse {
  status: number;
  contentType: string;
  body: string;
}

export type CustodyHandler = (req: CustodyRequest) => Promise<CustodyResponse>;

/** Bodies above this are refused unread; the largest documented payload (Fireblocks with rawTx) is far below. */
export const MAX_CUSTODY_BODY_BYTES = 256 * 1024;

export const text = (status: number, body: string): CustodyResponse => ({
  status,
  contentType: 'text/plain; charset=utf-8',
  body,
});

/** One header value (the first, when repeated). */
export function header(req: CustodyRequest, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** A node:http listener (a container, a VM, `breaker fireblocks-callback`). */
export function custodyListener(handler: CustodyHandler): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    readBody(req)
      .then((body) =>
        body === undefined
          ? text(413, `body over ${MAX_CUSTODY_BODY_BYTES} bytes`)
          : handler({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body }),
      )
      .catch((e: unknown) => text(400, `request unreadable: ${String(e)}`))
      .then((answer) => {
        res.writeHead(answer.status, {
          'content-type': answer.contentType,
          'content-length': Buffer.byteLength(answer.body),
        });
        res.end(answer.body);
      });
  };
}

/** A Lambda Function URL handler (`export const handler = custodyFunctionUrlHandler(await createFireblocksCallback(…))`). */
export function custodyFunctionUrlHandler(
  handler: CustodyHandler,
): (event: LambdaFunctionURLEvent) => Promise<{ statusCode: number; headers: Record<string, string>; body: string }> {
  return async (event) => {
    const raw = event.body ?? '';
    const body = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
    const answer =
      Buffer.byteLength(body) > MAX_CUSTODY_BODY_BYTES
        ? text(413, `body over ${MAX_CUSTODY_BODY_BYTES} bytes`)
        : await handler({
            method: event.requestContext?.http?.method ?? 'POST',
            path: event.rawPath ?? '/',
            headers: Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
            body,
          });
    return { statusCode: answer.status, headers: { 'content-type': answer.contentType }, body: answer.body };
  };
}

/** The body as text, or undefined when it is larger than the limit. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_CUSTODY_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
