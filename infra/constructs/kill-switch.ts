import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { WEBHOOK_SECRET_ID_ENV } from '../../functions/adapters/secrets/secret-reference.ts';
import type { ActuatorsConfig } from '../../functions/core/actuators/config.ts';
import type { BreakerFunction } from './breaker-function.ts';
import type { BreakerTable } from './breaker-table.ts';

/**
 * The value the parameter is created with: the breaker's initial state (armed, version 0). CloudFormation writes
 * `Value` only when it creates or updates the resource, and the functions own the value afterwards, so this
 * must never change: an update to the parameter resource would overwrite a live mirror (a test pins it, and checks
 * that the SSM adapter's parser reads it as armed). It is a literal, not `encodeKillSwitchValue(initialState())`, so
 * that a change in the adapter's encoding cannot silently turn into a rewrite of the deployed parameter.
 */
export const KILL_SWITCH_INITIAL_VALUE = JSON.stringify({
  halted: false,
  scopes: [],
  version: 0,
  updatedAt: null,
  trips: [],
});

export interface KillSwitchProps {
  readonly deploymentName: string;
  readonly table: BreakerTable;
  /**
   * The kill-switch layers from the config: the functions that flush the outbox (pollers, reset) get
   * the permissions they need and the webhook secret.
   * @default only the SSM parameter
   */
  readonly actuators?: ActuatorsConfig;
}

/** The Secrets Manager secret (a plain string) holding the webhook's HMAC secret; create it before deploying. */
export function webhookSecretName(deploymentName: string): string {
  return `hot-wallet-breaker/${deploymentName}/signer-webhook-secret`;
}

/**
 * What a signing service consults before it signs. The table's state item is the truth; the SSM parameter mirrors
 * it on every transition for signers that can only poll a parameter. The managed policy grants a signer exactly
 * those reads, so the breaker's owner decides what "read the breaker" means.
 */
export class KillSwitch extends Construct {
  readonly parameter: ssm.StringParameter;
  readonly signerPolicy: iam.ManagedPolicy;
  private readonly props: KillSwitchProps;

  constructor(scope: Construct, id: string, props: KillSwitchProps) {
    super(scope, id);
    this.props = props;
    this.parameter = new ssm.StringParameter(this, 'Parameter', {
      parameterName: `/hot-wallet-breaker/${props.deploymentName}/kill-switch`,
      description:
        'Mirror of the breaker state for signing services (truth: the DynamoDB state item). Written by the breaker on every transition; do not edit.',
      stringValue: KILL_SWITCH_INITIAL_VALUE,
      tier: ssm.ParameterTier.STANDARD,
    });

    this.signerPolicy = new iam.ManagedPolicy(this, 'SignerPolicy', {
      managedPolicyName: `${props.deploymentName}-breaker-signer-read`,
      description:
        'Attach to a signing service: read the hot-wallet-breaker kill switch (state item and SSM mirror). Fail closed if either read fails.',
      statements: [
        ...props.table.signerStatements(),
        new iam.PolicyStatement({
          sid: 'ReadKillSwitchParameter',
          actions: ['ssm:GetParameter'],
          resources: [this.parameter.parameterArn],
        }),
      ],
    });
  }

  /**
   * The functions that flush the outbox mirror each transition into the parameter (sets KILL_SWITCH_PARAMETER) and
   * drive the other layers. `engage` (pollers) may halt a layer but never lift it: the release half (KMS EnableKey,
   * DeleteFunctionConcurrency) belongs to the operator path, which flushes a reset's effects in the same request
   * (commitTransition). A release that reaches a poller anyway (the operator path's own flush failed, or a
   * `--table` reset left it in the outbox) fails there for want of permission and is paged with its manual steps.
   * The SSM parameter is one value, so every flushing function may write it either way (IAM cannot see the value).
   */
  grantMirror(fn: BreakerFunction, actuation: 'engage' | 'engage-and-release'): void {
    fn.function.addEnvironment('KILL_SWITCH_PARAMETER', this.parameter.parameterName);
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'MirrorKillSwitch',
        actions: ['ssm:GetParameter', 'ssm:PutParameter'],
        resources: [this.parameter.parameterArn],
      }),
    );
    this.grantActuators(fn, actuation === 'engage-and-release');
  }

  /** The layers beyond the parameter: reserved concurrency of the signer Lambdas, the signing keys, the webhook secret. */
  private grantActuators(fn: BreakerFunction, release: boolean): void {
    const a = this.props.actuators;
    if (!a) return;
    const stack = Stack.of(this);
    if (a.lambdaConcurrency) {
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'KillSwitchSignerConcurrency',
          actions: [
            'lambda:GetFunctionConcurrency',
            'lambda:PutFunctionConcurrency',
            ...(release ? ['lambda:DeleteFunctionConcurrency'] : []),
          ],
          resources: a.lambdaConcurrency.functions.map((f) =>
            f.startsWith('arn:')
              ? f
              : stack.formatArn({
                  service: 'lambda',
                  resource: 'function',
                  resourceName: f,
                  arnFormat: ArnFormat.COLON_RESOURCE_NAME,
                }),
          ),
        }),
      );
    }
    if (a.kmsKeys) {
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'KillSwitchSigningKeys',
          actions: ['kms:DescribeKey', 'kms:DisableKey', ...(release ? ['kms:EnableKey'] : [])],
          resources: a.kmsKeys.keys.map((k) =>
            k.startsWith('arn:') ? k : stack.formatArn({ service: 'kms', resource: 'key', resourceName: k }),
          ),
        }),
      );
    }
    if (a.webhook) {
      // The function reads the secret at run time (cached, re-read when the receiver refuses it), so its value is
      // never in the environment (readable with lambda:GetFunctionConfiguration) and a rotation needs no redeploy.
      const name = webhookSecretName(this.props.deploymentName);
      fn.function.addEnvironment(WEBHOOK_SECRET_ID_ENV, name);
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ReadWebhookSecret',
          actions: ['secretsmanager:GetSecretValue'],
          // Secrets Manager appends six random characters to the name in the ARN.
          resources: [
            stack.formatArn({
              service: 'secretsmanager',
              resource: 'secret',
              resourceName: `${name}-??????`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ],
        }),
      );
    }
  }
}
