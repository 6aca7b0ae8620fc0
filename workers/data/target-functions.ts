// 1-D targets for the approximation-rate lab (error vs depth and degree, DESIGN §1.5/§1.6), on x ∈ [−1, 1].
// The table and the grid rules live in shared/approx-targets.ts (the renderer shows the formulas). Here:
//  - `targetFunctionDataset`: the regression Dataset ordinary runs train on (`dataset: fn:…`): the uniform
//    train grid and the dense test grid; seed and testFraction not used. x is kept raw (identity
//    standardisation: [−1,1] is already centred and O(1)); targets are never standardised.
//  - `labGrids`: what a lab fit gets: train and validation grids, and the test grid sealed behind one
//    counted `read()` so the lab can prove it is read only after the fit and its checkpoint choice are fixed.
import { DatasetError } from './errors.js';
import { assembleDataset } from './split.js';
import type { Dataset } from './types.js';
import {
  FN_DEFAULT_TRAIN_ROWS,
  findTargetFunction,
  TARGET_FUNCTIONS,
  testGridSize,
  uniformGrid,
  validationGrid,
  type Grid,
  type TargetFunction,
} from '../../shared/approx-targets.js';

export { FN_DEFAULT_TRAIN_ROWS, findTargetFunction, TARGET_FUNCTIONS, type TargetFunction };

function target(id: string, rows: number): TargetFunction {
  const t = findTargetFunction(id);
  if (!t)
    throw new DatasetError(
      `unknown target function "${id}" (allowed: ${TARGET_FUNCTIONS.map((f) => f.id).join(', ')})`,
    );
  if (!Number.isInteger(rows) || rows < 2)
    throw new DatasetError(`rows must be an integer ≥ 2 for ${id} (got ${rows})`);
  return t;
}

/** The regression Dataset for a target function (see the grid semantics in shared/approx-targets.ts). */
export function targetFunctionDataset(id: string, rows: number = FN_DEFAULT_TRAIN_ROWS): Dataset {
  const t = target(id, rows);
  const nTest = testGridSize(rows);
  return assembleDataset(
    { id, source: `${id} = ${t.formula} on [−1,1]: ${rows}-point uniform train grid, ${nTest}-point test grid` },
    { task: 'regression', inputDim: 1, outputDim: 1 },
    uniformGrid(rows, t.f),
    uniformGrid(nTest, t.f),
    'none',
  );
}

/** The dense test grid, readable only through `read()`, which counts (and reports) every access. */
export class SealedTestGrid {
  private grid: Grid | null = null;
  private count = 0;

  constructor(
    readonly target: string,
    readonly points: number,
    private readonly make: () => Grid,
    private readonly onRead?: (g: SealedTestGrid) => void,
  ) {}

  /** How many times the grid was read. */
  get reads(): number {
    return this.count;
  }

  read(): Grid {
    this.count++;
    this.onRead?.(this);
    this.grid ??= this.make();
    return this.grid;
  }
}

export interface LabGrids {
  train: Grid;
  validation: Grid;
  test: SealedTestGrid;
}

/** Train, validation (disjoint from both others) and sealed test grids for one lab fit. */
export function labGrids(id: string, rows: number, onTestRead?: (g: SealedTestGrid) => void): LabGrids {
  const t = target(id, rows);
  const nTest = testGridSize(rows);
  const train = uniformGrid(rows, t.f);
  // The validation grid must avoid the test grid's points, so build that grid's x here (values only; the
  // sealed grid rebuilds x and y on its first read).
  const testX = uniformGrid(nTest, () => 0).x;
  return {
    train,
    validation: validationGrid(rows, t.f, [train.x, testX]),
    test: new SealedTestGrid(id, nTest, () => uniformGrid(nTest, t.f), onTestRead),
  };
}
