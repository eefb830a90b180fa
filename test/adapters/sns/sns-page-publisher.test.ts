import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildPublishInput,
  isTransientSnsError,
  SNS_MAX_MESSAGE_BYTES,
  SnsPagePublisher,
} from '../../../functions/adapters/sns/sns-page-publisher.ts';
import { isBreakerError, PublishError } from '../../../functions/core/errors.ts';
import type { Page } from '../../../functions/core/state.ts';
import {
  bodyFor,
  closeServer,
  type HttpSubscriber,
  type LocalSns,
  listen,
  publishedAttributes,
  startHttpSubscriber,
  startLocalSns,
} from '../../support/local-sns.ts';

function tripPage(overrides: Partial<Page> = {}): Page {
  return {
    id: 'page-trip-0001',
    kind: 'trip',
    subject: 'TRIP global: USD outflow over 1h limit, signing halted',
    text: 'global USD over 1h: $3,120,000.00 > limit $3,000,000.00\nSigning is halted for scope global.',
    details: {
      ruleId: 'global-usd-1h',
      scope: 'global',
      value: 3_120_000_000_000n,
      limit: '3000000000000',
      transactions: [{ id: 'ethereum:0xabc:0', usd: '2000000000000' }],
    },
    ...overrides,
  };
}

/** Records requested delays instead of sleeping, so retry tests are fast and countable. */
function recordingSleep() {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => void delays.push(ms) };
}

/** The local server delivers asynchronously: give a duplicate time to show up before counting. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

describe('SnsPagePublisher against a local SNS', () => {
  let sns: LocalSns;
  let subscriber: HttpSubscriber;

  beforeAll(async () => {
    sns = await startLocalSns();
    subscriber = await startHttpSubscriber();
  });
  afterAll(async () => {
    await subscriber?.close();
    await sns?.close();
  });

  async function freshTopic(name: string): Promise<{ topicArn: string; start: number }> {
    const topicArn = await sns.createTopic(name);
    await sns.subscribeHttp(topicArn, subscriber.url);
    return { topicArn, start: subscriber.deliveries.length };
  }

  it('delivers exactly one message with the subject, kind, text and details', async () => {
    const { topicArn, start } = await freshTopic('pages-basic');
    const client = sns.client();
    const page = tripPage();
    await new SnsPagePublisher({ client, topicArn }).publish(page);
    await subscriber.waitFor(start + 1);
    await settle();
    client.destroy();

    const delivered = subscriber.deliveries.slice(start);
    expect(delivered).toHaveLength(1);
    const notification = delivered[0]!.notification;
    expect(notification.TopicArn).toBe(topicArn);
    expect(notification.Subject).toBe(page.subject);

    const https = JSON.parse(bodyFor(notification, 'https'));
    expect(https).toEqual({
      id: page.id,
      kind: 'trip',
      subject: page.subject,
      text: page.text,
      details: { ...page.details, value: '3120000000000' },
    });
    expect(bodyFor(notification, 'email')).toBe(page.text);
    expect(bodyFor(notification, 'email-json')).toBe(page.text);
    expect(bodyFor(notification, 'sms')).toBe(
      'global USD over 1h: $3,120,000.00 > limit $3,000,000.00 Signing is halted for scope global.',
    );

    const request = sns.publishRequests.find((r) => r.TopicArn === topicArn);
    expect(request?.MessageStructure).toBe('json');
    expect(publishedAttributes(request!)).toEqual({ kind: 'trip', pageId: page.id });
  });

  it('sends a subject SNS accepts: one line, ASCII, at most 100 characters', async () => {
    const { topicArn, start } = await freshTopic('pages-subject');
    const client = sns.client();
    const subject = `TRIP «ethereum» — hot wallet 0xAbC…\nsigning halted 🚨 ${'x'.repeat(300)}`;
    await new SnsPagePublisher({ client, topicArn }).publish(tripPage({ id: 'page-subject', subject }));
    const [delivery] = (await subscriber.waitFor(start + 1)).slice(start);
    client.destroy();

    const sent = delivery!.notification.Subject!;
    expect(sent).toHaveLength(100);
    expect(sent).toMatch(/^[\x20-\x7e]+$/);
    expect(sent.startsWith('TRIP ?ethereum? - hot wallet 0xAbC... signing halted ? xxx')).toBe(true);
    expect(sent.endsWith('...')).toBe(true);
    // Machines get the subject as written, bounded.
    expect(JSON.parse(bodyFor(delivery!.notification, 'https')).subject).toBe(`${subject.slice(0, 297).trimEnd()}...`);
  });

  it('trims an oversized transaction list to fit 256 KiB and says how many were left out', async () => {
    const { topicArn, start } = await freshTopic('pages-large');
    const client = sns.client();
    const transactions = Array.from({ length: 5000 }, (_, i) => ({
      id: `ethereum:0x${i.toString(16).padStart(64, '0')}:0`,
      to: `0x${'d'.repeat(40)}`,
      usd: String(5_000_000_000 - i),
    }));
    const page = tripPage({ id: 'page-large', details: { ruleId: 'global-usd-1h', transactions } });
    await new SnsPagePublisher({ client, topicArn }).publish(page);
    const [delivery] = (await subscriber.waitFor(start + 1)).slice(start);
    client.destroy();

    const message = delivery!.notification.Message;
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(SNS_MAX_MESSAGE_BYTES);
    const https = JSON.parse(bodyFor(delivery!.notification, 'https'));
    const kept: { id: string }[] = https.details.transactions;
    expect(kept.length).toBeGreaterThan(100);
    expect(kept.length).toBeLessThan(5000);
    expect(kept.map((t) => t.id)).toEqual(transactions.slice(0, kept.length).map((t) => t.id));
    expect(https.omitted).toEqual({ transactions: 5000 - kept.length });
    const note = `${5000 - kept.length} items of details.transactions left out to fit the SNS message size limit.`;
    expect(https.text).toContain(note);
    expect(bodyFor(delivery!.notification, 'email')).toContain(note);
  });

  it('retries an SNS 500 and delivers once', async () => {
    const { topicArn, start } = await freshTopic('pages-retry');
    const client = sns.client();
    const { delays, sleep } = recordingSleep();
    sns.failNextPublishes(2);
    await new SnsPagePublisher({ client, topicArn, sleep }).publish(tripPage({ id: 'page-retry' }));
    await subscriber.waitFor(start + 1);
    await settle();
    client.destroy();

    expect(subscriber.deliveries.slice(start)).toHaveLength(1);
    expect(delays).toHaveLength(2);
    expect(delays[1]!).toBeGreaterThanOrEqual(delays[0]! / 2);
  });

  it('gives up with a PublishError when SNS keeps failing', async () => {
    const { topicArn, start } = await freshTopic('pages-500');
    const client = sns.client();
    const { delays, sleep } = recordingSleep();
    sns.failNextPublishes(3);
    const error = await new SnsPagePublisher({ client, topicArn, sleep, maxAttempts: 3 })
      .publish(tripPage({ id: 'page-500' }))
      .catch((e: unknown) => e);
    await settle();
    client.destroy();

    expect(error).toBeInstanceOf(PublishError);
    expect((error as PublishError).message).toMatch(/trip page page-500 .* failed after 3 attempts: InternalError/);
    expect(((error as PublishError).cause as Error).name).toBe('InternalErrorException');
    expect(delays).toHaveLength(2);
    expect(subscriber.deliveries.slice(start)).toHaveLength(0);
  });
});

describe('SnsPagePublisher with SNS down', () => {
  it('throws a PublishError carrying the connection error after its retries', async () => {
    const probe = createServer();
    const port = await listen(probe);
    await closeServer(probe);
    const { SNSClient } = await import('@aws-sdk/client-sns');
    const client = new SNSClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 2,
    });
    const { delays, sleep } = recordingSleep();
    const publisher = new SnsPagePublisher({
      client,
      topicArn: 'arn:aws:sns:us-east-1:123456789012:pages',
      sleep,
      maxAttempts: 3,
    });

    const error = await publisher.publish(tripPage()).catch((e: unknown) => e);
    client.destroy();

    expect(isBreakerError(error, 'PUBLISH_FAILED')).toBe(true);
    expect((error as Error).message).toContain('failed after 3 attempts');
    expect((error as Error).message).toContain('ECONNREFUSED');
    expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect(delays).toHaveLength(2);
  });
});

describe('isTransientSnsError', () => {
  const sdkError = (name: string, httpStatusCode?: number) =>
    Object.assign(new Error(name), { name, $metadata: { httpStatusCode } });

  it.each([
    ['throttling', sdkError('Throttling', 400), true],
    ['internal error', sdkError('InternalError', 500), true],
    ['any 5xx', sdkError('Unknown', 503), true],
    ['429', sdkError('Unknown', 429), true],
    ['refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), true],
    ['authorization', sdkError('AuthorizationError', 403), false],
    ['missing topic', sdkError('NotFoundException', 404), false],
    ['bad parameter', sdkError('InvalidParameterException', 400), false],
    ['not an error', 'boom', false],
  ])('%s → %s', (_name, error, transient) => {
    expect(isTransientSnsError(error)).toBe(transient);
  });

  it('does not retry a permanent error', async () => {
    const { delays, sleep } = recordingSleep();
    let calls = 0;
    const client = {
      send: async () => {
        calls++;
        throw sdkError('AuthorizationError', 403);
      },
    } as unknown as import('@aws-sdk/client-sns').SNSClient;
    const publisher = new SnsPagePublisher({ client, topicArn: 'arn:aws:sns:us-east-1:123456789012:pages', sleep });
    await expect(publisher.publish(tripPage())).rejects.toThrow(/failed after 1 attempt: AuthorizationError/);
    expect(calls).toBe(1);
    expect(delays).toHaveLength(0);
  });
});

describe('SnsPagePublisher options', () => {
  it.each([
    ['not an ARN', 'pages'],
    ['a FIFO topic', 'arn:aws:sns:us-east-1:123456789012:pages.fifo'],
    ['an SQS queue', 'arn:aws:sqs:us-east-1:123456789012:pages'],
  ])('rejects %s', (_name, topicArn) => {
    expect(() => new SnsPagePublisher({ client: {} as never, topicArn })).toThrow(/topicArn/);
  });

  it('rejects an unusable retry count', () => {
    const topicArn = 'arn:aws:sns:us-east-1:123456789012:pages';
    expect(() => new SnsPagePublisher({ client: {} as never, topicArn, maxAttempts: 0 })).toThrow(/maxAttempts/);
  });
});

describe('buildPublishInput', () => {
  it('keeps a runaway text within the limit', () => {
    const input = buildPublishInput(tripPage({ text: 'ü'.repeat(400_000) }), 'arn:aws:sns:us-east-1:123456789012:p');
    expect(Buffer.byteLength(input.Message)).toBeLessThanOrEqual(SNS_MAX_MESSAGE_BYTES);
    expect(JSON.parse(input.Message).default).toMatch(/^ü+\.\.\.$/);
  });
});
