import type { BreakerConfig } from '../functions/core/config/types.ts';
import { ConfigError } from '../functions/core/errors.ts';

/**
 * Checks that only matter when the config is deployed to AWS (the schema serves the local runtime too): each SNS
 * subscription endpoint must be what SNS accepts for its protocol. Throws ConfigError naming each bad field, so
 * `cdk synth` fails before anything reaches CloudFormation.
 */
export function checkDeployable(config: BreakerConfig, sourceName: string): void {
  const issues: string[] = [];
  const seen = new Map<string, number>();
  config.pages.subscriptions.forEach((s, i) => {
    const path = `pages.subscriptions[${i}].endpoint`;
    const key = `${s.protocol} ${s.endpoint}`;
    const first = seen.get(key);
    if (first !== undefined) issues.push(`${path}: same ${s.protocol} endpoint as pages.subscriptions[${first}]`);
    else seen.set(key, i);
    if (s.protocol === 'https' && !/^https:\/\/[^\s/]+\S*$/.test(s.endpoint)) {
      issues.push(`${path}: an https subscription needs an https:// URL, got "${s.endpoint}"`);
    }
    if (s.protocol === 'email' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s.endpoint)) {
      issues.push(`${path}: not an email address: "${s.endpoint}"`);
    }
    if (s.protocol === 'sms' && !/^\+[1-9]\d{7,14}$/.test(s.endpoint)) {
      issues.push(`${path}: an sms subscription needs an E.164 phone number like +14155550100, got "${s.endpoint}"`);
    }
  });
  if (issues.length > 0) throw new ConfigError(sourceName, issues);
}
