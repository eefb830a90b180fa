import { fileURLToPath } from 'node:url';

/** The repository root: where package-lock.json, tsconfig.json and functions/ live. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Lambda entry points, as the handlers folder names them. */
export type HandlerName =
  | 'poll-chain'
  | 'reset-breaker'
  | 'reset-breaker-direct'
  | 'breaker-status'
  | 'console-api'
  | 'initialise-breaker';

export function handlerEntry(name: HandlerName): string {
  return fileURLToPath(new URL(`../functions/handlers/${name}.ts`, import.meta.url));
}
