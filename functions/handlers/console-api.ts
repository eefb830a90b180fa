import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import { loadConsoleAssets } from '../console/assets.ts';
import { handleConsoleHttp } from '../console/http.ts';
import { OpsConsole } from '../console/service.ts';
import { consoleDeps } from '../runtime/compose.ts';
import { handlerDeps } from './runtime-deps.ts';

const deps = await handlerDeps();
const assets = loadConsoleAssets();
const ops = new OpsConsole({ ...consoleDeps(deps), probeTimeoutMs: 2500 });

/**
 * A Lambda function URL request (payload 2.0). With AuthType AWS_IAM, Lambda has verified the SigV4
 * signature before the handler runs and puts the caller in requestContext.authorizer.iam; the body
 * never names the operator.
 *
 * The handler cannot tell such an event from the same JSON sent by a direct Invoke. It trusts the caller field
 * because the stack grants `lambda:InvokeFunction` on this function only with `lambda:InvokedViaFunctionUrl = true`
 * (infra/constructs/reset-endpoint.ts, urlOnlyInvokeStatements), and the trail records every invocation. A
 * principal whose own policy allows a plain Invoke (an account admin) is outside what the stack controls: the SCP in
 * docs/DEPLOY.md#operator-identity denies it.
 */
const functionUrlEvent = z
  .object({
    rawPath: z.string(),
    rawQueryString: z.string().optional(),
    headers: z.record(z.string(), z.string()).optional(),
    requestContext: z
      .object({
        http: z.object({ method: z.string() }).loose(),
        authorizer: z
          .object({ iam: z.object({ userArn: z.string().min(1) }).loose() })
          .loose()
          .optional(),
      })
      .loose(),
    body: z.string().optional(),
    isBase64Encoded: z.boolean().optional(),
  })
  .loose();

type Reply = { statusCode: number; headers: Record<string, string>; body: string };

/** The ops console (page and API) behind the stack's IAM-authorised function URL. */
async function consoleHandler(event: unknown): Promise<Reply> {
  const parsed = functionUrlEvent.safeParse(event);
  if (!parsed.success) {
    // Not a URL request (e.g. a console test event): there is no caller to record, and the console is URL-only.
    return {
      statusCode: 401,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        ok: false,
        error: 'not authenticated: call the console through its IAM function URL (breaker console --stack …)',
      }),
    };
  }
  const e = parsed.data;
  const operator = e.requestContext.authorizer?.iam.userArn;
  const body =
    e.body === undefined ? undefined : e.isBase64Encoded ? Buffer.from(e.body, 'base64').toString('utf8') : e.body;
  const method = e.requestContext.http.method.toUpperCase();
  const reply = await handleConsoleHttp(
    {
      method,
      path: e.rawPath,
      query: new URLSearchParams(e.rawQueryString ?? ''),
      body,
      headers: { 'content-type': e.headers?.['content-type'] },
      operator,
    },
    ops,
    assets,
  );
  if (method === 'POST') {
    deps.logger.info('console action', { actor: operator, route: e.rawPath, status: reply.status });
  }
  return { statusCode: reply.status, headers: reply.headers, body: reply.body };
}

export const handler = middy(consoleHandler).use(injectLambdaContext(deps.logger));
