import { App } from 'aws-cdk-lib';
import { isBreakerError } from '../functions/core/errors.ts';
import { buildBreakerApp, DEFAULT_CONFIG } from './breaker-app.ts';

// `npx cdk synth|deploy -c config=path/to/config.yaml`; cdk.json sets the default.
const app = new App();
const configPath = String(app.node.tryGetContext('config') ?? DEFAULT_CONFIG);
// The CDK CLI sets these from the profile (region defaulting to us-east-1); running this file directly may not.
const region = process.env.CDK_DEFAULT_REGION ?? process.env.AWS_REGION;
if (!region) {
  console.error('No AWS region: run through the CDK CLI (`npx cdk synth`) or set AWS_REGION.');
  process.exit(1);
}
try {
  buildBreakerApp(app, configPath, { account: process.env.CDK_DEFAULT_ACCOUNT, region });
} catch (e) {
  if (!isBreakerError(e, 'CONFIG_INVALID')) throw e;
  console.error(e.message);
  process.exit(1);
}
app.synth();
