// Approximation-rate lab, the fitting half: fit a 1-D target with one network, full batch on a uniform grid,
// Adam with a geometrically decaying learning rate (DESIGN §1.6: plain constant-lr Adam flattens the curve).
// Own loop, not trainRun: thousands of full-batch steps need no per-step checkpoint or probe; the caller
// stores a few report points per fit.
//
// No selection on the test grid: `fitTarget` is given only the train and validation grids (LabGrids minus
// the test grid). At each report point it measures max |N − f| on the validation grid and keeps a snapshot
// of the best one; after the last step the choice is fixed, and only then does `scoreOnTestGrid` read the
// sealed test grid — once — to score the final and the selected weights.
import * as tf from '@tensorflow/tfjs-core';
import type { EpochMetric, LayerMetricRow } from '../../shared/metrics.js';
import { parseSpec, SPEC_FIELDS, type NetworkSpec } from '../../shared/spec.js';
import type { Grid } from '../../shared/approx-targets.js';
import type { SealedTestGrid } from '../data/target-functions.js';
import { DeepBernModel, disposeTargets, makeTargets } from '../engine/model.js';
import type { EngineOps } from '../engine/ops.js';
import { runProbes } from '../engine/probes.js';
import type { ModelDims, NamedArray } from '../engine/state.js';
import { saveState } from '../engine/state.js';
import type { TrainerOptimizer } from '../engine/optimizer.js';
import { trainStep } from '../engine/train.js';
import { ScheduledAdam } from './scheduled-adam.js';

/** The lab's Adam as the trainer's optimiser: step t (1-based) uses lr(t). A fit is never resumed: no slots. */
function scheduled(adam: ScheduledAdam, lr: (step: number) => number): TrainerOptimizer {
  return {
    get step() {
      return adam.step;
    },
    apply: (grads) => adam.apply(grads, lr(adam.step + 1)),
    exportSlots: () => [],
    importSlots: () => undefined,
    dispose: () => undefined, // the fit disposes its Adam itself
  };
}

/**
 * Batch norm in a lab Bernstein net: `affine` (learnable γ, β: PyTorch's BatchNorm1d default) or `none`.
 * Non-affine batch norm is not offered: on a 1-D input every first-layer unit becomes ±x̂ (the standardised
 * input), so all first-layer Bernstein units see the same input and depth 1 is a single degree-n polynomial.
 */
export const LAB_BN_MODES = ['affine', 'none'] as const;
export type LabBatchNorm = (typeof LAB_BN_MODES)[number];

/** Whether the engine's spec knows affine batch norm yet (the field lands with the init-bn work). */
export const ENGINE_HAS_AFFINE_BN = (SPEC_FIELDS as readonly string[]).includes('bnAffine');

export interface FitOptions {
  target: string;
  activation: 'bernstein' | 'relu';
  depth: number;
  width: number;
  degree: number;
  eps: number;
  bounds: [number, number];
  /** Bernstein nets only (the ReLU baseline is plain: no batch norm, no skips). */
  bn: LabBatchNorm;
  /** Train grid points (full batch). */
  gridPoints: number;
  steps: number;
  /** Learning rate at step 1 and at the last step; geometric decay in between. */
  lr: number;
  lrFinal: number;
  /** How many report points (stored as the run's "epochs"); the validation grid is measured at each. */
  reports: number;
  seed: number;
  ops: EngineOps;
}

export interface FitReport {
  /** 1-based report index (the stored epoch). */
  index: number;
  step: number;
  metrics: Partial<Record<EpochMetric, number>>;
  layers: LayerMetricRow[];
  valMaxErr: number;
}

/** A set of weights the fit produced: the final ones or the validation-selected checkpoint. */
export interface FitCheckpoint {
  /** 1-based report index (0: no report point was reached). */
  index: number;
  step: number;
  valMaxErr: number;
  /** Clipped fraction of Bernstein pre-activations at that report (undefined for ReLU). */
  clippedFrac?: number;
  tensors: NamedArray[];
}

export interface FitOutcome {
  spec: NetworkSpec;
  dims: ModelDims;
  paramCount: number;
  finalTrainMse: number;
  seconds: number;
  adamSteps: number;
  final: FitCheckpoint;
  /** The report point with the smallest validation max error (ties: the earlier one). */
  selected: FitCheckpoint;
}

export interface TestScore {
  maxErr: number;
  rmse: number;
}

/** The network spec a fit trains (also what its stored run records). */
export function fitSpec(o: Omit<FitOptions, 'ops'>): NetworkSpec {
  const bern = o.activation === 'bernstein';
  const affine = bern && o.bn === 'affine';
  if (affine && !ENGINE_HAS_AFFINE_BN)
    throw new Error(
      "bn: affine needs the engine's affine batch norm (spec field bnAffine), which this build lacks; use bn: none",
    );
  return parseSpec({
    dataset: o.target,
    rows: o.gridPoints,
    depth: o.depth,
    width: o.width,
    activation: o.activation,
    degree: o.degree,
    eps: o.eps,
    bounds: o.bounds,
    batchNorm: bern && o.bn !== 'none',
    ...(affine ? { bnAffine: true } : {}),
    batchSize: o.gridPoints,
    epochs: o.reports,
    lr: o.lr,
    seed: o.seed,
    evalBatch: o.gridPoints,
  });
}

/** Fraction of the steps at the initial lr before the decay starts (a pure decay leaves too few fast steps). */
export const LR_HOLD = 0.25;

/** lr at a 1-based step: held for the first LR_HOLD of the steps, then geometric decay to lrFinal. */
export function lrAt(o: Pick<FitOptions, 'lr' | 'lrFinal' | 'steps'>, step: number): number {
  const hold = Math.floor(o.steps * LR_HOLD);
  if (step <= hold || o.steps - hold <= 1) return o.lr;
  return o.lr * (o.lrFinal / o.lr) ** ((step - hold - 1) / (o.steps - hold - 1));
}

function evalErrors(model: DeepBernModel, g: Grid): { maxErr: number; mse: number } {
  const out = tf.tidy(() => model.forwardEval(tf.tensor2d(g.x, [g.x.length, 1])));
  const v = out.dataSync();
  out.dispose();
  let maxErr = 0,
    se = 0;
  for (let i = 0; i < g.y.length; i++) {
    const d = Math.abs(v[i]! - g.y[i]!);
    if (!(d <= maxErr)) maxErr = d; // NaN propagates (a diverged fit must not look perfect)
    se += d * d;
  }
  return { maxErr, mse: se / g.y.length };
}

const DIMS: ModelDims = { inputDim: 1, outputDim: 1, task: 'regression' };

/** Trains one net on `grids.train`, selecting on `grids.validation`; it has no way to reach the test grid. */
export async function fitTarget(
  o: FitOptions,
  grids: { train: Grid; validation: Grid },
  onReport?: (r: FitReport) => void | Promise<void>,
): Promise<FitOutcome> {
  const spec = fitSpec(o);
  const model = new DeepBernModel(spec, DIMS, o.ops);
  const adam = new ScheduledAdam(model.trainables().map((p) => p.variable));
  const n = grids.train.x.length;
  const xTrain = tf.tensor2d(grids.train.x, [n, 1]);
  const yTrain = makeTargets('regression', 1, grids.train.y);
  const t0 = performance.now();
  let trainMse = NaN;
  let selected: FitCheckpoint | null = null;
  let lastReport: Omit<FitCheckpoint, 'tensors'> = { index: 0, step: 0, valMaxErr: NaN };
  const reportAt = new Set(Array.from({ length: o.reports }, (_, i) => Math.round(((i + 1) * o.steps) / o.reports)));
  let index = 0;
  try {
    for (let step = 1; step <= o.steps; step++) {
      // The engine's training step (forward, backward, update, batch-norm buffers), with the lab's scheduled lr.
      trainMse = trainStep(
        model,
        scheduled(adam, (s) => lrAt(o, s)),
        xTrain,
        yTrain,
      ).loss;
      if (!Number.isFinite(trainMse)) break;
      if (reportAt.has(step)) {
        const val = evalErrors(model, grids.validation);
        const probes = runProbes(model, xTrain, yTrain);
        index++;
        lastReport = {
          index,
          step,
          valMaxErr: val.maxErr,
          ...(probes.clipped_frac !== undefined ? { clippedFrac: probes.clipped_frac } : {}),
        };
        if (Number.isFinite(val.maxErr) && (!selected || val.maxErr < selected.valMaxErr))
          selected = { ...lastReport, tensors: model.exportTensors() };
        await onReport?.({
          index,
          step,
          valMaxErr: val.maxErr,
          layers: probes.layers,
          metrics: {
            train_loss: trainMse,
            val_max_err: val.maxErr,
            lr: lrAt(o, step),
            mag1: probes.mag1,
            dead_ratio: probes.dead_ratio,
            ...(probes.clipped_frac !== undefined ? { clipped_frac: probes.clipped_frac } : {}),
            epoch_time_s: (performance.now() - t0) / 1000,
          },
        });
        await new Promise<void>((r) => setImmediate(r));
      }
    }
    const final: FitCheckpoint = { ...lastReport, tensors: model.exportTensors() };
    return {
      spec,
      dims: DIMS,
      paramCount: model.paramCount(),
      finalTrainMse: trainMse,
      seconds: (performance.now() - t0) / 1000,
      adamSteps: adam.step,
      final,
      selected: selected ?? final,
    };
  } finally {
    xTrain.dispose();
    disposeTargets(yTrain);
    adam.dispose();
    model.dispose();
  }
}

/**
 * Scores checkpoints of a finished fit on the test grid: one `read()` for all of them. Call it only after
 * the selection is fixed (the lab does, and test/approx-lab.test.ts checks the order of reads).
 */
export function scoreOnTestGrid(
  fit: Pick<FitOutcome, 'spec' | 'dims'>,
  ops: EngineOps,
  checkpoints: FitCheckpoint[],
  grid: SealedTestGrid,
): TestScore[] {
  const g = grid.read();
  const model = new DeepBernModel(fit.spec, fit.dims, ops);
  try {
    return checkpoints.map((c) => {
      model.importTensors(new Map(c.tensors.map((t) => [t.name, t])));
      const e = evalErrors(model, g);
      return { maxErr: e.maxErr, rmse: Math.sqrt(e.mse) };
    });
  } finally {
    model.dispose();
  }
}

/** The engine state file of a checkpoint (so export-model and predict work on the stored run). */
export function checkpointState(fit: FitOutcome, c: FitCheckpoint): Uint8Array {
  return saveState({
    spec: fit.spec,
    dims: fit.dims,
    epoch: c.index,
    standardization: { mean: [0], std: [1] },
    optimizer: { kind: 'adam', step: fit.adamSteps },
    paramCount: fit.paramCount,
    tensors: c.tensors,
  });
}

/** Parameter count of a plain net with 1-D input/output: what `matchedReluWidth` equalises. */
export function mlpParamCount(o: {
  activation: 'bernstein' | 'relu';
  depth: number;
  width: number;
  degree: number;
  bnAffine?: boolean;
}): number {
  const W = o.width;
  const perUnitAct = o.activation === 'bernstein' ? o.degree + 1 : 0; // a and θ_1..θ_n per unit
  const perUnitBn = o.bnAffine ? 2 : 0; // γ and β per unit
  return 2 * W + W * (perUnitAct + perUnitBn) + (o.depth - 1) * (W * W + W + W * (perUnitAct + perUnitBn)) + W + 1;
}

/** The ReLU width (same depth) whose parameter count is closest to the Bernstein net's. */
export function matchedReluWidth(depth: number, bernParams: number): number {
  let best = 1,
    bestGap = Infinity;
  for (let w = 1; w <= 4096; w++) {
    const gap = Math.abs(mlpParamCount({ activation: 'relu', depth, width: w, degree: 0 }) - bernParams);
    if (gap < bestGap) [best, bestGap] = [w, gap];
    else if (gap > bestGap && w > best + 2) break;
  }
  return best;
}
