import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';

export default defineConfig({
  // The Vue plugin lets component tests (test/ui-*.test.ts, happy-dom) mount real .vue files.
  plugins: [vue()],
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Suites start worker pools, SQLite files and browsers: run files one at a time on 2 cores.
    fileParallelism: false,
    pool: 'forks',
  },
});
