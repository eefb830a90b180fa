import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { initialiseBreaker } from '../core/use-cases/initialise-breaker.ts';
import { handlerDeps, requirePublisher } from './runtime-deps.ts';

const deps = await handlerDeps();
const publisher = requirePublisher(deps);

/** A CloudFormation custom resource request (the function is the resource's ServiceToken). */
const customResourceEvent = z
  .object({
    RequestType: z.enum(['Create', 'Update', 'Delete']),
    ResponseURL: z.url(),
    StackId: z.string(),
    RequestId: z.string(),
    LogicalResourceId: z.string(),
    PhysicalResourceId: z.string().optional(),
  })
  .loose();

/**
 * Creates the armed state when the stack is deployed: an absent state is halted (core/tamper.ts), and only an
 * audited initialisation arms a breaker. initialiseBreaker is idempotent, so every Create and Update calls it and
 * an existing state is left as it is; Delete does nothing (the table is retained). CloudFormation waits for the
 * answer PUT to ResponseURL, so every outcome — failures included — is answered, never thrown.
 */
async function initialiseHandler(event: unknown, context: Context): Promise<void> {
  const parsed = customResourceEvent.safeParse(event);
  if (!parsed.success) throw new Error(`not a CloudFormation custom resource request: ${parsed.error.message}`);
  const e = parsed.data;
  const physicalId = e.PhysicalResourceId ?? `breaker-init-${e.LogicalResourceId}`;
  let status: 'SUCCESS' | 'FAILED' = 'SUCCESS';
  let reason = 'nothing to do on Delete: the table and its state are retained';
  let outcome = 'none';
  if (e.RequestType !== 'Delete') {
    try {
      outcome = await initialiseBreaker(
        { store: deps.store, publisher, mirror: deps.mirror, clock: deps.clock },
        {
          actor: `deploy:${e.StackId}`,
          reason: `stack ${e.RequestType.toLowerCase()} (CloudFormation ${e.RequestId})`,
        },
      );
      reason = `breaker state ${outcome}`;
    } catch (err) {
      status = 'FAILED';
      reason = `initialising the breaker failed: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  deps.logger.info('breaker initialisation', { requestType: e.RequestType, status, outcome });
  const answer = await fetch(e.ResponseURL, {
    method: 'PUT',
    // CloudFormation's presigned URL is signed without a content type.
    headers: { 'content-type': '' },
    body: JSON.stringify({
      Status: status,
      Reason: `${reason} (log stream ${context.logStreamName})`,
      PhysicalResourceId: physicalId,
      StackId: e.StackId,
      RequestId: e.RequestId,
      LogicalResourceId: e.LogicalResourceId,
      Data: { Outcome: outcome },
    }),
  });
  if (!answer.ok) throw new Error(`CloudFormation did not accept the answer: HTTP ${answer.status}`);
}

export const handler = middy(initialiseHandler).use(injectLambdaContext(deps.logger));
