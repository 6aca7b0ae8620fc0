// Approximation-rate lab, the fitting half: fit a 1-D target with one network, full batch on a uniform grid,
// Adam with a geometrically decaying learning rate (DESIGN §1.6: plain constant-lr Adam flattens the curve),
// and measure max |N − f| on the target's dense test grid. Own loop, not trainRun: thousands of full-batch
// steps need no per-step checkpoint or probe; the caller stores a few report points per fit.
import * as tf from '@tensorflow/tfjs-core';
import type { EpochMetric, LayerMetricRow } from '../../shared/metrics.js';
import { parseSpec, type NetworkSpec } from '../../shared/spec.js';
import { targetFunctionDataset } from '../data/target-functions.js';
import { DeepBernModel, disposeTargets, makeTargets } from '../engine/model.js';
import type { EngineOps } from '../engine/ops.js';
import { runProbes } from '../engine/probes.js';
import { saveState } from '../engine/state.js';
import { ScheduledAdam } from './scheduled-adam.js';

export interface FitOptions {
  target: string;
  activation: 'bernstein' | 'relu';
  depth: number;
  width: number;
  degree: number;
  eps: number;
  bounds: [number, number];
  /** Train grid points (full batch). */
  gridPoints: number;
  steps: number;
  /** Learning rate at step 1 and at the last step; geometric decay in between. */
  lr: number;
  lrFinal: number;
  /** How many report points (stored as the run's "epochs"). */
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
  maxErr: number;
}

export interface FitResult {
  spec: NetworkSpec;
  paramCount: number;
  maxErr: number;
  bestMaxErr: number;
  rmse: number;
  finalTrainMse: number;
  seconds: number;
  /** The trained weights (engine state format, so export-model works on the stored run). */
  state: Uint8Array;
}

/** The network spec a fit trains (also what its stored run records). */
export function fitSpec(o: Omit<FitOptions, 'ops'>): NetworkSpec {
  return parseSpec({
    dataset: o.target,
    rows: o.gridPoints,
    depth: o.depth,
    width: o.width,
    activation: o.activation,
    degree: o.degree,
    eps: o.eps,
    bounds: o.bounds,
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

function evalErrors(model: DeepBernModel, x: tf.Tensor2D, y: Float32Array): { maxErr: number; mse: number } {
  const out = tf.tidy(() => model.forwardEval(x));
  const v = out.dataSync();
  out.dispose();
  let maxErr = 0, se = 0;
  for (let i = 0; i < y.length; i++) {
    const d = Math.abs(v[i]! - y[i]!);
    if (!(d <= maxErr)) maxErr = d; // NaN propagates (a diverged fit must not look perfect)
    se += d * d;
  }
  return { maxErr, mse: se / y.length };
}

export async function fitTarget(o: FitOptions, onReport?: (r: FitReport) => void | Promise<void>): Promise<FitResult> {
  const spec = fitSpec(o);
  const ds = targetFunctionDataset(o.target, o.gridPoints);
  const dims = { inputDim: 1, outputDim: 1, task: 'regression' as const };
  const model = new DeepBernModel(spec, dims, o.ops);
  const params = model.trainables().map((p) => p.variable);
  const adam = new ScheduledAdam(params);
  const xTrain = tf.tensor2d(ds.xTrain, [ds.nTrain, 1]);
  const yTrain = makeTargets('regression', 1, ds.yTrain);
  const xTest = tf.tensor2d(ds.xTest, [ds.nTest, 1]);
  const t0 = performance.now();
  let bestMaxErr = Infinity, last = { maxErr: NaN, mse: NaN }, trainMse = NaN;
  const reportAt = new Set(Array.from({ length: o.reports }, (_, i) => Math.round(((i + 1) * o.steps) / o.reports)));
  let index = 0;
  try {
    for (let step = 1; step <= o.steps; step++) {
      let stats: ReturnType<DeepBernModel['forwardTrain']>['stats'] | undefined;
      const kept: tf.Tensor[] = [];
      const { value, grads } = tf.variableGrads(() => {
        const r = model.forwardTrain(xTrain);
        stats = r.stats;
        for (const s of r.stats.bn) if (s) kept.push(tf.keep(s.mean), tf.keep(s.variance));
        for (const s of r.stats.range) if (s) kept.push(tf.keep(s.min), tf.keep(s.max));
        return model.loss(r.out, yTrain);
      }, params);
      trainMse = value.dataSync()[0]!;
      if (Number.isFinite(trainMse)) {
        adam.apply(params.map((p) => grads[p.name]!), lrAt(o, step));
        if (stats) model.applyStats(stats);
      }
      value.dispose();
      for (const g of Object.values(grads)) g.dispose();
      for (const t of kept) t.dispose();
      if (!Number.isFinite(trainMse)) break;
      if (reportAt.has(step)) {
        last = evalErrors(model, xTest, ds.yTest);
        bestMaxErr = Math.min(bestMaxErr, last.maxErr);
        const probes = runProbes(model, xTrain, yTrain);
        index++;
        await onReport?.({
          index,
          step,
          maxErr: last.maxErr,
          layers: probes.layers,
          metrics: {
            train_loss: trainMse,
            test_loss: last.mse,
            max_abs_err: last.maxErr,
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
    const state = saveState({
      spec,
      dims,
      epoch: index,
      standardization: { mean: [0], std: [1] },
      optimizer: { kind: 'adam', step: adam.step },
      paramCount: model.paramCount(),
      tensors: model.exportTensors(),
    });
    return {
      spec,
      paramCount: model.paramCount(),
      maxErr: last.maxErr,
      bestMaxErr,
      rmse: Math.sqrt(last.mse),
      finalTrainMse: trainMse,
      seconds: (performance.now() - t0) / 1000,
      state,
    };
  } finally {
    xTrain.dispose();
    xTest.dispose();
    disposeTargets(yTrain);
    adam.dispose();
    model.dispose();
  }
}

/** Parameter count of a plain net with 1-D input/output: what `matchedReluWidth` equalises. */
export function mlpParamCount(o: { activation: 'bernstein' | 'relu'; depth: number; width: number; degree: number }): number {
  const W = o.width;
  const perUnitAct = o.activation === 'bernstein' ? o.degree + 1 : 0; // a and θ_1..θ_n per unit
  return 2 * W + W * perUnitAct + (o.depth - 1) * (W * W + W + W * perUnitAct) + W + 1;
}

/** The ReLU width (same depth) whose parameter count is closest to the Bernstein net's. */
export function matchedReluWidth(depth: number, bernParams: number): number {
  let best = 1, bestGap = Infinity;
  for (let w = 1; w <= 4096; w++) {
    const gap = Math.abs(mlpParamCount({ activation: 'relu', depth, width: w, degree: 0 }) - bernParams);
    if (gap < bestGap) [best, bestGap] = [w, gap];
    else if (gap > bestGap && w > best + 2) break;
  }
  return best;
}
