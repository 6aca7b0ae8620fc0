import { describe, expect, it } from 'vitest';
import { DatasetError } from '../workers/data/errors.js';
import { featureStats, splitCounts, splitTable } from '../workers/data/split.js';
import type { RawTable } from '../workers/data/types.js';

/** 10 rows × 2 features: feature 0 = row index, feature 1 constant; label = row index (regression). */
function table(rows = 10): RawTable {
  const x = new Float32Array(rows * 2);
  const y = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    x[2 * r] = r;
    x[2 * r + 1] = 7;
    y[r] = r * 10;
  }
  return { task: 'regression', inputDim: 2, outputDim: 1, rows, x, y };
}

describe('split and standardise', () => {
  it('counts: round(rows·testFraction), at least one row each side', () => {
    expect(splitCounts(100, 0.2)).toEqual({ nTrain: 80, nTest: 20 });
    expect(splitCounts(3, 0.01)).toEqual({ nTrain: 2, nTest: 1 });
    expect(splitCounts(3, 0.99)).toEqual({ nTrain: 1, nTest: 2 });
    expect(() => splitCounts(100, 0)).toThrow(DatasetError);
    expect(() => splitCounts(1, 0.2)).toThrow(/at least 2 rows/);
  });

  it('uses train-split statistics only, guards zero std, leaves targets alone', () => {
    const ds = splitTable(table(10), { id: 't', source: 's', testFraction: 0.3, seed: 5 });
    expect(ds.nTrain).toBe(7);
    expect(ds.nTest).toBe(3);
    // Recover the raw train rows from the (unstandardised) targets y = 10·row.
    const trainRows = Array.from(ds.yTrain, (v) => v / 10);
    const testRows = Array.from(ds.yTest, (v) => v / 10);
    expect([...trainRows, ...testRows].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const mean = trainRows.reduce((a, b) => a + b, 0) / trainRows.length;
    const std = Math.sqrt(trainRows.reduce((a, b) => a + (b - mean) ** 2, 0) / trainRows.length);
    expect(ds.standardization.mean[0]).toBeCloseTo(mean, 5);
    expect(ds.standardization.std[0]).toBeCloseTo(std, 5);
    // The mean over all 10 rows is 4.5; the train mean must differ for this seed, or the test proves nothing.
    expect(Math.abs(mean - 4.5)).toBeGreaterThan(0.05);
    expect(ds.standardization.std[1]).toBe(1); // constant feature: std 0 → 1
    for (let i = 0; i < ds.nTest; i++) {
      expect(ds.xTest[2 * i]).toBeCloseTo((testRows[i] - mean) / std, 5);
      expect(ds.xTest[2 * i + 1]).toBe(0);
    }
  });

  it('is reproducible by seed and changes with it', () => {
    const a = splitTable(table(50), { id: 't', source: 's', testFraction: 0.2, seed: 1 });
    const b = splitTable(table(50), { id: 't', source: 's', testFraction: 0.2, seed: 1 });
    const c = splitTable(table(50), { id: 't', source: 's', testFraction: 0.2, seed: 2 });
    expect(Array.from(a.yTest)).toEqual(Array.from(b.yTest));
    expect(Array.from(a.yTest)).not.toEqual(Array.from(c.yTest));
  });

  it('global mode shares one mean/std over all features', () => {
    const s = featureStats(Float32Array.from([0, 2, 4, 6]), 2, 2, 'global');
    expect(Array.from(s.mean)).toEqual([3, 3]);
    expect(s.std[0]).toBeCloseTo(Math.sqrt(5), 5);
  });
});
