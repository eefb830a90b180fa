/**
 * A local endpoint for AWS services that speak the JSON 1.1 protocol (SSM, KMS, …), for integration tests
 * with the real SDK clients. There is no stand-in on npm for these and LocalStack needs Docker, but the
 * protocol is small: every call is `POST /` with `X-Amz-Target: <Service>.<Operation>` and a JSON body,
 * answered with `application/x-amz-json-1.1` JSON; a failure is an HTTP 4xx/5xx whose body carries
 * `{"__type": "<ErrorShape>", "message": …}`, from which the SDK builds its modelled exception class
 * (`ParameterNotFound`, `NotFoundException`, …).
 *
 * The tests supply the operations as handlers; `ssmParameterHandlers()` is a ready-made in-memory
 * Parameter Store and `secretsManagerHandlers()` an in-memory Secrets Manager (GetSecretValue). Signatures are not verified (credentials are fake), only required to be present.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '123456789012';

/** A modelled AWS error: the handler throws it, the client receives an exception named `type`. */
export class AwsJsonError extends Error {
  readonly type: string;
  readonly status: number;
  constructor(type: string, message: string, status = 400) {
    super(message);
    this.name = 'AwsJsonError';
    this.type = type;
    this.status = status;
  }
}

/** One operation: receives the request body, returns the response body (or throws AwsJsonError). */
export type AwsJsonHandler = (body: Record<string, unknown>) => unknown;
/** Handlers by target, e.g. `AmazonSSM.GetParameter`, `TrentService.DisableKey`. */
export type AwsJsonHandlers = Record<string, AwsJsonHandler>;

/** A call as the endpoint received it, before any injected failure or handler ran. */
export interface RecordedCall {
  target: string;
  body: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  /** HTTP status answered; undefined when the connection was reset instead. */
  status: number | undefined;
}

/** What an injected failure does: answer a modelled error, or drop the connection (a network fault). */
export type InjectedFailure = AwsJsonError | 'reset';

export interface LocalAwsJson {
  /** `http://127.0.0.1:<port>`, for the client's `endpoint`. */
  readonly endpoint: string;
  readonly calls: RecordedCall[];
  /** The recorded calls to one target, e.g. `callsTo('AmazonSSM.PutParameter')`. */
  callsTo(target: string): RecordedCall[];
  /**
   * Fail the next `n` calls to `target` without running its handler: by default with an HTTP 500
   * `InternalFailure` (retryable for the SDK, so give clients `maxAttempts: 1` or count on the retries).
   */
  failNext(target: string, n: number, error?: InjectedFailure): void;
  close(): Promise<void>;
}

export interface LocalAwsJsonOptions {
  handlers: AwsJsonHandlers;
}

export async function startLocalAwsJson(options: LocalAwsJsonOptions): Promise<LocalAwsJson> {
  const handlers = { ...options.handlers };
  const calls: RecordedCall[] = [];
  const failures = new Map<string, { remaining: number; error: InjectedFailure }[]>();

  const takeFailure = (target: string): InjectedFailure | undefined => {
    const queue = failures.get(target);
    const head = queue?.[0];
    if (!queue || !head) return undefined;
    head.remaining--;
    if (head.remaining <= 0) queue.shift();
    return head.error;
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendError(res, new AwsJsonError('InternalFailure', String(e), 500));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const target = headerValue(req.headers['x-amz-target']);
    let body: Record<string, unknown> = {};
    let parseError: string | undefined;
    try {
      const parsed: unknown = raw.length === 0 ? {} : JSON.parse(raw);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) parseError = 'body is not an object';
      else body = parsed as Record<string, unknown>;
    } catch (e) {
      parseError = (e as Error).message;
    }
    const call: RecordedCall = { target: target ?? '', body, headers: req.headers, status: undefined };
    calls.push(call);

    const answer = (status: number, payload: unknown) => {
      call.status = status;
      send(res, status, payload);
    };
    const fail = (error: AwsJsonError) => {
      call.status = error.status;
      sendError(res, error);
    };

    if (req.method !== 'POST') return fail(new AwsJsonError('UnknownOperationException', 'only POST is supported'));
    if (!headerValue(req.headers.authorization)?.startsWith('AWS4-HMAC-SHA256 ')) {
      return fail(new AwsJsonError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403));
    }
    if (parseError !== undefined) return fail(new AwsJsonError('SerializationException', parseError));
    const handler = target === undefined ? undefined : handlers[target];
    if (target === undefined || !handler) {
      return fail(new AwsJsonError('UnknownOperationException', `unknown operation: ${target ?? '(no X-Amz-Target)'}`));
    }

    const injected = takeFailure(target);
    if (injected === 'reset') {
      req.socket.destroy();
      return;
    }
    if (injected) return fail(injected);

    try {
      answer(200, (await handler(body)) ?? {});
    } catch (e) {
      fail(e instanceof AwsJsonError ? e : new AwsJsonError('InternalFailure', `handler threw: ${String(e)}`, 500));
    }
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    callsTo: (target) => calls.filter((c) => c.target === target),
    failNext(target, n, error = new AwsJsonError('InternalFailure', 'injected failure', 500)) {
      if (!(target in handlers)) throw new Error(`failNext: no handler for ${target}`);
      const queue = failures.get(target) ?? [];
      queue.push({ remaining: n, error });
      failures.set(target, queue);
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Client settings for any SDK v3 client aimed at a local endpoint: fake credentials, one attempt. */
export function localClientConfig(endpoint: string) {
  return {
    endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
    maxAttempts: 1,
  };
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}

function sendError(res: ServerResponse, error: AwsJsonError): void {
  send(res, error.status, { __type: error.type, message: error.message });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// --- SSM Parameter Store -------------------------------------------------------------------------

export interface StoredParameter {
  name: string;
  type: 'String' | 'StringList' | 'SecureString';
  value: string;
  /** Starts at 1, +1 on every successful PutParameter (SSM versions even an unchanged value). */
  version: number;
  tier: 'Standard' | 'Advanced';
  dataType: string;
  lastModifiedMs: number;
}

/** Standard-tier parameters hold at most 4 KB; SSM answers a longer value with a ValidationException. */
export const SSM_STANDARD_MAX_VALUE_CHARS = 4096;

function parameterArn(name: string): string {
  return `arn:aws:ssm:${LOCAL_REGION}:${LOCAL_ACCOUNT}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
}

function requiredString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw new AwsJsonError(
      'ValidationException',
      `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

/**
 * An in-memory Parameter Store: GetParameter, PutParameter and DeleteParameter with SSM's response shapes
 * and errors (ParameterNotFound, ParameterAlreadyExists without Overwrite, the 4 KB standard-tier limit).
 * Pass `parameters` to seed or inspect the store; spread the result with other services' handlers to
 * serve several from one endpoint.
 */
export function ssmParameterHandlers(parameters: Map<string, StoredParameter> = new Map()): AwsJsonHandlers {
  return {
    'AmazonSSM.GetParameter': (body) => {
      const name = requiredString(body, 'Name');
      const p = parameters.get(name);
      if (!p) throw new AwsJsonError('ParameterNotFound', `Parameter ${name} not found.`);
      // SSM hands out a SecureString's plaintext only when asked to decrypt it.
      const value = p.type === 'SecureString' && body.WithDecryption !== true ? sealed(p.value) : p.value;
      return {
        Parameter: {
          Name: p.name,
          Type: p.type,
          Value: value,
          Version: p.version,
          // Timestamps are epoch seconds (with a fraction) in the JSON protocols.
          LastModifiedDate: p.lastModifiedMs / 1000,
          ARN: parameterArn(p.name),
          DataType: p.dataType,
        },
      };
    },
    'AmazonSSM.PutParameter': (body) => {
      const name = requiredString(body, 'Name');
      const value = requiredString(body, 'Value');
      const existing = parameters.get(name);
      if (existing && body.Overwrite !== true) {
        throw new AwsJsonError(
          'ParameterAlreadyExists',
          'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
        );
      }
      const tier = body.Tier === 'Advanced' || existing?.tier === 'Advanced' ? 'Advanced' : 'Standard';
      if (tier === 'Standard' && value.length > SSM_STANDARD_MAX_VALUE_CHARS) {
        throw new AwsJsonError(
          'ValidationException',
          'Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.',
        );
      }
      const type = (body.Type as StoredParameter['type'] | undefined) ?? existing?.type ?? 'String';
      const next: StoredParameter = {
        name,
        type,
        value,
        version: (existing?.version ?? 0) + 1,
        tier,
        dataType: typeof body.DataType === 'string' ? body.DataType : (existing?.dataType ?? 'text'),
        lastModifiedMs: Date.now(),
      };
      parameters.set(name, next);
      return { Version: next.version, Tier: next.tier };
    },
    'AmazonSSM.DeleteParameter': (body) => {
      const name = requiredString(body, 'Name');
      if (!parameters.delete(name)) throw new AwsJsonError('ParameterNotFound', `Parameter ${name} not found.`);
      return {};
    },
  };
}

/** What a SecureString read without WithDecryption returns: ciphertext, never the plaintext. */
function sealed(plaintext: string): string {
  return Buffer.from(`sealed:${plaintext.length}:${randomUUID()}`).toString('base64');
}

// --- Secrets Manager -----------------------------------------------------------------------------

export interface StoredSecret {
  /** The current (AWSCURRENT) value; replace it to rotate. */
  value: string;
  versionId: string;
}

function secretArn(name: string): string {
  return `arn:aws:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT}:secret:${name}-AbCdEf`;
}

/**
 * An in-memory Secrets Manager answering GetSecretValue by name or ARN (ResourceNotFoundException otherwise), with
 * the current value of each secret in `secrets` (rotate by replacing an entry).
 */
export function secretsManagerHandlers(secrets: Map<string, StoredSecret> = new Map()): AwsJsonHandlers {
  return {
    'secretsmanager.GetSecretValue': (body) => {
      const id = requiredString(body, 'SecretId');
      const name = [...secrets.keys()].find((n) => n === id || secretArn(n) === id);
      const secret = name === undefined ? undefined : secrets.get(name);
      if (name === undefined || !secret) {
        throw new AwsJsonError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      }
      return {
        ARN: secretArn(name),
        Name: name,
        SecretString: secret.value,
        VersionId: secret.versionId,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: Date.now() / 1000,
      };
    },
  };
}
