// The fixed activations (relu, leaky_relu, selu, gelu), optionally behind training-mode batch norm, as plain
// loops over Float32Arrays: the bodies of the fused kernels in act.ts. The scalar σ/σ′ come from the engine's activation table (activations.ts). Semantics follow the
// composed reference (tf.relu / tf.leakyRelu / tf.selu / 0.5·z·(1 + erf(z/√2)) and their tfjs gradients):
// relu′(0) = 0, leaky′(0) = α, selu′(0) = scale·α_selu (tfjs masks with z > 0), erf by tfjs' own
// Abramowitz–Stegun 7.1.26 form so GELU matches the reference to float32 rounding.
//
// Layout: [B, W] row-major, walked row by row with per-unit accumulators in float64 scratch (sequential
// access; JS arithmetic is float64, only storage is float32).
import { FIXED_ACTIVATIONS, type FixedActivation } from '../../../shared/activations.js';
import { ENGINE_ACTIVATIONS, type EngineActivation } from '../activations.js';
import { columnStats, type Affine } from './bernstein-math.js';
import { activeCollective, type Collective } from './collective.js';
import { simdBnReluBackward, simdBnReluForward, simdFor } from './bn-simd.js';

/** The kernels' integer attribute for each fixed activation (its index in the shared table). */
export const ACT_CODES = Object.fromEntries(FIXED_ACTIVATIONS.map((k, i) => [k, i])) as Record<FixedActivation, number>;
const KERNELS = FIXED_ACTIVATIONS.map((k) => ENGINE_ACTIVATIONS[k].kernel);
// relu and leaky_relu also have hand-written loops below; every activation runs through its table entry otherwise.
const RELU = ACT_CODES.relu,
  LEAKY = ACT_CODES.leaky_relu;

/** σ and σ′ of a kernel code (looked up once per call, outside the loops). */
function kernelOf(code: number): EngineActivation['kernel'] {
  const k = KERNELS[code];
  if (!k) throw new Error(`unknown activation code ${code}`);
  return k;
}

/** σ′(x) of a kernel code, one element (dead-unit counting; the loops below hoist kernelOf instead). */
export function actGrad(code: number, alpha: number, x: number): number {
  return kernelOf(code).grad(x, alpha);
}

// relu and leaky_relu are written branch-free: max(x, 0) = (x + |x|)/2 and min(x, 0) = (x − |x|)/2 (both exact),
// masks as +(x > 0). After batch norm about half the signs are random: a mispredicted branch per element, or
// V8's Math.max (−0/NaN handling), made these loops 3–4× slower (measured).

/** y = σ(z) over N elements. */
export function actForward(z: Float32Array, N: number, code: number, alpha: number, y: Float32Array): void {
  const { act } = kernelOf(code);
  if (code === RELU)
    for (let i = 0; i < N; i++) {
      const x = z[i];
      y[i] = (x + Math.abs(x)) * 0.5;
    }
  else if (code === LEAKY)
    for (let i = 0; i < N; i++) {
      const x = z[i],
        a = Math.abs(x);
      y[i] = (x + a) * 0.5 + alpha * ((x - a) * 0.5);
    }
  else for (let i = 0; i < N; i++) y[i] = act(z[i], alpha);
}

/** dz = dy·σ′(z). */
export function actBackward(
  dy: Float32Array,
  z: Float32Array,
  N: number,
  code: number,
  alpha: number,
  dz: Float32Array,
): void {
  const { grad } = kernelOf(code);
  if (code === RELU) for (let i = 0; i < N; i++) dz[i] = dy[i] * +(z[i] > 0);
  else if (code === LEAKY)
    for (let i = 0; i < N; i++) {
      const p = +(z[i] > 0);
      dz[i] = dy[i] * (p + alpha * (1 - p));
    }
  else for (let i = 0; i < N; i++) dz[i] = dy[i] * grad(z[i], alpha);
}

// Batch norm works one unit (column) at a time so the per-unit constants and sums stay in locals.

/**
 * y = σ((h − mean)/sqrt(var + eps)) with the batch statistics (biased variance) written to mean/variance [W];
 * with affine batch norm y = σ(γ·x̂ + β).
 */
export function bnActForward(
  h: Float32Array,
  B: number,
  W: number,
  eps: number,
  code: number,
  alpha: number,
  y: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
  affine: Affine | null = null,
): void {
  const { act } = kernelOf(code);
  const N = B * W;
  columnStats(h, B, W, mean, variance);
  const simd = code === RELU && affine === null ? simdFor(W, h, y) : null;
  if (simd) return simdBnReluForward(simd, h, B, W, eps, mean, variance, y);
  for (let w = 0; w < W; w++) {
    // Normalise with the stored (float32) statistics, exactly as the backward pass recomputes x̂ from them;
    // x̂ = 0 exactly iff h = mean, as in the reference, so the kinks (relu′(0) = 0, leaky′(0) = α) agree.
    const m = mean[w],
      sc = 1 / Math.sqrt(variance[w] + eps);
    if (affine !== null) {
      const ga = affine.gamma[w],
        be = affine.beta[w];
      if (code === RELU) {
        for (let idx = w; idx < N; idx += W) {
          const x = (h[idx] - m) * sc * ga + be;
          y[idx] = (x + Math.abs(x)) * 0.5;
        }
      } else if (code === LEAKY) {
        for (let idx = w; idx < N; idx += W) {
          const x = (h[idx] - m) * sc * ga + be,
            a = Math.abs(x);
          y[idx] = (x + a) * 0.5 + alpha * ((x - a) * 0.5);
        }
      } else {
        for (let idx = w; idx < N; idx += W) y[idx] = act((h[idx] - m) * sc * ga + be, alpha);
      }
    } else if (code === RELU) {
      for (let idx = w; idx < N; idx += W) {
        const x = (h[idx] - m) * sc;
        y[idx] = (x + Math.abs(x)) * 0.5;
      }
    } else if (code === LEAKY) {
      for (let idx = w; idx < N; idx += W) {
        const x = (h[idx] - m) * sc,
          a = Math.abs(x);
        y[idx] = (x + a) * 0.5 + alpha * ((x - a) * 0.5);
      }
    } else {
      for (let idx = w; idx < N; idx += W) y[idx] = act((h[idx] - m) * sc, alpha);
    }
  }
}

/**
 * ∂L/∂h of bnActForward (mean/variance not differentiated, as the reference treats them through autodiff of
 * the normalisation): g = dy·σ′(z), dh = γ·istd·(g − mean_b g − x̂·mean_b(g·x̂)) (γ = 1 without affine). g is
 * parked in dh between passes. With affine, grads.gamma/beta receive Σ_b g·x̂ and Σ_b g.
 */
export function bnActBackward(
  dy: Float32Array,
  h: Float32Array,
  B: number,
  W: number,
  eps: number,
  code: number,
  alpha: number,
  mean: Float32Array,
  variance: Float32Array,
  dh: Float32Array,
  affine: Affine | null = null,
  grads: Affine | null = null,
): void {
  const { grad } = kernelOf(code);
  const N = B * W;
  const group = activeCollective();
  const simd = code === RELU && affine === null ? simdFor(W, dy, h, dh) : null;
  if (simd) return simdBnReluBackward(simd, dy, h, B, W, eps, mean, variance, dh, group);
  if (group) return bnActBackwardSlice(group, dy, h, B, W, eps, code, alpha, mean, variance, dh, affine, grads);
  for (let w = 0; w < W; w++) {
    const m = mean[w],
      sc = 1 / Math.sqrt(variance[w] + eps);
    let sg = 0,
      sgx = 0;
    if (affine !== null) {
      const ga = affine.gamma[w],
        be = affine.beta[w];
      for (let idx = w; idx < N; idx += W) {
        const x = (h[idx] - m) * sc,
          z = x * ga + be;
        // relu / leaky masks branch-free, as below
        const g =
          code === RELU
            ? dy[idx] * +(z > 0)
            : code === LEAKY
              ? dy[idx] * (+(z > 0) + alpha * (1 - +(z > 0)))
              : dy[idx] * grad(z, alpha);
        dh[idx] = g;
        sg += g;
        sgx += g * x;
      }
    } else if (code === RELU) {
      for (let idx = w; idx < N; idx += W) {
        const x = (h[idx] - m) * sc;
        const g = dy[idx] * +(x > 0);
        dh[idx] = g;
        sg += g;
        sgx += g * x;
      }
    } else if (code === LEAKY) {
      for (let idx = w; idx < N; idx += W) {
        const x = (h[idx] - m) * sc,
          p = +(x > 0);
        const g = dy[idx] * (p + alpha * (1 - p));
        dh[idx] = g;
        sg += g;
        sgx += g * x;
      }
    } else {
      for (let idx = w; idx < N; idx += W) {
        const x = (h[idx] - m) * sc;
        const g = dy[idx] * grad(x, alpha);
        dh[idx] = g;
        sg += g;
        sgx += g * x;
      }
    }
    if (grads !== null) {
      grads.gamma[w] = sgx;
      grads.beta[w] = sg;
    }
    // dh holds g rounded to float32; the sums used float64 g (differences ≪ the 1e-3 gradient tolerance).
    const mg = sg / B,
      mgx = sgx / B,
      k = affine === null ? sc : sc * affine.gamma[w];
    for (let idx = w; idx < N; idx += W) dh[idx] = k * (dh[idx] - mg - (h[idx] - m) * sc * mgx);
  }
}

let sliceSums = new Float64Array(64);

/**
 * bnActBackward on one replica's slice of a batch (workers/engine/threads/): g for every unit first, then one
 * exchange of the per-unit sums so the update uses the whole batch's; γ, β receive this slice's sums (the
 * replicas' gradients are summed afterwards). Same arithmetic per element as bnActBackward.
 */
function bnActBackwardSlice(
  group: Collective,
  dy: Float32Array,
  h: Float32Array,
  B: number,
  W: number,
  eps: number,
  code: number,
  alpha: number,
  mean: Float32Array,
  variance: Float32Array,
  dh: Float32Array,
  affine: Affine | null,
  grads: Affine | null,
): void {
  const { grad } = kernelOf(code);
  const N = B * W;
  if (sliceSums.length < 2 * W) sliceSums = new Float64Array(2 * W);
  const part = sliceSums;
  for (let w = 0; w < W; w++) {
    const m = mean[w],
      sc = 1 / Math.sqrt(variance[w] + eps);
    const ga = affine === null ? 1 : affine.gamma[w],
      be = affine === null ? 0 : affine.beta[w];
    let sg = 0,
      sgx = 0;
    for (let idx = w; idx < N; idx += W) {
      const x = (h[idx] - m) * sc,
        z = affine === null ? x : x * ga + be;
      const g =
        code === RELU
          ? dy[idx] * +(z > 0)
          : code === LEAKY
            ? dy[idx] * (+(z > 0) + alpha * (1 - +(z > 0)))
            : dy[idx] * grad(z, alpha);
      dh[idx] = g;
      sg += g;
      sgx += g * x;
    }
    part[w] = sg;
    part[W + w] = sgx;
    if (grads !== null) {
      grads.gamma[w] = sgx;
      grads.beta[w] = sg;
    }
  }
  const tot = group.allReduce(part, 2 * W),
    R = group.batchRows;
  for (let w = 0; w < W; w++) {
    const m = mean[w],
      sc = 1 / Math.sqrt(variance[w] + eps);
    const mg = tot[w] / R,
      mgx = tot[W + w] / R,
      k = affine === null ? sc : sc * affine.gamma[w];
    for (let idx = w; idx < N; idx += W) dh[idx] = k * (dh[idx] - mg - (h[idx] - m) * sc * mgx);
  }
}
