import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import vue from '@vitejs/plugin-vue';

/**
 * The longest suites, longest first (measured per file; README "Tests"). They start first so that the two
 * workers are not left with one long file at the end; the rest follow vitest's own order (its cache of the
 * last run's durations, else file size).
 */
const LONG_FIRST = [
  'faults-bad-input',
  'remote-sweep',
  'cli-train',
  'faults-db-open',
  'faults-crash',
  'faults-resources',
  'cli-parity',
  'faults-ownership',
  'electron-main',
  'kernels-train',
  'e2e-workbench-nav',
  'e2e-paper',
  'packaging',
];

class LongFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = LONG_FIRST.findIndex((name) => f.moduleId.endsWith(`/test/${name}.test.ts`));
      return i < 0 ? LONG_FIRST.length : i;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b)); // stable: the rest keep vitest's order
  }
}

export default defineConfig({
  // The Vue plugin lets component tests (test/ui-*.test.ts, happy-dom) mount real .vue files.
  plugins: [vue()],
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two files at a time: most suites drive one CLI child or one browser at a time (one core), so a second
    // file uses the core the first leaves idle. Every suite has its own temp dirs, DBs and port-0 servers, and
    // each file runs in its own process (forks), so files do not share state. `--maxWorkers=1` runs them one
    // by one again.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    sequence: { sequencer: LongFirst },
  },
});
