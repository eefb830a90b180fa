import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { runReset } from './reset-request.ts';
import { handlerDeps, requirePublisher } from './runtime-deps.ts';

const deps = await handlerDeps();
requirePublisher(deps);

/**
 * Break-glass reset from the Lambda console (Test tab) or `aws lambda invoke`, for when the function URL or the
 * CLI is unavailable. A direct Invoke carries no verified caller, so the actor is always
 * `lambda-invoke:<awsRequestId>`; the stack's CloudTrail trail records the Invoke with that request id and the
 * real caller (docs/DEPLOY.md#break-glass-reset).
 *
 * An event with a `requestContext` (in any form) is refused: it can only be an attempt to pass an identity, and
 * nothing in an Invoke payload is verified.
 */
async function directResetHandler(event: unknown, context: Context): Promise<Record<string, unknown>> {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    return { statusCode: 400, ok: false, error: 'expected a JSON object {"reason":"...","scope":"global"}' };
  }
  if (Object.hasOwn(event, 'requestContext')) {
    return {
      statusCode: 400,
      ok: false,
      error:
        'requestContext: not accepted here; a direct Invoke carries no verified identity (the reset is recorded as lambda-invoke:<request id>). Use the function URL (breaker reset --stack …) to be recorded by IAM identity.',
    };
  }
  const answer = await runReset(deps, `lambda-invoke:${context.awsRequestId}`, event);
  return { statusCode: answer.statusCode, ...answer.body };
}

export const handler = middy(directResetHandler).use(injectLambdaContext(deps.logger));
