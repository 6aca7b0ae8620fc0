// The CLI end to end on a temp DB: train, runs, show, export, export-model, predict, and every bad input.
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, dbHash, expectOneLineError, fileHash, tempDir, tinyTrainArgs } from './support/cli.js';
import { bernsteinValue } from '../shared/theory.js';

const tmp = tempDir();
const db = join(tmp.dir, 'wb.db');
let runId = '';

afterAll(() => tmp.cleanup());

beforeAll(() => {
  const r = cli([
    'train',
    '--dataset',
    'synthetic-higgs',
    '--rows',
    '600',
    '--depth',
    '3',
    '--width',
    '8',
    '--activation',
    'bernstein',
    '--degree',
    '5',
    '--eps',
    '0.01',
    '--bounds',
    '-5,5',
    '--epochs',
    '2',
    '--batch-size',
    '64',
    '--db',
    db,
  ]);
  expect(r.stderr).toContain('epoch 2/2');
  expect(r.stderr).toMatch(/dead_epoch \S+\s+dead_eval \S+/); // both dead readings on every epoch line
  expect(r.code).toBe(0);
  expect(r.stderr).toContain('backend wasm  threads 1  params'); // DEFAULT_RUN_THREADS (docs/threads.md)
  runId = r.stdout.trim().split('\n').pop() as string;
  expect(runId).toMatch(/^r[a-z0-9]+$/);
});

describe('deepbern CLI', () => {
  it('lists the run, as a table and as JSON', () => {
    const t = cli(['runs', '--db', db]);
    expect(t.stdout).toContain(runId);
    expect(t.stdout).toContain('finished');
    const j = JSON.parse(cli(['runs', '--db', db, '--json']).stdout);
    expect(j.total).toBe(1);
    expect(j.runs[0]).toMatchObject({ id: runId, status: 'finished', epochsDone: 2, backend: 'wasm' });
  });

  it('shows per-epoch and per-layer metrics', () => {
    const s = cli(['show', runId, '--db', db]);
    expect(s.code).toBe(0);
    for (const m of [
      'train_loss',
      'test_acc',
      'mag1',
      'dead_ratio',
      'dead_ratio_epoch',
      'dead_time_s',
      'min_dsigma',
      'learned_floor',
      'clipped_frac',
    ])
      expect(s.stdout).toContain(m);
    const j = JSON.parse(cli(['show', runId, '--db', db, '--json']).stdout);
    expect(j.epochs).toHaveLength(2);
    const floors = j.layers.filter((l: { metric: string }) => l.metric === 'learned_floor');
    expect(floors).toHaveLength(2 * 3); // every epoch × layer
    // the certified floor of the learned coefficients is never below δ̄ = n·ε/(u−l)
    for (const f of floors) expect(f.value).toBeGreaterThanOrEqual((5 * 0.01) / 10 - 1e-7);
  });

  it('exports per-epoch and per-layer metrics as CSV', () => {
    const e = cli(['export', runId, '--format', 'csv', '--db', db]);
    const lines = e.stdout.trim().split('\n');
    expect(lines[0]).toBe('run_id,epoch,layer,metric,value,run_name,label');
    expect(lines.some((l) => /^r\w+,2,3,min_dsigma,/.test(l))).toBe(true);
    expect(lines.some((l) => /^r\w+,1,,test_loss,/.test(l))).toBe(true);
  });

  it('export-model JSON evaluated by an independent evaluator equals predict', () => {
    const exported = cli(['export-model', runId, '--db', db]);
    expect(exported.stderr).toBe('');
    const model = JSON.parse(exported.stdout);
    const rows = [Array.from({ length: 28 }, (_, j) => Math.sin(j)), Array.from({ length: 28 }, (_, j) => (j % 5) - 2)];
    const csv = join(tmp.dir, 'rows.csv');
    writeFileSync(csv, rows.map((r) => r.join(',')).join('\n') + '\n');
    const predicted = cli(['predict', runId, '--input', csv, '--db', db, '--json']);
    expect(predicted.stderr).toBe('');
    const p = JSON.parse(predicted.stdout);
    expect(p.outputs).toHaveLength(2);
    rows.forEach((r, i) => {
      const ours = evaluate(model, r);
      ours.forEach((v, k) => expect(Math.abs(v - p.outputs[i][k])).toBeLessThan(1e-4));
    });
    // the shipped evaluator of model files (no DB, no tfjs) agrees too
    const file = join(tmp.dir, 'model.json');
    writeFileSync(file, exported.stdout);
    const q = JSON.parse(cli(['predict', '--model', file, '--input', csv, '--json']).stdout);
    q.outputs.forEach((o: number[], i: number) =>
      o.forEach((v, k) => expect(Math.abs(v - p.outputs[i][k])).toBeLessThan(1e-4)),
    );
    const broken = JSON.parse(exported.stdout);
    broken.layers[0].weights[3].pop();
    writeFileSync(file, JSON.stringify(broken));
    expect(cli(['predict', '--model', file, '--input', csv]).stderr).toMatch(
      /layers\.0 \(dense\): weights must be 28×8/,
    );
  });

  const bad: [string, string[], RegExp][] = [
    ['degree < 1', ['--degree', '0'], /degree must be an integer between 1 and 64/],
    ['l ≥ u', ['--bounds', '5,-5'], /bounds must satisfy l < u/],
    ['ε < 0', ['--eps', '-0.1'], /eps must be ≥ 0/],
    ['width < 1', ['--width', '0'], /width must be an integer between 1/],
    ['depth < 1', ['--depth', '0'], /depth must be an integer between 1/],
    ['unknown activation', ['--activation', 'swish'], /Allowed choices are bernstein, relu/],
    ['unknown dataset', ['--dataset', 'nope'], /unknown dataset "nope"; available: mnist, synthetic-higgs/],
    ['not a number', ['--lr', 'fast'], /--lr must be a number/],
    ['bad bounds', ['--bounds', '1'], /--bounds must be two numbers l,u/],
    [
      'unknown init',
      ['--init', 'kaiming'],
      /Allowed choices are torch, he_normal, he_uniform, lecun_normal, xavier_uniform, xavier_normal/,
    ],
    ['threads < 1', ['--threads', '0'], /--threads must be auto or a whole number from 1 to 64 \(got "0"\)/],
    ['fractional threads', ['--threads', '1.5'], /--threads must be auto or a whole number from 1 to 64/],
  ];
  // As in the bad-input corpus: one case's "after" hash is the next one's "before".
  let hash: string | undefined;
  it.each(bad)('rejects %s with one clear line and leaves the DB unchanged', (_name, patch, re) => {
    const before = (hash ??= dbHash(db));
    const args = tinyTrainArgs(db);
    for (let i = 0; i < patch.length; i += 2) {
      const at = args.indexOf(patch[i]);
      if (at >= 0) args[at + 1] = patch[i + 1];
      else args.push(patch[i], patch[i + 1]);
    }
    const r = cli(args);
    hash = dbHash(db);
    expectOneLineError(r, re);
    expect(hash).toBe(before);
  });

  it('train --init torch --bn-affine: stored, shown and exported; the γ of the export is trained', () => {
    const r = cli([
      'train',
      '--dataset',
      'synthetic-higgs',
      '--rows',
      '300',
      '--depth',
      '2',
      '--width',
      '6',
      '--activation',
      'relu',
      '--batch-norm',
      '--bn-affine',
      '--init',
      'torch',
      '--epochs',
      '1',
      '--batch-size',
      '64',
      '--db',
      db,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('init torch bn affine');
    const id = r.stdout.trim().split('\n').pop() as string;
    const s = cli(['show', id, '--db', db]);
    expect(s.stdout).toMatch(/init torch {2}batch norm affine/);
    expect(JSON.parse(cli(['show', id, '--db', db, '--json']).stdout).run.spec).toMatchObject({
      init: 'torch',
      bnAffine: true,
      batchNorm: true,
    });
    const m = JSON.parse(cli(['export-model', id, '--db', db]).stdout);
    expect(m).toMatchObject({ init: 'torch', bnAffine: true });
    const bn = m.layers.filter((l: { type: string }) => l.type === 'batchnorm');
    expect(bn).toHaveLength(2);
    expect(bn[0].gamma.some((g: number) => g !== 1)).toBe(true);
    // the first run (no flags) shows the default its activation used
    expect(cli(['show', runId, '--db', db]).stdout).toMatch(/init lecun_normal {2}batch norm on \(no affine\)/);
  });

  it('train --threads auto trains on every core the pool leaves free; --threads 2 with adaptive bounds trains on 2', () => {
    const args = [
      'train',
      '--dataset',
      'synthetic-higgs',
      '--rows',
      '200',
      '--depth',
      '2',
      '--width',
      '4',
      '--activation',
      'bernstein',
      '--epochs',
      '1',
      '--batch-size',
      '64',
      '--db',
      db,
    ];
    const auto = cli([...args, '--threads', 'auto']);
    expect(auto.code, auto.stderr).toBe(0);
    expect(auto.stderr).toContain(`backend wasm  threads ${availableParallelism()}  params`);
    // Adaptive bounds used to fall back to one thread; their per-batch min/max are now reduced over the replicas.
    const adaptive = cli([...args, '--threads', '2', '--bounds', 'adaptive']);
    expect(adaptive.code, adaptive.stderr).toBe(0);
    expect(adaptive.stderr).toContain('threads 2  params');
    expect(adaptive.stderr).not.toContain('note:');
  });

  it('rejects an unknown run id, a missing file, malformed CSV rows and a non-SQLite DB', () => {
    const before = dbHash(db);
    const unknown = cli(['show', 'rnope', '--db', db]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toBe('deepbern: no run with id rnope');
    const missing = cli(['predict', runId, '--input', join(tmp.dir, 'absent.csv'), '--db', db]);
    expect(missing.stderr).toMatch(/cannot read .*absent.csv: ENOENT/);
    const short = join(tmp.dir, 'short.csv');
    writeFileSync(short, '1,2,3\n');
    expect(cli(['predict', runId, '--input', short, '--db', db]).stderr).toMatch(
      /line 1: 3 columns, the model takes 28 features/,
    );
    const nan = join(tmp.dir, 'nan.csv');
    writeFileSync(nan, Array.from({ length: 28 }, (_, j) => (j === 4 ? 'abc' : '1')).join(',') + '\n');
    expect(cli(['predict', runId, '--input', nan, '--db', db]).stderr).toMatch(
      /line 1, column 5: "abc" is not a finite number/,
    );
    expect(cli(['train', '--spec', join(tmp.dir, 'nope.yaml'), '--db', db]).stderr).toMatch(/cannot read spec file/);
    expect(dbHash(db)).toBe(before);

    const notDb = join(tmp.dir, 'notes.db');
    writeFileSync(notDb, 'these are my notes, not a database\n'.repeat(10));
    const h = fileHash(notDb);
    const r = cli(['runs', '--db', notDb]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`deepbern: ${notDb} is not a SQLite database`);
    expect(fileHash(notDb)).toBe(h);
  });
});

// ---- a tiny independent float64 evaluator of docs/model-format.md ----
type Layer = Record<string, unknown> & { type: string };
function evaluate(
  model: { standardization: { mean: number[]; std: number[] }; layers: Layer[] },
  raw: number[],
): number[] {
  let a = raw.map((v, j) => (v - model.standardization.mean[j]) / model.standardization.std[j]);
  let skip: number[] | null = null;
  for (const layer of model.layers) {
    switch (layer.type) {
      case 'dense': {
        const w = layer.weights as number[][];
        const b = layer.bias as number[];
        a = b.map((bias, o) => a.reduce((s, x, i) => s + x * w[i][o], bias));
        break;
      }
      case 'batchnorm': {
        const m = layer.runningMean as number[],
          v = layer.runningVar as number[],
          g = layer.gamma as number[],
          be = layer.beta as number[];
        a = a.map((x, j) => ((x - m[j]) / Math.sqrt(v[j] + (layer.eps as number))) * g[j] + be[j]);
        break;
      }
      case 'bernstein': {
        const c = layer.coefficients as number[][],
          l = layer.l as number[],
          u = layer.u as number[];
        a = a.map((x, j) => bernsteinValue(c[j], l[j], u[j], x));
        break;
      }
      case 'relu':
        a = a.map((x) => Math.max(0, x));
        break;
      case 'residual_begin':
        skip = a;
        break;
      case 'residual_end':
        if (skip) a = a.map((x, j) => x + (skip as number[])[j]);
        skip = null;
        break;
      case 'softmax': {
        const m = Math.max(...a);
        const e = a.map((x) => Math.exp(x - m));
        const s = e.reduce((x, y) => x + y, 0);
        a = e.map((x) => x / s);
        break;
      }
      default:
        throw new Error(`evaluator: layer type ${layer.type} not handled`);
    }
  }
  return a;
}
