import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Benchmarks run via `npm run bench`; only test/bench/*.test.ts (exactness smoke tests) run here.
    exclude: ['node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests each start their own anvil and store; two cores.
    maxWorkers: 2,
  },
});
