// The plain composed-ops Bernstein activation: the numerical reference every fast path is tested against
// (DESIGN §1.2, §2.3). Differentiable by tfjs autodiff with respect to z, a and θ.
import * as tf from '@tensorflow/tfjs-core';
import { binomial } from '../../shared/theory.js';

/** Bounds are scalars (fixed) or one per unit, shape [W] (adaptive). */
export type Bound = number | tf.Tensor1D;

/** c_0 = a, c_k = c_{k−1} + softplus(θ_k) + ε.  a: [W], θ: [W, n] → c: [W, n+1]. */
export function effectiveCoefficientsT(a: tf.Tensor1D, theta: tf.Tensor2D, eps: number): tf.Tensor2D {
  return tf.tidy(() => {
    const steps = tf.add(tf.softplus(theta), eps);
    const rises = tf.cumsum(steps, 1);
    const a2 = tf.reshape(a, [-1, 1]);
    return tf.concat([a2, tf.add(a2, rises)], 1) as tf.Tensor2D;
  });
}

/** Powers [1, x, x², …, x^n] stacked on a new last axis by repeated products (no pow: exact at t = 0). */
function powers(x: tf.Tensor, n: number): tf.Tensor {
  const out: tf.Tensor[] = [tf.onesLike(x)];
  for (let k = 1; k <= n; k++) out.push(tf.mul(out[k - 1], x));
  return tf.stack(out, -1);
}

function binomials(n: number): tf.Tensor1D {
  return tf.tensor1d(Array.from({ length: n + 1 }, (_, k) => binomial(n, k)));
}

/** Bernstein basis b_{k,n}(t) for t: [B, W] → [B, W, n+1]. */
export function bernsteinBasis(t: tf.Tensor2D, n: number): tf.Tensor3D {
  return tf.tidy(() => {
    const tp = powers(t, n);
    const sp = tf.reverse(powers(tf.sub(1, t), n), -1);
    return tf.mul(tf.mul(tp, sp), binomials(n)) as tf.Tensor3D;
  });
}

/** t = (clamp(z, l, u) − l)/(u − l). Gradient w.r.t. z is 0 outside [l,u] (clipByValue's gradient). */
export function normalisedInput(z: tf.Tensor2D, l: Bound, u: Bound): tf.Tensor2D {
  return tf.tidy(() => {
    if (typeof l === 'number' && typeof u === 'number') return tf.div(tf.sub(tf.clipByValue(z, l, u), l), u - l);
    const lo = typeof l === 'number' ? tf.scalar(l) : l;
    const hi = typeof u === 'number' ? tf.scalar(u) : u;
    const clamped = tf.minimum(tf.maximum(z, lo), hi);
    return tf.div(tf.sub(clamped, lo), tf.sub(hi, lo));
  });
}

/** σ(z) per unit: z [B, W], coeffs [W, n+1] → [B, W]. */
export function bernsteinReference(z: tf.Tensor2D, coeffs: tf.Tensor2D, l: Bound, u: Bound): tf.Tensor2D {
  return tf.tidy(() => {
    const n = coeffs.shape[1] - 1;
    const basis = bernsteinBasis(normalisedInput(z, l, u), n);
    return tf.sum(tf.mul(basis, coeffs), -1) as tf.Tensor2D;
  });
}

/** σ'(z) per unit (0 outside [l,u]): n/(u−l)·Σ_k (c_{k+1}−c_k) b_{k,n−1}(t). */
export function bernsteinDerivativeReference(z: tf.Tensor2D, coeffs: tf.Tensor2D, l: Bound, u: Bound): tf.Tensor2D {
  return tf.tidy(() => {
    const n = coeffs.shape[1] - 1;
    const lo = typeof l === 'number' ? tf.scalar(l) : l;
    const hi = typeof u === 'number' ? tf.scalar(u) : u;
    const inside = tf.logicalAnd(tf.greaterEqual(z, lo), tf.lessEqual(z, hi));
    const diffs = tf.sub(tf.slice(coeffs, [0, 1], [-1, n]), tf.slice(coeffs, [0, 0], [-1, n]));
    const basis = bernsteinBasis(normalisedInput(z, l, u), n - 1);
    const d = tf.div(tf.mul(tf.sum(tf.mul(basis, diffs), -1), n), tf.sub(hi, lo));
    return tf.where(inside, d, tf.zerosLike(d)) as tf.Tensor2D;
  });
}
