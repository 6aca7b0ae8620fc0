// The composed-ops Bernstein reference (workers/engine/bernstein-reference.ts) against float64 closed forms in
// shared/theory.ts: values, basis identities, the derivative floor, and autodiff gradients vs central differences.
import * as tf from '@tensorflow/tfjs-core';
import seedrandom from 'seedrandom';
import { beforeAll, describe, expect, it } from 'vitest';
import { bernsteinDerivative, bernsteinValue, deltaBar, effectiveCoefficients } from '../shared/theory.js';
import { initBackend } from '../workers/engine/backend.js';
import {
  bernsteinBasis,
  bernsteinDerivativeReference,
  bernsteinReference,
  effectiveCoefficientsT,
} from '../workers/engine/bernstein-reference.js';

beforeAll(async () => {
  await initBackend('wasm');
});

const n = 9,
  eps = 0.01,
  l = -5,
  u = 5;

function randomParams(rng: () => number, W: number): { a: number[]; theta: number[][] } {
  const a = Array.from({ length: W }, () => rng() * 4 - 2);
  const theta = Array.from({ length: W }, () => Array.from({ length: n }, () => rng() * 8 - 5));
  return { a, theta };
}

describe('Bernstein reference vs float64 theory', () => {
  it('basis is non-negative and sums to 1 on [0,1]', () => {
    const ts = Array.from({ length: 101 }, (_, i) => i / 100);
    const basis = bernsteinBasis(tf.tensor2d(ts, [101, 1]), n).arraySync();
    for (const row of basis) {
      const b = row[0];
      expect(Math.min(...b)).toBeGreaterThanOrEqual(0);
      expect(b.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    }
  });

  it('σ matches de Casteljau in float64 and stays within [min c, max c], clamping outside [l,u]', () => {
    const rng = seedrandom('values');
    const W = 6;
    const { a, theta } = randomParams(rng, W);
    const coeffs = a.map((ai, j) => effectiveCoefficients(ai, theta[j], eps));
    const xs = Array.from({ length: 41 }, (_, i) => -7 + (14 * i) / 40);
    const z = xs.flatMap((x) => Array.from({ length: W }, (_, j) => x + 0.1 * j));
    const got = bernsteinReference(tf.tensor2d(z, [xs.length, W]), tf.tensor2d(coeffs), l, u).arraySync();
    xs.forEach((_, i) =>
      coeffs.forEach((c, j) => {
        const want = bernsteinValue(c, l, u, z[i * W + j]);
        expect(Math.abs(got[i][j] - want)).toBeLessThan(1e-4 * (1 + Math.abs(want)));
        expect(got[i][j]).toBeGreaterThanOrEqual(Math.min(...c) - 1e-4);
        expect(got[i][j]).toBeLessThanOrEqual(Math.max(...c) + 1e-4);
      }),
    );
  });

  it("with ε > 0 and random θ, min σ' on a dense grid inside [l,u] is ≥ n·ε/(u−l)", () => {
    const rng = seedrandom('floor');
    const W = 8;
    const { a, theta } = randomParams(rng, W);
    // Push some θ very negative so softplus(θ) ≈ 0 and the floor is nearly tight.
    theta[0] = theta[0].map(() => -30);
    const c = effectiveCoefficientsT(tf.tensor1d(a), tf.tensor2d(theta), eps);
    const G = 2001;
    const grid = Array.from({ length: G }, (_, i) => l + ((u - l) * i) / (G - 1));
    const z = tf.tensor2d(
      grid.flatMap((x) => Array(W).fill(x)),
      [G, W],
    );
    const d = bernsteinDerivativeReference(z, c, l, u);
    const floor = deltaBar(n, eps, l, u);
    const minD = tf.min(d).dataSync()[0];
    expect(minD).toBeGreaterThanOrEqual(floor * (1 - 1e-4));
    // Unit 0 has steps ≈ ε, so its derivative is ≈ δ̄ everywhere: the bound is tight, not vacuous.
    expect(minD).toBeLessThan(floor * 1.01);
  });

  it("σ' reference matches the float64 derivative and is 0 outside [l,u]", () => {
    const coeffs = effectiveCoefficients(0.3, [1, -2, 0.5, 3, -1, 0, 2, -4, 1], eps);
    const xs = [-6, -5, -4.999, -1.2, 0, 2.5, 4.999, 5, 6.5];
    const d = bernsteinDerivativeReference(tf.tensor2d(xs, [xs.length, 1]), tf.tensor2d([coeffs]), l, u).dataSync();
    xs.forEach((x, i) => expect(Math.abs(d[i] - bernsteinDerivative(coeffs, l, u, x))).toBeLessThan(1e-4));
    expect(d[0]).toBe(0);
    expect(d[xs.length - 1]).toBe(0);
  });

  it('autodiff gradients w.r.t. z, a and θ match float64 central differences, also near l and u', () => {
    const W = 3;
    const rng = seedrandom('grads');
    const { a, theta } = randomParams(rng, W);
    const xs = [l + 1e-3, -3.3, -0.2, 1.7, 4.1, u - 1e-3];
    const B = xs.length;
    const zArr = xs.flatMap((x, i) => Array.from({ length: W }, (_, j) => (j === 0 ? x : xs[(i + j) % B])));
    // Loss = Σ w_ij σ_j(z_ij) with fixed random weights, so every gradient entry is exercised.
    const wts = Array.from({ length: B * W }, () => rng() * 2 - 1);
    const lossT = (z: tf.Tensor, aT: tf.Tensor, thT: tf.Tensor) =>
      tf.sum(
        tf.mul(
          bernsteinReference(
            z as tf.Tensor2D,
            effectiveCoefficientsT(aT as tf.Tensor1D, thT as tf.Tensor2D, eps),
            l,
            u,
          ),
          tf.tensor2d(wts, [B, W]),
        ),
      );
    const [gz, ga, gth] = tf
      .grads(lossT)([tf.tensor2d(zArr, [B, W]), tf.tensor1d(a), tf.tensor2d(theta)])
      .map((g) => g.dataSync());

    const loss64 = (z: number[], a64: number[], th64: number[][]) => {
      let s = 0;
      for (let i = 0; i < B; i++)
        for (let j = 0; j < W; j++)
          s += wts[i * W + j] * bernsteinValue(effectiveCoefficients(a64[j], th64[j], eps), l, u, z[i * W + j]);
      return s;
    };
    const h = 1e-6;
    const check = (got: number, plus: number, minus: number) => {
      const want = (plus - minus) / (2 * h);
      // float32 forward/backward vs float64: relative 1e-3 plus an absolute floor for near-zero entries.
      expect(Math.abs(got - want)).toBeLessThan(1e-3 * Math.abs(want) + 2e-4);
    };
    zArr.forEach((_, k) => {
      const zp = zArr.slice(),
        zm = zArr.slice();
      zp[k] += h;
      zm[k] -= h;
      check(gz[k], loss64(zp, a, theta), loss64(zm, a, theta));
    });
    a.forEach((_, j) => {
      const ap = a.slice(),
        am = a.slice();
      ap[j] += h;
      am[j] -= h;
      check(ga[j], loss64(zArr, ap, theta), loss64(zArr, am, theta));
    });
    theta.forEach((row, j) =>
      row.forEach((_, k) => {
        const tp = theta.map((r) => r.slice()),
          tm = theta.map((r) => r.slice());
        tp[j][k] += h;
        tm[j][k] -= h;
        check(gth[j * n + k], loss64(zArr, a, tp), loss64(zArr, a, tm));
      }),
    );
    // Near the ends the input gradient is the end slope n/(u−l)·(c_1−c_0) resp. (c_n−c_{n−1}), not 0.
    expect(Math.abs(gz[0])).toBeGreaterThan(0);
  });
});
