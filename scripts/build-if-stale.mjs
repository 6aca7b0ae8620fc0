#!/usr/bin/env node
// `npm run build` unless dist/ was built from exactly these inputs: `npm install` (prepare) builds once and
// `npm test` right after does not build again. The check hashes the content of every build input (sources,
// tsconfigs, the vite config, package.json and the lockfile), so any edit, new or deleted file — whatever its
// mtime — triggers a full build; a missing or partial dist/ does too. `npm run build` always builds.
// `--check`: build nothing, say whether dist/ is stale (exit 1) or not (exit 0).
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const INPUT_DIRS = ['shared', 'workers', 'src-main', 'src-renderer', 'test/bench', 'test/support'];
const INPUT_FILES = [
  'package.json',
  'package-lock.json',
  'tsconfig.base.json',
  'tsconfig.node.json',
  'tsconfig.web.json',
  'vite.config.ts',
];
/** What a finished build leaves; without them dist/ is not a build, whatever the stamp says. */
const OUTPUTS = ['dist/src-main/cli/main.js', 'dist/src-main/electron/main.js', 'dist/renderer/index.html'];
const STAMP = join(root, 'dist', '.build-inputs');

function* files(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile()) yield p;
  }
}

function inputsHash() {
  const paths = [
    ...INPUT_DIRS.flatMap((d) => (existsSync(join(root, d)) ? [...files(join(root, d))] : [])),
    ...INPUT_FILES.map((f) => join(root, f)).filter((f) => existsSync(f)),
  ];
  const h = createHash('sha256');
  for (const p of paths.map((x) => relative(root, x).split('\\').join('/')).sort()) {
    h.update(p)
      .update('\0')
      .update(readFileSync(join(root, p)))
      .update('\0');
  }
  return h.digest('hex');
}

const hash = inputsHash(); // before building: an edit made during the build makes the next check rebuild
const built =
  OUTPUTS.every((o) => existsSync(join(root, o))) && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === hash;
if (built) {
  process.stdout.write('build: dist/ is up to date (no build input changed since it was built)\n');
} else if (process.argv.includes('--check')) {
  process.stdout.write('build: dist/ is stale\n');
  process.exit(1);
} else {
  const npm = process.env.npm_execpath;
  const r = npm
    ? spawnSync(process.execPath, [npm, 'run', 'build'], { cwd: root, stdio: 'inherit' })
    : spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  writeFileSync(STAMP, hash + '\n');
}
