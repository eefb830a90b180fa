import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { handleConsoleHttp } from '../../functions/console/http.ts';
import { OpsConsole } from '../../functions/console/service.ts';
import { systemClock } from '../../functions/core/time.ts';
import { RecordingPublisher } from '../integration/harness.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';
import { configInput } from '../support/fixtures.ts';
import { initialiseForTest } from '../support/initialise.ts';

/**
 * `breaker … --url` (what `--stack` resolves to) against a stand-in for an AWS_IAM function URL: it
 * verifies the SigV4 signature of every request with the caller's secret, as Lambda does, answers 403
 * when it does not verify, and hands the verified principal to the console API as the operator.
 */
const USERS: Record<string, { secret: string; arn: string }> = {
  AKIAALICE: { secret: 'alice-secret', arn: 'arn:aws:sts::123456789012:assumed-role/OnCall/alice' },
};
const REGION = 'eu-west-1';

async function verifiedCaller(req: {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}): Promise<string | undefined> {
  const auth =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/lambda\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]+)$/.exec(
      req.headers.authorization ?? '',
    );
  if (!auth) return undefined;
  const [, keyId, region, signedHeaders, signature] = auth as unknown as string[];
  const user = USERS[keyId!];
  if (!user || region !== REGION) return undefined;
  const url = new URL(req.url, `http://${req.headers.host}`);
  const headers = Object.fromEntries(signedHeaders!.split(';').map((h) => [h, req.headers[h] ?? '']));
  const signer = new SignatureV4({
    service: 'lambda',
    region: REGION,
    credentials: { accessKeyId: keyId!, secretAccessKey: user.secret },
    sha256: Hash.bind(null, 'sha256'),
  });
  const date = req.headers['x-amz-date']!.replace(
    /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/,
    '$1-$2-$3T$4:$5:$6Z',
  );
  const expected = await signer.sign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body: req.body || undefined,
    },
    { signingDate: new Date(date) },
  );
  return expected.headers.authorization?.endsWith(`Signature=${signature}`) ? user.arn : undefined;
}

describe('CLI --url/--stack: SigV4-signed calls to the console API', () => {
  let db: TestStore;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    db = await startTestStore();
    await initialiseForTest(db.store);
    const config = compileConfig(configInput(), 'stack-mode');
    const ops = new OpsConsole({ config, store: db.store, publisher: new RecordingPublisher(), clock: systemClock });
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += String(c);
      });
      req.on('end', async () => {
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        const caller = await verifiedCaller({ method: req.method ?? 'GET', url: req.url ?? '/', headers, body });
        if (!caller) {
          res.writeHead(403, { 'content-type': 'application/json' });
          res.end('{"Message":"Forbidden"}');
          return;
        }
        const u = new URL(req.url ?? '/', 'http://x');
        const reply = await handleConsoleHttp(
          {
            method: req.method ?? 'GET',
            path: u.pathname,
            query: u.searchParams,
            body: body || undefined,
            headers: { 'content-type': headers['content-type'] },
            operator: caller,
          },
          ops,
          { get: () => undefined },
        );
        res.writeHead(reply.status, reply.headers);
        res.end(reply.body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await db?.close();
  });

  const breaker = (args: string[], env: Record<string, string>) =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'functions/local/cli.ts', ...args], {
        env: {
          ...process.env,
          AWS_PROFILE: '',
          AWS_CONFIG_FILE: '/dev/null',
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          ...env,
        },
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => {
        out += String(d);
      });
      child.stderr.on('data', (d) => {
        err += String(d);
      });
      child.on('exit', (code) => resolve({ code, out, err }));
    });
  const alice = { AWS_ACCESS_KEY_ID: 'AKIAALICE', AWS_SECRET_ACCESS_KEY: 'alice-secret' };

  it('trips and resets as the principal the signature proves, with credentials from the environment', async () => {
    const trip = await breaker(
      ['trip', '--url', url, '--region', REGION, '--reason', 'odd signer traffic seen'],
      alice,
    );
    expect(trip.err).toBe('');
    expect(trip.out).toContain(`Halted global by ${USERS.AKIAALICE!.arn}`);
    const status = await breaker(['status', '--url', url, '--region', REGION], alice);
    expect(status.code).toBe(3);
    expect(status.out).toContain(`as ${USERS.AKIAALICE!.arn}`);
    const reset = await breaker(
      ['reset', '--url', url, '--region', REGION, '--reason', 'reviewed: it was a load test'],
      alice,
    );
    expect(reset.code).toBe(0);
    const [record] = await db.store.listAudit(1);
    expect(record).toMatchObject({
      action: 'reset',
      actor: USERS.AKIAALICE!.arn,
      reason: 'reviewed: it was a load test',
    });
  });

  it('is refused (403) with credentials that do not verify, and changes nothing', async () => {
    const before = (await db.store.getState()).version;
    const r = await breaker(['trip', '--url', url, '--region', REGION, '--reason', 'forged credentials try this'], {
      AWS_ACCESS_KEY_ID: 'AKIAALICE',
      AWS_SECRET_ACCESS_KEY: 'not-alice-secret',
    });
    expect(r.code).toBe(1);
    expect(r.err).toContain('AWS refused the request (403)');
    expect((await db.store.getState()).version).toBe(before);
  });
});
