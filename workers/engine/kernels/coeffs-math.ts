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

function backwardLoop(
  g: Float32Array,
  th: Float32Array,
  ga: Float32Array,
  gt: Float32Array,
  W: number,
  n: number,
): void {
  for (let w = 0; w < W; w++) {
    let tail = 0; // Σ_{k ≥ j} ∂L/∂c_k, built from the end
    for (let k = n; k >= 1; k--) {
      tail += g[w * (n + 1) + k];
      gt[w * n + k - 1] = tail / (1 + Math.exp(-th[w * n + k - 1]));
    }
    ga[w] = tail + g[w * (n + 1)];
  }
}

/** backwardLoop with gt already holding sigmoid(θ): the same float64 sums, times it. */
function tailLoop(g: Float32Array, ga: Float32Array, gt: Float32Array, W: number, n: number): void {
  for (let w = 0; w < W; w++) {
    let tail = 0;
    for (let k = n; k >= 1; k--) {
      tail += g[w * (n + 1) + k];
      gt[w * n + k - 1] *= tail;
    }
    ga[w] = tail + g[w * (n + 1)];
  }
}

/**
 * ∂L/∂a [W], ∂L/∂θ [W, n] from ∂L/∂c (g, [W, n+1]; anywhere): the sigmoids in wasm when θ and gt are on a bound
 * heap (prepareBnSimd), else the JS loop. The kernel below and the fused batch-norm → Bernstein backward
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
  if (simdSigmoid(th, gt, W * n)) tailLoop(g, ga, gt, W, n);
  else backwardLoop(g, th, ga, gt, W, n);
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
