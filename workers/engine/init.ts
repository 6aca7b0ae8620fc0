// Seeded initial values (ours, docs/engine.md): same seed → same initial weights on every backend.
import seedrandom from 'seedrandom';
import type { ActivationKind } from '../../shared/spec.js';

/** Standard normal stream (Box–Muller) from a seedrandom PRNG. */
export function normalStream(seed: string): () => number {
  const rng = seedrandom(seed);
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = rng();
    const v = rng();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/**
 * He-normal (variance 2/fan_in) for the rectifier-like activations, LeCun-normal (1/fan_in) for SELU (its
 * self-normalising fixed point assumes it), Bernstein (starts as the identity, so it is linear at init) and
 * the output layer.
 */
export function weightGain(activation: ActivationKind | 'linear'): number {
  return activation === 'relu' || activation === 'leaky_relu' || activation === 'gelu' ? 2 : 1;
}

export function normalMatrix(next: () => number, rows: number, cols: number, gain: number): Float32Array {
  const std = Math.sqrt(gain / rows);
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < out.length; i++) out[i] = next() * std;
  return out;
}

/** softplus⁻¹(s) = log(eᔆ − 1), for s > 0. */
export function softplusInverse(s: number): number {
  return s > 20 ? s : Math.log(Math.expm1(s));
}

/**
 * θ for the identity c_k = l + (u−l)k/n: every step (u−l)/n = softplus(θ) + ε. When ε ≥ (u−l)/n the identity
 * is unreachable; then θ gives a tiny softplus (1e-6) and σ starts as a line of slope n·(ε+1e-6)/(u−l) ≥ 1.
 */
export function identityTheta(l: number, u: number, degree: number, eps: number): number {
  const s = (u - l) / degree - eps;
  return softplusInverse(s > 1e-6 ? s : 1e-6);
}
