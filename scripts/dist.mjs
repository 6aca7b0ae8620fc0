#!/usr/bin/env node
// `npm run dist [-- --with-tfjs-node] [-- <more electron-builder flags>]`: packages the desktop app for THIS
// OS (Linux: AppImage + deb, macOS: dmg, Windows: NSIS) from electron-builder.yml. Each OS builds its own
// artifacts (native modules and signing are per OS). `--with-tfjs-node` opts in to packaging the optional
// native TensorFlow backends (installed tfjs-node / tfjs-node-gpu), which the config leaves out by default.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const OS_FLAG = { linux: '--linux', darwin: '--mac', win32: '--win' }[process.platform];
if (!OS_FLAG) {
  console.error(`dist: no desktop targets for ${process.platform}`);
  process.exit(2);
}
const args = process.argv.slice(2);
const native = args.includes('--with-tfjs-node');
const rest = args.filter((a) => a !== '--with-tfjs-node');

let config = join(root, 'electron-builder.yml');
if (native) {
  const c = parse(readFileSync(config, 'utf8'));
  c.files = c.files.filter((p) => !/^!node_modules\/@tensorflow\/tfjs-node/.test(p));
  // Their addons and libtensorflow are loaded by path: unpacked, like every other native file.
  c.asarUnpack = [...c.asarUnpack, 'node_modules/@tensorflow/tfjs-node*/**/*'];
  mkdirSync(join(root, 'release'), { recursive: true });
  config = join(root, 'release', 'electron-builder.with-tfjs-node.yml');
  writeFileSync(config, stringify(c));
  console.log('dist: packaging the installed @tensorflow/tfjs-node* backends too');
}
const bin = join(
  root,
  'node_modules',
  '.bin',
  process.platform === 'win32' ? 'electron-builder.cmd' : 'electron-builder',
);
const r = spawnSync(bin, ['--config', config, OS_FLAG, ...rest], {
  cwd: root,
  stdio: 'inherit',
  shell: process.platform === 'win32',
});
process.exit(r.status ?? 1);
