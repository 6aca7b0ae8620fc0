// The paper's dead-neuron reading (its figure 3: "the average dead neuron percentage over the last epoch"),
// taken inside the training step: per mini-batch, the units whose |σ′(z)| < τ on EVERY sample of that batch.
// Plain loops over Float32Arrays (no tfjs), run on views of tensors the step already has (z, or the fused
// kernels' input h with their batch statistics), so the reading costs no extra kernel and no device sync.
// A unit is decided alive at its first sample with |σ′| ≥ τ, so a healthy layer costs ~W derivative
// evaluations, a dead one B (a fully dead layer B·W, still ≪ the layer's matmul, B·W·W).
import { actGrad } from './kernels/act-math.js';

/** Training-mode batch norm folded into the reading: z = ((h − mean)·1/√(var + eps))·gamma + beta. */
export interface ColumnNorm {
  mean: Float32Array;
  variance: Float32Array;
  eps: number;
  /** Affine batch norm's scale and shift per unit ([W]); absent = no affine part. */
  gamma?: Float32Array | null;
  beta?: Float32Array | null;
}

interface Normalizer {
  m: number;
  sc: number;
  g: number;
  b: number;
}
// One object reused for every unit: a fresh one per unit and layer was the step's largest JS allocation (~440 KB
// per step of the depth-50 net), and every scavenge it caused stalls a data-parallel run's other threads.
const unit: Normalizer = { m: 0, sc: 1, g: 1, b: 0 };

/** Per-unit z of element idx in column w (the same float64 arithmetic as the fused forward kernels). */
function normalizer(norm: ColumnNorm | null, w: number): Normalizer {
  unit.m = norm ? norm.mean[w] : 0;
  unit.sc = norm ? 1 / Math.sqrt(norm.variance[w] + norm.eps) : 1;
  unit.g = norm?.gamma ? norm.gamma[w] : 1;
  unit.b = norm?.beta ? norm.beta[w] : 0;
  return unit;
}

/**
 * Dead units of a fixed activation (code as ACT_CODES: relu 0, leaky_relu 1, selu 2, gelu 3) over a batch
 * src [B, W] (z itself when norm is null). Same σ′ and kink conventions as the fused backward kernels.
 */
export function deadUnitsFixed(
  src: Float32Array,
  B: number,
  W: number,
  norm: ColumnNorm | null,
  code: number,
  alpha: number,
  tau: number,
  alive: Uint8Array | null = null,
): number {
  const N = B * W;
  // Leaky ReLU: σ' ∈ {α, 1}; with α ≥ τ no unit can die (τ ≤ 1), else it dies iff z ≤ 0 throughout, as ReLU.
  if (code === 1 && alpha >= tau) {
    alive?.fill(1, 0, W);
    return 0;
  }
  // ReLU-type: σ' = 1 ≥ τ iff z > 0 (the kernels' subgradient at 0 is the lower branch): no σ' call needed.
  const rectifier = (code === 0 || code === 1) && tau <= 1;
  let dead = 0;
  for (let w = 0; w < W; w++) {
    const { m, sc, g, b } = normalizer(norm, w);
    let isAlive = false;
    // Column by column, so a unit stops at its first live sample (measured: cheaper than a memory-order
    // walk over the whole batch, which every partly dead layer would need).
    if (rectifier) {
      for (let idx = w; idx < N; idx += W) {
        if ((norm ? (src[idx] - m) * sc * g + b : src[idx]) > 0) {
          isAlive = true;
          break;
        }
      }
    } else {
      for (let idx = w; idx < N; idx += W) {
        const z = norm ? (src[idx] - m) * sc * g + b : src[idx];
        if (Math.abs(actGrad(code, alpha, z)) >= tau) {
          isAlive = true;
          break;
        }
      }
    }
    if (!isAlive) dead++;
    if (alive) alive[w] = isAlive ? 1 : 0;
  }
  return dead;
}

/** C(n−1,k)·n, k = 0..n−1: the derivative's basis weights (cached per degree). */
const derivWeights = new Map<number, Float64Array>();
function weightsFor(n: number): Float64Array {
  let d = derivWeights.get(n);
  if (!d) {
    d = new Float64Array(Math.max(n, 1));
    let c = 1;
    for (let k = 0; k < n; k++) {
      d[k] = n * c;
      c = (c * (n - 1 - k)) / (k + 1);
    }
    derivWeights.set(n, d);
  }
  return d;
}
let diffs = new Float64Array(64);

/**
 * Dead units of a Bernstein layer: coefficients [W, n+1], bounds of length 1 (shared) or W. σ′ = 0 outside
 * [l,u] (the clamp) and, inside (inclusive, as the backward kernel), n/(u−l)·Σ (c_{k+1}−c_k)·b_{k,n−1}(t).
 */
export function deadUnitsBernstein(
  src: Float32Array,
  B: number,
  W: number,
  norm: ColumnNorm | null,
  coeffs: Float32Array,
  n: number,
  lo: Float32Array,
  hi: Float32Array,
  tau: number,
  alive: Uint8Array | null = null,
): number {
  const N = B * W,
    n1 = n + 1;
  const ls = lo.length === 1 ? 0 : 1,
    hs = hi.length === 1 ? 0 : 1;
  const bw = weightsFor(n);
  if (diffs.length < n) diffs = new Float64Array(n);
  let dead = 0;
  for (let w = 0; w < W; w++) {
    const { m, sc, g, b } = normalizer(norm, w);
    const l = lo[w * ls],
      u = hi[w * hs],
      inv = 1 / (u - l);
    for (let k = 0; k < n; k++) diffs[k] = bw[k] * (coeffs[w * n1 + k + 1] - coeffs[w * n1 + k]);
    let isAlive = false;
    for (let idx = w; idx < N && n > 0; idx += W) {
      const x = norm ? (src[idx] - m) * sc * g + b : src[idx];
      if (!(x >= l && x <= u)) continue; // clamped: σ′ = 0
      const t = (x - l) * inv,
        s = 1 - t;
      // Σ_k d_k t^k s^(n−1−k), Horner in the ratio ≤ 1 (as the kernels), times the larger base's power.
      let p: number, base: number;
      if (t <= 0.5) {
        const r = t / s;
        p = diffs[n - 1];
        for (let k = n - 2; k >= 0; k--) p = p * r + diffs[k];
        base = s;
      } else {
        const r = s / t;
        p = diffs[0];
        for (let k = 1; k < n; k++) p = p * r + diffs[k];
        base = t;
      }
      let pw = 1;
      for (let k = 1; k < n; k++) pw *= base;
      if (Math.abs(p * pw * inv) >= tau) {
        isAlive = true;
        break;
      }
    }
    if (!isAlive) dead++;
    if (alive) alive[w] = isAlive ? 1 : 0;
  }
  return dead;
}
