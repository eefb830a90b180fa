import { readFileSync } from 'node:fs';
import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { type SecretReference, secretReferencesIn } from '../../functions/adapters/secrets/secret-reference.ts';

/**
 * Every function reads the bundled config at cold start and replaces its `${secret:…}` / `${ssm:…}`
 * placeholders (RPC API keys; functions/runtime/deployed-config.ts), so its role may read exactly the
 * secrets and parameters the config names — nothing else, and nothing when the config names none.
 * SSM SecureStrings encrypted with the account's default `aws/ssm` key need no KMS grant; a customer
 * managed key needs kms:Decrypt added for the role (docs/DEPLOY.md#secrets).
 */
export function grantConfigSecrets(scope: Construct, role: iam.Role, configFile: string): SecretReference[] {
  const refs = secretReferencesIn(JSON.parse(readFileSync(configFile, 'utf8')));
  const stack = Stack.of(scope);
  const secrets = refs.filter((r) => r.store === 'secretsmanager');
  const parameters = refs.filter((r) => r.store === 'ssm');
  if (secrets.length > 0) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadConfigSecrets',
        actions: ['secretsmanager:GetSecretValue'],
        resources: secrets.map((r) =>
          r.name.startsWith('arn:')
            ? r.name
            : // Secrets Manager appends six random characters to the name in the ARN.
              stack.formatArn({
                service: 'secretsmanager',
                resource: 'secret',
                resourceName: `${r.name}-??????`,
                arnFormat: ArnFormat.COLON_RESOURCE_NAME,
              }),
        ),
      }),
    );
  }
  if (parameters.length > 0) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadConfigParameters',
        actions: ['ssm:GetParameter'],
        resources: parameters.map((r) =>
          r.name.startsWith('arn:')
            ? r.name
            : stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: r.name.replace(/^\//, '') }),
        ),
      }),
    );
  }
  return refs;
}
