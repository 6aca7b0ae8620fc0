// Seeded shuffle, train/test split and standardisation with train-split statistics only, so nothing about
// the test rows leaks into training (and `predict` can apply the same mean/std to new raw rows).
import { DatasetError } from './errors.js';
import { makeRng, permutation } from './rng.js';
import type { Dataset, RawTable } from './types.js';

export interface Standardization {
  mean: Float32Array;
  std: Float32Array;
}

/**
 * How features are standardised: per feature (tabular sets), one global mean/std shared by all features
 * (images: per-pixel stats blow up near-constant border pixels), or not at all (identity mean 0 / std 1).
 */
export type StandardizeMode = 'per-feature' | 'global' | 'none';

/** Below this a feature is treated as constant: dividing by ~0 would turn float noise into huge inputs. */
const MIN_STD = 1e-12;

export function assertTestFraction(testFraction: number): void {
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new DatasetError(`testFraction must be a number > 0 and < 1 (got ${testFraction})`);
  }
}

/** nTest = round(rows · testFraction), but at least one row on each side. */
export function splitCounts(rows: number, testFraction: number): { nTrain: number; nTest: number } {
  assertTestFraction(testFraction);
  if (!Number.isInteger(rows) || rows < 2) throw new DatasetError(`a split needs at least 2 rows (got ${rows})`);
  const nTest = Math.min(rows - 1, Math.max(1, Math.round(rows * testFraction)));
  return { nTrain: rows - nTest, nTest };
}

/** Mean/std (population) of each feature over `rows` rows; zero std is replaced by 1. */
export function featureStats(
  x: Float32Array,
  rows: number,
  dim: number,
  mode: StandardizeMode = 'per-feature',
): Standardization {
  const mean = new Float32Array(dim);
  const std = new Float32Array(dim).fill(1);
  if (mode === 'none' || rows === 0) return { mean, std };
  // Float64 accumulators and two passes: float32 sums over millions of rows lose the low digits.
  const sum = new Float64Array(dim);
  for (let r = 0, o = 0; r < rows; r++) for (let j = 0; j < dim; j++, o++) sum[j] += x[o];
  const m = new Float64Array(dim);
  if (mode === 'global') m.fill(sum.reduce((a, b) => a + b, 0) / (rows * dim));
  else for (let j = 0; j < dim; j++) m[j] = sum[j] / rows;
  const sq = new Float64Array(dim);
  for (let r = 0, o = 0; r < rows; r++) {
    for (let j = 0; j < dim; j++, o++) {
      const d = x[o] - m[j];
      sq[j] += d * d;
    }
  }
  if (mode === 'global') {
    const s = Math.sqrt(sq.reduce((a, b) => a + b, 0) / (rows * dim));
    mean.fill(m[0]);
    std.fill(s > MIN_STD ? s : 1);
  } else {
    for (let j = 0; j < dim; j++) {
      const s = Math.sqrt(sq[j] / rows);
      mean[j] = m[j];
      std[j] = s > MIN_STD ? s : 1;
    }
  }
  return { mean, std };
}

/** x ← (x − mean) / std, row-major [rows × dim]. */
export function standardizeInPlace(x: Float32Array, dim: number, s: Standardization): void {
  const inv = s.std.map((v) => 1 / v);
  for (let o = 0; o < x.length; o += dim) for (let j = 0; j < dim; j++) x[o + j] = (x[o + j] - s.mean[j]) * inv[j];
}

/** Copy the rows `order[from..to)` of a row-major table into a new array. */
export function gatherRows(
  x: Float32Array,
  dim: number,
  order: ArrayLike<number>,
  from: number,
  to: number,
): Float32Array {
  const out = new Float32Array((to - from) * dim);
  for (let i = from; i < to; i++) {
    const src = order[i] * dim;
    out.set(x.subarray(src, src + dim), (i - from) * dim);
  }
  return out;
}

export function gatherValues(y: Float32Array, order: ArrayLike<number>, from: number, to: number): Float32Array {
  const out = new Float32Array(to - from);
  for (let i = from; i < to; i++) out[i - from] = y[order[i]];
  return out;
}

/** Everything a Dataset needs besides the arrays. */
export interface DatasetInfo {
  id: string;
  source: string;
  labels?: string[];
}

/** Standardise prepared train/test arrays with the train stats and wrap them as a Dataset. */
export function assembleDataset(
  info: DatasetInfo,
  t: Pick<RawTable, 'task' | 'inputDim' | 'outputDim'>,
  train: { x: Float32Array; y: Float32Array },
  test: { x: Float32Array; y: Float32Array },
  mode: StandardizeMode,
): Dataset {
  const d = t.inputDim;
  const nTrain = train.y.length;
  const standardization = featureStats(train.x, nTrain, d, mode);
  if (mode !== 'none') {
    standardizeInPlace(train.x, d, standardization);
    standardizeInPlace(test.x, d, standardization);
  }
  return {
    id: info.id,
    task: t.task,
    inputDim: d,
    outputDim: t.outputDim,
    xTrain: train.x,
    yTrain: train.y,
    nTrain,
    xTest: test.x,
    yTest: test.y,
    nTest: test.y.length,
    standardization,
    source: info.source,
    ...(info.labels ? { labels: info.labels } : {}),
  };
}

/**
 * Seeded shuffle of all rows, then the first nTest shuffled rows are the test split and the rest train;
 * features standardised with the train split's statistics. Targets are never standardised.
 */
export function splitTable(
  table: RawTable,
  opts: { testFraction: number; seed: number; mode?: StandardizeMode } & DatasetInfo,
): Dataset {
  const { nTest } = splitCounts(table.rows, opts.testFraction);
  const order = permutation(table.rows, makeRng(opts.seed, 'split'));
  const d = table.inputDim;
  const test = { x: gatherRows(table.x, d, order, 0, nTest), y: gatherValues(table.y, order, 0, nTest) };
  const train = {
    x: gatherRows(table.x, d, order, nTest, table.rows),
    y: gatherValues(table.y, order, nTest, table.rows),
  };
  const labels = opts.labels ?? table.labels;
  return assembleDataset(
    { id: opts.id, source: opts.source, ...(labels ? { labels } : {}) },
    table,
    train,
    test,
    opts.mode ?? 'per-feature',
  );
}
