#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript in dist/ (built by `npm install` via `prepare`).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const entry = join(root, 'dist', 'src-main', 'cli', 'main.js');
if (!existsSync(entry)) {
  console.error('deepbern: the compiled CLI is missing (dist/). Run `npm run build` in ' + root);
  process.exit(1);
}
await import(pathToFileURL(entry).href);
