import { describe, expect, it } from 'vitest';
import { loadDataset } from '../workers/data/registry.js';
import { syntheticHiggsLogit, syntheticHiggsTable } from '../workers/data/synthetic.js';
import { TARGET_FUNCTIONS } from '../workers/data/target-functions.js';
import type { Dataset } from '../workers/data/types.js';

/** Full-batch Adam logistic regression; returns test accuracy. */
function logisticRegressionAccuracy(ds: Dataset, steps = 150): number {
  const d = ds.inputDim;
  const w = new Float64Array(d + 1);
  const m = new Float64Array(d + 1);
  const v = new Float64Array(d + 1);
  const logit = (x: Float32Array, o: number) => {
    let s = w[d];
    for (let j = 0; j < d; j++) s += w[j] * x[o + j];
    return s;
  };
  for (let t = 1; t <= steps; t++) {
    const g = new Float64Array(d + 1);
    for (let i = 0; i < ds.nTrain; i++) {
      const o = i * d;
      const e = 1 / (1 + Math.exp(-logit(ds.xTrain, o))) - ds.yTrain[i];
      for (let j = 0; j < d; j++) g[j] += e * ds.xTrain[o + j];
      g[d] += e;
    }
    for (let j = 0; j <= d; j++) {
      const gj = g[j] / ds.nTrain;
      m[j] = 0.9 * m[j] + 0.1 * gj;
      v[j] = 0.999 * v[j] + 0.001 * gj * gj;
      w[j] -= (0.05 * (m[j] / (1 - 0.9 ** t))) / (Math.sqrt(v[j] / (1 - 0.999 ** t)) + 1e-8);
    }
  }
  let right = 0;
  for (let i = 0; i < ds.nTest; i++) right += (logit(ds.xTest, i * d) > 0 ? 1 : 0) === ds.yTest[i] ? 1 : 0;
  return right / ds.nTest;
}

describe('synthetic-higgs', () => {
  it('is reproducible by seed; n rows are a prefix of more rows; seeds differ', () => {
    const a = syntheticHiggsTable(500, 11);
    const b = syntheticHiggsTable(500, 11);
    const longer = syntheticHiggsTable(800, 11);
    const other = syntheticHiggsTable(500, 12);
    expect(Array.from(a.x)).toEqual(Array.from(b.x));
    expect(Array.from(a.y)).toEqual(Array.from(b.y));
    expect(Array.from(longer.x.subarray(0, a.x.length))).toEqual(Array.from(a.x));
    expect(Array.from(other.x)).not.toEqual(Array.from(a.x));
    expect(a.x.every(Number.isFinite)).toBe(true);
  });

  it('has HIGGS shape, balanced classes, standardised train features', async () => {
    const ds = await loadDataset({ id: 'synthetic-higgs', testFraction: 0.2, seed: 1 });
    expect([ds.nTrain, ds.nTest, ds.inputDim, ds.outputDim]).toEqual([16000, 4000, 28, 2]);
    const pos = ds.yTrain.reduce((a, b) => a + b, 0) / ds.nTrain;
    expect(pos).toBeGreaterThan(0.35);
    expect(pos).toBeLessThan(0.65);
    for (let j = 0; j < 28; j++) {
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < ds.nTrain; i++) {
        const v = ds.xTrain[i * 28 + j];
        s += v;
        s2 += v * v;
      }
      expect(Math.abs(s / ds.nTrain)).toBeLessThan(1e-3);
      expect(Math.sqrt(s2 / ds.nTrain)).toBeCloseTo(1, 2);
    }
  });

  it('is learnable but not linearly: logistic regression well above chance, well below the Bayes rate', async () => {
    const ds = await loadDataset({ id: 'synthetic-higgs', rows: 10000, testFraction: 0.25, seed: 2 });
    const lr = logisticRegressionAccuracy(ds);
    // Bayes rate of the teacher on the same (raw) rows: E[max(p, 1 − p)].
    const raw = syntheticHiggsTable(10000, 2);
    const f = new Float64Array(28);
    let bayes = 0;
    for (let r = 0; r < raw.rows; r++) {
      for (let j = 0; j < 28; j++) f[j] = raw.x[r * 28 + j];
      const p = 1 / (1 + Math.exp(-syntheticHiggsLogit(f)));
      bayes += Math.max(p, 1 - p);
    }
    bayes /= raw.rows;
    expect(lr).toBeGreaterThan(0.58);
    expect(lr).toBeLessThan(0.7);
    expect(bayes).toBeGreaterThan(0.76);
    expect(bayes - lr).toBeGreaterThan(0.08);
  });
});

describe('fn:* targets', () => {
  it('train on a uniform grid, test on a dense grid, raw x and targets', async () => {
    const ds = await loadDataset({ id: 'fn:runge', rows: 101, testFraction: 0.2, seed: 0 });
    expect([ds.nTrain, ds.nTest, ds.task, ds.inputDim, ds.outputDim]).toEqual([101, 2001, 'regression', 1, 1]);
    expect(ds.xTrain[0]).toBe(-1);
    expect(ds.xTrain[100]).toBe(1);
    expect(ds.xTrain[50]).toBe(0);
    expect(ds.yTrain[50]).toBe(1);
    expect(ds.yTest[0]).toBeCloseTo(1 / 26, 6);
    expect(Array.from(ds.standardization.std)).toEqual([1]);
    const kink = await loadDataset({ id: 'fn:kink', testFraction: 0.2, seed: 0 });
    expect(kink.nTrain).toBe(1000);
    expect(kink.nTest).toBe(4001);
    for (let i = 0; i < kink.nTest; i++) expect(kink.yTest[i]).toBeCloseTo(Math.abs(kink.xTest[i]), 6);
    expect(TARGET_FUNCTIONS.map((t) => t.id)).toEqual(['fn:smooth', 'fn:osc', 'fn:kink', 'fn:runge', 'fn:sinexp']);
    const smooth = TARGET_FUNCTIONS[0].f(0.5);
    expect(smooth).toBeCloseTo(Math.E, 10);
  });
});
