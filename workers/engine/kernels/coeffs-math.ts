// The effective coefficients' loops (coeffs.ts runs them as kernels; the fused batch-norm → Bernstein backward in
// register.ts runs the backward too): c_0 = a, c_k = c_{k−1} + softplus(θ_k) + ε and
//   ∂L/∂a = Σ_k ∂L/∂c_k,   ∂L/∂θ_j = sigmoid(θ_j) · Σ_{k ≥ j} ∂L/∂c_k.
import { simdCoefficients, simdSigmoid } from './bn-simd.js';

function softplus(x: number): number {
  return x > 20 ? x : Math.log1p(Math.exp(x));
}

// Loops in top-level functions with explicit arguments (V8 optimises them better than fresh closures).
function forwardLoop(av: Float32Array, th: Float32Array, c: Float32Array, W: number, n: number, eps: number): void {
  for (let w = 0; w < W; w++) {
    let acc = av[w];
    c[w * (n + 1)] = acc;
    for (let k = 0; k < n; k++) {
      acc += softplus(th[w * n + k]) + eps;
      c[w * (n + 1) + k + 1] = acc;
    }
  }
}

/**
 * The backward's sums: Σ_{k ≥ j} ∂L/∂c_k from the end (float64) times sig[j] (sigmoid(θ_j)) into gt; sig may be
 * gt itself.
 */
function tailLoop(
  g: Float32Array,
  sig: Float32Array | Float64Array,
  ga: Float32Array,
  gt: Float32Array,
  W: number,
  n: number,
): void {
  for (let w = 0; w < W; w++) {
    let tail = 0;
    for (let k = n; k >= 1; k--) {
      tail += g[w * (n + 1) + k];
      gt[w * n + k - 1] = tail * sig[w * n + k - 1];
    }
    ga[w] = tail + g[w * (n + 1)];
  }
}

let sigScratch = new Float64Array(0);

/** sigmoid(θ) in float64 (the JS path), in a reused buffer. */
function sigmoids(th: Float32Array, count: number): Float64Array {
  if (sigScratch.length < count) sigScratch = new Float64Array(count);
  for (let i = 0; i < count; i++) sigScratch[i] = 1 / (1 + Math.exp(-th[i]));
  return sigScratch;
}

/**
 * ∂L/∂a [W], ∂L/∂θ [W, n] from ∂L/∂c (g, [W, n+1]; anywhere): the sigmoids in wasm when θ and gt are on a bound
 * heap (prepareBnSimd), else in JS. The coefficients' backward kernel (coeffs.ts) and the fused batch-norm → Bernstein backward
 * (register.ts) both run this, so they give the same bits.
 */
export function coefficientsBackward(
  g: Float32Array,
  th: Float32Array,
  ga: Float32Array,
  gt: Float32Array,
  W: number,
  n: number,
): void {
  tailLoop(g, simdSigmoid(th, gt, W * n) ? gt : sigmoids(th, W * n), ga, gt, W, n);
}

/** c from a and θ: in wasm when the views are on a bound heap (prepareBnSimd), else the JS loop. */
export function coefficientsForward(
  av: Float32Array,
  th: Float32Array,
  c: Float32Array,
  W: number,
  n: number,
  eps: number,
): void {
  if (!simdCoefficients(av, th, c, W, n, eps)) forwardLoop(av, th, c, W, n, eps);
}
