// `npm install` then `npm test` build once: scripts/build-if-stale.mjs skips the build only when dist/ was built
// from exactly the current inputs. The real script, run in a scratch package whose `build` only logs and writes
// the outputs (no tsc, no vite), so every case is fast.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from './support/cli.js';

const tmp = tempDir('deepbern-stale-');
afterAll(() => tmp.cleanup());
const at = (p: string) => join(tmp.dir, p);
const write = (p: string, text: string) => {
  mkdirSync(join(at(p), '..'), { recursive: true });
  writeFileSync(at(p), text);
};

const fakeBuild = [
  "const fs = require('fs');",
  "fs.appendFileSync('builds.log', 'build\\n');",
  "for (const f of ['dist/src-main/cli/main.js', 'dist/src-main/electron/main.js', 'dist/renderer/index.html']) { fs.mkdirSync(require('path').dirname(f), { recursive: true }); fs.writeFileSync(f, ''); }",
].join(' ');
write(
  'package.json',
  JSON.stringify({
    name: 'stale-check',
    private: true,
    scripts: { build: `node -e "${fakeBuild.replace(/"/g, '\\"')}"` },
  }),
);
write('shared/a.ts', 'export const a = 1;\n');
write('src-renderer/App.vue', '<template><p>a</p></template>\n');
mkdirSync(at('scripts'));
copyFileSync(join(ROOT, 'scripts', 'build-if-stale.mjs'), at('scripts/build-if-stale.mjs'));

const run = (...args: string[]) =>
  spawnSync(process.execPath, [at('scripts/build-if-stale.mjs'), ...args], {
    cwd: tmp.dir,
    encoding: 'utf8',
    env: { ...process.env, npm_execpath: '' },
  });
const builds = () => readFileSync(at('builds.log'), 'utf8').split('\n').filter(Boolean).length;
const stale = () => run('--check').status === 1;

describe('build-if-stale', () => {
  it('builds a fresh clone once, then skips until an input changes', () => {
    expect(stale()).toBe(true); // no dist/
    expect(run().status).toBe(0);
    expect(builds()).toBe(1);
    expect(stale()).toBe(false);
    expect(run().stdout).toMatch(/up to date/);
    expect(builds()).toBe(1); // `npm test` after `npm install`: no second build
  });

  it('rebuilds after an edit, a new file, a deleted file, a lockfile change or a missing output; not after a bare touch', () => {
    const cases: [string, () => void, boolean][] = [
      ['edit a source', () => write('shared/a.ts', 'export const a = 2;\n'), true],
      [
        'an edit that keeps the old mtime',
        () => {
          write('src-renderer/App.vue', '<template><p>b</p></template>\n');
          utimesSync(at('src-renderer/App.vue'), new Date(2000, 0, 1), new Date(2000, 0, 1));
        },
        true,
      ],
      ['add a file', () => write('workers/new.ts', 'export {};\n'), true],
      ['delete a file', () => rmSync(at('workers/new.ts')), true],
      ['change the lockfile', () => write('package-lock.json', '{}\n'), true],
      ['lose an output', () => rmSync(at('dist/renderer/index.html')), true],
      ['touch without a change', () => utimesSync(at('shared/a.ts'), new Date(), new Date()), false],
    ];
    for (const [what, change, rebuilds] of cases) {
      const before = builds();
      change();
      expect(stale(), what).toBe(rebuilds);
      expect(run().status, what).toBe(0);
      expect(builds(), what).toBe(before + (rebuilds ? 1 : 0));
      expect(stale(), what).toBe(false);
    }
  });

  it('a failed build leaves dist/ stale and fails the step', () => {
    const pkg = JSON.parse(readFileSync(at('package.json'), 'utf8'));
    write('package.json', JSON.stringify({ ...pkg, scripts: { build: 'node -e "process.exit(3)"' } }));
    const r = run();
    expect(r.status).toBe(3);
    expect(stale()).toBe(true);
  });
});
