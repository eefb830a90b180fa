import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { breakerTableStore } from '../runtime/table-stores.ts';
import { WithdrawalHaltedError } from './errors.ts';
import {
  type Approval,
  type BreakerGuard,
  type BreakerGuardOptions,
  createBreakerGuard,
  type GuardStore,
} from './guard.ts';
import type { WithdrawalRequest } from './withdrawal.ts';

export interface BreakerGuardMiddlewareOptions<TEvent> extends Omit<BreakerGuardOptions, 'store'> {
  /** Which withdrawal this invocation would sign. A throw here rejects the invocation (fail closed). */
  scopeOf: (event: TEvent) => WithdrawalRequest;
  /** @default a DynamoDbBreakerStore on the table named by BREAKER_TABLE (the signer policy grants the reads and the approval write) */
  store?: GuardStore;
  /** A guard built elsewhere (shares its cache); overrides `store` and the guard options. */
  guard?: BreakerGuard;
}

/** What the middleware leaves on the Lambda context for the handler. */
export interface BreakerGuardContext {
  breakerApproval: Approval;
}

/**
 * Middy middleware for signer Lambdas: before the handler runs, the withdrawal `scopeOf(event)`
 * names is checked against the breaker and recorded as approved. A halted breaker, an invalid
 * withdrawal or any fault rejects the invocation with WithdrawalHaltedError, so the handler (and
 * the signing inside it) never runs. The approval is on `context.breakerApproval`.
 *
 *   export const handler = middy(sign).use(breakerGuard({ scopeOf: (e) => e.withdrawal, config }));
 */
export function breakerGuard<TEvent = unknown, TResult = unknown>(
  options: BreakerGuardMiddlewareOptions<TEvent>,
): MiddlewareObj<TEvent, TResult, Error, Context> {
  if (!options || typeof options.scopeOf !== 'function') {
    throw new TypeError('breakerGuard: options.scopeOf(event) is required (which withdrawal the invocation signs)');
  }
  const guard = options.guard ?? createBreakerGuard({ ...options, store: options.store ?? storeFromEnv() });
  return {
    name: 'breakerGuard',
    before: async (request) => {
      let withdrawal: WithdrawalRequest;
      try {
        withdrawal = options.scopeOf(request.event);
      } catch (e) {
        options.metrics?.addMetric('GuardFailedClosed', 'Count', 1);
        throw new WithdrawalHaltedError('invalid-withdrawal', `scopeOf(event) failed: ${(e as Error).message}`, {
          cause: e,
        });
      }
      const approval = await guard.check(withdrawal, { signal: (request.context as { signal?: AbortSignal }).signal });
      Object.assign(request.context, { breakerApproval: approval } satisfies BreakerGuardContext);
    },
  };
}

function storeFromEnv(env: NodeJS.ProcessEnv = process.env): GuardStore {
  const tableName = env.BREAKER_TABLE;
  if (!tableName) {
    throw new TypeError('breakerGuard: pass options.store, or set BREAKER_TABLE to the breaker table name');
  }
  return breakerTableStore(new DynamoDBClient({ maxAttempts: 2 }), tableName);
}
