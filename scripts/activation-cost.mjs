#!/usr/bin/env node
// How many files a new parameter-less activation touches, and that leaving any one out is a compile error.
// Copies the sources to .tmp/activation-cost/, adds a fake `swish` to the files docs/develop.md lists, and
// type-checks the copy the way npm test does (tsc over src-main/workers/shared, vue-tsc over the renderer, tsc
// over the tests): with every file edited there must be no error; with any one left out, at least one.
//   node scripts/activation-cost.mjs        (a few minutes on 2 cores; exit 1 when a claim does not hold)
import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const COPY = path.join(ROOT, '.tmp', 'activation-cost');

/** The edits adding a parameter-less activation: one per file, exactly the files docs/develop.md names. */
const EDITS = {
  'shared/activations.ts': {
    before: '} as const satisfies Record<string, FixedActivationInfo>;',
    insert: `  swish: {
    label: 'Swish',
    blockLabel: 'Swish',
    hint: 'x·sigmoid(x)',
    params: [],
    defaultInit: 'he_normal',
    f: (x) => x / (1 + Math.exp(-x)),
    df: (x) => { const s = 1 / (1 + Math.exp(-x)); return s + x * s * (1 - s); },
  },
`,
  },
  'workers/engine/activations.ts': {
    before: '};\n\nexport function applyActivation',
    insert: `  swish: {
    forward: (z) => tf.mul(z, tf.sigmoid(z)) as tf.Tensor2D,
    derivative: (z) => { const s = tf.sigmoid(z); return tf.add(s, tf.mul(z, tf.mul(s, tf.sub(1, s)))) as tf.Tensor2D; },
    kernel: {
      act: (x) => x / (1 + Math.exp(-x)),
      grad: (x) => { const s = 1 / (1 + Math.exp(-x)); return s + x * s * (1 - s); },
    },
  },
`,
  },
};

const bin = (p) => path.join(ROOT, 'node_modules', p);
const CHECKS = {
  'tsc tsconfig.node.json': [bin('typescript/bin/tsc'), '-p', 'tsconfig.node.json', '--noEmit'],
  'vue-tsc tsconfig.web.json': [bin('vue-tsc/bin/vue-tsc.js'), '-p', 'tsconfig.web.json', '--noEmit'],
  'tsc tsconfig.test.json': [bin('typescript/bin/tsc'), '-p', 'tsconfig.test.json', '--noEmit'],
};

async function errors(check) {
  const r = await run(process.execPath, CHECKS[check], { cwd: COPY, maxBuffer: 64 << 20 }).then(
    (ok) => ok.stdout,
    (e) => e.stdout ?? String(e),
  );
  return r.split('\n').filter((l) => /error TS\d+/.test(l));
}

async function prepare(files) {
  for (const [file, originalText] of Object.entries(originals)) {
    let text = originalText;
    if (files.includes(file)) {
      const { before, insert } = EDITS[file];
      if (!text.includes(before)) throw new Error(`${file}: anchor not found (update scripts/activation-cost.mjs)`);
      text = text.replace(before, insert + before);
    }
    await writeFile(path.join(COPY, file), text);
  }
}

await rm(COPY, { recursive: true, force: true });
await mkdir(COPY, { recursive: true });
for (const entry of [
  'shared',
  'workers',
  'src-main',
  'src-renderer',
  'test',
  'tsconfig.base.json',
  'tsconfig.node.json',
  'tsconfig.web.json',
  'tsconfig.test.json',
  'package.json',
  'vite.config.ts',
  'vitest.config.ts',
]) {
  await cp(path.join(ROOT, entry), path.join(COPY, entry), { recursive: true });
}
await symlink(path.join(ROOT, 'node_modules'), path.join(COPY, 'node_modules'), 'dir');
const originals = Object.fromEntries(
  await Promise.all(Object.keys(EDITS).map(async (f) => [f, await readFile(path.join(ROOT, f), 'utf8')])),
);

let ok = true;
const files = Object.keys(EDITS);
console.log(`A parameter-less activation touches ${files.length} source files: ${files.join(', ')}`);
await prepare(files);
for (const check of Object.keys(CHECKS)) {
  const e = await errors(check);
  console.log(`  all ${files.length} edited — ${check}: ${e.length} errors`);
  for (const l of e) console.log(`    ${l}`);
  if (e.length) ok = false;
}
for (const left of files) {
  await prepare(files.filter((f) => f !== left));
  // The tables are in shared/ and workers/: the node program sees both, so its errors are the verdict.
  const e = await errors('tsc tsconfig.node.json');
  console.log(`  ${left} left out — tsc tsconfig.node.json: ${e.length} error${e.length === 1 ? '' : 's'}`);
  for (const l of e.slice(0, 3)) console.log(`    ${l.slice(0, 220)}`);
  if (!e.length) ok = false;
}
await rm(COPY, { recursive: true, force: true });
console.log(ok ? 'OK: every file is needed and enough.' : 'FAILED: see above.');
process.exit(ok ? 0 : 1);
