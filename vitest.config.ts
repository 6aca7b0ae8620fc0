import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Suites start worker pools, SQLite files and browsers: run files one at a time on 2 cores.
    fileParallelism: false,
    pool: 'forks',
  },
});
