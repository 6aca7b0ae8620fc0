// CLI parity (issue 15): sweep show lists the swept parameters, --db on every command, report --json, train's
// defaults, an ETA that is never "NFs", export-model --compact. The real CLI (bin/deepbern.js) on a real DB.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cli, dbHash, tempDir } from './support/cli.js';
import type { Command } from 'commander';
import { etaText } from '../src-main/cli/progress.js';
import { buildProgram } from '../src-main/cli/program.js';

const tmp = tempDir();
const db = join(tmp.dir, 'wb.db');
const sweepFile = join(tmp.dir, 'parity.yaml');
let sweepId = '';

afterAll(() => tmp.cleanup());

beforeAll(() => {
  writeFileSync(
    sweepFile,
    'name: parity\ndataset: fn:smooth\nbase: {depth: 2, width: 4, epochs: 1, rows: 200, batchSize: 64}\nmetric: {name: test_loss, goal: minimize}\n' +
      'parameters:\n  activation: {values: [bernstein, relu]}\n  degree: {values: [3, 5]}\n',
  );
  const r = cli(['sweep', 'run', sweepFile, '--workers', '1', '--db', db]);
  expect(r.code, r.stderr).toBe(0);
  sweepId = r.stdout.trim().split('\n')[0]!;
  expect(sweepId).toMatch(/^s[a-z0-9]+$/);
}, 300_000);

/** Every command of the tree the CLI runs (program.ts), by path: `sweep show`, `runs`, … */
function leaves(cmd: Command, prefix: string[] = []): { path: string[]; cmd: Command }[] {
  return cmd.commands.flatMap((c) =>
    c.commands.length ? leaves(c, [...prefix, c.name()]) : [{ path: [...prefix, c.name()], cmd: c }],
  );
}

describe('deepbern CLI parity', () => {
  it('sweep show lists the parameters the runs differ in, missing where they do not apply', () => {
    const t = cli(['sweep', 'show', sweepId, '--db', db]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/^swept: activation bernstein \| relu {2}· {2}degree 3 \| 5/m);
    const header = t.stdout.split('\n').find((l) => l.includes('│ rank'))!;
    for (const col of ['activation', 'degree', 'batchNorm', 'test_loss']) expect(header).toContain(col);
    const j = JSON.parse(cli(['sweep', 'show', sweepId, '--db', db, '--json']).stdout);
    expect(j.swept.map((p: { param: string }) => p.param)).toEqual(['activation', 'degree', 'batchNorm', 'init']);
    expect(j.swept[1].values.sort()).toEqual([3, 5]);
    expect(j.runs).toHaveLength(4);
    for (const r of j.runs) {
      if (r.params.activation === 'relu')
        expect(r.params.degree).toBeNull(); // a ReLU run has no degree
      else expect([3, 5]).toContain(r.params.degree);
    }
    // the ReLU rows show the missing mark in the degree column
    const relu = t.stdout.split('\n').filter((l) => l.includes('ReLU'));
    expect(relu).toHaveLength(2);
    for (const l of relu) expect(l.split('│').map((c) => c.trim())[7]).toBe('—');
  });

  it('every command accepts --db and its --help lists it', () => {
    const all = leaves(buildProgram());
    // found in the tree, not listed by hand: a new command without --db fails here
    for (const p of [
      'train',
      'runs',
      'sweep plan',
      'sweep show',
      'datasets import',
      'paper run',
      'worker',
      'report',
      'serve',
    ])
      expect(all.map((x) => x.path.join(' '))).toContain(p);
    for (const { path, cmd } of all) expect(cmd.helpInformation(), path.join(' ')).toMatch(/--db <path>/); // what --help prints
    // and the real CLI, for the two that refused --db before
    for (const p of [['sweep', 'plan'], ['worker']])
      expect(cli([...p, '--help']).stdout).toMatch(/--db <path> +(SQLite store|not used)/);
    const w = cli(['worker', '--db', db]); // accepted; the worker then needs its Redis, as before
    expect(w.stderr).toMatch(/--redis URL \(or DEEPBERN_REDIS_URL\) is required/);
  });

  it('sweep plan takes --db: checks the datasets there, changes nothing', () => {
    const before = dbHash(db);
    const ok = cli(['sweep', 'plan', sweepFile, '--db', db]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('4 runs');
    const higgs = join(tmp.dir, 'higgs.yaml');
    writeFileSync(higgs, readFileSync(sweepFile, 'utf8').replace('fn:smooth', 'higgs'));
    const bad = cli(['sweep', 'plan', higgs, '--db', db]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/higgs is not imported yet/);
    const absent = join(tmp.dir, 'absent.db');
    expect(cli(['sweep', 'plan', higgs, '--db', absent]).stderr).toMatch(
      /unknown dataset "higgs": .*absent\.db does not exist yet/,
    );
    expect(existsSync(absent)).toBe(false);
    expect(cli(['sweep', 'plan', higgs]).code).toBe(0); // no --db: no DB is asked (the plan alone)
    expect(dbHash(db)).toBe(before);
  });

  it("report --json is the report's content as JSON, beside or instead of the HTML", () => {
    const html = join(tmp.dir, 'report.html');
    const r = cli(['report', sweepId, '--json', '--out', html, '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ format: 'deepbern-report', version: 1, sweepId, deadReading: 'epoch' });
    expect(j.figures.finalTable).toHaveLength(4);
    expect(j.certificates.map((c: { runId: string }) => c.runId).sort()).toEqual(
      j.figures.certificates.map((c: { runId: string }) => c.runId).sort(),
    );
    expect(j.certificates).toHaveLength(2); // the Bernstein runs
    const page = readFileSync(html, 'utf8');
    for (const row of j.figures.finalTable as { runId: string }[]) expect(page).toContain(row.runId);
    const only = cli(['report', sweepId, '--json', '--db', db]);
    expect(JSON.parse(only.stdout).figures.finalTable).toEqual(j.figures.finalTable);
    const neither = cli(['report', sweepId, '--db', db]);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toMatch(/give --out <file> .*--json/);
  });

  it("train needs no network flags: the designer's starting net (depth 20, width 100, Bernstein)", () => {
    const r = cli(['train', '--dataset', 'fn:smooth', '--rows', '64', '--epochs', '1', '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout.trim().split('\n').pop()!;
    const spec = JSON.parse(cli(['show', id, '--db', db, '--json']).stdout).run.spec;
    expect(spec).toMatchObject({
      dataset: 'fn:smooth',
      depth: 20,
      width: 100,
      activation: 'bernstein',
      degree: 9,
      batchNorm: true,
    });
    const relu = cli([
      'train',
      '--dataset',
      'fn:smooth',
      '--rows',
      '64',
      '--epochs',
      '1',
      '--depth',
      '2',
      '--width',
      '4',
      '--db',
      db,
    ]);
    expect(relu.code, relu.stderr).toBe(0);
    expect(
      JSON.parse(cli(['show', relu.stdout.trim().split('\n').pop()!, '--db', db, '--json']).stdout).run.spec.activation,
    ).toBe('bernstein');
  }, 300_000);

  it('the ETA is "—" until measurable, never NaN, Infinity or "NFs"', () => {
    for (const [done, total, ms] of [
      [0, 10, 0],
      [0, 10, 500],
      [3, 10, 0],
      [NaN, 10, 5],
      [3, Infinity, 5],
      [3, 10, Infinity],
      [3, 10, NaN],
      [5, 3, 100],
    ]) {
      expect(etaText(done!, total!, ms!)).toBe('—');
    }
    expect(etaText(5, 10, 5000)).toBe('5s');
    expect(etaText(1, 10, 10_000)).toBe('1m 30s');
    expect(etaText(1, 100, 3_600_000 / 99)).toBe('1h 00m');
    // The live bar on a terminal: `script` gives the CLI a pseudo-terminal, so the bar (not plain lines) draws.
    const cmd = [
      process.execPath,
      BIN,
      'train',
      '--dataset',
      'fn:smooth',
      '--rows',
      '2000',
      '--batch-size',
      '16',
      '--epochs',
      '2',
      '--depth',
      '2',
      '--width',
      '8',
      '--db',
      db,
    ]
      .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
      .join(' ');
    const r = spawnSync('script', ['-qfec', cmd, '/dev/null'], {
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, COLUMNS: '200' },
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const plain = r.stdout.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, 'g'), '\n'); // terminal escapes → line breaks
    const etas = [...plain.matchAll(/ETA (\S+(?: \d\d[ms])?)/g)].map((m) => m[1]!);
    expect(etas.length).toBeGreaterThan(2); // the bar was drawn
    expect(etas[0]).toBe('—');
    for (const e of etas) expect(e).toMatch(/^(—|\d+s|\d+m \d\ds|\d+h \d\dm)$/);
    expect(r.stdout).not.toMatch(/NFs|NaN|Infinity|INF|NULL/);
  }, 300_000);

  it('export-model --compact: one line, the same model; --out writes it; predict reads it', () => {
    const runs = JSON.parse(cli(['runs', '--sweep', sweepId, '--db', db, '--json']).stdout).runs as {
      id: string;
      activation: string;
    }[];
    const big = runs.find((r) => r.activation === 'bernstein')!;
    const full = cli(['export-model', big.id, '--db', db]);
    const compact = cli(['export-model', big.id, '--compact', '--db', db]);
    expect(compact.code, compact.stderr).toBe(0);
    expect(compact.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(compact.stdout)).toEqual(JSON.parse(full.stdout));
    expect(compact.stdout.length).toBeLessThan(full.stdout.length * 0.75);
    const file = join(tmp.dir, 'model.json');
    const out = cli(['export-model', big.id, '--compact', '--out', file, '--db', db]);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(/^wrote .*model\.json \(\d+ KiB\)/);
    expect(readFileSync(file, 'utf8')).toBe(compact.stdout);
    const rows = join(tmp.dir, 'x.csv');
    writeFileSync(rows, 'x\n0.25\n-0.5\n');
    const a = JSON.parse(cli(['predict', '--model', file, '--input', rows, '--json']).stdout);
    const b = JSON.parse(cli(['predict', big.id, '--input', rows, '--json', '--db', db]).stdout);
    a.outputs.forEach((o: number[], i: number) => expect(Math.abs(o[0]! - b.outputs[i][0])).toBeLessThan(1e-4));
    expect(cli(['export-model', big.id, '--out', join(tmp.dir, 'no', 'such', 'dir.json'), '--db', db]).stderr).toMatch(
      /cannot write .*ENOENT/,
    );
  });
});
