// The engine's activation table, keyed by shared/activations.ts's names (a name missing here, or one the shared
// table lacks, is a compile error): per fixed activation, the composed tfjs forward (the reference every
// backend can run), its analytic derivative (the probes need σ′ without autodiff), and the scalar kernel code
// the fused cpu/wasm kernels run (kernels/act-math.ts). Adding an activation: docs/develop.md.
import * as tf from '@tensorflow/tfjs-core';
import { SELU_ALPHA, SELU_SCALE, type FixedActivation } from '../../shared/activations.js';

export type { FixedActivation };
export { SELU_ALPHA, SELU_SCALE };

export interface EngineActivation {
  /** σ(z) from tfjs ops; its tfjs gradient defines the subgradients at kinks. */
  forward(z: tf.Tensor2D, alpha: number): tf.Tensor2D;
  /** σ′(z), agreeing with forward's autodiff gradient (inside a tidy). */
  derivative(z: tf.Tensor2D, alpha: number): tf.Tensor2D;
  /** The fused kernels' per-element σ(x) and σ′(x) in float64 arithmetic, matching forward to float32 rounding. */
  kernel: { act(x: number, alpha: number): number; grad(x: number, alpha: number): number };
}

// tfjs-core selu_util / erf_util constants (the reference runs on these), written as the doubles they are
// (tfjs spells them 1.7580993408473768599402175208123 and 1.0507009873554804934193349852946).
const K_SELU_SCALEALPHA = 1.7580993408473768;
const K_SELU_SCALE = 1.0507009873554805;
const ERF_P = 0.3275911,
  ERF_A1 = 0.254829592,
  ERF_A2 = -0.284496736,
  ERF_A3 = 1.421413741,
  ERF_A4 = -1.453152027,
  ERF_A5 = 1.061405429;
const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** tfjs' own erf (Abramowitz–Stegun 7.1.26), so the kernel's GELU matches tf.erf to float32 rounding. */
function tfjsErf(x: number): number {
  const v = Math.abs(x);
  const t = 1 / (1 + ERF_P * v);
  const r = 1 - ((((ERF_A5 * t + ERF_A4) * t + ERF_A3) * t + ERF_A2) * t + ERF_A1) * t * Math.exp(-v * v);
  return x < 0 ? -r : r;
}

/** GELU, exact erf form 0.5·z·(1 + erf(z/√2)) (PyTorch's nn.GELU default, not the tanh approximation). */
export function gelu(z: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.mul(tf.mul(z, 0.5), tf.add(1, tf.erf(tf.mul(z, Math.SQRT1_2)))) as tf.Tensor2D);
}

export const ENGINE_ACTIVATIONS: Record<FixedActivation, EngineActivation> = {
  relu: {
    forward: (z) => tf.relu(z),
    // ReLU at 0 counts as 0 (never positive ⇒ dead), matching the subgradient autodiff uses.
    derivative: (z) => tf.cast(tf.greater(z, 0), 'float32') as tf.Tensor2D,
    kernel: { act: (x) => (x > 0 ? x : 0), grad: (x) => (x > 0 ? 1 : 0) },
  },
  leaky_relu: {
    forward: (z, alpha) => tf.leakyRelu(z, alpha),
    derivative: (z, alpha) => tf.where(tf.greater(z, 0), tf.onesLike(z), tf.fill(z.shape, alpha)) as tf.Tensor2D,
    kernel: { act: (x, alpha) => (x < 0 ? alpha * x : x), grad: (x, alpha) => (x > 0 ? 1 : alpha) },
  },
  selu: {
    forward: (z) => tf.selu(z),
    derivative: (z) =>
      tf.where(
        tf.greater(z, 0),
        tf.fill(z.shape, SELU_SCALE),
        tf.mul(tf.exp(z), SELU_SCALE * SELU_ALPHA),
      ) as tf.Tensor2D,
    // tfjs masks with z > 0: selu′(0) = scale·α_selu.
    kernel: {
      act: (x) => (x > 0 ? K_SELU_SCALE * x : K_SELU_SCALEALPHA * (Math.exp(x) - 1)),
      grad: (x) => (x > 0 ? K_SELU_SCALE : K_SELU_SCALEALPHA * Math.exp(x)),
    },
  },
  gelu: {
    forward: gelu,
    derivative: (z) => {
      // Φ(z) + z·φ(z)
      const cdf = tf.mul(tf.add(1, tf.erf(tf.mul(z, Math.SQRT1_2))), 0.5);
      const pdf = tf.mul(tf.exp(tf.mul(tf.square(z), -0.5)), 1 / Math.sqrt(2 * Math.PI));
      return tf.add(cdf, tf.mul(z, pdf)) as tf.Tensor2D;
    },
    kernel: {
      act: (x) => 0.5 * x * (1 + tfjsErf(x * INV_SQRT2)),
      // d/dx of 0.5·x·(1 + erf(x/√2)) with erf′ = 2/√π·e^{−u²}: Φ(x) + x·φ(x).
      grad: (x) => 0.5 * (1 + tfjsErf(x * INV_SQRT2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x),
    },
  },
};

export function applyActivation(kind: FixedActivation, z: tf.Tensor2D, alpha: number): tf.Tensor2D {
  return ENGINE_ACTIVATIONS[kind].forward(z, alpha);
}

/** σ'(z) (see EngineActivation.derivative). */
export function activationDerivative(kind: FixedActivation, z: tf.Tensor2D, alpha: number): tf.Tensor2D {
  return tf.tidy(() => ENGINE_ACTIVATIONS[kind].derivative(z, alpha));
}
