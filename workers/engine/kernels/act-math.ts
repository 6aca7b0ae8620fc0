// The fixed activations (relu, leaky_relu, selu, gelu), optionally behind training-mode batch norm, as plain
// loops over Float32Arrays: the bodies of the fused kernels in act.ts. No tfjs here. Semantics follow the
// composed reference (tf.relu / tf.leakyRelu / tf.selu / 0.5·z·(1 + erf(z/√2)) and their tfjs gradients):
// relu′(0) = 0, leaky′(0) = α, selu′(0) = scale·α_selu (tfjs masks with z > 0), erf by tfjs' own
// Abramowitz–Stegun 7.1.26 form so GELU matches the reference to float32 rounding.
//
// Layout: [B, W] row-major, walked row by row with per-unit accumulators in float64 scratch (sequential
// access; JS arithmetic is float64, only storage is float32).
import { columnStats, type Affine } from './bernstein-math.js';

export const ACT_CODES = { relu: 0, leaky_relu: 1, selu: 2, gelu: 3 } as const;
export type ActCode = (typeof ACT_CODES)[keyof typeof ACT_CODES];

// tfjs-core selu_util / erf_util constants (the reference runs on these), written as the doubles they are
// (tfjs spells them 1.7580993408473768599402175208123 and 1.0507009873554804934193349852946).
const SELU_SCALEALPHA = 1.7580993408473768;
const SELU_SCALE = 1.0507009873554805;
const ERF_P = 0.3275911, ERF_A1 = 0.254829592, ERF_A2 = -0.284496736, ERF_A3 = 1.421413741, ERF_A4 = -1.453152027, ERF_A5 = 1.061405429;
const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

function erf(x: number): number {
  const v = Math.abs(x);
  const t = 1 / (1 + ERF_P * v);
  const r = 1 - ((((ERF_A5 * t + ERF_A4) * t + ERF_A3) * t + ERF_A2) * t + ERF_A1) * t * Math.exp(-v * v);
  return x < 0 ? -r : r;
}

/** σ(x). */
function act(code: number, alpha: number, x: number): number {
  switch (code) {
    case 0: return x > 0 ? x : 0;
    case 1: return x < 0 ? alpha * x : x;
    case 2: return x > 0 ? SELU_SCALE * x : SELU_SCALEALPHA * (Math.exp(x) - 1);
    default: return 0.5 * x * (1 + erf(x * INV_SQRT2));
  }
}

/** σ′(x), the subgradient tfjs' autodiff uses at the kinks. */
export function actGrad(code: number, alpha: number, x: number): number {
  switch (code) {
    case 0: return x > 0 ? 1 : 0;
    case 1: return x > 0 ? 1 : alpha;
    case 2: return x > 0 ? SELU_SCALE : SELU_SCALEALPHA * Math.exp(x);
    // d/dx of 0.5·x·(1 + erf(x/√2)) with erf′ = 2/√π·e^{−u²}: Φ(x) + x·φ(x).
    default: return 0.5 * (1 + erf(x * INV_SQRT2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
  }
}

// relu and leaky_relu are written branch-free: max(x, 0) = (x + |x|)/2 and min(x, 0) = (x − |x|)/2 (both exact),
// masks as +(x > 0). After batch norm about half the signs are random: a mispredicted branch per element, or
// V8's Math.max (−0/NaN handling), made these loops 3–4× slower (measured).

/** y = σ(z) over N elements. */
export function actForward(z: Float32Array, N: number, code: number, alpha: number, y: Float32Array): void {
  if (code === 0) for (let i = 0; i < N; i++) { const x = z[i]; y[i] = (x + Math.abs(x)) * 0.5; }
  else if (code === 1) for (let i = 0; i < N; i++) { const x = z[i], a = Math.abs(x); y[i] = (x + a) * 0.5 + alpha * ((x - a) * 0.5); }
  else for (let i = 0; i < N; i++) y[i] = act(code, alpha, z[i]);
}

/** dz = dy·σ′(z). */
export function actBackward(dy: Float32Array, z: Float32Array, N: number, code: number, alpha: number, dz: Float32Array): void {
  if (code === 0) for (let i = 0; i < N; i++) dz[i] = dy[i] * +(z[i] > 0);
  else if (code === 1) for (let i = 0; i < N; i++) { const p = +(z[i] > 0); dz[i] = dy[i] * (p + alpha * (1 - p)); }
  else for (let i = 0; i < N; i++) dz[i] = dy[i] * actGrad(code, alpha, z[i]);
}

// Batch norm works one unit (column) at a time so the per-unit constants and sums stay in locals.

/**
 * y = σ((h − mean)/sqrt(var + eps)) with the batch statistics (biased variance) written to mean/variance [W];
 * with affine batch norm y = σ(γ·x̂ + β).
 */
export function bnActForward(
  h: Float32Array, B: number, W: number, eps: number, code: number, alpha: number,
  y: Float32Array, mean: Float32Array, variance: Float32Array, affine: Affine | null = null,
): void {
  const N = B * W;
  columnStats(h, B, W, mean, variance);
  for (let w = 0; w < W; w++) {
    // Normalise with the stored (float32) statistics, exactly as the backward pass recomputes x̂ from them;
    // x̂ = 0 exactly iff h = mean, as in the reference, so the kinks (relu′(0) = 0, leaky′(0) = α) agree.
    const m = mean[w], sc = 1 / Math.sqrt(variance[w] + eps);
    if (affine !== null) {
      const ga = affine.gamma[w], be = affine.beta[w];
      for (let idx = w; idx < N; idx += W) y[idx] = act(code, alpha, (h[idx] - m) * sc * ga + be);
    } else if (code === 0) {
      for (let idx = w; idx < N; idx += W) { const x = (h[idx] - m) * sc; y[idx] = (x + Math.abs(x)) * 0.5; }
    } else if (code === 1) {
      for (let idx = w; idx < N; idx += W) {
        const x = (h[idx] - m) * sc, a = Math.abs(x);
        y[idx] = (x + a) * 0.5 + alpha * ((x - a) * 0.5);
      }
    } else {
      for (let idx = w; idx < N; idx += W) y[idx] = act(code, alpha, (h[idx] - m) * sc);
    }
  }
}

/**
 * ∂L/∂h of bnActForward (mean/variance not differentiated, as the reference treats them through autodiff of
 * the normalisation): g = dy·σ′(z), dh = γ·istd·(g − mean_b g − x̂·mean_b(g·x̂)) (γ = 1 without affine). g is
 * parked in dh between passes. With affine, grads.gamma/beta receive Σ_b g·x̂ and Σ_b g.
 */
export function bnActBackward(
  dy: Float32Array, h: Float32Array, B: number, W: number, eps: number, code: number, alpha: number,
  mean: Float32Array, variance: Float32Array, dh: Float32Array, affine: Affine | null = null, grads: Affine | null = null,
): void {
  const N = B * W;
  for (let w = 0; w < W; w++) {
    const m = mean[w], sc = 1 / Math.sqrt(variance[w] + eps);
    let sg = 0, sgx = 0;
    if (affine !== null) {
      const ga = affine.gamma[w], be = affine.beta[w];
      for (let idx = w; idx < N; idx += W) {
        const x = (h[idx] - m) * sc;
        const g = dy[idx] * actGrad(code, alpha, x * ga + be);
        dh[idx] = g;
        sg += g;
        sgx += g * x;
      }
    } else if (code === 0) {
      for (let idx = w; idx < N; idx += W) {
        const x = (h[idx] - m) * sc;
        const g = dy[idx] * +(x > 0);
        dh[idx] = g;
        sg += g;
        sgx += g * x;
      }
    } else if (code === 1) {
      for (let idx = w; idx < N; idx += W) {
        const x = (h[idx] - m) * sc, p = +(x > 0);
        const g = dy[idx] * (p + alpha * (1 - p));
        dh[idx] = g;
        sg += g;
        sgx += g * x;
      }
    } else {
      for (let idx = w; idx < N; idx += W) {
        const x = (h[idx] - m) * sc;
        const g = dy[idx] * actGrad(code, alpha, x);
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
    const mg = sg / B, mgx = sgx / B, k = affine === null ? sc : sc * affine.gamma[w];
    for (let idx = w; idx < N; idx += W) dh[idx] = k * (dh[idx] - mg - (h[idx] - m) * sc * mgx);
  }
}
