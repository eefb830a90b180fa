import { createServer } from 'node:http';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsolePageSink } from '../../../functions/adapters/pages/console-page-sink.ts';
import { FanoutPagePublisher } from '../../../functions/adapters/pages/fanout-page-publisher.ts';
import { WebhookPagePublisher } from '../../../functions/adapters/pages/webhook-page-publisher.ts';
import { PublishError } from '../../../functions/core/errors.ts';
import type { PagePublisher } from '../../../functions/core/ports.ts';
import type { Page } from '../../../functions/core/state.ts';
import { closeServer, listen } from '../../support/local-sns.ts';

const page: Page = {
  id: 'page-blind-0003',
  kind: 'blind',
  subject: 'BLIND bitcoin: no block read for 15 minutes',
  text: 'Every bitcoin endpoint failed since block 870000.',
  details: { chain: 'bitcoin', lastBlock: 870000 },
};

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

/** A local webhook receiver that records page ids and answers with `status`. */
async function receiver(status: number) {
  const pageIds: string[] = [];
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    pageIds.push(JSON.parse(body).id);
    res.writeHead(status).end();
  });
  const port = await listen(server);
  stops.push(() => closeServer(server));
  return { url: `http://127.0.0.1:${port}/`, pageIds };
}

function consoleTarget() {
  const stream = new PassThrough();
  let output = '';
  stream.on('data', (chunk) => {
    output += chunk;
  });
  return { publisher: new ConsolePageSink({ stream, width: 60 }), output: () => output };
}

const noSleep = async () => {};

describe('FanoutPagePublisher', () => {
  it('delivers to every target', async () => {
    const a = await receiver(200);
    const b = await receiver(204);
    const terminal = consoleTarget();
    await new FanoutPagePublisher([
      { name: 'console', publisher: terminal.publisher },
      { name: 'oncall', publisher: new WebhookPagePublisher({ url: a.url }) },
      { name: 'chat', publisher: new WebhookPagePublisher({ url: b.url }) },
    ]).publish(page);

    expect(a.pageIds).toEqual([page.id]);
    expect(b.pageIds).toEqual([page.id]);
    expect(terminal.output()).toContain(page.subject);
  });

  it('keeps going past a failing target, then names it in a PublishError', async () => {
    const good = await receiver(200);
    const broken = await receiver(500);
    const terminal = consoleTarget();
    const error = await new FanoutPagePublisher([
      { name: 'opsgenie', publisher: new WebhookPagePublisher({ url: broken.url, maxAttempts: 2, sleep: noSleep }) },
      { name: 'console', publisher: terminal.publisher },
      { name: 'slack', publisher: new WebhookPagePublisher({ url: good.url }) },
    ])
      .publish(page)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PublishError);
    const message = (error as Error).message;
    expect(message).toContain('blind page page-blind-0003: 1 of 3 publishers failed (opsgenie)');
    expect(message).toContain('delivered via console, slack');
    expect(message).toContain('HTTP 500');
    const cause = (error as Error).cause as AggregateError;
    expect(cause).toBeInstanceOf(AggregateError);
    expect(cause.errors).toHaveLength(1);
    expect(cause.errors[0]).toBeInstanceOf(PublishError);
    // The others got the page despite the failure listed first.
    expect(good.pageIds).toEqual([page.id]);
    expect(terminal.output()).toContain(page.subject);
    expect(broken.pageIds).toEqual([page.id, page.id]);
  });

  it('treats a publisher that throws synchronously like any other failure', async () => {
    const good = await receiver(200);
    const throwsAtOnce: PagePublisher = {
      publish() {
        throw new TypeError('not a function');
      },
    };
    const error = await new FanoutPagePublisher([
      { name: 'buggy', publisher: throwsAtOnce },
      { name: 'webhook', publisher: new WebhookPagePublisher({ url: good.url }) },
    ])
      .publish(page)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PublishError);
    expect((error as Error).message).toContain('1 of 2 publishers failed (buggy); delivered via webhook');
    expect(good.pageIds).toEqual([page.id]);
  });

  it('says nothing was delivered when every target failed', async () => {
    const broken = await receiver(503);
    const error = await new FanoutPagePublisher([
      { name: 'a', publisher: new WebhookPagePublisher({ url: broken.url, maxAttempts: 1 }) },
      { name: 'b', publisher: new WebhookPagePublisher({ url: broken.url, maxAttempts: 1 }) },
    ])
      .publish(page)
      .catch((e: unknown) => e);
    expect((error as Error).message).toContain('2 of 2 publishers failed (a, b); delivered via none');
  });

  it.each([
    ['no targets', [], /at least one publisher/],
    ['a blank name', [{ name: ' ', publisher: consoleTarget().publisher }], /targets\[0\]\.name: must not be empty/],
    [
      'a duplicate name',
      [
        { name: 'sns', publisher: consoleTarget().publisher },
        { name: 'sns', publisher: consoleTarget().publisher },
      ],
      /targets\[1\]\.name: "sns" is used twice/,
    ],
  ])('rejects %s up front', (_name, targets, message) => {
    expect(() => new FanoutPagePublisher(targets)).toThrow(message);
  });
});
