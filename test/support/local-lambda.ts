/**
 * A local stand-in for the Lambda control plane's reserved-concurrency API, for tests with the real
 * @aws-sdk/client-lambda. Lambda speaks REST-JSON (not awsJson like SSM/KMS): the operation is the
 * method and path, errors are an HTTP status with `x-amzn-errortype: <ErrorShape>` and a JSON body
 * `{"Type":"User","message":…}`, from which the SDK builds its modelled exception class.
 *
 *   GET    /2019-09-30/functions/{FunctionName}/concurrency   GetFunctionConcurrency
 *   PUT    /2017-10-31/functions/{FunctionName}/concurrency   PutFunctionConcurrency {ReservedConcurrentExecutions}
 *   DELETE /2017-10-31/functions/{FunctionName}/concurrency   DeleteFunctionConcurrency (204)
 *
 * FunctionName may be a name or an ARN (URL-encoded in the path). Signatures are not verified,
 * only required to be present.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type LambdaOperation = 'GetFunctionConcurrency' | 'PutFunctionConcurrency' | 'DeleteFunctionConcurrency';

export interface LocalFunction {
  /** Reserved concurrency; undefined = none reserved (the function uses the unreserved pool). */
  reserved?: number;
}

export interface LambdaCall {
  operation: LambdaOperation | 'unknown';
  method: string;
  path: string;
  functionName: string | undefined;
  body: Record<string, unknown>;
  status: number | undefined;
}

export interface LambdaErrorSpec {
  status: number;
  type: string;
  message: string;
}

export interface LocalLambda {
  readonly endpoint: string;
  readonly functions: Map<string, LocalFunction>;
  readonly calls: LambdaCall[];
  callsTo(operation: LambdaOperation): LambdaCall[];
  /** Fail the next `n` calls of `operation` (default: HTTP 500 ServiceException; 'reset' drops the connection). */
  failNext(operation: LambdaOperation, n: number, error?: LambdaErrorSpec | 'reset'): void;
  close(): Promise<void>;
}

const ROUTES: { method: string; prefix: string; operation: LambdaOperation }[] = [
  { method: 'GET', prefix: '/2019-09-30/functions/', operation: 'GetFunctionConcurrency' },
  { method: 'PUT', prefix: '/2017-10-31/functions/', operation: 'PutFunctionConcurrency' },
  { method: 'DELETE', prefix: '/2017-10-31/functions/', operation: 'DeleteFunctionConcurrency' },
];

export async function startLocalLambda(functions: Record<string, LocalFunction> = {}): Promise<LocalLambda> {
  const fns = new Map(Object.entries(functions));
  const calls: LambdaCall[] = [];
  const failures = new Map<LambdaOperation, { remaining: number; error: LambdaErrorSpec | 'reset' }[]>();

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendError(res, { status: 500, type: 'ServiceException', message: String(e) });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://local');
    const method = req.method ?? 'GET';
    const route = ROUTES.find(
      (r) => r.method === method && url.pathname.startsWith(r.prefix) && url.pathname.endsWith('/concurrency'),
    );
    const functionName = route
      ? shortName(decodeURIComponent(url.pathname.slice(route.prefix.length, -'/concurrency'.length)))
      : undefined;
    let body: Record<string, unknown> = {};
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      body = {};
    }
    const call: LambdaCall = {
      operation: route?.operation ?? 'unknown',
      method,
      path: url.pathname,
      functionName,
      body,
      status: undefined,
    };
    calls.push(call);
    const fail = (e: LambdaErrorSpec) => {
      call.status = e.status;
      sendError(res, e);
    };
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
      return fail({ status: 403, type: 'AccessDeniedException', message: 'Missing Authentication Token' });
    }
    if (!route || !functionName)
      return fail({ status: 404, type: 'UnknownOperationException', message: `${method} ${url.pathname}` });
    const queue = failures.get(route.operation);
    const injected = queue?.[0];
    if (queue && injected) {
      injected.remaining--;
      if (injected.remaining <= 0) queue.shift();
      if (injected.error === 'reset') {
        req.socket.destroy();
        return;
      }
      return fail(injected.error);
    }
    const fn = fns.get(functionName);
    if (!fn) {
      return fail({ status: 404, type: 'ResourceNotFoundException', message: `Function not found: ${functionName}` });
    }
    switch (route.operation) {
      case 'GetFunctionConcurrency':
        call.status = 200;
        return send(res, 200, fn.reserved === undefined ? {} : { ReservedConcurrentExecutions: fn.reserved });
      case 'PutFunctionConcurrency': {
        const n = body.ReservedConcurrentExecutions;
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
          return fail({ status: 400, type: 'InvalidParameterValueException', message: 'ReservedConcurrentExecutions' });
        }
        fn.reserved = n;
        call.status = 200;
        return send(res, 200, { ReservedConcurrentExecutions: n });
      }
      case 'DeleteFunctionConcurrency':
        delete fn.reserved;
        call.status = 204;
        res.writeHead(204, { 'x-amzn-requestid': randomUUID() });
        res.end();
        return;
    }
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    functions: fns,
    calls,
    callsTo: (operation) => calls.filter((c) => c.operation === operation),
    failNext(operation, n, error = { status: 500, type: 'ServiceException', message: 'injected failure' }) {
      const queue = failures.get(operation) ?? [];
      queue.push({ remaining: n, error });
      failures.set(operation, queue);
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** `arn:aws:lambda:us-east-1:123456789012:function:signer` → `signer`. */
function shortName(name: string): string {
  const i = name.indexOf(':function:');
  return i >= 0 ? name.slice(i + ':function:'.length) : name;
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}

function sendError(res: ServerResponse, e: LambdaErrorSpec): void {
  const text = JSON.stringify({ Type: e.status < 500 ? 'User' : 'Service', message: e.message });
  res.writeHead(e.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-errortype': e.type,
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
