import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { z } from 'zod';
import { type Clock, systemClock } from '../core/time.ts';
import { DEFAULT_TOLERANCE_SECONDS, SIGNATURE_HEADER, verifySignature } from '../kill-switch-protocol/index.ts';
import { isWithdrawalHalted, type WithdrawalHaltedError } from './errors.ts';
import type { BreakerGuard, GuardMetrics } from './guard.ts';

/**
 * The guard as a generic HTTP callback in the breaker's own format: POST a withdrawal, get APPROVE
 * or REJECT. Custody platforms speak their own protocols, answered by functions/custody.
 *
 *   POST /authorize   {"requestId":"…","withdrawalId":"w-1","chain":"ethereum","asset":"USDT",
 *                      "destination":"0x…","amount":"2500000000"}
 *   200 {"action":"APPROVE","requestId":"…","withdrawalId":"w-1","stateVersion":7}
 *   403 {"action":"REJECT","requestId":"…","rejectionReason":"breaker tripped (global): …","failedClosed":false}
 *   503 {"action":"REJECT",…,"failedClosed":true}   the breaker could not be read, or the timeout hit
 *   400 / 401 / 405 / 413 {"action":"REJECT",…}     malformed request / bad signature / method / size
 *
 * Only a 200 with action APPROVE approves: a caller that looks at the status and one that looks at
 * `action` both see every other answer as a rejection. The answer always comes within `timeoutMs`
 * (default 5 s, at most 25 s): when the check is slower it is abandoned and the answer is REJECT.
 */

export const DEFAULT_HTTP_TIMEOUT_MS = 5000;
export const MAX_HTTP_TIMEOUT_MS = 25_000;
const MAX_BODY_BYTES = 16 * 1024;

export interface GuardHttpOptions {
  guard: BreakerGuard;
  /** Hard bound on the answer; a slower check answers REJECT. @default 5000 */
  timeoutMs?: number;
  /**
   * Requests must carry X-Breaker-Signature (functions/kill-switch-protocol) made with one of these secrets.
   * Either this or `upstreamAuthentication` is required: an unauthenticated caller could otherwise
   * record "approved withdrawals", which reconciliation trusts.
   */
  secrets?: readonly string[];
  /**
   * Instead of secrets: what authenticates callers in front of the endpoint. With
   * 'aws-iam-function-url', guardFunctionUrlHandler refuses events that carry no IAM caller (a URL
   * with AuthType NONE); with 'mutual-tls-proxy' the proxy is trusted entirely.
   */
  upstreamAuthentication?: 'aws-iam-function-url' | 'mutual-tls-proxy';
  clock?: Clock;
  metrics?: GuardMetrics;
}

export interface GuardHttpRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The caller an upstream authenticator verified (the IAM principal of a function URL). */
  principal?: string;
}

export interface GuardHttpResponse {
  status: number;
  body: GuardAnswer | { ok: true };
}

export type GuardAnswer =
  | { action: 'APPROVE'; requestId: string; withdrawalId: string; stateVersion: number }
  | {
      action: 'REJECT';
      requestId: string | null;
      withdrawalId: string | null;
      rejectionReason: string;
      /** false: the breaker is halted; true: a fault (refused to be safe). */
      failedClosed: boolean;
      rejection: string;
    };

const envelope = z.object({ requestId: z.string().min(1).max(128).optional() }).loose();

/** The transport-free handler: one request in, one answer out, never a throw. */
export function createGuardHttpHandler(
  options: GuardHttpOptions,
): (req: GuardHttpRequest) => Promise<GuardHttpResponse> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 10 || timeoutMs > MAX_HTTP_TIMEOUT_MS) {
    throw new RangeError(
      `guard HTTP endpoint: timeoutMs must be between 10 and ${MAX_HTTP_TIMEOUT_MS}, got ${timeoutMs}`,
    );
  }
  if (options.secrets && (options.secrets.length === 0 || options.secrets.some((s) => s.length < 16))) {
    throw new RangeError('guard HTTP endpoint: each secret must be at least 16 characters');
  }
  if (!options.secrets && !options.upstreamAuthentication) {
    throw new TypeError(
      'guard HTTP endpoint: authentication is required: pass secrets (signed requests) or upstreamAuthentication',
    );
  }
  const requirePrincipal = !options.secrets && options.upstreamAuthentication === 'aws-iam-function-url';
  const clock = options.clock ?? systemClock;

  const reject = (
    status: number,
    rejection: string,
    reason: string,
    ids: { requestId?: string | null; withdrawalId?: string | null } = {},
    failedClosed = true,
  ): GuardHttpResponse => {
    if (status >= 500 || status === 400 || status === 401) options.metrics?.addMetric('GuardFailedClosed', 'Count', 1);
    return {
      status,
      body: {
        action: 'REJECT',
        requestId: ids.requestId ?? null,
        withdrawalId: ids.withdrawalId ?? null,
        rejectionReason: reason,
        failedClosed,
        rejection,
      },
    };
  };

  return async (req) => {
    const path = req.path.split('?')[0] ?? '';
    if (req.method === 'GET' && path === '/healthz') return { status: 200, body: { ok: true } };
    if (req.method !== 'POST') return reject(405, 'method', 'only POST /authorize is served');
    if (path !== '/' && path !== '/authorize') return reject(404, 'path', 'only POST /authorize is served');
    if (Buffer.byteLength(req.body) > MAX_BODY_BYTES)
      return reject(413, 'too-large', `body over ${MAX_BODY_BYTES} bytes`);
    if (options.secrets) {
      const check = verifySignature(
        options.secrets,
        req.body,
        req.headers[SIGNATURE_HEADER],
        clock.now(),
        DEFAULT_TOLERANCE_SECONDS,
      );
      if (!check.ok) return reject(401, 'signature', `request signature ${check.reason}`);
    }
    if (requirePrincipal && !req.principal) {
      return reject(401, 'unauthenticated', 'no IAM caller on the request: the function URL must use AuthType AWS_IAM');
    }
    let json: unknown;
    try {
      json = JSON.parse(req.body);
    } catch (e) {
      return reject(400, 'invalid-withdrawal', `body is not JSON: ${(e as Error).message}`);
    }
    const env = envelope.safeParse(json);
    if (!env.success) return reject(400, 'invalid-withdrawal', 'body must be a JSON object');
    const { requestId: given, ...withdrawal } = env.data;
    const withdrawalId = typeof withdrawal.withdrawalId === 'string' ? withdrawal.withdrawalId : null;
    const requestId = given ?? withdrawalId;

    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve('timeout');
      }, timeoutMs);
    });
    try {
      const outcome = await Promise.race([
        options.guard.check(withdrawal, { signal: controller.signal }).then(
          (approval) => ({ approval }),
          (error: unknown) => ({ error }),
        ),
        timedOut,
      ]);
      if (outcome === 'timeout') {
        return reject(503, 'timeout', `no decision within ${timeoutMs} ms: rejected (fail closed)`, {
          requestId,
          withdrawalId,
        });
      }
      if ('approval' in outcome) {
        return {
          status: 200,
          body: {
            action: 'APPROVE',
            requestId: requestId ?? outcome.approval.withdrawal.withdrawalId,
            withdrawalId: outcome.approval.withdrawal.withdrawalId,
            stateVersion: outcome.approval.stateVersion,
          },
        };
      }
      const e = outcome.error;
      if (!isWithdrawalHalted(e)) return reject(503, 'fault', `guard fault: ${String(e)}`, { requestId, withdrawalId });
      return rejection(e, requestId, withdrawalId);
    } finally {
      clearTimeout(timer);
    }
  };

  function rejection(
    e: WithdrawalHaltedError,
    requestId: string | null,
    withdrawalId: string | null,
  ): GuardHttpResponse {
    const status =
      e.rejection === 'halted'
        ? 403
        : e.rejection === 'invalid-withdrawal' || e.rejection === 'unknown-chain' || e.rejection === 'unknown-asset'
          ? 400
          : e.rejection === 'approval-conflict'
            ? 409
            : 503;
    return reject(status, e.rejection, e.message, { requestId, withdrawalId }, e.failedClosed);
  }
}

/** A node:http listener (local signer, a container behind a load balancer). */
export function guardHttpListener(handler: (req: GuardHttpRequest) => Promise<GuardHttpResponse>): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    readBody(req, MAX_BODY_BYTES + 1)
      .then((body) => handler({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body }))
      .catch(
        (e: unknown): GuardHttpResponse => ({
          status: 400,
          body: {
            action: 'REJECT',
            requestId: null,
            withdrawalId: null,
            rejectionReason: `request unreadable: ${String(e)}`,
            failedClosed: true,
            rejection: 'invalid-withdrawal',
          },
        }),
      )
      .then((answer) => {
        const text = JSON.stringify(answer.body);
        res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      });
  };
}

/** A Lambda Function URL handler (`export const handler = guardFunctionUrlHandler(createGuardHttpHandler(…))`). */
export function guardFunctionUrlHandler(
  handler: (req: GuardHttpRequest) => Promise<GuardHttpResponse>,
): (event: LambdaFunctionURLEvent) => Promise<{ statusCode: number; headers: Record<string, string>; body: string }> {
  return async (event) => {
    const raw = event.body ?? '';
    const body = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
    const answer = await handler({
      method: event.requestContext?.http?.method ?? 'POST',
      path: event.rawPath ?? '/',
      headers: Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
      body,
      principal: iamCaller(event),
    });
    return {
      statusCode: answer.status,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(answer.body),
    };
  };
}

/** The IAM caller a function URL with AuthType AWS_IAM puts on the event (absent with AuthType NONE). */
function iamCaller(event: LambdaFunctionURLEvent): string | undefined {
  const iam = (event.requestContext as { authorizer?: { iam?: { userArn?: unknown } } } | undefined)?.authorizer?.iam;
  return typeof iam?.userArn === 'string' && iam.userArn !== '' ? iam.userArn : undefined;
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) break;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
