#!/usr/bin/env node
// The `breaker` command: runs the TypeScript CLI through tsx (a runtime dependency), so the
// same sources run locally and, bundled by esbuild, in Lambda.
import { register } from 'tsx/esm/api';

register();
await import('../functions/local/cli.ts');
