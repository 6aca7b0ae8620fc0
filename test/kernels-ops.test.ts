// The fast EngineOps (workers/engine/kernels/) against the composed-ops reference, on the cpu and wasm
// backends: forward ≤ 1e-4 relative, gradients (z or h, coefficients, per-unit bounds) ≤ 1e-3 relative, for
// degrees 1, 3, 9, 15, fixed and per-unit bounds, points inside, exactly at and outside the bounds.
import * as tf from '@tensorflow/tfjs-core';
import seedrandom from 'seedrandom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../workers/engine/backend.js';
import { effectiveCoefficientsT } from '../workers/engine/bernstein-reference.js';
import { effectiveCoefficientsFast, fastOps, pickOps } from '../workers/engine/kernels/index.js';
import { applyAffine, referenceOps, type EngineOps } from '../workers/engine/ops.js';
import { relErr } from './support/tensors.js';

const BACKENDS = ['cpu', 'wasm'] as const;
const DEGREES = [1, 3, 9, 15];
const B = 24,
  W = 5,
  L = -2,
  U = 3;

beforeAll(async () => {
  await initBackend('cpu');
  await initBackend('wasm');
});
afterAll(async () => {
  await initBackend('wasm');
});

function rand(rng: () => number, shape: number[], lo: number, hi: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, () => lo + (hi - lo) * rng()),
    shape,
  );
}

/** Increasing coefficients through the ε re-parameterisation (as the model builds them), plus some noise. */
function coeffs(rng: () => number, n: number): tf.Tensor2D {
  return tf.tidy(() =>
    effectiveCoefficientsT(rand(rng, [W], -2, 0) as tf.Tensor1D, rand(rng, [W, n], -3, 2) as tf.Tensor2D, 0.01),
  );
}

/** z with rows inside, exactly at l and u, and outside on both sides (per-unit bounds: at each unit's own). */
function zAt(rng: () => number, lo: number[], hi: number[]): tf.Tensor2D {
  const z = new Float32Array(B * W);
  for (let b = 0; b < B; b++) {
    for (let w = 0; w < W; w++) {
      const l = lo[w],
        u = hi[w];
      const kind = b % 6;
      z[b * W + w] =
        kind === 0 ? l : kind === 1 ? u : kind === 2 ? l - 1 - rng() : kind === 3 ? u + 1 + rng() : l + (u - l) * rng();
    }
  }
  return tf.tensor2d(z, [B, W]);
}

type BoundMode = 'fixed' | 'per-unit';

function boundsFor(
  mode: BoundMode,
  rng: () => number,
): { lo: number[]; hi: number[]; l: number | tf.Tensor1D; u: number | tf.Tensor1D } {
  if (mode === 'fixed') return { lo: Array(W).fill(L), hi: Array(W).fill(U), l: L, u: U };
  // float32-exact, so "exactly at the bound" means the same thing to the test and the kernels
  const lo = Array.from({ length: W }, () => Math.fround(-1 - 2 * rng()));
  const hi = Array.from({ length: W }, () => Math.fround(1 + 2 * rng()));
  return { lo, hi, l: tf.tensor1d(lo), u: tf.tensor1d(hi) };
}

/** Value and gradients of Σ R ⊙ f(inputs) for a fixed random R (so every dy differs). */
function valueAndGrads(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  xs: tf.Tensor[],
  R: tf.Tensor,
): { y: tf.Tensor; grads: tf.Tensor[] } {
  const y = f(...xs);
  const grads = tf.grads((...ins: tf.Tensor[]) => tf.sum(tf.mul(f(...ins), R)))(xs);
  return { y, grads };
}

for (const backend of BACKENDS) {
  describe(`fast ops vs reference on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend(backend);
    });

    it('pickOps picks the fast ops here and the reference elsewhere', () => {
      expect(pickOps(backend)).toBe(fastOps);
      expect(pickOps('tfjs-node')).toBe(referenceOps);
      expect(pickOps('tensorflow')).toBe(referenceOps);
    });

    for (const n of DEGREES) {
      for (const mode of ['fixed', 'per-unit'] as const) {
        it(`bernstein n=${n}, ${mode} bounds: values and gradients w.r.t. z and coefficients`, () => {
          const rng = seedrandom(`bern-${backend}-${n}-${mode}`);
          const bd = boundsFor(mode, rng);
          const z = zAt(rng, bd.lo, bd.hi),
            c = coeffs(rng, n),
            R = rand(rng, [B, W], -1, 1);
          const run = (ops: EngineOps) =>
            mode === 'fixed'
              ? valueAndGrads((zz, cc) => ops.bernstein(zz as tf.Tensor2D, cc as tf.Tensor2D, L, U), [z, c], R)
              : // Bounds are buffers (not trained): the reference cannot differentiate broadcast per-unit bounds.
                valueAndGrads((zz, cc) => ops.bernstein(zz as tf.Tensor2D, cc as tf.Tensor2D, bd.l, bd.u), [z, c], R);
          const fast = run(fastOps),
            ref = run(referenceOps);
          expect(relErr(fast.y, ref.y)).toBeLessThan(1e-4);
          fast.grads.forEach((g, i) => expect(relErr(g, ref.grads[i]), `gradient ${i}`).toBeLessThan(1e-3));
          // Outside [l,u] the clamp zeroes ∂σ/∂z; at and inside the bounds it is the polynomial's slope.
          const gz = fast.grads[0].dataSync(),
            zz = z.dataSync();
          for (let i = 0; i < gz.length; i++) {
            const w = i % W;
            if (zz[i] < bd.lo[w] || zz[i] > bd.hi[w]) expect(gz[i]).toBe(0);
          }
          tf.dispose([z, c, R, fast.y, ref.y, ...fast.grads, ...ref.grads]);
          if (mode === 'per-unit') tf.dispose([bd.l as tf.Tensor, bd.u as tf.Tensor]);
        });

        it(`bnBernsteinTrain n=${n}, ${mode} bounds equals batchNormTrain → bernstein (values, stats, gradients)`, () => {
          const rng = seedrandom(`bnbern-${backend}-${n}-${mode}`);
          const bd = boundsFor(mode, rng);
          // Scale 3 around mean 0.5: after normalisation some rows fall outside [l,u].
          const h = tf.tidy(() => tf.add(tf.mul(tf.randomNormal([B, W], 0, 1, 'float32', 7), 3), 0.5)) as tf.Tensor2D;
          const c = coeffs(rng, n),
            R = rand(rng, [B, W], -1, 1);
          const eps = 1e-5;
          const composed = (hh: tf.Tensor, cc: tf.Tensor, ll?: tf.Tensor, uu?: tf.Tensor) => {
            const bn = referenceOps.batchNormTrain(hh as tf.Tensor2D, eps);
            return referenceOps.bernstein(
              bn.y,
              cc as tf.Tensor2D,
              (ll ?? L) as tf.Tensor1D | number,
              (uu ?? U) as tf.Tensor1D | number,
            );
          };
          const fused = (hh: tf.Tensor, cc: tf.Tensor, ll?: tf.Tensor, uu?: tf.Tensor) =>
            fastOps.bnBernsteinTrain!(
              hh as tf.Tensor2D,
              cc as tf.Tensor2D,
              (ll ?? L) as tf.Tensor1D | number,
              (uu ?? U) as tf.Tensor1D | number,
              eps,
            ).y;
          const fixedBounds = (f: typeof fused) => (hh: tf.Tensor, cc: tf.Tensor) =>
            mode === 'fixed' ? f(hh, cc) : f(hh, cc, bd.l as tf.Tensor, bd.u as tf.Tensor);
          const fast = valueAndGrads(fixedBounds(fused), [h, c], R),
            ref = valueAndGrads(fixedBounds(composed), [h, c], R);
          expect(relErr(fast.y, ref.y)).toBeLessThan(1e-4);
          fast.grads.forEach((g, i) => expect(relErr(g, ref.grads[i]), `gradient ${i}`).toBeLessThan(1e-3));
          const f = fastOps.bnBernsteinTrain!(h, c, bd.l, bd.u, eps),
            r = referenceOps.batchNormTrain(h, eps);
          expect(relErr(f.mean, r.mean)).toBeLessThan(1e-5);
          expect(relErr(f.variance, r.variance)).toBeLessThan(1e-4);
          tf.dispose([
            h,
            c,
            R,
            fast.y,
            ref.y,
            ...fast.grads,
            ...ref.grads,
            f.y,
            f.mean,
            f.variance,
            r.y,
            r.mean,
            r.variance,
          ]);
          if (mode === 'per-unit') tf.dispose([bd.l as tf.Tensor, bd.u as tf.Tensor]);
        });
      }
    }

    for (const n of [1, 9, 40]) {
      // 40: above the generated-code degrees, the generic loops
      for (const mode of ['fixed', 'per-unit'] as const) {
        it(`affine bnBernsteinTrain n=${n}, ${mode} bounds equals batchNormTrain → γ·x̂+β → bernstein (values, gradients in h, c, γ, β)`, () => {
          const rng = seedrandom(`bnbern-affine-${backend}-${n}-${mode}`);
          const bd = boundsFor(mode, rng);
          const h = tf.tidy(() => tf.add(tf.mul(tf.randomNormal([B, W], 0, 1, 'float32', 9), 3), 0.5)) as tf.Tensor2D;
          const c = coeffs(rng, n),
            R = rand(rng, [B, W], -1, 1);
          // γ away from 1 (some negative), β away from 0: every part of the affine map is exercised
          const gamma = rand(rng, [W], -1.5, 2.5),
            beta = rand(rng, [W], -1, 1);
          const eps = 1e-5;
          const ll = mode === 'fixed' ? L : bd.l,
            uu = mode === 'fixed' ? U : bd.u;
          const composed = (hh: tf.Tensor, cc: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
            const bn = referenceOps.batchNormTrain(hh as tf.Tensor2D, eps);
            return referenceOps.bernstein(
              applyAffine(bn.y, { gamma: g as tf.Tensor1D, beta: b as tf.Tensor1D }),
              cc as tf.Tensor2D,
              ll,
              uu,
            );
          };
          const fused = (hh: tf.Tensor, cc: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
            fastOps.bnBernsteinTrain!(hh as tf.Tensor2D, cc as tf.Tensor2D, ll, uu, eps, {
              gamma: g as tf.Tensor1D,
              beta: b as tf.Tensor1D,
            }).y;
          const fast = valueAndGrads(fused, [h, c, gamma, beta], R),
            ref = valueAndGrads(composed, [h, c, gamma, beta], R);
          expect(relErr(fast.y, ref.y)).toBeLessThan(1e-4);
          expect(fast.grads).toHaveLength(4);
          fast.grads.forEach((g, i) =>
            expect(relErr(g, ref.grads[i]), `gradient ${['h', 'coeffs', 'gamma', 'beta'][i]}`).toBeLessThan(1e-3),
          );
          // and γ = 1, β = 0 is exactly the non-affine kernel
          const one = tf.ones([W]) as tf.Tensor1D,
            zero = tf.zeros([W]) as tf.Tensor1D;
          const plain = fastOps.bnBernsteinTrain!(h, c, ll, uu, eps),
            id = fastOps.bnBernsteinTrain!(h, c, ll, uu, eps, { gamma: one, beta: zero });
          expect(id.y.dataSync()).toEqual(plain.y.dataSync());
          tf.dispose([
            h,
            c,
            R,
            gamma,
            beta,
            one,
            zero,
            fast.y,
            ref.y,
            ...fast.grads,
            ...ref.grads,
            plain.y,
            plain.mean,
            plain.variance,
            id.y,
            id.mean,
            id.variance,
          ]);
          if (mode === 'per-unit') tf.dispose([bd.l as tf.Tensor, bd.u as tf.Tensor]);
        });
      }
    }

    it('gradients w.r.t. per-unit bounds match central differences', () => {
      const rng = seedrandom(`bounds-${backend}`);
      const bd = boundsFor('per-unit', rng);
      // no point within 0.01 of a bound: the difference quotient must not straddle the clamp's kink
      const z = tf.tensor2d(
        Float32Array.from({ length: B * W }, (_, i) => {
          for (;;) {
            const v = -3 + 6 * rng(),
              w = i % W;
            if (Math.abs(v - bd.lo[w]) > 0.01 && Math.abs(v - bd.hi[w]) > 0.01) return v;
          }
        }),
        [B, W],
      );
      const c = coeffs(rng, 9),
        R = rand(rng, [B, W], -1, 1);
      const loss = (lo: tf.Tensor, hi: tf.Tensor) =>
        tf.sum(tf.mul(fastOps.bernstein(z, c, lo as tf.Tensor1D, hi as tf.Tensor1D), R));
      const [gl, gh] = tf.grads(loss)([bd.l as tf.Tensor, bd.u as tf.Tensor]);
      const d = 2e-3;
      for (const [which, g] of [
        [0, gl],
        [1, gh],
      ] as const) {
        const gv = g.dataSync();
        for (let w = 0; w < W; w++) {
          const shifted = (s: number) => {
            const lo = bd.lo.slice(),
              hi = bd.hi.slice();
            (which === 0 ? lo : hi)[w] += s;
            return tf.tidy(() => loss(tf.tensor1d(lo), tf.tensor1d(hi)).dataSync()[0]);
          };
          const fd = (shifted(d) - shifted(-d)) / (2 * d);
          expect(Math.abs(gv[w] - fd)).toBeLessThan(2e-2 * Math.max(1, Math.abs(fd)));
        }
      }
      tf.dispose([z, c, R, gl, gh, bd.l as tf.Tensor, bd.u as tf.Tensor]);
    });

    it('batchNormTrain: values, statistics and gradient', () => {
      const rng = seedrandom(`bn-${backend}`);
      const h = rand(rng, [B, W], -4, 6),
        R = rand(rng, [B, W], -1, 1);
      const fast = valueAndGrads((x) => fastOps.batchNormTrain(x as tf.Tensor2D, 1e-5).y, [h], R);
      const ref = valueAndGrads((x) => referenceOps.batchNormTrain(x as tf.Tensor2D, 1e-5).y, [h], R);
      expect(relErr(fast.y, ref.y)).toBeLessThan(1e-4);
      expect(relErr(fast.grads[0], ref.grads[0])).toBeLessThan(1e-3);
      tf.dispose([h, R, fast.y, ref.y, ...fast.grads, ...ref.grads]);
    });

    it('dense: values and gradients w.r.t. x, W, b (explicit-transpose gradient)', () => {
      const rng = seedrandom(`dense-${backend}`);
      const x = rand(rng, [B, 7], -1, 1),
        w = rand(rng, [7, W], -1, 1),
        b = rand(rng, [W], -1, 1),
        R = rand(rng, [B, W], -1, 1);
      const f = (ops: EngineOps) =>
        valueAndGrads((xx, ww, bb) => ops.dense(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D), [x, w, b], R);
      const fast = f(fastOps),
        ref = f(referenceOps);
      expect(fast.y.shape).toEqual([B, W]);
      expect(relErr(fast.y, ref.y)).toBeLessThan(1e-4);
      fast.grads.forEach((g, i) => expect(relErr(g, ref.grads[i]), `gradient ${i}`).toBeLessThan(1e-3));
      tf.dispose([x, w, b, R, fast.y, ref.y, ...fast.grads, ...ref.grads]);
    });

    it('effectiveCoefficientsFast matches effectiveCoefficientsT (values, gradients w.r.t. a and θ)', () => {
      const rng = seedrandom(`coef-${backend}`);
      const a = rand(rng, [W], -2, 2),
        th = rand(rng, [W, 9], -25, 25),
        R = rand(rng, [W, 10], -1, 1);
      const fast = valueAndGrads(
        (aa, tt) => effectiveCoefficientsFast(aa as tf.Tensor1D, tt as tf.Tensor2D, 0.01),
        [a, th],
        R,
      );
      const ref = valueAndGrads(
        (aa, tt) => effectiveCoefficientsT(aa as tf.Tensor1D, tt as tf.Tensor2D, 0.01),
        [a, th],
        R,
      );
      expect(relErr(fast.y, ref.y)).toBeLessThan(1e-4);
      fast.grads.forEach((g, i) => expect(relErr(g, ref.grads[i]), `gradient ${i}`).toBeLessThan(1e-3));
      tf.dispose([a, th, R, fast.y, ref.y, ...fast.grads, ...ref.grads]);
    });

    it('no tensor leaks over repeated training steps', () => {
      const rng = seedrandom(`leak-${backend}`);
      const x = rand(rng, [B, 7], -1, 1);
      const w = tf.variable(rand(rng, [7, W], -1, 1) as tf.Tensor2D),
        b = tf.variable(tf.zeros([W]) as tf.Tensor1D);
      const a = tf.variable(tf.fill([W], -1) as tf.Tensor1D),
        th = tf.variable(tf.zeros([W, 9]) as tf.Tensor2D);
      const lo = tf.fill([W], -3) as tf.Tensor1D,
        hi = tf.fill([W], 3) as tf.Tensor1D;
      const step = () => {
        const { value, grads } = tf.variableGrads(() => {
          const c = effectiveCoefficientsFast(a, th, 0.01);
          const h = fastOps.dense(x as tf.Tensor2D, w, b);
          const r1 = fastOps.bnBernsteinTrain!(h, c, -5, 5, 1e-5);
          const r2 = fastOps.bnBernsteinTrain!(r1.y, c, lo, hi, 1e-5);
          const r3 = fastOps.bernstein(fastOps.batchNormTrain(r2.y, 1e-5).y, c, lo, 5);
          return tf.sum(tf.square(r3)) as tf.Scalar;
        }, [w, b, a, th]);
        tf.dispose([value, ...Object.values(grads)]);
      };
      step();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) step();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, w, b, a, th, lo, hi]);
    });
  });
}
