import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import { runReset } from './reset-request.ts';
import { handlerDeps, requirePublisher } from './runtime-deps.ts';

const deps = await handlerDeps();
requirePublisher(deps);

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
 * Re-arm the breaker with a stated reason, through the function URL only: the operator is the SigV4
 * principal Lambda puts in requestContext.authorizer.iam.userArn.
 *
 * That field is trustworthy only because nobody can hand this function a URL-shaped event directly: the stack
 * grants `lambda:InvokeFunction` on it only with `lambda:InvokedViaFunctionUrl = true` (infra/constructs/
 * reset-endpoint.ts). A principal whose own policy allows a plain Invoke (an admin) could still forge one; the SCP in
 * docs/DEPLOY.md#operator-identity closes that. An event that is not a URL request is refused: the break-glass
 * path is the separate reset-breaker-direct function, which never reads an identity from its event.
 */
async function resetHandler(event: unknown): Promise<Reply | Record<string, unknown>> {
  const url = functionUrlEvent.safeParse(event);
  if (!url.success) {
    return {
      statusCode: 403,
      ok: false,
      error:
        'reset-breaker answers only through its IAM function URL (breaker reset --stack …); to reset from the Lambda console or `aws lambda invoke`, invoke the break-glass function reset-breaker-direct',
    };
  }
  const raw = url.data.body ?? '';
  let payload: unknown;
  try {
    payload = JSON.parse(url.data.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw);
  } catch {
    return reply(400, { ok: false, error: 'body: not JSON; expected {"reason":"...","scope":"global"}' });
  }
  const answer = await runReset(deps, url.data.requestContext.authorizer.iam.userArn, payload);
  return reply(answer.statusCode, answer.body);
}

function reply(statusCode: number, body: Record<string, unknown>): Reply {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

export const handler = middy(resetHandler).use(injectLambdaContext(deps.logger));
