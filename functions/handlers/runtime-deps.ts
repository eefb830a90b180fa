import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { type Composed, composeFromEnv } from '../runtime/compose.ts';

export { requirePublisher } from '../runtime/compose.ts';

/**
 * Everything a handler needs, built once per Lambda container from the environment the CDK
 * construct set (runtime/compose.ts builds the breaker's parts; the handler adds Powertools). A
 * missing variable is a deploy bug: fail loudly at cold start, naming it.
 */
export interface HandlerDeps extends Composed {
  logger: Logger;
  metrics: Metrics;
  tracer: Tracer;
}

export const METRICS_NAMESPACE = 'HotWalletBreaker';

let cached: Promise<HandlerDeps> | undefined;

/** Awaited at module load (top-level await in the ESM bundle), so cold start reads the config's secrets once. */
export function handlerDeps(env: NodeJS.ProcessEnv = process.env): Promise<HandlerDeps> {
  cached ??= build(env);
  return cached;
}

async function build(env: NodeJS.ProcessEnv): Promise<HandlerDeps> {
  const serviceName = env.POWERTOOLS_SERVICE_NAME ?? 'hot-wallet-breaker';
  const tracer = new Tracer({ serviceName });
  return {
    ...(await composeFromEnv(env, { captureClient: (client) => tracer.captureAWSv3Client(client) })),
    logger: new Logger({ serviceName }),
    metrics: new Metrics({ namespace: env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE, serviceName }),
    tracer,
  };
}

/** Tests build handlers against local stand-ins; this forgets the cached container state. */
export function resetHandlerDepsForTests(): void {
  cached = undefined;
}
