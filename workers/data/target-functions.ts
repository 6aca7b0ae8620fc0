// 1-D targets for the approximation-rate lab (error vs depth and degree, DESIGN §1.5/§1.6), on x ∈ [−1, 1].
// Grids, not random points (ours): training is full-batch on a uniform grid (DESIGN §1.6 advice), and the
// test set is a fixed dense grid so ‖N − f‖∞ estimates compare across runs whatever `rows` was.
//  - train: `rows` points (default 1000), x_i = −1 + 2i/(rows − 1), endpoints included; seed not used.
//  - test: max(2001, 4·rows + 1) points (at most 200001) on the same interval; testFraction not used.
// x is kept raw (identity standardisation: [−1,1] is already centred and O(1), and plots stay in the
// function's own coordinates); targets are never standardised.
import { DatasetError } from './errors.js';
import { assembleDataset } from './split.js';
import type { Dataset } from './types.js';

export interface TargetFunction {
  id: string;
  title: string;
  formula: string;
  f: (x: number) => number;
}

export const TARGET_FUNCTIONS: readonly TargetFunction[] = [
  { id: 'fn:smooth', title: 'Smooth', formula: 'exp(sin(πx))', f: (x) => Math.exp(Math.sin(Math.PI * x)) },
  { id: 'fn:osc', title: 'Oscillating', formula: 'sin(8πx)·exp(−x²)', f: (x) => Math.sin(8 * Math.PI * x) * Math.exp(-x * x) },
  { id: 'fn:kink', title: 'Kink', formula: '|x|', f: (x) => Math.abs(x) },
  { id: 'fn:runge', title: 'Runge', formula: '1/(1+25x²)', f: (x) => 1 / (1 + 25 * x * x) },
];

export const FN_DEFAULT_TRAIN_ROWS = 1000;
const FN_MIN_TEST_ROWS = 2001;
const FN_MAX_TEST_ROWS = 200_001;

export function findTargetFunction(id: string): TargetFunction | undefined {
  return TARGET_FUNCTIONS.find((t) => t.id === id);
}

function grid(n: number, f: (x: number) => number): { x: Float32Array; y: Float32Array } {
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = -1 + (2 * i) / (n - 1);
    x[i] = v;
    y[i] = f(v);
  }
  return { x, y };
}

/** The regression Dataset for a target function (see the grid semantics above). */
export function targetFunctionDataset(id: string, rows: number = FN_DEFAULT_TRAIN_ROWS): Dataset {
  const t = findTargetFunction(id);
  if (!t) throw new DatasetError(`unknown target function "${id}" (allowed: ${TARGET_FUNCTIONS.map((f) => f.id).join(', ')})`);
  if (!Number.isInteger(rows) || rows < 2) throw new DatasetError(`rows must be an integer ≥ 2 for ${id} (got ${rows})`);
  const nTest = Math.min(FN_MAX_TEST_ROWS, Math.max(FN_MIN_TEST_ROWS, 4 * rows + 1));
  return assembleDataset(
    { id, source: `${id} = ${t.formula} on [−1,1]: ${rows}-point uniform train grid, ${nTest}-point test grid` },
    { task: 'regression', inputDim: 1, outputDim: 1 },
    grid(rows, t.f),
    grid(nTest, t.f),
    'none',
  );
}
