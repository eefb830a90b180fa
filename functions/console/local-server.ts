import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, userInfo } from 'node:os';
import { type ConsoleAssets, loadConsoleAssets } from './assets.ts';
import { type ConsoleHttpRequest, type ConsoleHttpResponse, handleConsoleHttp, json, serveStatic } from './http.ts';
import type { OpsConsole } from './service.ts';

/** The operator locally: the OS account running this process (never a typed name). */
export function localOperator(): string {
  return `local:${userInfo().username}@${hostname()}`;
}

/** What the local server forwards /api requests to: the in-process console, or a signed proxy to a stack. */
export type ConsoleApi = (req: Omit<ConsoleHttpRequest, 'operator'>) => Promise<ConsoleHttpResponse>;

/** The in-process console, acting as `operator` (the OS user of this process). */
export function inProcessApi(console: OpsConsole, operator: string, assets: ConsoleAssets): ConsoleApi {
  return (req) => handleConsoleHttp({ ...req, operator }, console, assets);
}

export interface LocalConsoleOptions {
  api: ConsoleApi;
  /** @default 0 (any free port) */
  port?: number;
  assets?: ConsoleAssets;
  /** @default a fresh random token */
  token?: string;
}

export interface LocalConsole {
  /** Open this: the page takes the session token from the fragment (never sent to a server). */
  url: string;
  origin: string;
  token: string;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

/**
 * The console on 127.0.0.1 only. The page itself is public (it holds nothing); every /api call must
 * carry this session's token (`Authorization: Bearer …`), which only the terminal that started the
 * server printed. The Host header must name the loopback address (no DNS rebinding) and a
 * cross-origin request is refused, so neither another local user's browser tab nor a web page can
 * act as the operator.
 */
export async function startLocalConsole(options: LocalConsoleOptions): Promise<LocalConsole> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const assets = options.assets ?? loadConsoleAssets();
  const expected = Buffer.from(`Bearer ${token}`);
  let origin = '';
  const server = createServer((req, res) => {
    serve(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, json(500, { ok: false, error: (e as Error).message }));
      else res.destroy();
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = req.headers.host ?? '';
    const port = (server.address() as AddressInfo).port;
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      return send(res, json(403, { ok: false, error: `unexpected Host "${host}": open ${origin}` }));
    }
    const url = new URL(req.url ?? '/', origin);
    if (!url.pathname.startsWith('/api/')) return send(res, serveStatic(req.method ?? 'GET', url.pathname, assets));
    const given = Buffer.from(req.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return send(
        res,
        json(401, { ok: false, error: 'not authenticated: open the console with the URL the terminal printed' }),
      );
    }
    const from = req.headers.origin;
    if (from !== undefined && from !== origin && from !== origin.replace('127.0.0.1', 'localhost')) {
      return send(res, json(403, { ok: false, error: `cross-origin request from ${from} refused` }));
    }
    const body = req.method === 'POST' ? await readBody(req) : undefined;
    if (body === null) return send(res, json(413, { ok: false, error: `body: larger than ${MAX_BODY} bytes` }));
    send(
      res,
      await options.api({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        body,
        headers: { 'content-type': req.headers['content-type'] },
      }),
    );
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}/#token=${token}`,
    origin,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, reply: ConsoleHttpResponse): void {
  res.writeHead(reply.status, reply.headers);
  res.end(reply.body);
}

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
