import { ConfigError, PublishError } from '../../core/errors.ts';
import type { PagePublisher } from '../../core/ports.ts';
import type { Page } from '../../core/state.ts';
import { pageBody, pageJson } from './page-format.ts';
import {
  describeError,
  isNetworkError,
  type RetryOptions,
  type RetryPolicy,
  retryPolicy,
  withRetries,
} from './retry.ts';

export interface WebhookPagePublisherOptions extends RetryOptions {
  /** http: or https: endpoint. Often holds a secret (Slack, chat bridges): errors name only its origin. */
  readonly url: string;
  /**
   * Per attempt, connection to last byte.
   * @default 5000
   */
  readonly timeoutMs?: number;
  /** Extra request headers, e.g. an authorization token. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** An HTTP status the receiver used to say "not this request" rather than "not now". */
class HttpStatusError extends Error {
  readonly status: number;
  constructor(status: number, statusText: string, bodySnippet: string) {
    super(`HTTP ${status} ${statusText}${bodySnippet ? `: ${bodySnippet}` : ''}`);
    this.name = 'HttpStatusError';
    this.status = status;
  }
}

function isTransientWebhookError(error: unknown): boolean {
  if (error instanceof HttpStatusError) return error.status >= 500 || error.status === 408 || error.status === 429;
  return isNetworkError(error);
}

/**
 * POSTs the page as JSON ({ id, kind, subject, text, details }). Any status outside 2xx is a failure;
 * timeouts, network errors, 408, 429 and 5xx are retried, other statuses fail at once. The page id
 * goes in `Idempotency-Key` so a receiver can drop the duplicates a retry may cause.
 */
export class WebhookPagePublisher implements PagePublisher {
  readonly #url: URL;
  readonly #timeoutMs: number;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #retry: RetryPolicy;

  constructor(options: WebhookPagePublisherOptions) {
    const source = 'WebhookPagePublisher options';
    const issues: string[] = [];
    let url: URL | undefined;
    try {
      url = new URL(options.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        issues.push(`url: must be http: or https:, got ${url.protocol}`);
    } catch {
      issues.push('url: not a valid URL');
    }
    const timeoutMs = options.timeoutMs ?? 5000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) issues.push(`timeoutMs: a positive number, got ${timeoutMs}`);
    if (issues.length > 0 || url === undefined) throw new ConfigError(source, issues);
    this.#url = url;
    this.#timeoutMs = timeoutMs;
    this.#headers = options.headers ?? {};
    this.#retry = retryPolicy(source, options);
  }

  async publish(page: Page): Promise<void> {
    const body = pageJson(pageBody(page));
    const outcome = await withRetries(this.#retry, isTransientWebhookError, () => this.#post(page, body));
    if (!outcome.ok) {
      throw new PublishError(
        `webhook POST of ${page.kind} page ${page.id} to ${this.#url.origin} failed after ${outcome.attempts} attempt${
          outcome.attempts === 1 ? '' : 's'
        }: ${describeError(outcome.error)}`,
        { cause: outcome.error },
      );
    }
  }

  async #post(page: Page, body: string): Promise<void> {
    const signal = AbortSignal.timeout(this.#timeoutMs);
    const response = await fetch(this.#url, {
      method: 'POST',
      headers: { ...this.#headers, 'content-type': 'application/json', 'idempotency-key': page.id },
      body,
      // A redirected POST may turn into a GET: a 3xx is reported, not followed.
      redirect: 'manual',
      signal,
    });
    // Read the body under the same timeout so a receiver that stalls mid-response counts as a failure.
    const responseText = await response.text();
    if (response.status < 200 || response.status > 299) {
      throw new HttpStatusError(response.status, response.statusText, responseText.slice(0, 200).trim());
    }
  }
}
