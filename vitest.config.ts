import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests start real servers, proxies, pip and R: generous per-test bounds (not speed checks).
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: a few files at once keeps pip/R tests from starving the rest.
    maxWorkers: 3,
  },
});
