import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { formatPath, isBreakerError } from '../core/errors.ts';
import { systemClock } from '../core/time.ts';
import { resetBreakerUseCase } from '../core/use-cases/reset-breaker.ts';
import { handlerDeps, requirePublisher } from './runtime-deps.ts';

const deps = handlerDeps();
const publisher = requirePublisher(deps);

const resetBody = z
  .object({
    reason: z.string({ error: 'required: what was reviewed and why re-arming is safe' }),
    scope: z.string().optional(),
    reviewedTripIds: z.array(z.string()).optional(),
  })
  .strict();

/** A Lambda function URL request (AuthType AWS_IAM): the identity comes from SigV4, not from the body. */
const functionUrlEvent = z
  .object({
    requestContext: z
      .object({
        authorizer: z.object({ iam: z.object({ userArn: z.string().min(1) }).loose() }).loose(),
      })
      .loose(),
    body: z.string().optional(),
    isBase64Encoded: z.boolean().optional(),
  })
  .loose();

type Reply = { statusCode: number; headers: Record<string, string>; body: string };

/**
 * Re-arm the breaker with a stated reason.
 *  - Function URL (IAM auth): the operator is the SigV4 principal (requestContext.authorizer.iam.userArn).
 *  - Direct invocation (Lambda console test event, `aws lambda invoke`): the handler cannot see the
 *    caller, so it records `lambda-invoke:<request id>`; the stack's CloudTrail trail records the
 *    principal behind that request (runbook: docs/DEPLOY.md#reset).
 * Rejections (no reason, nothing tripped, tripped again since review) are answers, not errors.
 */
async function resetHandler(event: unknown, context: Context): Promise<Reply | Record<string, unknown>> {
  const url = functionUrlEvent.safeParse(event);
  const viaUrl = url.success;
  let payload: unknown = event;
  let actor = `lambda-invoke:${context.awsRequestId}`;
  if (url.success) {
    actor = url.data.requestContext.authorizer.iam.userArn;
    const raw = url.data.body ?? '';
    try {
      payload = JSON.parse(url.data.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw);
    } catch {
      return answer(viaUrl, 400, { ok: false, error: 'body: not JSON; expected {"reason":"...","scope":"global"}' });
    }
  }
  const body = resetBody.safeParse(payload);
  if (!body.success) {
    return answer(viaUrl, 400, {
      ok: false,
      error: body.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; '),
    });
  }
  try {
    const state = await resetBreakerUseCase(
      { config: deps.config, store: deps.store, publisher, mirror: deps.mirror, clock: systemClock },
      { ...body.data, actor },
    );
    deps.logger.info('breaker reset', { actor, scope: body.data.scope ?? 'all', version: state.version });
    return answer(viaUrl, 200, { ok: true, actor, stillTripped: Object.keys(state.tripped), version: state.version });
  } catch (e) {
    if (isBreakerError(e, 'RESET_REJECTED')) return answer(viaUrl, 409, { ok: false, error: e.message });
    throw e;
  }
}

function answer(viaUrl: boolean, statusCode: number, body: Record<string, unknown>): Reply | Record<string, unknown> {
  if (!viaUrl) return { statusCode, ...body };
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

export const handler = middy(resetHandler).use(injectLambdaContext(deps.logger));
