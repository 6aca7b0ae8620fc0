// The approximation lab's 1-D targets on x ∈ [−1, 1] (DESIGN §1.5/§1.6) and the three grids a lab fit uses.
// Pure TS so the renderer can show each target's formula and the floor computation can evaluate f.
//
// Grids (ours):
//  - train: `rows` points, x_i = −1 + 2i/(rows − 1), endpoints included (full-batch training, DESIGN §1.6).
//  - test: max(2001, 4·rows + 1) points (at most 200001), uniform with endpoints: the dense grid ‖N − f‖∞ is
//    measured on, read once after training (see workers/approx/fit.ts).
//  - validation: `rows` points x_i = −1 + 2(i + φ)/rows with φ = (√5 − 1)/2 (a golden-ratio offset), so no
//    validation point lies on the (rational) train or test grids; any float32 collision is dropped anyway,
//    making the three grids disjoint by construction. Checkpoint selection reads only this grid.

export interface TargetFunction {
  id: string;
  title: string;
  /** Plain-text formula, as the UI and reports print it. */
  formula: string;
  /** Smooth (analytic on [−1,1]) targets are the fair Bern-vs-ReLU comparison; ReLU nets represent |x| exactly. */
  smooth: boolean;
  f: (x: number) => number;
}

export const TARGET_FUNCTIONS: readonly TargetFunction[] = [
  {
    id: 'fn:smooth',
    title: 'Smooth',
    formula: 'exp(sin(πx))',
    smooth: true,
    f: (x) => Math.exp(Math.sin(Math.PI * x)),
  },
  {
    id: 'fn:osc',
    title: 'Oscillating',
    formula: 'sin(8πx)·exp(−x²)',
    smooth: true,
    f: (x) => Math.sin(8 * Math.PI * x) * Math.exp(-x * x),
  },
  { id: 'fn:kink', title: 'Kink', formula: '|x|', smooth: false, f: (x) => Math.abs(x) },
  { id: 'fn:runge', title: 'Runge', formula: '1/(1+25x²)', smooth: true, f: (x) => 1 / (1 + 25 * x * x) },
  {
    id: 'fn:sinexp',
    title: 'Sine × exp',
    formula: 'sin(2πx)·eˣ',
    smooth: true,
    f: (x) => Math.sin(2 * Math.PI * x) * Math.exp(x),
  },
];

export function findTargetFunction(id: string): TargetFunction | undefined {
  return TARGET_FUNCTIONS.find((t) => t.id === id);
}

export const FN_DEFAULT_TRAIN_ROWS = 1000;
export const FN_MIN_TEST_ROWS = 2001;
export const FN_MAX_TEST_ROWS = 200_001;

/** Test-grid size for a train grid of `rows` points. */
export function testGridSize(rows: number): number {
  return Math.min(FN_MAX_TEST_ROWS, Math.max(FN_MIN_TEST_ROWS, 4 * rows + 1));
}

export interface Grid {
  x: Float32Array;
  y: Float32Array;
}

/** n uniform points on [−1, 1], endpoints included. */
export function uniformGrid(n: number, f: (x: number) => number): Grid {
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = -1 + (2 * i) / (n - 1);
    x[i] = v;
    y[i] = f(v);
  }
  return { x, y };
}

const GOLDEN_OFFSET = (Math.sqrt(5) - 1) / 2;

/** The validation grid (see the header): disjoint, as float32 values, from every grid in `avoid`. */
export function validationGrid(n: number, f: (x: number) => number, avoid: readonly Float32Array[]): Grid {
  const taken = new Set<number>();
  for (const a of avoid) for (const v of a) taken.add(v);
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = Math.fround(-1 + (2 * (i + GOLDEN_OFFSET)) / n);
    if (!taken.has(v)) xs.push(v);
  }
  const x = Float32Array.from(xs);
  return { x, y: Float32Array.from(xs, (v) => f(v)) };
}
