#!/usr/bin/env node
// The `breaker` command: runs the TypeScript CLI through tsx, so the same sources run locally and,
// bundled by esbuild, in Lambda. The CLI, the watcher, the demo and the infra run from a clone of the
// repository (their libraries are devDependencies); the published package is the signer's side only.
import { existsSync } from 'node:fs';

const cli = new URL('../functions/local/cli.ts', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    'breaker: the CLI runs from a clone of the hot-wallet-breaker repository (git clone, npm install, npx breaker).\n' +
      'This installed package holds the signer-side library: hot-wallet-breaker, /middleware, /http, /protocol, /dynamodb, /config, /custody, /types.\n',
  );
  process.exit(2);
}
const { register } = await import('tsx/esm/api');
register();
await import(cli.href);
