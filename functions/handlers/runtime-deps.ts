import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { createKillSwitchActuators } from '../adapters/actuators/build.ts';
import { loadConfigFile } from '../adapters/config/config-file.ts';
import { DynamoDbApprovedWithdrawals } from '../adapters/dynamodb/dynamodb-approved-withdrawals.ts';
import { DynamoDbBreakerStore } from '../adapters/dynamodb/dynamodb-breaker-store.ts';
import { CachedSecrets } from '../adapters/secrets/cached-secrets.ts';
import { WEBHOOK_SECRET_ID_ENV } from '../adapters/secrets/secret-reference.ts';
import { SnsPagePublisher } from '../adapters/sns/sns-page-publisher.ts';
import { SsmKillSwitchMirror } from '../adapters/ssm/ssm-kill-switch-mirror.ts';
import type { BreakerConfig } from '../core/config/types.ts';
import { ConfigError } from '../core/errors.ts';
import type { BreakerStore, PagePublisher, StateMirror } from '../core/ports.ts';

/**
 * Everything a handler needs, built once per Lambda container from the environment the CDK
 * construct set. A missing variable is a deploy bug: fail loudly at cold start, naming it.
 */
export interface HandlerDeps {
  config: BreakerConfig;
  store: BreakerStore;
  /** Undefined for read-only functions (breaker-status), which get no topic; see requirePublisher. */
  publisher: PagePublisher | undefined;
  /**
   * The kill-switch layers brought up to date at every outbox flush: the SSM parameter when the
   * stack configured one, and the webhook / Lambda / KMS layers the config turns on.
   */
  mirror: StateMirror | undefined;
  logger: Logger;
  metrics: Metrics;
  tracer: Tracer;
}

export const METRICS_NAMESPACE = 'HotWalletBreaker';

let cached: HandlerDeps | undefined;

export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (!value) throw new ConfigError('Lambda environment', [`${name}: not set (the CDK stack sets it)`]);
  return value;
}

export function handlerDeps(env: NodeJS.ProcessEnv = process.env): HandlerDeps {
  if (cached) return cached;
  const configFile = env.BREAKER_CONFIG_FILE ?? join(env.LAMBDA_TASK_ROOT ?? process.cwd(), 'breaker-config.json');
  const config = loadConfigFile(configFile);
  const tracer = new Tracer({ serviceName: env.POWERTOOLS_SERVICE_NAME ?? 'hot-wallet-breaker' });
  const dynamo = tracer.captureAWSv3Client(new DynamoDBClient({}));
  const sns = tracer.captureAWSv3Client(new SNSClient({}));
  const tableName = requireEnv('BREAKER_TABLE', env);
  const store = new DynamoDbBreakerStore({ client: dynamo, tableName });
  const publisher = env.PAGE_TOPIC_ARN
    ? new SnsPagePublisher({ client: sns, topicArn: env.PAGE_TOPIC_ARN })
    : undefined;
  const ssm = env.KILL_SWITCH_PARAMETER
    ? new SsmKillSwitchMirror({
        client: tracer.captureAWSv3Client(new SSMClient({})),
        parameterName: env.KILL_SWITCH_PARAMETER,
      })
    : undefined;
  cached = {
    config,
    store,
    publisher,
    // Functions that page also run the actuators (their failures are paged); read-only ones never flush.
    mirror: publisher
      ? createKillSwitchActuators({
          config,
          audit: store,
          publisher,
          memory: new DynamoDbApprovedWithdrawals({ client: dynamo, tableName }),
          ssm,
          lambda: config.actuators.lambdaConcurrency ? tracer.captureAWSv3Client(new LambdaClient({})) : undefined,
          kms: config.actuators.kmsKeys ? tracer.captureAWSv3Client(new KMSClient({})) : undefined,
          secrets: env[WEBHOOK_SECRET_ID_ENV]
            ? new CachedSecrets({ secretsManager: tracer.captureAWSv3Client(new SecretsManagerClient({})) })
            : undefined,
          env,
        })
      : ssm,
    logger: new Logger({ serviceName: env.POWERTOOLS_SERVICE_NAME ?? 'hot-wallet-breaker' }),
    metrics: new Metrics({
      namespace: env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
      serviceName: env.POWERTOOLS_SERVICE_NAME ?? 'hot-wallet-breaker',
    }),
    tracer,
  };
  return cached;
}

/** For functions that page (poll-chain, reset-breaker): no topic is a deploy bug, caught at cold start. */
export function requirePublisher(deps: HandlerDeps): PagePublisher {
  if (!deps.publisher) throw new ConfigError('Lambda environment', ['PAGE_TOPIC_ARN: not set (the CDK stack sets it)']);
  return deps.publisher;
}

/** Tests build handlers against local stand-ins; this forgets the cached container state. */
export function resetHandlerDepsForTests(): void {
  cached = undefined;
}
