import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { systemClock } from '../core/time.ts';
import { breakerStatus } from '../core/use-cases/breaker-status.ts';
import { handlerDeps } from './runtime-deps.ts';

const deps = await handlerDeps();

/** Read-only: the breaker state, each chain's progress and the recent audit trail. */
async function statusHandler(): Promise<Record<string, unknown>> {
  const { state: _state, ...status } = await breakerStatus({
    config: deps.config,
    store: deps.store,
    clock: systemClock,
  });
  // bigint-free by construction, but keep the payload JSON-safe if that ever changes.
  return JSON.parse(JSON.stringify(status, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
}

export const handler = middy(statusHandler).use(injectLambdaContext(deps.logger));
