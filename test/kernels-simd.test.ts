// The wasm SIMD bodies of the batch-norm → Bernstein / ReLU kernels (workers/engine/kernels/bn-simd.ts) against
// the JS loops they replace, on the same tfjs-wasm heap: forward values, batch statistics and every gradient
// within float32 rounding (the SIMD path is float32, the JS loops float64), scalar and per-unit bounds, affine
// batch norm, several degrees; widths that are not a multiple of 4 stay on the JS loops. Also: the committed
// module is what scripts/build-bn-simd.mjs compiles.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import seedrandom from 'seedrandom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../workers/engine/backend.js';
import { effectiveCoefficientsFast, fastOps } from '../workers/engine/kernels/index.js';
import { setBnSimd, simdFor } from '../workers/engine/kernels/bn-simd.js';
import { readView } from '../workers/engine/kernels/backend-io.js';
import type { BnAffine } from '../workers/engine/ops.js';

beforeAll(async () => {
  await initBackend('wasm');
});
afterAll(() => setBnSimd(true));

function rand(shape: [number, number] | [number], rng: () => number, scale = 1, shift = 0): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: size }, () => (rng() * 2 - 1) * scale + shift),
    shape,
  );
}

/** Monotone coefficients on [l, u] with noise, as training keeps them. */
function coeffs(W: number, n: number, l: number, u: number, rng: () => number): tf.Tensor2D {
  const c = new Float32Array(W * (n + 1));
  for (let w = 0; w < W; w++)
    for (let k = 0; k <= n; k++) c[w * (n + 1) + k] = l + ((u - l) * k) / Math.max(n, 1) + 0.3 * rng();
  return tf.tensor2d(c, [W, n + 1]);
}

/** Largest |a − b| relative to the largest |b| of the tensor. */
function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync(),
    y = b.dataSync();
  let d = 0,
    m = 1e-30;
  for (let i = 0; i < x.length; i++) {
    d = Math.max(d, Math.abs(x[i] - y[i]));
    m = Math.max(m, Math.abs(y[i]));
  }
  return d / m;
}

type Pass = (dy: tf.Tensor2D) => tf.Tensor[];

function bothWays(pass: Pass, dy: tf.Tensor2D): { simd: tf.Tensor[]; js: tf.Tensor[] } {
  setBnSimd(true);
  const simd = tf.tidy(() => pass(dy));
  setBnSimd(false);
  const js = tf.tidy(() => pass(dy));
  setBnSimd(true);
  return { simd, js };
}

describe('wasm SIMD batch-norm kernels vs the JS loops', () => {
  it('the SIMD path is taken on the wasm heap for widths that are multiples of 4, not otherwise', () => {
    const a = tf.zeros([8, 12]),
      b = tf.zeros([8, 6]);
    fastOps.bnActTrain!(a as tf.Tensor2D, 'relu', 0, 1e-5); // binds the module to this heap
    expect(simdFor(12, readView(tf.backend(), a))).not.toBeNull();
    expect(simdFor(6, readView(tf.backend(), b))).toBeNull();
    expect(simdFor(12, new Float32Array(96))).toBeNull(); // not on the heap
    tf.dispose([a, b]);
  });

  for (const [name, W, n, bounds, affine] of [
    ['n = 9, scalar bounds', 100, 9, 'scalar', false],
    ['n = 1, scalar bounds, affine', 8, 1, 'scalar', true],
    ['n = 5, per-unit bounds', 12, 5, 'unit', false],
    ['n = 14, per-unit bounds, affine', 20, 14, 'unit', true],
    ['n = 20 (the generic, not unrolled, SIMD loop), affine', 16, 20, 'scalar', true],
    ['width 6 (JS loops both ways)', 6, 3, 'scalar', false],
  ] as const) {
    it(`batch norm → Bernstein, ${name}: forward, statistics, ∂h, ∂c, ∂bounds, ∂γ, ∂β agree`, () => {
      const rng = seedrandom(name);
      const B = 64;
      const h = rand([B, W], rng, 2, 0.5) as tf.Tensor2D;
      const dy = rand([B, W], rng) as tf.Tensor2D;
      const c = coeffs(W, n, -3, 3, rng);
      const lo = bounds === 'unit' ? (rand([W], rng, 0.5, -3) as tf.Tensor1D) : -3;
      const hi = bounds === 'unit' ? (rand([W], rng, 0.5, 3) as tf.Tensor1D) : 3;
      const aff: BnAffine | undefined = affine
        ? { gamma: rand([W], rng, 0.5, 1) as tf.Tensor1D, beta: rand([W], rng, 0.3) as tf.Tensor1D }
        : undefined;
      const vars = [
        h,
        c,
        ...(typeof lo === 'number' ? [] : [lo, hi as tf.Tensor1D]),
        ...(aff ? [aff.gamma, aff.beta] : []),
      ];
      const pass: Pass = (g) => {
        const f = (...xs: tf.Tensor[]) => {
          const r = fastOps.bnBernsteinTrain!(
            xs[0] as tf.Tensor2D,
            xs[1] as tf.Tensor2D,
            typeof lo === 'number' ? lo : (xs[2] as tf.Tensor1D),
            typeof hi === 'number' ? hi : (xs[3] as tf.Tensor1D),
            1e-5,
            aff ? { gamma: xs[xs.length - 2] as tf.Tensor1D, beta: xs[xs.length - 1] as tf.Tensor1D } : undefined,
          );
          return r.y;
        };
        const r = fastOps.bnBernsteinTrain!(h, c, lo, hi, 1e-5, aff);
        const grads = tf.grads(f)(vars, g);
        return [r.y, r.mean, r.variance, ...grads];
      };
      const { simd, js } = bothWays(pass, dy);
      expect(simd.length).toBe(js.length);
      simd.forEach((t, i) => expect(relDiff(t, js[i]), `output ${i}`).toBeLessThan(2e-5));
      // float32 vs float64 arithmetic: the SIMD path really ran where it should (and only there)
      expect(relDiff(simd[0], js[0]) > 0, 'the two paths differ').toBe(W % 4 === 0);
      // the gradients are not trivially zero
      expect(Math.max(...Array.from(js[3].dataSync()).map(Math.abs))).toBeGreaterThan(1e-3);
      tf.dispose([...simd, ...js, ...vars, dy]);
    });
  }

  it('batch norm → ReLU: forward, statistics and ∂h agree (and affine stays on the JS loop)', () => {
    const rng = seedrandom('relu');
    for (const W of [100, 8, 10]) {
      const h = rand([128, W], rng, 2, -0.3) as tf.Tensor2D;
      const dy = rand([128, W], rng) as tf.Tensor2D;
      const pass: Pass = (g) => {
        const r = fastOps.bnActTrain!(h, 'relu', 0, 1e-5);
        const [gh] = tf.grads((x: tf.Tensor) => fastOps.bnActTrain!(x as tf.Tensor2D, 'relu', 0, 1e-5).y)([h], g);
        return [r.y, r.mean, r.variance, gh];
      };
      const { simd, js } = bothWays(pass, dy);
      simd.forEach((t, i) => expect(relDiff(t, js[i]), `width ${W} output ${i}`).toBeLessThan(2e-5));
      tf.dispose([...simd, ...js, h, dy]);
    }
  });

  it('batch statistics and the bias gradient (column sums) are bit-identical to the JS loops', () => {
    const rng = seedrandom('sums');
    const h = rand([256, 100], rng, 3, 40) as tf.Tensor2D; // a large mean: the float64 sums matter
    const pass: Pass = (g) => {
      const r = fastOps.bnActTrain!(h, 'relu', 0, 1e-5);
      const [, , gb] = tf.grads((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
        fastOps.dense(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D),
      )([h, tf.eye(100), tf.zeros([100])], g);
      return [r.mean, r.variance, gb];
    };
    const { simd, js } = bothWays(pass, rand([256, 100], rng) as tf.Tensor2D);
    simd.forEach((t, i) => expect(Array.from(t.dataSync()), `output ${i}`).toEqual(Array.from(js[i].dataSync())));
    tf.dispose([...simd, ...js, h]);
  });

  /** θ over softplus's whole range, its branch points and the float32 exp's underflow edge. */
  const EDGE_THETA = [0, 1e-8, -1e-8, 0.3466, -0.3466, 1, -1, 15, -15, 20, -20, 20.5, -20.5, 40, -40];
  const EDGE_THETA_LOW = [-87, -87.3, -87.4, -88, -89, -100, -1e4, 88, 89, 1e4];

  function softplus64(x: number): number {
    return x > 20 ? x : Math.log1p(Math.exp(x));
  }

  it('coefficients: softplus and sigmoid are within 2 float32 ulp of float64 over their whole range', () => {
    const rng = seedrandom('softplus');
    const th = [...EDGE_THETA, ...EDGE_THETA_LOW, ...Array.from({ length: 4000 }, () => (rng() * 2 - 1) * 30)];
    const W = th.length;
    // n = 1, a = 0, ε = 0: c_1 = softplus(θ); ∂L/∂c = (0, 1): ∂L/∂θ = sigmoid(θ)
    const a = tf.zeros([W]) as tf.Tensor1D,
      theta = tf.tensor2d(Float32Array.from(th), [W, 1]);
    const dc = tf.tensor2d(
      Float32Array.from({ length: 2 * W }, (_, i) => i % 2),
      [W, 2],
    );
    setBnSimd(true);
    const [c, gTheta] = tf.tidy(() => {
      const f = (t: tf.Tensor) => effectiveCoefficientsFast(a, t as tf.Tensor2D, 0);
      return [f(theta), tf.grad(f)(theta, dc)];
    });
    const cv = c.dataSync(),
      gv = gTheta.dataSync(),
      thf = theta.dataSync();
    const ulp2 = 2 * 2 ** -23;
    for (let w = 0; w < W; w++) {
      const x = thf[w];
      const sp = softplus64(x),
        sig = 1 / (1 + Math.exp(-x));
      expect(Math.abs(cv[2 * w + 1] - sp), `softplus(${x})`).toBeLessThanOrEqual(ulp2 * sp + 1e-37);
      expect(Math.abs(gv[w] - sig), `sigmoid(${x})`).toBeLessThanOrEqual(ulp2 * sig + 1e-37);
    }
    tf.dispose([a, theta, dc, c, gTheta]);
  });

  for (const [W, n, eps] of [
    [100, 9, 0.01],
    [7, 1, 0.01],
    [13, 14, 0],
    [3, 2, 0.5],
  ] as const) {
    it(`coefficients, W = ${W}, n = ${n}, ε = ${eps}: SIMD values and gradients agree with the JS loops`, () => {
      const rng = seedrandom(`coeffs-${W}-${n}`);
      const a = rand([W], rng, 2) as tf.Tensor1D;
      const th = Float32Array.from({ length: W * n }, (_, i) =>
        i < EDGE_THETA.length ? EDGE_THETA[i] : (rng() * 2 - 1) * 25,
      );
      const theta = tf.tensor2d(th, [W, n]);
      const pass: Pass = (dc) => {
        const f = (aa: tf.Tensor, tt: tf.Tensor) =>
          effectiveCoefficientsFast(aa as tf.Tensor1D, tt as tf.Tensor2D, eps);
        return [f(a, theta), ...tf.grads(f)([a, theta], dc)];
      };
      const { simd, js } = bothWays(pass, rand([W, n + 1], rng) as tf.Tensor2D);
      simd.forEach((t, i) => expect(relDiff(t, js[i]), `output ${i}`).toBeLessThan(5e-7));
      tf.dispose([...simd, ...js, a, theta]);
    });
  }

  it('the committed module is what scripts/build-bn-simd.mjs compiles from bn-simd.wat', async () => {
    // @ts-expect-error -- a plain .mjs build script without types
    const { generated } = (await import('../scripts/build-bn-simd.mjs')) as { generated(): Promise<string> };
    const file = new URL('../workers/engine/kernels/bn-simd.generated.ts', import.meta.url);
    expect(readFileSync(file, 'utf8')).toBe(await generated());
  });
});
