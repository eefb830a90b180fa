import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { ConfigError, PublishError } from '../../core/errors.ts';
import type { PagePublisher } from '../../core/ports.ts';
import type { Page } from '../../core/state.ts';
import {
  describeOmitted,
  fitDetails,
  pageBody,
  pageJson,
  sanitizeSubject,
  smsText,
  truncate,
} from '../pages/page-format.ts';
import {
  describeError,
  isNetworkError,
  type RetryOptions,
  type RetryPolicy,
  retryPolicy,
  withRetries,
} from '../pages/retry.ts';

/** SNS's limit for one message, attributes and subject included. */
export const SNS_MAX_MESSAGE_BYTES = 256 * 1024;

/** Room kept for the subject, the attributes and the Query protocol's own overhead. */
const ENVELOPE_RESERVE_BYTES = 2048;

/** Page subjects are meant to be ≤ 100 characters; the machine body keeps an overlong one bounded anyway. */
const MAX_BODY_SUBJECT_CHARS = 300;

export interface SnsPagePublisherOptions extends RetryOptions {
  readonly client: SNSClient;
  /** A standard topic: FIFO topics deliver to SQS only, never to email, SMS or HTTPS. */
  readonly topicArn: string;
}

const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

/**
 * Error names SNS (or the SDK after its own retries) gives for conditions that pass: throttling,
 * internal errors, timeouts. Anything else (authorization, a missing topic, a bad parameter) is
 * permanent and fails at once.
 */
const TRANSIENT_ERRORS: ReadonlySet<string> = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'KMSThrottlingException',
  'InternalError',
  'InternalErrorException',
  'InternalFailure',
  'ServiceUnavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

export function isTransientSnsError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (TRANSIENT_ERRORS.has(error.name)) return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  return isNetworkError(error);
}

/**
 * Publishes pages to an SNS topic with one message per protocol: email and the default get the
 * text, SMS a one-line 140-character version, HTTP(S) subscribers (PagerDuty, Opsgenie, chat
 * bridges) the JSON body. `kind` and `pageId` message attributes let subscriptions filter.
 */
export class SnsPagePublisher implements PagePublisher {
  readonly #client: SNSClient;
  readonly #topicArn: string;
  readonly #retry: RetryPolicy;

  constructor(options: SnsPagePublisherOptions) {
    const source = 'SnsPagePublisher options';
    if (!TOPIC_ARN.test(options.topicArn)) {
      throw new ConfigError(source, [`topicArn: not a standard SNS topic ARN: "${options.topicArn}"`]);
    }
    this.#client = options.client;
    this.#topicArn = options.topicArn;
    this.#retry = retryPolicy(source, options);
  }

  async publish(page: Page): Promise<void> {
    const input = buildPublishInput(page, this.#topicArn);
    const outcome = await withRetries(this.#retry, isTransientSnsError, () =>
      this.#client.send(new PublishCommand(input)),
    );
    if (!outcome.ok) {
      throw new PublishError(
        `SNS publish of ${page.kind} page ${page.id} to ${this.#topicArn} failed after ${outcome.attempts} attempt${
          outcome.attempts === 1 ? '' : 's'
        }: ${describeError(outcome.error)}`,
        { cause: outcome.error },
      );
    }
  }
}

export interface SnsPublishInput {
  TopicArn: string;
  Subject: string;
  Message: string;
  MessageStructure: 'json';
  MessageAttributes: Record<string, { DataType: 'String'; StringValue: string }>;
}

/** The Publish request for a page, within SNS's limits. Exported for tests and the CLI's dry runs. */
export function buildPublishInput(page: Page, topicArn: string): SnsPublishInput {
  const Subject = sanitizeSubject(page);
  const MessageAttributes = {
    kind: { DataType: 'String' as const, StringValue: page.kind },
    pageId: { DataType: 'String' as const, StringValue: page.id },
  };
  const budget =
    SNS_MAX_MESSAGE_BYTES - ENVELOPE_RESERVE_BYTES - Buffer.byteLength(Subject) - Buffer.byteLength(page.id);
  return {
    TopicArn: topicArn,
    Subject,
    Message: fitMessage(page, budget),
    MessageStructure: 'json',
    MessageAttributes,
  };
}

function fitMessage(page: Page, budget: number): string {
  const sms = smsText(page);
  let text = page.text;
  for (;;) {
    const fits = (message: string) => Buffer.byteLength(message) <= budget;
    const fitted = fitDetails(page.details, (details, omitted) => fits(compose(page, sms, text, details, omitted)));
    const message = compose(page, sms, text, fitted.details, fitted.omitted);
    if (fits(message)) return message;
    // Only a runaway text is left to cut: halve it until the message fits.
    if (text.length === 0) throw new PublishError(`page ${page.id} cannot fit in an SNS message`);
    text = text.length > 64 ? truncate(text, Math.floor(text.length / 2)) : '';
  }
}

function compose(
  page: Page,
  sms: string,
  text: string,
  details: Record<string, unknown>,
  omitted: Record<string, number>,
): string {
  const note = describeOmitted(omitted, 'SNS message size limit');
  const humanText = note === undefined ? text : `${text}\n\n${note}`;
  const body = pageJson({
    ...pageBody(page),
    subject: truncate(page.subject, MAX_BODY_SUBJECT_CHARS),
    text: humanText,
    details,
    ...(note === undefined ? {} : { omitted }),
  });
  return JSON.stringify({ default: humanText, email: humanText, sms, http: body, https: body });
}
