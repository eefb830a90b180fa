import { setTimeout as delay } from 'node:timers/promises';
import { ConfigError } from '../../core/errors.ts';

export interface RetryOptions {
  /**
   * Tries in all, the first included.
   * @default 3
   */
  readonly maxAttempts?: number;
  /**
   * Delay before the second try; doubles for each later one (with jitter), capped at `maxDelayMs`.
   * @default 200
   */
  readonly baseDelayMs?: number;
  /** @default 2000 */
  readonly maxDelayMs?: number;
  /** Injected so tests need not wait. @default node:timers/promises setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly sleep: (ms: number) => Promise<void>;
}

export function retryPolicy(source: string, options: RetryOptions): RetryPolicy {
  const policy: RetryPolicy = {
    maxAttempts: options.maxAttempts ?? 3,
    baseDelayMs: options.baseDelayMs ?? 200,
    maxDelayMs: options.maxDelayMs ?? 2000,
    sleep: options.sleep ?? ((ms) => delay(ms)),
  };
  const issues: string[] = [];
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1 || policy.maxAttempts > 10) {
    issues.push(`maxAttempts: an integer from 1 to 10, got ${policy.maxAttempts}`);
  }
  for (const key of ['baseDelayMs', 'maxDelayMs'] as const) {
    if (!Number.isFinite(policy[key]) || policy[key] < 0)
      issues.push(`${key}: a non-negative number, got ${policy[key]}`);
  }
  if (issues.length > 0) throw new ConfigError(source, issues);
  return policy;
}

export type RetryOutcome<T> =
  | { ok: true; value: T; attempts: number }
  | { ok: false; error: unknown; attempts: number };

/**
 * Run `op` until it succeeds, fails with an error `isTransient` rejects, or the attempts run out.
 * The outcome carries the last error: callers wrap it, they never drop it.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  isTransient: (error: unknown) => boolean,
  op: (attempt: number) => Promise<T>,
): Promise<RetryOutcome<T>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { ok: true, value: await op(attempt), attempts: attempt };
    } catch (error) {
      if (attempt >= policy.maxAttempts || !isTransient(error)) return { ok: false, error, attempts: attempt };
      await policy.sleep(backoffMs(policy, attempt));
    }
  }
}

/** Exponential with "equal jitter": at least half the step, so retries from many pollers spread out. */
function backoffMs(policy: RetryPolicy, attempt: number): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(step / 2 + (Math.random() * step) / 2);
}

const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/** A refused, reset or timed-out connection anywhere in the cause chain (fetch nests the socket error). */
export function isNetworkError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== undefined && NETWORK_ERROR_CODES.has(code)) return true;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
  }
  return false;
}

/** "Name CODE: message (Cause: message)", following up to three causes. */
export function describeError(error: unknown, depth = 0): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  const named = `${error.name}${code && !error.message.includes(code) ? ` ${code}` : ''}: ${error.message}`;
  return error.cause instanceof Error && depth < 3 ? `${named} (${describeError(error.cause, depth + 1)})` : named;
}
