// The static checks `npm test` (and so .ci/run) runs — vue-tsc, tsc over the tests, eslint with the rooms
// rule, the API_ARGS ↔ WorkbenchApi agreement — really cover every file and really fail. Each case injects
// one fault into a small program built with the project's own configs (a copy under .tmp/, never the tree).
import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ESLint } from 'eslint';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TMP = path.join(ROOT, '.tmp', `checks-${process.pid}`);
const run = promisify(execFile);

/** A tsconfig's compiler options and files, read the way tsc (and vue-tsc, for .vue) reads them. */
function parseConfig(file: string): ts.ParsedCommandLine {
  const json = ts.readConfigFile(file, ts.sys.readFile);
  if (json.error) throw new Error(ts.flattenDiagnosticMessageText(json.error.messageText, '\n'));
  const vue: ts.FileExtensionInfo[] = [{ extension: 'vue', isMixedContent: true, scriptKind: ts.ScriptKind.Deferred }];
  return ts.parseJsonConfigFileContent(json.config, ts.sys, path.dirname(file), undefined, file, undefined, vue);
}

/** tsc's errors for `rootNames` under `options`, as `file(line): TSnnnn message` lines. */
function typeErrors(rootNames: string[], options: ts.CompilerOptions): string[] {
  const program = ts.createProgram(rootNames, { ...options, noEmit: true });
  // Only the root files' own errors (the rest of the tree is checked by npm test itself): faster, same verdict.
  const roots = program.getRootFileNames().map((f) => program.getSourceFile(f)!);
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...roots.flatMap((f) => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)]),
  ];
  return diagnostics.map((d) => {
    const where = d.file
      ? `${path.relative(TMP, d.file.fileName)}(${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1})`
      : '';
    return `${where}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}

async function trackedSources(): Promise<string[]> {
  const { stdout } = await run('git', ['ls-files', '-z', '--', '*.ts', '*.vue'], { cwd: ROOT });
  return stdout.split('\0').filter((f) => f && !f.startsWith('workers/engine/vendor/'));
}

beforeAll(async () => {
  await mkdir(TMP, { recursive: true });
});
afterAll(async () => {
  await rm(TMP, { recursive: true, force: true });
});

describe('every source file is type-checked and linted', () => {
  it('each tracked .ts/.vue file belongs to a tsconfig that npm test checks, and eslint lints it', async () => {
    const files = await trackedSources();
    expect(files.length).toBeGreaterThan(100);
    const checked = new Set(
      ['tsconfig.node.json', 'tsconfig.web.json', 'tsconfig.test.json'].flatMap((c) =>
        parseConfig(path.join(ROOT, c)).fileNames.map((f) => path.relative(ROOT, f)),
      ),
    );
    expect(files.filter((f) => !checked.has(f))).toEqual([]);
    // .vue files are in tsconfig.web.json, so npm test's typecheck of it must be vue-tsc, not tsc (which skips them).
    const scripts = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')).scripts as Record<
      string,
      string
    >;
    expect(scripts['typecheck:renderer']).toMatch(/^vue-tsc -p tsconfig\.web\.json/);
    // the build step builds unless dist/ is up to date (scripts/build-if-stale.mjs runs `npm run build`; test/build-if-stale.test.ts)
    for (const step of [
      'node scripts/build-if-stale.mjs',
      'npm run typecheck:renderer',
      'npm run typecheck:tests',
      'npm run lint',
      'npm run format:check', // prettier over the code (docs and YAML keep their hand layout: .prettierignore)
    ])
      expect(scripts.test).toContain(step);
    const eslint = new ESLint({ cwd: ROOT });
    const unlinted: string[] = [];
    for (const f of files) if (await eslint.isPathIgnored(path.join(ROOT, f))) unlinted.push(f);
    expect(unlinted).toEqual([]);
  });
});

describe('the checks fail on an injected fault', () => {
  it('vue-tsc: a type error inside a .vue file', async () => {
    const dir = path.join(TMP, 'vue');
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, 'Bad.vue'),
      '<script setup lang="ts">\nconst n: number = "not a number";\n</script>\n<template><p>{{ n }}</p></template>\n',
    );
    await writeFile(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({ extends: '../../../tsconfig.web.json', include: ['Bad.vue'] }),
    );
    const bin = path.join(ROOT, 'node_modules', 'vue-tsc', 'bin', 'vue-tsc.js');
    const err = await run(process.execPath, [bin, '-p', path.join(dir, 'tsconfig.json'), '--noEmit'], {
      cwd: ROOT,
    }).then(
      () => null,
      (e: { stdout: string }) => e,
    );
    expect(err, 'vue-tsc accepted a .vue file with a type error').not.toBeNull();
    expect(err!.stdout).toMatch(/Bad\.vue\(2,7\): error TS2322/);
  });

  it('tsc over the tests: a type error in a test file', async () => {
    const file = path.join(TMP, 'bad.test.ts');
    await writeFile(
      file,
      "import { expect, it } from 'vitest';\nit('adds', () => expect(1 + '1').toBe(2));\nconst n: number = 'one';\nexport { n };\n",
    );
    const errors = typeErrors([file], parseConfig(path.join(ROOT, 'tsconfig.test.json')).options);
    expect(errors).toEqual([expect.stringMatching(/^bad\.test\.ts\(3\): TS2322 /)]);
  });

  it('eslint: a recommended-rule error, an upward import (relative or into the wrong room), a Node import in shared/', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const lint = async (filePath: string, code: string) =>
      (await eslint.lintText(code, { filePath: path.join(ROOT, filePath) }))[0].messages.map(
        (m) => `${m.line}:${m.ruleId}`,
      );
    expect(await lint('shared/x.ts', 'let a = 1;\nexport const b = a;\n')).toEqual(['1:prefer-const']);
    expect(await lint('shared/x.ts', "export { STATUS } from '../src-main/store/x.js';\n")).toEqual([
      '1:rooms/downward-only',
    ]);
    expect(
      await lint('shared/x.ts', "import { readFile } from 'node:fs/promises';\nexport const r = readFile;\n"),
    ).toEqual(['1:rooms/downward-only']);
    expect(
      await lint(
        'workers/engine/x.ts',
        "import type { S } from '../../src-main/service/workbench-service.js';\nexport type T = S;\n",
      ),
    ).toEqual(['1:rooms/downward-only']);
    expect(
      await lint(
        'src-renderer/views/XView.vue',
        '<script setup lang="ts">\nimport { trainRun } from \'../../workers/engine/train.js\';\nconst t = trainRun;\n</script>\n<template><p>{{ t }}</p></template>\n',
      ),
    ).toEqual(['2:rooms/downward-only']);
    // Downward and sideways imports are fine.
    expect(
      await lint(
        'src-main/cli/x.ts',
        "import { a } from '../../workers/engine/train.js';\nimport { b } from '../../shared/api.js';\nimport { c } from '../store/db.js';\nexport const d = [a, b, c];\n",
      ),
    ).toEqual([]);
  });

  it('tsc: an API_ARGS entry that disagrees with its WorkbenchApi method', async () => {
    const dir = path.join(TMP, 'api');
    await cp(path.join(ROOT, 'shared'), path.join(dir, 'shared'), { recursive: true });
    const api = path.join(dir, 'shared', 'api.ts');
    const text = await readFile(api, 'utf8');
    // Two faults the zod schemas alone would accept: a field the method's parameter has but the schema lacks
    // (caught by the exact agreement check), and a parameter of the wrong type (caught where API_ARGS is built).
    const bad = text
      .replace('        rows: z.number().int().min(10).optional(),\n', '')
      .replace("'runs.setTags': z.tuple([id, ", "'runs.setTags': z.tuple([z.number(), ");
    expect(bad.length).toBeLessThan(text.length);
    await writeFile(api, bad);
    const errors = typeErrors([api], parseConfig(path.join(ROOT, 'tsconfig.node.json')).options);
    expect(errors).toHaveLength(2);
    expect(errors.join('\n')).toMatch(/TS2344 .*does not satisfy the constraint 'never'.*'"datasets\.import"'/);
    expect(errors.join('\n')).toMatch(/TS2322 .*\[id: string, tags: string\[\]\]/);
  });
});
