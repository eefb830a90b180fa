import type { BreakerConfig } from '../config/types.ts';

/** How an operator re-arms a scope after review, as a trip page tells them (manual and stolen-key trips). */
export function reArmLines(config: BreakerConfig, scope: string): string[] {
  const lines = [
    'To re-arm after review (a reason is required and recorded with your identity):',
    `  local:  npx breaker reset --scope ${scope} --reason "<what you reviewed>"`,
    `  AWS:    npx breaker reset --stack <stack> --scope ${scope} --reason "…", or the reset-breaker function URL; break-glass: reset-breaker-direct (docs/DEPLOY.md#reset)`,
  ];
  if (config.pages.consoleUrl) lines.push(`  console: ${config.pages.consoleUrl}`);
  return lines;
}
