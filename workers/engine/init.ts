// Seeded initial values (docs/init.md): same seed → same initial weights on every backend.
import seedrandom from 'seedrandom';
import type { InitScheme } from '../../shared/spec.js';

/** A seeded stream of standard normals (Box–Muller) and uniforms on [0, 1), from one seedrandom PRNG. */
export interface InitStream {
  normal(): number;
  uniform(): number;
}

export function initStream(seed: string): InitStream {
  const rng = seedrandom(seed);
  let spare: number | null = null;
  return {
    normal() {
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
    },
    uniform: () => rng(),
  };
}

/** Standard normal stream (Box–Muller) from a seedrandom PRNG. */
export function normalStream(seed: string): () => number {
  const s = initStream(seed);
  return () => s.normal();
}

/** How one layer's weights and biases are drawn: a distribution family and its spread. */
export interface InitRule {
  dist: 'normal' | 'uniform';
  /** normal: the standard deviation; uniform: the half-width a of U(−a, a). */
  weight: number;
  /** Half-width of U(−a, a) for the biases; 0 means zero biases (no draws). */
  biasBound: number;
}

/**
 * The weight/bias rule of a scheme for a layer with fan_in inputs and fan_out outputs (docs/init.md). `output`
 * is the final linear layer: no activation follows it, so the He schemes use gain 1 there (PyTorch's
 * kaiming_*_(nonlinearity='linear')) — which is what the engine always did for its output layer.
 */
export function initRule(scheme: InitScheme, fanIn: number, fanOut: number, output: boolean): InitRule {
  const heGain = output ? 1 : 2;
  switch (scheme) {
    case 'torch': {
      // nn.Linear.reset_parameters: kaiming_uniform_(a=√5) ⇒ bound √(6/((1+5)·fan_in)) = 1/√fan_in; bias the same.
      const a = 1 / Math.sqrt(fanIn);
      return { dist: 'uniform', weight: a, biasBound: a };
    }
    case 'he_normal':
      return { dist: 'normal', weight: Math.sqrt(heGain / fanIn), biasBound: 0 };
    case 'he_uniform':
      return { dist: 'uniform', weight: Math.sqrt((3 * heGain) / fanIn), biasBound: 0 };
    case 'lecun_normal':
      return { dist: 'normal', weight: Math.sqrt(1 / fanIn), biasBound: 0 };
    case 'xavier_uniform':
      return { dist: 'uniform', weight: Math.sqrt(6 / (fanIn + fanOut)), biasBound: 0 };
    case 'xavier_normal':
      return { dist: 'normal', weight: Math.sqrt(2 / (fanIn + fanOut)), biasBound: 0 };
  }
}

/**
 * Draws one layer: W [fanIn, fanOut] row-major, then b [fanOut] (only when the rule has random biases, so the
 * zero-bias schemes consume exactly the draws the engine always consumed: seeds reproduce old runs).
 */
export function drawLayer(
  next: InitStream,
  scheme: InitScheme,
  fanIn: number,
  fanOut: number,
  output: boolean,
): { w: Float32Array; b: Float32Array } {
  const rule = initRule(scheme, fanIn, fanOut, output);
  const w = new Float32Array(fanIn * fanOut);
  if (rule.dist === 'normal') for (let i = 0; i < w.length; i++) w[i] = next.normal() * rule.weight;
  else for (let i = 0; i < w.length; i++) w[i] = (2 * next.uniform() - 1) * rule.weight;
  const b = new Float32Array(fanOut);
  if (rule.biasBound > 0) for (let i = 0; i < b.length; i++) b[i] = (2 * next.uniform() - 1) * rule.biasBound;
  return { w, b };
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
