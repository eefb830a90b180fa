import { BreakerError } from '../../core/errors.ts';

/**
 * Vendor errors that mean "this request is wrong", not "the store is unreachable": they propagate
 * as they are, so a bug (or an item grown past 400 KB) is not mistaken for an outage.
 * ConditionalCheckFailedException is handled by the conditional writers themselves.
 */
const REQUEST_ERRORS: ReadonlySet<string> = new Set([
  'ConditionalCheckFailedException',
  'ValidationException',
  'SerializationException',
]);

/**
 * Called after the SDK's own retries gave up: throttling, 5xx, timeouts, refused connections, a
 * missing table or denied credentials all leave the breaker without its store, which callers treat
 * alike (the signer fails closed, the watcher pages).
 */
export function translateStoreError(e: unknown, operation: string, tableName: string): unknown {
  const name = e instanceof Error ? e.name : undefined;
  if (name !== undefined && REQUEST_ERRORS.has(name)) return e;
  const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new BreakerError('STORE_UNAVAILABLE', `DynamoDB ${operation} on table ${tableName} failed: ${detail}`, {
    cause: e,
  });
}

export function isConditionalCheckFailed(e: unknown): boolean {
  return e instanceof Error && e.name === 'ConditionalCheckFailedException';
}
