// The activation vocabulary: one table, read by the spec schema, paper labels, the designer (palette, blocks,
// validation), the model file (format and float64 evaluator) and the engine's own table (workers/engine/
// activations.ts, keyed by the same names, so a name missing there is a compile error).
// Adding an activation: docs/develop.md.
import type { InitScheme } from './spec.js';

/** Spec fields an activation reads besides the shared ones (they appear in its paper label as `_value`). */
export type ActivationParam = 'alpha';

export interface FixedActivationInfo {
  /** Paper-style label base, e.g. `ReLU`; parameters are appended (`LReLU_0.01`). */
  label: string;
  /** The designer's block name. */
  blockLabel: string;
  /** One line for the designer's palette. */
  hint: string;
  /** Spec fields this activation reads; [] makes it a parameter-less block `{ kind }`. */
  params: readonly ActivationParam[];
  /** The init scheme a spec without `init` uses (docs/init.md: He for rectifier-like, LeCun otherwise). */
  defaultInit: InitScheme;
  /** σ(x) in float64 (exact where the engine approximates, e.g. GELU's erf): the model-file evaluator's. */
  f(x: number, p: ActivationParams): number;
  /** σ′(x) in float64; at a kink, the subgradient autodiff uses (relu′(0) = 0, leaky′(0) = α). */
  df(x: number, p: ActivationParams): number;
}

export type ActivationParams = Record<ActivationParam, number>;

/** SELU constants (Klambauer et al. 2017; the same values tf.selu and PyTorch use). */
export const SELU_ALPHA = 1.6732632423543772;
export const SELU_SCALE = 1.0507009873554805;

/** erf in float64 quality (the model-file evaluator's and the table's GELU). */
export function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 is only 1e-7 accurate; use a series/continued-fraction pair for float64 quality.
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let sum = x;
    let term = x;
    for (let n = 1; n < 60; n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
      if (Math.abs(term / (2 * n + 1)) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction (Lentz), accurate for |x| ≥ 2.5
  let f = ax,
    c = ax,
    d = 0;
  for (let n = 1; n < 100; n++) {
    const an = n / 2;
    d = ax + an * d;
    d = d === 0 ? 1e-300 : 1 / d;
    c = ax + an / c;
    f *= c * d;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** The fixed (non-learnable) activations. Order matters only for display. */
export const FIXED_ACTIVATION_TABLE = {
  relu: {
    label: 'ReLU',
    blockLabel: 'ReLU',
    hint: 'max(0, x)',
    params: [],
    defaultInit: 'he_normal',
    f: (x) => Math.max(0, x),
    df: (x) => (x > 0 ? 1 : 0),
  },
  leaky_relu: {
    label: 'LReLU',
    blockLabel: 'LeakyReLU',
    hint: 'max(αx, x)',
    params: ['alpha'],
    defaultInit: 'he_normal',
    f: (x, p) => (x > 0 ? x : p.alpha * x),
    df: (x, p) => (x > 0 ? 1 : p.alpha),
  },
  selu: {
    label: 'SELU',
    blockLabel: 'SELU',
    hint: 'Self-normalising ELU',
    params: [],
    defaultInit: 'lecun_normal',
    f: (x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)),
    df: (x) => (x > 0 ? SELU_SCALE : SELU_SCALE * SELU_ALPHA * Math.exp(x)),
  },
  gelu: {
    label: 'GELU',
    blockLabel: 'GELU',
    hint: 'Gaussian error linear unit',
    params: [],
    defaultInit: 'he_normal',
    // exact erf form 0.5·x·(1 + erf(x/√2)) (PyTorch's nn.GELU default, not the tanh approximation); σ′ = Φ + x·φ
    f: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
    df: (x) => 0.5 * (1 + erf(x / Math.SQRT2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x),
  },
} as const satisfies Record<string, FixedActivationInfo>;

export type FixedActivation = keyof typeof FIXED_ACTIVATION_TABLE;
/** The learnable Bernstein activation (its parameters: degree, eps, bounds, boundsMode, boundsMomentum). */
export const BERNSTEIN = 'bernstein';
export type ActivationKind = typeof BERNSTEIN | FixedActivation;

export const FIXED_ACTIVATIONS = Object.keys(FIXED_ACTIVATION_TABLE) as FixedActivation[];
export const ACTIVATIONS = [BERNSTEIN, ...FIXED_ACTIVATIONS] as const;

/** The fixed activations whose designer block has no fields: `{ kind }`. */
export type ParamlessActivation = {
  [K in FixedActivation]: (typeof FIXED_ACTIVATION_TABLE)[K]['params'] extends readonly [] ? K : never;
}[FixedActivation];

/** The parameter-less fixed activations, in table order (a type guard: `params` is what defines the type). */
export const PARAMLESS_ACTIVATIONS = FIXED_ACTIVATIONS.filter(
  (k): k is ParamlessActivation => FIXED_ACTIVATION_TABLE[k].params.length === 0,
);

export const isFixedActivation = (k: unknown): k is FixedActivation =>
  typeof k === 'string' && Object.prototype.hasOwnProperty.call(FIXED_ACTIVATION_TABLE, k);

export const fixedActivation = (k: FixedActivation): FixedActivationInfo => FIXED_ACTIVATION_TABLE[k];
