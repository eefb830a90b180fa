import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { Actuator, ActuatorMemory } from '../../core/actuators/actuator.ts';
import { KillSwitchActuators } from '../../core/actuators/kill-switch-actuators.ts';
import type { BreakerConfig } from '../../core/config/types.ts';
import { ConfigError } from '../../core/errors.ts';
import type { AuditLog, PagePublisher, StateMirror } from '../../core/ports.ts';
import { type Clock, systemClock } from '../../core/time.ts';
import type { CachedSecrets, SecretSupplier } from '../secrets/cached-secrets.ts';
import { WEBHOOK_SECRET_ID_ENV } from '../secrets/secret-reference.ts';
import type { SsmKillSwitchMirror } from '../ssm/ssm-kill-switch-mirror.ts';
import { KmsKeyActuator } from './kms-key-actuator.ts';
import { LambdaConcurrencyActuator } from './lambda-concurrency-actuator.ts';
import { SsmParameterActuator } from './ssm-parameter-actuator.ts';
import { WebhookActuator } from './webhook-actuator.ts';

export interface KillSwitchActuatorDeps {
  config: BreakerConfig;
  audit: AuditLog;
  publisher: PagePublisher;
  /** Where the Lambda and KMS layers remember what to restore (the breaker table). */
  memory: ActuatorMemory;
  /** The SSM parameter mirror, when the stack created one (KILL_SWITCH_PARAMETER). */
  ssm?: SsmKillSwitchMirror;
  /** SDK clients (tests aim them at local endpoints); created with defaults when needed. */
  lambda?: LambdaClient;
  kms?: KMSClient;
  /** Reads the webhook secret at run time when the stack names it in WEBHOOK_SECRET_ID (Lambda). */
  secrets?: CachedSecrets;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
}

/**
 * Every kill-switch layer the config turns on, as the one StateMirror flushOutbox brings up to
 * date. Undefined when no layer is on (the table flag alone). Throws ConfigError at cold start when
 * a layer cannot be built (the webhook secret is neither named in WEBHOOK_SECRET_ID nor in its variable).
 */
export function createKillSwitchActuators(deps: KillSwitchActuatorDeps): StateMirror | undefined {
  const { config } = deps;
  const a = config.actuators;
  const env = deps.env ?? process.env;
  const layers: Actuator[] = [];
  const everyFlush = new Set<string>();
  if (a.ssmParameter.enabled && deps.ssm) {
    layers.push(new SsmParameterActuator(deps.ssm));
    everyFlush.add('ssm-parameter');
  }
  if (a.webhook) {
    const secret = webhookSecret(env, a.webhook.secretEnv, deps.secrets);
    layers.push(
      new WebhookActuator({
        deploymentName: config.name,
        url: a.webhook.url,
        secret,
        timeoutMs: a.webhook.timeoutMs,
        retries: a.webhook.retries,
        chains: a.webhook.chains,
        fetch: deps.fetch,
      }),
    );
  }
  if (a.lambdaConcurrency) {
    layers.push(
      new LambdaConcurrencyActuator({
        client: deps.lambda ?? new LambdaClient({}),
        functions: a.lambdaConcurrency.functions,
        memory: deps.memory,
        chains: a.lambdaConcurrency.chains,
      }),
    );
  }
  if (a.kmsKeys) {
    layers.push(
      new KmsKeyActuator({
        client: deps.kms ?? new KMSClient({}),
        keys: a.kmsKeys.keys,
        memory: deps.memory,
        chains: a.kmsKeys.chains,
      }),
    );
  }
  if (layers.length === 0) return undefined;
  return new KillSwitchActuators({
    deploymentName: config.name,
    actuators: layers,
    audit: deps.audit,
    publisher: deps.publisher,
    clock: deps.clock ?? systemClock,
    memory: deps.memory,
    everyFlush,
  });
}

/** In AWS the secret is read (and re-read) from Secrets Manager; locally it comes from the configured variable. */
function webhookSecret(env: NodeJS.ProcessEnv, secretEnv: string, secrets?: CachedSecrets): string | SecretSupplier {
  const secretId = env[WEBHOOK_SECRET_ID_ENV];
  if (secretId) {
    if (!secrets)
      throw new ConfigError('kill-switch actuators', [`${WEBHOOK_SECRET_ID_ENV}: set, but no secrets reader`]);
    return secrets.supplier({ store: 'secretsmanager', name: secretId });
  }
  const secret = env[secretEnv];
  if (!secret || secret.length < 16) {
    throw new ConfigError('kill-switch actuators', [
      `actuators.webhook.secretEnv: ${secretEnv} is ${secret ? 'shorter than 16 characters' : 'not set'} (the webhook's HMAC secret)`,
    ]);
  }
  return secret;
}
