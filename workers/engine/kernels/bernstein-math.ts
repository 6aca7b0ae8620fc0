// The Bernstein activation (optionally behind training-mode batch norm) as plain loops over Float32Arrays:
// the bodies of the fused kernels registered in register.ts. No tfjs here, so it is testable on its own.
//
// Layout: activations are [B, W] row-major; coefficients [W, n+1]; bounds arrays of length 1 (shared) or W.
// Work is done one unit (column) at a time so per-unit constants and the n+1 coefficient-gradient sums stay
// in locals. JS arithmetic is float64, so only storage is float32.
//
// Numerics (O(n) per element, no cancellation-prone power form): with s = 1 − t,
//   t ≤ ½:  σ = sⁿ · Σ_k C(n,k)c_k r^k,  r = t/s ≤ 1  (Horner in r)
//   t > ½:  σ = tⁿ · Σ_k C(n,k)c_k ρ^(n−k), ρ = s/t ≤ 1  (mirrored Horner)
// and the basis values b_k for the coefficient gradient come from the ratio b_{k+1}/b_k = (n−k)/(k+1)·r,
// walked from the end whose base power is largest. Both are as stable as de Casteljau (all ratios ≤ 1).

/** Batch-norm statistics of one kernel call; mean/variance are [W] (biased variance). */
export interface ColumnStats {
  mean: Float32Array;
  variance: Float32Array;
}

/** Affine batch-norm parameters per unit [W]: z = γ·x̂ + β. */
export interface Affine {
  gamma: Float32Array;
  beta: Float32Array;
}

import { columnBackward, columnForward } from './bernstein-codegen.js';
import { activeCollective } from './collective.js';
import {
  SIMD_MAX_DEGREE,
  simdBernsteinBackward,
  simdBernsteinForward,
  simdBnApply,
  simdColumnSums,
  simdFor,
} from './bn-simd.js';

// Scratch reused across calls (one JS thread per worker, kernels do not re-enter).
const scratchBufs = [new Float64Array(64), new Float64Array(64), new Float64Array(64)];
function scratch(size: number, which: 0 | 1 | 2): Float64Array {
  if (scratchBufs[which].length < size) scratchBufs[which] = new Float64Array(size);
  return scratchBufs[which];
}

const binomCache = new Map<number, Float64Array>();
/** C(n,k), k = 0..n, in float64. */
function binomials(n: number): Float64Array {
  let b = binomCache.get(n);
  if (!b) {
    b = new Float64Array(n + 1);
    b[0] = 1;
    for (let k = 1; k <= n; k++) b[k] = (b[k - 1] * (n - k + 1)) / k;
    binomCache.set(n, b);
  }
  return b;
}

/** Per-unit mean and biased variance of h [B, W] (two passes: stable for large means). */
export function columnStats(h: Float32Array, B: number, W: number, mean: Float32Array, variance: Float32Array): void {
  // One pass of Σh and Σh² in float64 (accumulators in locals, column by column): float32 inputs leave ~29
  // spare bits, so the cancellation in E[h²] − E[h]² only matters for |mean|/std beyond ~10⁴.
  const N = B * W;
  const part = scratch(2 * W, 2);
  const simd = simdFor(W, h);
  if (simd) simdColumnSums(simd, h, B, W, part);
  else {
    for (let w = 0; w < W; w++) {
      let s1 = 0,
        s2 = 0;
      for (let idx = w; idx < N; idx += W) {
        const v = h[idx];
        s1 += v;
        s2 += v * v;
      }
      part[w] = s1;
      part[W + w] = s2;
    }
  }
  // A replica's slice: the per-unit sums over every slice (in rank order), divided by the whole batch's rows.
  const group = activeCollective();
  const tot = group ? group.allReduce(part, 2 * W) : part,
    R = group ? group.batchRows : B;
  for (let w = 0; w < W; w++) {
    const m = tot[w] / R;
    mean[w] = m;
    variance[w] = Math.max(tot[W + w] / R - m * m, 0);
  }
}

/** y = (h − mean)/sqrt(var + eps), plain batch norm (used by non-Bernstein nets). */
export function batchNormForward(
  h: Float32Array,
  B: number,
  W: number,
  eps: number,
  y: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
): void {
  columnStats(h, B, W, mean, variance);
  const N = B * W;
  for (let w = 0; w < W; w++) {
    const m = mean[w],
      sc = 1 / Math.sqrt(variance[w] + eps);
    for (let idx = w; idx < N; idx += W) y[idx] = (h[idx] - m) * sc;
  }
}

/** dh = istd·(g − mean_b g − x̂·mean_b(g·x̂)), g = dy: the batch-norm backward (mean/var not differentiated). */
export function batchNormBackward(
  dy: Float32Array,
  h: Float32Array,
  B: number,
  W: number,
  eps: number,
  mean: Float32Array,
  variance: Float32Array,
  dh: Float32Array,
): void {
  const N = B * W;
  const group = activeCollective();
  let tot: Float64Array | null = null;
  if (group) {
    // A replica's slice: the sums over the whole batch first (one exchange for all units), then the update.
    const part = scratch(2 * W, 2);
    for (let w = 0; w < W; w++) {
      const m = mean[w];
      let sg = 0,
        sgx = 0;
      for (let idx = w; idx < N; idx += W) {
        const g = dy[idx];
        sg += g;
        sgx += g * (h[idx] - m);
      }
      part[w] = sg;
      part[W + w] = sgx;
    }
    tot = group.allReduce(part, 2 * W);
  }
  const R = group ? group.batchRows : B;
  for (let w = 0; w < W; w++) {
    const m = mean[w],
      sc = 1 / Math.sqrt(variance[w] + eps);
    let sg = 0,
      sgx = 0;
    if (tot) {
      sg = tot[w];
      sgx = tot[W + w];
    } else {
      for (let idx = w; idx < N; idx += W) {
        const g = dy[idx];
        sg += g;
        sgx += g * (h[idx] - m);
      }
    }
    const mg = sg / R,
      k = (sgx * sc * sc) / R;
    for (let idx = w; idx < N; idx += W) dh[idx] = sc * (dy[idx] - mg - (h[idx] - m) * k);
  }
}

/**
 * σ over [B, W]: y = σ_w((src − shift_w)·scale_w·γ_w + β_w). Plain activation: shift = 0, scale = 1 (pass
 * null); fused batch norm: shift = mean, scale = 1/sqrt(var + eps); affine batch norm adds γ, β.
 */
export function bernsteinForward(
  src: Float32Array,
  B: number,
  W: number,
  coeffs: Float32Array,
  n: number,
  lo: Float32Array,
  hi: Float32Array,
  shift: Float32Array | null,
  scale: Float64Array | null,
  y: Float32Array,
  affine: Affine | null = null,
): void {
  const n1 = n + 1;
  const simd = n <= SIMD_MAX_DEGREE ? simdFor(W, src, y) : null;
  if (simd) {
    const col = { shift, scale, gamma: affine?.gamma ?? null, beta: affine?.beta ?? null, lo, hi };
    simdBernsteinForward(simd, src, B, W, coeffs, n, binomials(n), col, y);
    return;
  }
  const ls = lo.length === 1 ? 0 : 1,
    hs = hi.length === 1 ? 0 : 1;
  const gen = columnForward(n);
  if (gen) {
    for (let w = 0; w < W; w++) {
      gen(
        src,
        y,
        B * W,
        W,
        w,
        coeffs,
        w * n1,
        lo[w * ls],
        hi[w * hs],
        shift === null ? 0 : shift[w],
        scale === null ? 1 : scale[w],
        affine === null ? 1 : affine.gamma[w],
        affine === null ? 0 : affine.beta[w],
      );
    }
    return;
  }
  const binom = binomials(n);
  const cb = scratch(n1, 1);
  for (let w = 0; w < W; w++) {
    for (let k = 0; k < n1; k++) cb[k] = binom[k] * coeffs[w * n1 + k];
    const l = lo[w * ls],
      u = hi[w * hs],
      inv = 1 / (u - l);
    const mu = shift === null ? 0 : shift[w],
      sc = scale === null ? 1 : scale[w];
    const ga = affine === null ? 1 : affine.gamma[w],
      be = affine === null ? 0 : affine.beta[w];
    for (let idx = w; idx < B * W; idx += W) {
      const x = (src[idx] - mu) * sc * ga + be;
      const t = x <= l ? 0 : x >= u ? 1 : (x - l) * inv;
      const s = 1 - t;
      let p: number, base: number;
      if (t <= 0.5) {
        const r = t / s;
        p = cb[n];
        for (let k = n - 1; k >= 0; k--) p = p * r + cb[k];
        base = s;
      } else {
        const r = s / t;
        p = cb[0];
        for (let k = 1; k <= n; k++) p = p * r + cb[k];
        base = t;
      }
      let pw = 1;
      for (let k = 0; k < n; k++) pw *= base;
      y[idx] = p * pw;
    }
  }
}

/** Where the per-element gradient g = ∂L/∂x (x the normalised input of σ) goes, and the bound gradients. */
export interface BernsteinGrads {
  /** ∂L/∂x per element [B, W] (for the fused op this holds g before the batch-norm backward). */
  gx: Float32Array;
  /** ∂L/∂c [W, n+1]. */
  gc: Float32Array;
  /** ∂L/∂lo, ∂L/∂hi ([W] or [1]); null when the bounds are constants. */
  gl: Float32Array | null;
  gh: Float32Array | null;
  /** If given ([2W]), receives Σ_b gx and Σ_b gx·x̂ per unit (x̂ before the affine part; saves a pass). */
  sums?: Float64Array | null;
}

/**
 * Backward of bernsteinForward w.r.t. its input x (0 outside [l,u], inclusive inside: the clamp's gradient),
 * the coefficients, and optionally the bounds. dy [B, W].
 */
export function bernsteinBackward(
  dy: Float32Array,
  src: Float32Array,
  B: number,
  W: number,
  coeffs: Float32Array,
  n: number,
  lo: Float32Array,
  hi: Float32Array,
  shift: Float32Array | null,
  scale: Float64Array | null,
  out: BernsteinGrads,
  affine: Affine | null = null,
): void {
  const n1 = n + 1;
  const binom1 = binomials(Math.max(n - 1, 0));
  const acc = scratch(n1, 0);
  const db = scratch(n1, 1);
  const ls = lo.length === 1 ? 0 : 1,
    hs = hi.length === 1 ? 0 : 1;
  const { gx, gc, gl, gh } = out;
  if (gl) gl.fill(0);
  if (gh) gh.fill(0);
  const simd = n <= SIMD_MAX_DEGREE ? simdFor(W, dy, src, gx) : null;
  if (simd) {
    const col = { shift, scale, gamma: affine?.gamma ?? null, beta: affine?.beta ?? null, lo, hi };
    simdBernsteinBackward(simd, dy, src, B, W, coeffs, n, binomials(n), binom1, col, gx, gc, gl, gh, out.sums ?? null);
    return;
  }
  const gen = columnBackward(n);
  if (gen) {
    const a = scratch(n + 5, 0);
    const sums = out.sums ?? null;
    for (let w = 0; w < W; w++) {
      gen(
        dy,
        src,
        gx,
        B * W,
        W,
        w,
        coeffs,
        w * n1,
        lo[w * ls],
        hi[w * hs],
        shift === null ? 0 : shift[w],
        scale === null ? 1 : scale[w],
        affine === null ? 1 : affine.gamma[w],
        affine === null ? 0 : affine.beta[w],
        a,
      );
      for (let k = 0; k < n1; k++) gc[w * n1 + k] = a[k];
      if (gl) gl[w * ls] += a[n1];
      if (gh) gh[w * hs] += a[n1 + 1];
      if (sums) {
        sums[w] = a[n1 + 2];
        sums[W + w] = a[n1 + 3];
      }
    }
    return;
  }
  for (let w = 0; w < W; w++) {
    // dσ/dt = Σ_k n·C(n−1,k)(c_{k+1} − c_k) t^k s^(n−1−k)
    for (let k = 0; k < n; k++) db[k] = n * binom1[k] * (coeffs[w * n1 + k + 1] - coeffs[w * n1 + k]);
    acc.fill(0, 0, n1);
    const l = lo[w * ls],
      u = hi[w * hs],
      inv = 1 / (u - l);
    const mu = shift === null ? 0 : shift[w],
      sc = scale === null ? 1 : scale[w];
    const ga = affine === null ? 1 : affine.gamma[w],
      be = affine === null ? 0 : affine.beta[w];
    let accL = 0,
      accH = 0;
    for (let idx = w; idx < B * W; idx += W) {
      const g = dy[idx];
      const x = (src[idx] - mu) * sc * ga + be;
      const inside = x >= l && x <= u;
      const t = x <= l ? 0 : x >= u ? 1 : (x - l) * inv;
      const s = 1 - t;
      let dsdt = 0;
      if (t <= 0.5) {
        const r = t / s;
        let pw = 1; // s^(n−1)
        for (let k = 1; k < n; k++) pw *= s;
        // basis b_k = C(n,k) t^k s^(n−k), walked up from b_0 = sⁿ
        let bk = g * pw * s;
        for (let k = 0; k < n; k++) {
          acc[k] += bk;
          bk *= (r * (n - k)) / (k + 1);
        }
        acc[n] += bk;
        if (inside && n > 0) {
          let p = db[n - 1];
          for (let k = n - 2; k >= 0; k--) p = p * r + db[k];
          dsdt = p * pw;
        }
      } else {
        const r = s / t;
        let pw = 1; // t^(n−1)
        for (let k = 1; k < n; k++) pw *= t;
        let bk = g * pw * t; // b_n = tⁿ, walked down
        for (let k = n; k > 0; k--) {
          acc[k] += bk;
          bk *= (r * k) / (n - k + 1);
        }
        acc[0] += bk;
        if (inside && n > 0) {
          let p = db[0];
          for (let k = 1; k < n; k++) p = p * r + db[k];
          dsdt = p * pw;
        }
      }
      const gxv = g * dsdt * inv;
      gx[idx] = gxv;
      if (inside) {
        // t = (x − l)/(u − l): ∂t/∂l = (t − 1)/(u − l), ∂t/∂u = −t/(u − l).
        accL += gxv * (t - 1);
        accH -= gxv * t;
      }
    }
    for (let k = 0; k < n1; k++) gc[w * n1 + k] = acc[k];
    if (gl) gl[w * ls] += accL;
    if (gh) gh[w * hs] += accH;
  }
}

/** Fused training batch norm → Bernstein forward. Fills y [B, W] and the batch statistics. */
export function bnBernsteinForward(
  h: Float32Array,
  B: number,
  W: number,
  coeffs: Float32Array,
  n: number,
  lo: Float32Array,
  hi: Float32Array,
  eps: number,
  y: Float32Array,
  stats: ColumnStats,
  affine: Affine | null = null,
): void {
  columnStats(h, B, W, stats.mean, stats.variance);
  const istd = inverseStd(stats.variance, eps);
  bernsteinForward(h, B, W, coeffs, n, lo, hi, stats.mean, istd, y, affine);
}

let istdBuf = new Float64Array(64);
function inverseStd(variance: Float32Array, eps: number): Float64Array {
  if (istdBuf.length < variance.length) istdBuf = new Float64Array(variance.length);
  for (let w = 0; w < variance.length; w++) istdBuf[w] = 1 / Math.sqrt(variance[w] + eps);
  return istdBuf;
}

/**
 * Backward of bnBernsteinForward: out.gx receives ∂L/∂h (overwritten in place after the Bernstein pass); with
 * affine batch norm, grads.gamma/beta [W] receive ∂L/∂γ = Σ_b g·x̂ and ∂L/∂β = Σ_b g (g = ∂L/∂z).
 */
export function bnBernsteinBackward(
  dy: Float32Array,
  h: Float32Array,
  B: number,
  W: number,
  coeffs: Float32Array,
  n: number,
  lo: Float32Array,
  hi: Float32Array,
  eps: number,
  stats: ColumnStats,
  out: BernsteinGrads,
  affine: Affine | null = null,
  affineGrads: Affine | null = null,
): void {
  const istd = inverseStd(stats.variance, eps);
  const sums = scratch(2 * W, 2).fill(NaN, 0, 2 * W);
  bernsteinBackward(dy, h, B, W, coeffs, n, lo, hi, stats.mean, istd, { ...out, sums }, affine);
  const g = out.gx;
  // Σg, Σg·x̂ per unit over this batch (or replica slice): the SIMD body fills them, the generic path does not.
  for (let w = 0; w < W; w++) {
    if (!Number.isNaN(sums[w])) continue;
    const mu = stats.mean[w],
      sc = istd[w];
    let sg = 0,
      sgx = 0;
    for (let idx = w; idx < B * W; idx += W) {
      const gv = g[idx];
      sg += gv;
      sgx += gv * (h[idx] - mu) * sc;
    }
    sums[w] = sg;
    sums[W + w] = sgx;
  }
  // ∂L/∂γ, ∂L/∂β from the local sums (a replica's are summed afterwards like every other parameter's gradient).
  if (affineGrads) {
    for (let w = 0; w < W; w++) {
      affineGrads.gamma[w] = sums[W + w];
      affineGrads.beta[w] = sums[w];
    }
  }
  // A replica's slice: one exchange turns them into the whole batch's sums.
  const group = activeCollective();
  if (group) sums.set(group.allReduce(sums, 2 * W).subarray(0, 2 * W));
  const R = group ? group.batchRows : B;
  // Batch-norm backward on g = ∂L/∂x̂, column by column (x̂ recomputed: cheaper than storing it).
  // ∂L/∂x̂ = γ·g, so the batch-norm backward below scales by γ.
  const simd = simdFor(W, g, h);
  if (simd) {
    simdBnApply(simd, g, h, B, W, R, stats.mean, istd, affine === null ? null : affine.gamma, sums);
    return;
  }
  for (let w = 0; w < W; w++) {
    const mu = stats.mean[w],
      sc = istd[w];
    const mg = sums[w] / R,
      mgx = sums[W + w] / R,
      k = affine === null ? sc : sc * affine.gamma[w];
    for (let idx = w; idx < B * W; idx += W) g[idx] = k * (g[idx] - mg - (h[idx] - mu) * sc * mgx);
  }
}
