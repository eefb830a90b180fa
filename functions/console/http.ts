import { z } from 'zod';
import { formatPath, isBreakerError } from '../core/errors.ts';
import { type ConsoleAssets, contentSecurityPolicy } from './assets.ts';
import type { OpsConsole } from './service.ts';

/**
 * The console's HTTP surface, the same behind the local server and the console-api Lambda:
 *
 *   GET  /                    the page (static; holds no data)      GET  /api/status    state, trips, evidence, chains
 *   GET  /api/history?limit=  audit records, newest first           GET  /api/totals?span=  chart series
 *   POST /api/reset           {reason, scope?, reviewedTripIds?}    POST /api/trip      {reason, scope}
 *   POST /api/reset/request   {reason, scope?}   (two-person rule)  POST /api/reset/approve {requestId}
 *   POST /api/config/approve  {digest}           (a loosened config: two people end its delay early)
 *
 * `operator` is the identity the caller's authoriser verified; without one every /api route answers 401.
 */
export interface ConsoleHttpRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: string | undefined;
  headers: Record<string, string | undefined>;
  operator: string | undefined;
}

export interface ConsoleHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const reason = z
  .string({ error: 'required: what was reviewed and why (at least 10 characters)' })
  .trim()
  .min(10, { error: 'at least 10 characters: what was reviewed and why' })
  .max(2000, { error: 'at most 2000 characters' });
const scope = z
  .string({ error: 'expected "global" or "chain:<id>"' })
  .regex(/^(global|chain:[a-z][a-z0-9-]*)$/, { error: 'expected "global" or "chain:<id>"' });

const bodies = {
  reset: z
    .object({ reason, scope: scope.optional(), reviewedTripIds: z.array(z.string()).max(100).optional() })
    .strict(),
  request: z.object({ reason, scope: scope.optional() }).strict(),
  approve: z
    .object({ requestId: z.string({ error: 'required: the id of the reset request you approve' }).min(1) })
    .strict(),
  trip: z.object({ reason, scope: scope.default('global') }).strict(),
  approveConfig: z
    .object({
      digest: z
        .string({ error: 'required: the digest of the loosened config, as the [CONFIG] page names it' })
        .regex(/^[0-9a-f]{12,64}$/, { error: 'expected 12 to 64 lowercase hex digits of the config digest' }),
    })
    .strict(),
};

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

export async function handleConsoleHttp(
  req: ConsoleHttpRequest,
  console: OpsConsole,
  assets: ConsoleAssets,
): Promise<ConsoleHttpResponse> {
  const path = req.path.replace(/\/+$/, '') || '/';
  if (!path.startsWith('/api/')) return serveStatic(req.method, path, assets);
  if (!req.operator) {
    return json(401, { ok: false, error: 'not authenticated: the console needs a verified operator identity' });
  }
  const operator = req.operator;
  const route = `${req.method} ${path}`;
  try {
    switch (route) {
      case 'GET /api/whoami':
        return json(200, { ok: true, operator });
      case 'GET /api/status':
        return json(200, { ok: true, ...(await console.status(operator)) });
      case 'GET /api/history': {
        const limit = intParam(req.query, 'limit', 50, 1, 500);
        if (typeof limit === 'string') return json(400, { ok: false, error: limit });
        return json(200, { ok: true, records: await console.history(limit) });
      }
      case 'GET /api/totals': {
        const span = intParam(req.query, 'span', 0, 60, 7 * 86_400);
        if (typeof span === 'string') return json(400, { ok: false, error: span });
        return json(200, { ok: true, ...(await console.totals(span || undefined)) });
      }
      case 'POST /api/reset':
      case 'POST /api/reset/request':
      case 'POST /api/reset/approve':
      case 'POST /api/config/approve':
      case 'POST /api/trip':
        return await action(req, route, operator, console);
      default:
        return json(404, { ok: false, error: `no such route: ${route}` });
    }
  } catch (e) {
    if (isBreakerError(e, 'RESET_REJECTED')) return json(409, { ok: false, error: e.message });
    if (isBreakerError(e, 'STATE_CONFLICT')) return json(503, { ok: false, error: e.message });
    throw e;
  }
}

/** The page and its script and stylesheet: no identity needed, they hold no data. */
export function serveStatic(method: string, path: string, assets: ConsoleAssets): ConsoleHttpResponse {
  if (method !== 'GET' && method !== 'HEAD') return json(405, { ok: false, error: `${method} not allowed` });
  const asset = assets.get(path);
  if (!asset) return json(404, { ok: false, error: `no such page: ${path}` });
  return {
    status: 200,
    headers: {
      'content-type': asset.contentType,
      'cache-control': 'no-cache',
      'content-security-policy': contentSecurityPolicy,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    },
    body: asset.body,
  };
}

async function action(
  req: ConsoleHttpRequest,
  route: string,
  operator: string,
  console: OpsConsole,
): Promise<ConsoleHttpResponse> {
  // A JSON content type cannot be sent cross-site without a CORS preflight, which this API never grants.
  const type = req.headers['content-type'] ?? '';
  if (!type.toLowerCase().startsWith('application/json')) {
    return json(415, { ok: false, error: 'content-type: expected application/json' });
  }
  let payload: unknown;
  try {
    payload = JSON.parse(req.body ?? '');
  } catch {
    return json(400, { ok: false, error: 'body: not JSON' });
  }
  const parse = <T>(schema: z.ZodType<T>): T | ConsoleHttpResponse => {
    const r = schema.safeParse(payload);
    if (r.success) return r.data;
    return json(400, {
      ok: false,
      error: r.error.issues
        .map(
          (i) =>
            `${i.code === 'unrecognized_keys' ? i.keys.join(', ') : formatPath(i.path)}: ${i.code === 'unrecognized_keys' ? 'unknown field (the operator comes from your credentials, not the body)' : i.message}`,
        )
        .join('; '),
    });
  };
  let outcome: Awaited<ReturnType<OpsConsole['reset']>>;
  switch (route) {
    case 'POST /api/reset': {
      const body = parse(bodies.reset);
      if ('status' in body) return body;
      outcome = await console.reset(operator, body);
      break;
    }
    case 'POST /api/reset/request': {
      const body = parse(bodies.request);
      if ('status' in body) return body;
      outcome = await console.requestReset(operator, body);
      break;
    }
    case 'POST /api/reset/approve': {
      const body = parse(bodies.approve);
      if ('status' in body) return body;
      outcome = await console.approveReset(operator, body);
      break;
    }
    case 'POST /api/config/approve': {
      const body = parse(bodies.approveConfig);
      if ('status' in body) return body;
      outcome = await console.approveConfig(operator, body);
      break;
    }
    default: {
      const body = parse(bodies.trip);
      if ('status' in body) return body;
      outcome = await console.trip(operator, body);
    }
  }
  const { state, undelivered } = outcome;
  return json(200, {
    ok: true,
    actor: operator,
    version: state.version,
    tripped: Object.keys(state.tripped),
    pendingReset: state.pendingReset ?? null,
    looseningWaitsUntil: state.config?.pending?.effectiveAtMs ?? null,
    ...(undelivered ? { warning: undelivered } : {}),
  });
}

function intParam(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number | string {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) return `${name}: expected a whole number from ${min} to ${max}`;
  return n;
}

export function json(status: number, body: unknown): ConsoleHttpResponse {
  return { status, headers: { ...JSON_HEADERS }, body: JSON.stringify(body) };
}
