import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookPagePublisher } from '../../../functions/adapters/pages/webhook-page-publisher.ts';
import { isBreakerError, PublishError } from '../../../functions/core/errors.ts';
import type { Page } from '../../../functions/core/state.ts';
import { closeServer, listen } from '../../support/local-sns.ts';

const page: Page = {
  id: 'page-warn-0007',
  kind: 'warn',
  subject: 'WARN ethereum: USDC outflow at 85% of the 10m limit',
  text: 'ethereum USDC over 10m: 850,000 of 1,000,000',
  details: { ruleId: 'eth-usdc-10m', value: 850_000_000_000n, outflowIds: ['ethereum:0x01:3'] },
};

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local receiver answering each request with the next handler (the last one repeats). */
async function startReceiver(...handlers: ((res: ServerResponse) => void)[]) {
  const received: Received[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    received.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString(),
    });
    const handler = handlers[Math.min(received.length, handlers.length) - 1];
    handler?.(res);
  });
  const port = await listen(server);
  stops.push(() => closeServer(server));
  return { url: `http://127.0.0.1:${port}`, received };
}

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

const ok = (res: ServerResponse) => res.writeHead(202).end('accepted');
const status =
  (code: number, body = '') =>
  (res: ServerResponse) =>
    res.writeHead(code).end(body);
const noSleep = async () => {};

describe('WebhookPagePublisher', () => {
  it('POSTs the page as JSON with its id as the idempotency key', async () => {
    const receiver = await startReceiver(ok);
    const publisher = new WebhookPagePublisher({
      url: `${receiver.url}/hooks/pages`,
      headers: { authorization: 'Bearer t0ken' },
    });
    await publisher.publish(page);

    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/hooks/pages');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['idempotency-key']).toBe(page.id);
    expect(request?.headers.authorization).toBe('Bearer t0ken');
    expect(JSON.parse(request?.body ?? '')).toEqual({
      id: page.id,
      kind: 'warn',
      subject: page.subject,
      text: page.text,
      details: { ruleId: 'eth-usdc-10m', value: '850000000000', outflowIds: ['ethereum:0x01:3'] },
    });
  });

  it('retries a 503 and succeeds on the next attempt', async () => {
    const receiver = await startReceiver(status(503), ok);
    const delays: number[] = [];
    await new WebhookPagePublisher({ url: receiver.url, sleep: async (ms) => void delays.push(ms) }).publish(page);
    expect(receiver.received).toHaveLength(2);
    expect(delays).toHaveLength(1);
  });

  it('fails with a PublishError after its attempts when the receiver answers 500', async () => {
    const receiver = await startReceiver(status(500, 'database is down'));
    const error = await new WebhookPagePublisher({ url: receiver.url, maxAttempts: 3, sleep: noSleep })
      .publish(page)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PublishError);
    expect(isBreakerError(error, 'PUBLISH_FAILED')).toBe(true);
    expect((error as Error).message).toContain('failed after 3 attempts: HttpStatusError: HTTP 500');
    expect((error as Error).message).toContain('database is down');
    expect(receiver.received).toHaveLength(3);
  });

  it.each([
    [400, 'a rejected request'],
    [401, 'bad credentials'],
    [302, 'a redirect'],
  ])('does not retry %s (%s)', async (code) => {
    const receiver = await startReceiver((res) => res.writeHead(code, { location: 'http://127.0.0.1:9/' }).end());
    const error = await new WebhookPagePublisher({ url: receiver.url, sleep: noSleep })
      .publish(page)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as Error).message).toContain(`failed after 1 attempt: HttpStatusError: HTTP ${code}`);
    expect(receiver.received).toHaveLength(1);
  });

  it('times out a receiver that never answers, on every attempt', async () => {
    const receiver = await startReceiver(() => {});
    const started = performance.now();
    const error = await new WebhookPagePublisher({ url: receiver.url, timeoutMs: 200, maxAttempts: 2, sleep: noSleep })
      .publish(page)
      .catch((e: unknown) => e);
    const elapsed = performance.now() - started;

    expect(error).toBeInstanceOf(PublishError);
    expect(((error as Error).cause as Error).name).toBe('TimeoutError');
    expect((error as Error).message).toContain('failed after 2 attempts');
    expect(receiver.received).toHaveLength(2);
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(3000);
  });

  it('times out a receiver that stalls after the headers', async () => {
    const receiver = await startReceiver((res) => {
      res.writeHead(200);
      res.write('{"partial":');
    });
    const error = await new WebhookPagePublisher({ url: receiver.url, timeoutMs: 200, maxAttempts: 1 })
      .publish(page)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect(((error as Error).cause as Error).name).toBe('TimeoutError');
  });

  it('reports a refused connection without the secret part of the URL', async () => {
    const receiver = await startReceiver(ok);
    await Promise.all(stops.splice(0).map((stop) => stop()));
    const url = `${receiver.url}/services/T000/B000/s3cr3t-token`;
    const error = await new WebhookPagePublisher({ url, sleep: noSleep }).publish(page).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PublishError);
    expect((error as Error).message).toContain('failed after 3 attempts');
    expect((error as Error).message).toContain('ECONNREFUSED');
    expect((error as Error).message).toContain(receiver.url);
    expect((error as Error).message).not.toContain('s3cr3t-token');
  });

  it.each([
    ['a non-URL', { url: 'not a url' }, /url: not a valid URL/],
    ['another scheme', { url: 'ftp://127.0.0.1/x' }, /url: must be http: or https:/],
    ['a zero timeout', { url: 'http://127.0.0.1/', timeoutMs: 0 }, /timeoutMs/],
    ['too many attempts', { url: 'http://127.0.0.1/', maxAttempts: 50 }, /maxAttempts/],
  ])('rejects %s up front', (_name, options, message) => {
    expect(() => new WebhookPagePublisher(options)).toThrow(message);
  });
});
