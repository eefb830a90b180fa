import { type App, Aspects, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfigFile } from '../functions/adapters/config/config-file.ts';
import { checkDeployable } from './deploy-config.ts';
import { BreakerStack } from './stacks/breaker-stack.ts';

export const DEFAULT_CONFIG = 'config/example.yaml';

/**
 * Load and validate the config, then add its stack to `app` with the cdk-nag AwsSolutions checks (their errors
 * fail `cdk synth`; only tools that merely read the template turn them off). Throws ConfigError, naming each bad field, before any construct exists.
 *
 * The stack needs a concrete region (a table encrypted with a customer-managed key cannot be rendered
 * region-agnostic); the account may stay unresolved.
 */
export function buildBreakerApp(
  app: App,
  configPath: string,
  env: Environment & { region: string },
  options: { nag?: boolean } = {},
): BreakerStack {
  const config = loadConfigFile(configPath);
  checkDeployable(config, configPath);
  const stack = new BreakerStack(app, `hot-wallet-breaker-${config.name}`, { config, env });
  if (options.nag ?? true) Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  return stack;
}
