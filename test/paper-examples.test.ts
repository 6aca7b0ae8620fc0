// The examples/paper files are pinned to the paper-like setup (PyTorch's nn.Linear init, affine batch norm
// wherever batch norm is on), and every run they plan trains with those fields — shrunk to a tiny net and
// dataset so all of them fit in a test (the real sizes take minutes to days).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EpochReport } from '../shared/metrics.js';
import { activationLabel, parseSpec } from '../shared/spec.js';
import { parseSweepText, planSweep } from '../shared/sweep.js';
import { initBackend } from '../workers/engine/backend.js';
import { fastOps } from '../workers/engine/kernels/index.js';
import { trainRun } from '../workers/engine/train.js';
import { easyClassification } from './support/engine-fixtures.js';

const DIR = join(import.meta.dirname, '..', 'examples', 'paper');
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const plan = (f: string) => planSweep(parseSweepText(readFileSync(join(DIR, f), 'utf8'))).runs;

beforeAll(async () => {
  await initBackend('wasm');
});

describe('examples/paper', () => {
  it('has the four figure packs and the initialisation sweep', () => {
    expect(files).toEqual([
      'higgs-full.yaml',
      'higgs-laptop.yaml',
      'init-depth50-laptop.yaml',
      'mnist-full.yaml',
      'mnist-laptop.yaml',
    ]);
  });

  for (const f of files.filter((x) => !x.startsWith('init-'))) {
    it(`${f}: every run uses init torch, and affine batch norm exactly where batch norm is on`, () => {
      const runs = plan(f);
      expect(runs.length).toBeGreaterThan(0);
      for (const r of runs) {
        expect(r.spec.init, activationLabel(r.spec)).toBe('torch');
        expect(r.spec.bnAffine, activationLabel(r.spec)).toBe(r.spec.batchNorm);
      }
      // the paper's families are all there, Bernstein with batch norm
      const labels = runs.map((r) => activationLabel(r.spec));
      expect(labels).toEqual(expect.arrayContaining(['Bern_{9,0.01}[-5,5]', 'ReLU', 'ReLU_res', 'SELU_BN']));
    });
  }

  it('init-depth50-laptop.yaml: ReLU, ReLU_res and Bern at depth 50, each under torch and he_normal', () => {
    const runs = plan('init-depth50-laptop.yaml');
    expect(runs.map((r) => `${activationLabel(r.spec)}|${r.spec.init}|${r.spec.depth}`)).toEqual([
      'ReLU|torch|50',
      'ReLU_res|torch|50',
      'Bern_{9,0.01}[-5,5]|torch|50',
      'ReLU|he_normal|50',
      'ReLU_res|he_normal|50',
      'Bern_{9,0.01}[-5,5]|he_normal|50',
    ]);
    for (const r of runs) expect(r.spec.bnAffine).toBe(r.spec.batchNorm);
  });

  it('every planned run of every file trains (shrunk: depth 2, width 8, one epoch) and records both dead readings', async () => {
    const ds = easyClassification(96, 32, 4, 'examples');
    const seen = new Set<string>();
    for (const f of files) {
      for (const r of plan(f)) {
        // One run per distinct variant (the full files repeat variants across seeds/sizes only).
        const key = JSON.stringify({
          ...r.spec,
          dataset: '',
          rows: 0,
          depth: 0,
          width: 0,
          epochs: 0,
          evalBatch: 0,
          testFraction: 0,
        });
        if (seen.has(key)) continue;
        seen.add(key);
        const spec = parseSpec({
          ...r.spec,
          dataset: ds.id,
          rows: undefined,
          depth: 2,
          width: 8,
          epochs: 1,
          batchSize: 32,
          evalBatch: 32,
        });
        let report: EpochReport | undefined;
        const res = await trainRun(spec, ds, { ops: fastOps, onEpoch: (e) => void (report = e) });
        expect(res.status, `${f}: ${activationLabel(spec)} ${res.error ?? ''}`).toBe('finished');
        expect(report!.metrics.dead_ratio_epoch).toEqual(expect.any(Number));
        expect(report!.metrics.dead_ratio).toEqual(expect.any(Number));
      }
    }
    expect(seen.size).toBeGreaterThanOrEqual(20);
  });
});
