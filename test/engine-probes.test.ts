// Probes on hand-built networks whose answers are known or computed independently in float64.
import * as tf from '@tensorflow/tfjs-core';
import seedrandom from 'seedrandom';
import { beforeAll, describe, expect, it } from 'vitest';
import { bernsteinDerivative, bernsteinValue, effectiveCoefficients, learnedFloor } from '../shared/theory.js';
import { initBackend } from '../workers/engine/backend.js';
import { DeepBernModel, disposeTargets, makeTargets } from '../workers/engine/model.js';
import { runProbes } from '../workers/engine/probes.js';
import { tinySpec } from './support/engine-fixtures.js';

beforeAll(async () => {
  await initBackend('wasm');
});

const dims = { inputDim: 2, outputDim: 2, task: 'classification' as const };

function metric(
  rows: { layer: number; metric: string; value: number }[],
  layer: number,
  name: string,
): number | undefined {
  return rows.find((r) => r.layer === layer && r.metric === name)?.value;
}

describe('probes', () => {
  it('ReLU layer with two units forced negative on every sample: dead ratio exactly 1/2', () => {
    const model = new DeepBernModel(tinySpec({ activation: 'relu', depth: 1, width: 4, batchNorm: false }), dims);
    // Inputs are positive; units 0,1 have negative weights and bias → z < 0 always; units 2,3 positive.
    model.layers[0].w.assign(
      tf.tensor2d([
        [-1, -2, 1, 0.5],
        [-1, -1, 1, 2],
      ]),
    );
    model.layers[0].b.assign(tf.tensor1d([-0.1, 0, 0.1, 0]));
    const x = tf.tensor2d([
      [1, 2],
      [0.5, 0.1],
      [3, 1],
      [0.2, 0.2],
    ]);
    const y = makeTargets('classification', 2, new Float32Array([0, 1, 1, 0]));
    const p = runProbes(model, x, y);
    expect(metric(p.layers, 1, 'dead_ratio')).toBe(0.5);
    expect(p.dead_ratio).toBe(0.5);
    expect(metric(p.layers, 1, 'min_dsigma')).toBe(0);
    expect(p.clipped_frac).toBeUndefined();
    model.dispose();
    x.dispose();
    disposeTargets(y);
  });

  it('Bernstein units pushed outside [l,u] on every sample are dead and count as clipped', () => {
    const model = new DeepBernModel(tinySpec({ depth: 1, width: 4, batchNorm: false }), dims);
    model.layers[0].w.assign(
      tf.tensor2d([
        [1, 0, 0.5, 0],
        [0, 1, 0, 0.5],
      ]),
    );
    model.layers[0].b.assign(tf.tensor1d([100, -100, 0, 0])); // units 0,1 always clamped, 2,3 inside [−5,5]
    const x = tf.tensor2d([
      [1, 2],
      [-0.5, 0.1],
      [3, 1],
    ]);
    const y = makeTargets('classification', 2, new Float32Array([0, 1, 1]));
    const p = runProbes(model, x, y);
    expect(metric(p.layers, 1, 'dead_ratio')).toBe(0.5);
    expect(metric(p.layers, 1, 'clipped_frac')).toBe(0.5);
    expect(p.clipped_frac).toBe(0.5);
    // Identity init: σ' = 1 inside, and the learned floor is n/(u−l)·(u−l)/n = 1.
    expect(metric(p.layers, 1, 'min_dsigma')).toBeCloseTo(1, 5);
    expect(metric(p.layers, 1, 'learned_floor')).toBeCloseTo(1, 5);
    model.dispose();
    x.dispose();
    disposeTargets(y);
  });

  it("min |σ'|, learned floor, MAG and grad norms match a float64 computation on a tiny random net", () => {
    const spec = tinySpec({ depth: 2, width: 3, degree: 4, batchNorm: false, bounds: [-2, 2] });
    const model = new DeepBernModel(spec, dims);
    const rng = seedrandom('probe-net');
    const rnd = (k: number, s = 1) => Array.from({ length: k }, () => (rng() * 2 - 1) * s);
    const P = model.layers.map((L) => ({ w: rnd(L.inDim * 3, 1.5), b: rnd(3, 0.5), a: rnd(3, 1), th: rnd(3 * 4, 2) }));
    model.layers.forEach((L, i) => {
      L.w.assign(tf.tensor2d(P[i].w, [L.inDim, 3]));
      L.b.assign(tf.tensor1d(P[i].b));
      L.a!.assign(tf.tensor1d(P[i].a));
      L.theta!.assign(tf.tensor2d(P[i].th, [3, 4]));
    });
    const Wo = rnd(3 * 2),
      bo = rnd(2);
    model.outW.assign(tf.tensor2d(Wo, [3, 2]));
    model.outB.assign(tf.tensor1d(bo));
    const B = 6;
    const X = rnd(B * 2, 1.5),
      labels = [0, 1, 1, 0, 1, 0];
    const coeffs = P.map((p) =>
      [0, 1, 2].map((j) => effectiveCoefficients(p.a[j], p.th.slice(j * 4, j * 4 + 4), spec.eps)),
    );
    const [l, u] = spec.bounds;

    const dense = (v: number[], w: number[], b: number[], inD: number, outD: number) =>
      Array.from({ length: outD }, (_, o) => b[o] + v.reduce((s, x, i) => s + x * w[i * outD + o], 0));
    // Float64 forward of one sample from a₁ (first block output) on; returns the sample's CE loss.
    const lossFromA1 = (a1: number[], label: number) => {
      const z2 = dense(a1, P[1].w, P[1].b, 3, 3);
      const a2 = z2.map((z, j) => bernsteinValue(coeffs[1][j], l, u, z));
      const o = dense(a2, Wo, bo, 3, 2);
      const m = Math.max(...o);
      return -(o[label] - m - Math.log(o.reduce((s, v) => s + Math.exp(v - m), 0)));
    };
    const minD = [Infinity, Infinity];
    let magSum = 0;
    for (let s = 0; s < B; s++) {
      const z1 = dense(X.slice(2 * s, 2 * s + 2), P[0].w, P[0].b, 2, 3);
      const a1 = z1.map((z, j) => bernsteinValue(coeffs[0][j], l, u, z));
      const z2 = dense(a1, P[1].w, P[1].b, 3, 3);
      [z1, z2].forEach((zs, li) =>
        zs.forEach((z, j) => {
          if (z >= l && z <= u) minD[li] = Math.min(minD[li], Math.abs(bernsteinDerivative(coeffs[li][j], l, u, z)));
        }),
      );
      // ∂(mean loss)/∂a₁ by central differences: the per-sample gradient divided by B.
      for (let j = 0; j < 3; j++) {
        const h = 1e-6,
          ap = a1.slice(),
          am = a1.slice();
        ap[j] += h;
        am[j] -= h;
        magSum += Math.abs((lossFromA1(ap, labels[s]) - lossFromA1(am, labels[s])) / (2 * h) / B);
      }
    }
    const x = tf.tensor2d(X, [B, 2]);
    const y = makeTargets('classification', 2, new Float32Array(labels));
    const p = runProbes(model, x, y);
    for (const li of [0, 1]) {
      expect(metric(p.layers, li + 1, 'min_dsigma')).toBeCloseTo(minD[li], 4);
      expect(metric(p.layers, li + 1, 'learned_floor')).toBeCloseTo(
        Math.min(...coeffs[li].map((c) => learnedFloor(c, l, u))),
        4,
      );
    }
    expect(Math.abs(p.mag1 - magSum / (B * 3))).toBeLessThan(1e-4 * (magSum / (B * 3)) + 1e-7);

    // grad_norm = ‖∂loss/∂W‖ of each layer, checked against autodiff of the same eval-mode loss.
    const g = tf.variableGrads(
      () => model.loss(model.forwardEval(x), y),
      model.layers.map((L) => L.w),
    ).grads;
    model.layers.forEach((L) =>
      expect(metric(p.layers, L.index, 'grad_norm')).toBeCloseTo(
        Math.sqrt(tf.sum(tf.square(g[L.w.name])).dataSync()[0]),
        5,
      ),
    );
    expect(metric(p.layers, 1, 'grad_norm')).toBeGreaterThan(0);
    model.dispose();
    x.dispose();
    disposeTargets(y);
  });

  it('GELU, SELU and leaky ReLU derivatives in the probes match float64 formulas', () => {
    const phi = (z: number) => Math.exp((-z * z) / 2) / Math.sqrt(2 * Math.PI);
    const cases = [
      ['selu', (z: number) => (z > 0 ? 1.0507009873554805 : 1.0507009873554805 * 1.6732632423543772 * Math.exp(z))],
      ['leaky_relu', (z: number) => (z > 0 ? 1 : 0.01)],
      // σ'(z) = Φ(z) + z·φ(z), with an erf independent of tfjs.
      ['gelu', (z: number) => 0.5 * (1 + erfApprox(z / Math.SQRT2)) + z * phi(z)],
    ] as const;
    for (const [act, deriv] of cases) {
      const model = new DeepBernModel(tinySpec({ activation: act, depth: 1, width: 2, batchNorm: false }), dims);
      model.layers[0].w.assign(
        tf.tensor2d([
          [1, 0],
          [0, 1],
        ]),
      );
      const X = [-3, 0.4, -0.7, 2.5, -1.2, -0.1];
      const x = tf.tensor2d(X, [3, 2]);
      const y = makeTargets('classification', 2, new Float32Array([0, 1, 0]));
      const p = runProbes(model, x, y);
      expect(metric(p.layers, 1, 'min_dsigma')).toBeCloseTo(Math.min(...X.map((z) => Math.abs(deriv(z)))), 4);
      model.dispose();
      x.dispose();
      disposeTargets(y);
    }
  });
});

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
