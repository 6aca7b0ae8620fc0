// The paper's dead-ratio reading (dead_ratio_epoch): per training batch, units with |σ'| < τ on every sample of
// the batch, averaged over the epoch's batches. Checked against a direct float64 recomputation: the same
// epoch is replayed step by step on a twin model, and before each step the batch's pre-activations are
// recomputed in plain JS from the twin's current parameters.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EpochReport } from '../shared/metrics.js';
import type { NetworkSpecInput } from '../shared/spec.js';
import { bernsteinDerivative, bernsteinValue, effectiveCoefficients } from '../shared/theory.js';
import type { Dataset } from '../workers/data/types.js';
import { initBackend } from '../workers/engine/backend.js';
import { deadUnitsBernstein, deadUnitsFixed } from '../workers/engine/dead-units.js';
import { fastOps } from '../workers/engine/kernels/index.js';
import { BN_EPS, DeepBernModel, disposeTargets, makeTargets } from '../workers/engine/model.js';
import { referenceOps, type EngineOps } from '../workers/engine/ops.js';
import { Optimizer } from '../workers/engine/optimizer.js';
import { epochPermutation, trainRun, trainStep } from '../workers/engine/train.js';
import { easyClassification, tinySpec } from './support/engine-fixtures.js';

beforeAll(async () => {
  await initBackend('wasm');
});

const relu = (z: number) => (z > 0 ? z : 0);

/** Float64 forward of one training batch (batch statistics); returns each layer's dead-unit count. */
function directDeadCounts(model: DeepBernModel, rows: number[][]): number[] {
  const { spec } = model;
  const W = spec.width,
    B = rows.length;
  let h = rows;
  const counts: number[] = [];
  for (const L of model.layers) {
    const w = L.w.dataSync(),
      b = L.b.dataSync();
    let z = h.map((r) => Array.from({ length: W }, (_, o) => r.reduce((s, x, i) => s + x * w[i * W + o], b[o])));
    if (spec.batchNorm) {
      const mean = Array.from({ length: W }, (_, o) => z.reduce((s, r) => s + r[o], 0) / B);
      const vari = Array.from({ length: W }, (_, o) => z.reduce((s, r) => s + (r[o] - mean[o]) ** 2, 0) / B);
      const g = L.gamma ? L.gamma.dataSync() : null,
        be = L.beta ? L.beta.dataSync() : null;
      z = z.map((r) =>
        r.map((v, o) => ((v - mean[o]) / Math.sqrt(vari[o] + BN_EPS)) * (g ? g[o] : 1) + (be ? be[o] : 0)),
      );
    }
    let dsig: (o: number, v: number) => number, sig: (o: number, v: number) => number;
    if (spec.activation === 'bernstein') {
      const a = L.a!.dataSync(),
        th = L.theta!.dataSync(),
        n = spec.degree;
      const c = Array.from({ length: W }, (_, o) => effectiveCoefficients(a[o], th.slice(o * n, o * n + n), spec.eps));
      const lo = L.lo ? Array.from(L.lo.dataSync()) : new Array(W).fill(spec.bounds[0]);
      const hi = L.hi ? Array.from(L.hi.dataSync()) : new Array(W).fill(spec.bounds[1]);
      dsig = (o, v) => (v >= lo[o] && v <= hi[o] ? bernsteinDerivative(c[o], lo[o], hi[o], v) : 0);
      sig = (o, v) => bernsteinValue(c[o], lo[o], hi[o], v);
    } else if (spec.activation === 'gelu') {
      const phi = (v: number) => Math.exp((-v * v) / 2) / Math.sqrt(2 * Math.PI);
      dsig = (_o, v) => 0.5 * (1 + erfApprox(v / Math.SQRT2)) + v * phi(v);
      sig = (_o, v) => 0.5 * v * (1 + erfApprox(v / Math.SQRT2));
    } else {
      if (spec.activation !== 'relu') throw new Error('the direct computation covers relu, gelu and bernstein');
      dsig = (_o, v) => (v > 0 ? 1 : 0);
      sig = (_o, v) => relu(v);
    }
    let dead = 0;
    for (let o = 0; o < W; o++) if (z.every((r) => Math.abs(dsig(o, r[o])) < spec.tau)) dead++;
    counts.push(dead);
    const act = z.map((r) => r.map((v, o) => sig(o, v)));
    h = L.skip ? act.map((r, i) => r.map((v, o) => v + h[i][o])) : act;
  }
  return counts;
}

/** Replays epoch 1 of trainRun on a twin model; returns the per-layer mean of the direct per-batch fractions. */
function replayEpoch(
  specIn: Partial<NetworkSpecInput>,
  ds: Dataset,
  ops: EngineOps,
): { perLayer: number[]; total: number; batches: number } {
  const spec = tinySpec(specIn);
  const model = new DeepBernModel(spec, { inputDim: ds.inputDim, outputDim: ds.outputDim, task: ds.task }, ops);
  const params = model.trainables();
  const opt = new Optimizer(spec.optimizer, spec.lr, params);
  const perm = epochPermutation(ds.nTrain, spec.seed, 1);
  const bs = spec.batchSize,
    batches = Math.ceil(ds.nTrain / bs),
    d = ds.inputDim;
  const sums = new Array(spec.depth).fill(0);
  let total = 0;
  for (let bi = 0; bi < batches; bi++) {
    const idx = Array.from(perm.slice(bi * bs, Math.min(ds.nTrain, bi * bs + bs)));
    const rows = idx.map((r) => Array.from(ds.xTrain.subarray(r * d, r * d + d)));
    const counts = directDeadCounts(model, rows);
    counts.forEach((c, i) => (sums[i] += c));
    total += counts.reduce((s, c) => s + c, 0);
    const x = tf.tensor2d(rows.flat(), [rows.length, d]);
    const y = makeTargets(ds.task, ds.outputDim, Float32Array.from(idx.map((r) => ds.yTrain[r])));
    trainStep(model, opt, x, y);
    x.dispose();
    disposeTargets(y);
  }
  opt.dispose();
  model.dispose();
  return { perLayer: sums.map((s) => s / (spec.width * batches)), total, batches };
}

async function engineEpoch(specIn: Partial<NetworkSpecInput>, ds: Dataset, ops: EngineOps): Promise<EpochReport> {
  let report: EpochReport | undefined;
  await trainRun(tinySpec(specIn), ds, { ops, onEpoch: (r) => void (report = r) });
  return report!;
}

describe('epoch-average dead ratio (dead_ratio_epoch)', () => {
  // SGD with a large step kills ReLU units during the epoch; narrow Bernstein bounds clamp whole units.
  // 44 rows in batches of 8: five full batches and a trailing batch of 4 (every batch weighs the same).
  const cases: [string, Partial<NetworkSpecInput>, EngineOps][] = [
    ['ReLU, no batch norm (fused activation)', { activation: 'relu', depth: 4, width: 6, batchNorm: false }, fastOps],
    [
      'ReLU + batch norm (fused BN→activation kernel)',
      { activation: 'relu', depth: 4, width: 6, batchNorm: true },
      fastOps,
    ],
    [
      'ReLU_res (identity skips)',
      { activation: 'relu', depth: 4, width: 6, batchNorm: false, residual: true },
      fastOps,
    ],
    // Plain batch norm centres every unit, so a ReLU unit cannot be dead on a whole batch; GELU with τ = 0.99
    // (|σ'| < 0.99 iff z ≲ 0.75) is, on skewed batches: this exercises the fused kernel's normalisation.
    [
      'GELU + batch norm, τ = 0.99 (fused BN→activation kernel)',
      { activation: 'gelu', depth: 3, width: 6, batchNorm: true, tau: 0.99 },
      fastOps,
    ],
    // Affine batch norm: β can shift a unit off on a whole batch, so ReLU units behind it die (large steps: soon).
    [
      'ReLU + affine batch norm (fused BN→activation kernel)',
      { activation: 'relu', depth: 4, width: 6, batchNorm: true, bnAffine: true, lr: 4 },
      fastOps,
    ],
    [
      'ReLU + affine batch norm, composed reference ops',
      { activation: 'relu', depth: 3, width: 6, batchNorm: true, bnAffine: true, lr: 4 },
      referenceOps,
    ],
    [
      'Bernstein + affine batch norm (fused BN→Bernstein kernel)',
      { depth: 3, width: 6, degree: 4, bounds: [-0.4, 0.4], bnAffine: true },
      fastOps,
    ],
    [
      'ReLU + batch norm, composed reference ops',
      { activation: 'relu', depth: 3, width: 6, batchNorm: true },
      referenceOps,
    ],
    [
      'Bernstein + batch norm, bounds [−0.4, 0.4] (fused BN→Bernstein kernel)',
      { depth: 3, width: 6, degree: 4, bounds: [-0.4, 0.4] },
      fastOps,
    ],
    [
      'Bernstein adaptive bounds (per-unit l, u)',
      { depth: 3, width: 6, degree: 4, boundsMode: 'adaptive', bounds: [-0.4, 0.4] },
      fastOps,
    ],
  ];
  const ds = easyClassification(44, 16, 4, 'dead-epoch');
  let deadSeen = 0,
    aliveSeen = 0;
  for (const [name, over, ops] of cases) {
    it(`${name}: per layer and network-wide, equal to the direct computation`, async () => {
      const specIn = { optimizer: 'sgd' as const, lr: 0.5, batchSize: 8, epochs: 1, evalBatch: 16, ...over };
      const r = await engineEpoch(specIn, ds, ops);
      const direct = replayEpoch(specIn, ds, ops);
      expect(direct.batches).toBe(6);
      const got = r.layers.filter((l) => l.metric === 'dead_ratio_epoch').sort((a, b) => a.layer - b.layer);
      expect(got.map((l) => l.layer)).toEqual(direct.perLayer.map((_, i) => i + 1));
      got.forEach((l, i) => expect(l.value).toBeCloseTo(direct.perLayer[i]!, 12));
      const W = over.width!,
        D = over.depth!;
      expect(r.metrics.dead_ratio_epoch).toBeCloseTo(direct.total / (W * D * direct.batches), 12);
      expect(r.metrics.dead_time_s).toBeGreaterThanOrEqual(0);
      expect(r.metrics.dead_time_s).toBeLessThan(r.metrics.epoch_time_s!);
      // The eval-batch reading stays beside it under its own name.
      expect(r.layers.filter((l) => l.metric === 'dead_ratio')).toHaveLength(D);
      deadSeen += direct.total;
      aliveSeen += W * D * direct.batches - direct.total;
    });
  }
  it('the cases above are not trivial: some units were dead on some batch, and most were alive', () => {
    expect(deadSeen).toBeGreaterThan(0);
    expect(aliveSeen).toBeGreaterThan(deadSeen);
  });

  it('epochDeadReading: false leaves the reading out (the benchmark baseline)', async () => {
    let report: EpochReport | undefined;
    await trainRun(tinySpec({ epochs: 1, depth: 2 }), ds, {
      ops: fastOps,
      epochDeadReading: false,
      onEpoch: (r) => void (report = r),
    });
    expect(report!.metrics.dead_ratio_epoch).toBeUndefined();
    expect(report!.layers.some((l) => l.metric === 'dead_ratio_epoch')).toBe(false);
    expect(report!.metrics.dead_ratio).toBeDefined();
  });
});

describe('dead-unit counting loops', () => {
  it('fixed activations: ReLU unit ≤ 0 on every sample is dead, z = 0 counts as dead, one positive sample revives it', () => {
    // [B=3, W=4]: unit 0 always negative, unit 1 exactly 0, unit 2 positive on the last sample, unit 3 positive.
    const z = Float32Array.from([-1, 0, -2, 1, -3, 0, -1, 2, -0.5, 0, 1e-3, 3]);
    expect(deadUnitsFixed(z, 3, 4, null, 0, 0, 1e-6)).toBe(2);
    // leaky ReLU: σ' = α ≥ τ everywhere, no unit dies; with τ above α the negative-only units are dead.
    expect(deadUnitsFixed(z, 3, 4, null, 1, 0.01, 1e-6)).toBe(0);
    expect(deadUnitsFixed(z, 3, 4, null, 1, 0.01, 0.5)).toBe(2);
    // SELU: σ' = λα·e^z < 1e-6 needs z < −14.4.
    expect(deadUnitsFixed(Float32Array.from([-20, -20, -15, 1]), 2, 2, null, 2, 0, 1e-6)).toBe(1);
  });

  it('batch-norm folding: the same units die whether z or (h, batch statistics) is given, affine scale/shift honoured', () => {
    const h = Float32Array.from([1, 5, 2, 7, 3, 9]); // [B=3, W=2]
    const mean = Float32Array.from([2, 7]),
      variance = Float32Array.from([2 / 3, 8 / 3]);
    // Plain BN: z has both signs in each column → no dead ReLU unit.
    expect(deadUnitsFixed(h, 3, 2, { mean, variance, eps: 1e-5 }, 0, 0, 1e-6)).toBe(0);
    // Affine: shift unit 1 far down → every z < 0 there.
    expect(
      deadUnitsFixed(
        h,
        3,
        2,
        { mean, variance, eps: 1e-5, gamma: Float32Array.from([1, 1]), beta: Float32Array.from([0, -10]) },
        0,
        0,
        1e-6,
      ),
    ).toBe(1);
  });

  it('Bernstein: clamped on every sample, or flat coefficients (ε = 0) inside, is dead; per-unit bounds', () => {
    const n = 3;
    // unit 0 identity on [−1,1]; unit 1 flat (c constant: σ' = 0 inside); unit 2 identity but every z outside.
    const coeffs = Float32Array.from([-1, -1 / 3, 1 / 3, 1, 0.5, 0.5, 0.5, 0.5, -1, -1 / 3, 1 / 3, 1]);
    const z = Float32Array.from([0.2, 0.1, 2, -0.7, -0.4, -3, 0.9, 0.3, 1.5]); // [B=3, W=3]
    const lo = Float32Array.of(-1),
      hi = Float32Array.of(1);
    expect(deadUnitsBernstein(z, 3, 3, null, coeffs, n, lo, hi, 1e-6)).toBe(2);
    // Per-unit bounds widening unit 2 to [−4, 4]: it comes alive.
    expect(
      deadUnitsBernstein(z, 3, 3, null, coeffs, n, Float32Array.from([-1, -1, -4]), Float32Array.from([1, 1, 4]), 1e-6),
    ).toBe(1);
    // τ above the identity's slope (σ' = 1 on [−1,1]; 0.25 on [−4,4]): every unit dead.
    expect(deadUnitsBernstein(z, 3, 3, null, coeffs, n, lo, hi, 1.5)).toBe(3);
  });
});

/** erf by Abramowitz–Stegun 7.1.26 (tfjs' own form), independent of the engine's code. */
function erfApprox(x: number): number {
  const s = Math.sign(x),
    a = Math.abs(x),
    t = 1 / (1 + 0.3275911 * a);
  return (
    s *
    (1 -
      ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
        t *
        Math.exp(-a * a))
  );
}
