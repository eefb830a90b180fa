import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Benchmarks run via `npm run bench`; only test/bench/*.test.ts (exactness smoke tests) run here.
    exclude: ['node_modules/**'],
    // Limits catch hangs, not slowness: every test is bounded work (counts of blocks, polls, cases). At
    // 60 s, bounded tests that take 10 s idle failed at load 17 on 2 cores (issue 20: the Tron poller
    // test at 60 s, and its sibling then saw the first one's abandoned polls).
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // Integration tests each start their own anvil and store; two cores.
    maxWorkers: 2,
  },
});
