/**
 * A local SNS for integration tests: serverless-offline-sns's SNSServer (the Query protocol the real
 * @aws-sdk/client-sns speaks, topics, HTTP push delivery) on an express app on 127.0.0.1 and a random
 * port, plus an HTTP subscriber endpoint that collects what SNS delivers.
 *
 * What the stand-in does not do, and how tests make up for it:
 * - It delivers the whole MessageStructure=json document to every subscriber, where SNS picks the
 *   protocol's key: `bodyFor()` does SNS's choice.
 * - It drops MessageAttributes on json-structured messages: `publishRequests` records each Publish
 *   call as the SDK sent it, so tests assert the attributes on the wire.
 * - It never fails: `failNextPublishes()` answers the next Publish calls with an SNS-shaped 500.
 * - No subscription-confirmation handshake.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { CreateTopicCommand, SNSClient, type SNSClientConfig, SubscribeCommand } from '@aws-sdk/client-sns';

/** The slice of express the server needs; express ships no types and this keeps @types/express out. */
interface ExpressApp {
  (req: IncomingMessage, res: unknown): void;
  use(handler: (req: QueryRequest, res: QueryResponse, next: () => void) => void): void;
  use(handler: unknown): void;
}
interface QueryRequest {
  method: string;
  body: Record<string, string> | undefined;
}
interface QueryResponse {
  status(code: number): QueryResponse;
  type(type: string): QueryResponse;
  send(body: string): void;
}
interface Express {
  (): ExpressApp;
  urlencoded(options: { extended: boolean; limit: string }): unknown;
}
type SnsServerClass = new (debug: (msg: unknown) => void, app: ExpressApp, region: string, accountId: string) => object;

const require = createRequire(import.meta.url);
const express = require('express') as Express;

async function loadSnsServer(): Promise<SnsServerClass> {
  // The package exports only its serverless-plugin entry, whose imports need the full serverless
  // framework; the server class sits beside it and needs none of that.
  const entry = import.meta.resolve('serverless-offline-sns');
  const mod = (await import(new URL('./sns-server.js', entry).href)) as { SNSServer: SnsServerClass };
  return mod.SNSServer;
}

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '123456789012';

export interface LocalSns {
  readonly endpoint: string;
  /** Every Publish call received, as its Query parameters (Subject, Message, MessageAttributes.entry.N.*). */
  readonly publishRequests: Record<string, string>[];
  /** A real SNS client aimed here; SDK retries off unless `overrides` says otherwise. */
  client(overrides?: Partial<SNSClientConfig>): SNSClient;
  createTopic(name: string): Promise<string>;
  subscribeHttp(topicArn: string, url: string): Promise<string>;
  /** Answer the next `n` Publish calls with HTTP 500 InternalError, before they reach the server. */
  failNextPublishes(n: number): void;
  close(): Promise<void>;
}

export async function startLocalSns(): Promise<LocalSns> {
  const SNSServer = await loadSnsServer();
  const app = express();
  const publishRequests: Record<string, string>[] = [];
  let failures = 0;
  app.use(express.urlencoded({ extended: true, limit: '10mb' }));
  app.use((req, res, next) => {
    if (req.method !== 'POST' || req.body?.Action !== 'Publish') return next();
    if (failures > 0) {
      failures--;
      res
        .status(500)
        .type('text/xml')
        .send(
          '<ErrorResponse><Error><Type>Receiver</Type><Code>InternalError</Code><Message>injected by the test</Message></Error><RequestId>local</RequestId></ErrorResponse>',
        );
      return;
    }
    publishRequests.push({ ...req.body });
    next();
  });
  new SNSServer(() => {}, app, LOCAL_REGION, LOCAL_ACCOUNT);
  const server = createServer(app);
  const port = await listen(server);
  const endpoint = `http://127.0.0.1:${port}`;
  const admin = makeClient(endpoint, {});

  return {
    endpoint,
    publishRequests,
    client: (overrides = {}) => makeClient(endpoint, overrides),
    async createTopic(name) {
      const { TopicArn } = await admin.send(new CreateTopicCommand({ Name: name }));
      if (!TopicArn) throw new Error('local SNS returned no TopicArn');
      return TopicArn;
    },
    async subscribeHttp(topicArn, url) {
      const { SubscriptionArn } = await admin.send(
        new SubscribeCommand({ TopicArn: topicArn, Protocol: 'http', Endpoint: url }),
      );
      if (!SubscriptionArn) throw new Error('local SNS returned no SubscriptionArn');
      return SubscriptionArn;
    },
    failNextPublishes(n) {
      failures = n;
    },
    async close() {
      admin.destroy();
      await closeServer(server);
    },
  };
}

function makeClient(endpoint: string, overrides: Partial<SNSClientConfig>): SNSClient {
  return new SNSClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    ...overrides,
  });
}

/** An SNS HTTP notification as delivered to a subscriber. */
export interface SnsNotification {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Subject?: string;
  Message: string;
  MessageStructure?: string;
  MessageAttributes: Record<string, { Type: string; Value: string }>;
}

export interface Delivery {
  headers: IncomingMessage['headers'];
  notification: SnsNotification;
}

export interface HttpSubscriber {
  readonly url: string;
  readonly deliveries: Delivery[];
  /** Resolves once `count` deliveries arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<Delivery[]>;
  close(): Promise<void>;
}

export async function startHttpSubscriber(): Promise<HttpSubscriber> {
  const deliveries: Delivery[] = [];
  const waiters = new Set<() => void>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    deliveries.push({ headers: req.headers, notification: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
    res.writeHead(200).end();
    for (const wake of waiters) wake();
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}/sns`,
    deliveries,
    waitFor(count, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (deliveries.length < count) return;
          cleanup();
          resolve(deliveries.slice());
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`expected ${count} deliveries within ${timeoutMs} ms, got ${deliveries.length}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close: () => closeServer(server),
  };
}

/** What SNS hands a subscriber of `protocol`: its key of a json-structured message, else the default. */
export function bodyFor(notification: SnsNotification, protocol: string): string {
  if (notification.MessageStructure !== 'json') return notification.Message;
  const parsed = JSON.parse(notification.Message) as Record<string, string>;
  return parsed[protocol] ?? (parsed.default as string);
}

/** The MessageAttributes of a recorded Publish call, by name. */
export function publishedAttributes(request: Record<string, string>): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (let i = 1; request[`MessageAttributes.entry.${i}.Name`] !== undefined; i++) {
    attributes[request[`MessageAttributes.entry.${i}.Name`] as string] =
      request[`MessageAttributes.entry.${i}.Value.StringValue`] ?? '';
  }
  return attributes;
}

export async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

export async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}
