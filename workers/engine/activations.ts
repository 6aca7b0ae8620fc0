// The fixed activations and their analytic derivatives (the probes need σ' without autodiff).
import * as tf from '@tensorflow/tfjs-core';

export type FixedActivation = 'relu' | 'leaky_relu' | 'selu' | 'gelu';

/** SELU constants (Klambauer et al. 2017; the same values tf.selu and PyTorch use). */
export const SELU_ALPHA = 1.6732632423543772;
export const SELU_SCALE = 1.0507009873554805;

/** GELU, exact erf form 0.5·z·(1 + erf(z/√2)) (PyTorch's nn.GELU default, not the tanh approximation). */
export function gelu(z: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.mul(tf.mul(z, 0.5), tf.add(1, tf.erf(tf.mul(z, Math.SQRT1_2)))) as tf.Tensor2D);
}

export function applyActivation(kind: FixedActivation, z: tf.Tensor2D, alpha: number): tf.Tensor2D {
  switch (kind) {
    case 'relu':
      return tf.relu(z);
    case 'leaky_relu':
      return tf.leakyRelu(z, alpha);
    case 'selu':
      return tf.selu(z);
    case 'gelu':
      return gelu(z);
  }
}

/** σ'(z). ReLU at 0 counts as 0 (never positive ⇒ dead), matching the subgradient autodiff uses. */
export function activationDerivative(kind: FixedActivation, z: tf.Tensor2D, alpha: number): tf.Tensor2D {
  return tf.tidy(() => {
    const pos = tf.greater(z, 0);
    switch (kind) {
      case 'relu':
        return tf.cast(pos, 'float32') as tf.Tensor2D;
      case 'leaky_relu':
        return tf.where(pos, tf.onesLike(z), tf.fill(z.shape, alpha)) as tf.Tensor2D;
      case 'selu':
        return tf.where(pos, tf.fill(z.shape, SELU_SCALE), tf.mul(tf.exp(z), SELU_SCALE * SELU_ALPHA)) as tf.Tensor2D;
      case 'gelu': {
        // Φ(z) + z·φ(z)
        const cdf = tf.mul(tf.add(1, tf.erf(tf.mul(z, Math.SQRT1_2))), 0.5);
        const pdf = tf.mul(tf.exp(tf.mul(tf.square(z), -0.5)), 1 / Math.sqrt(2 * Math.PI));
        return tf.add(cdf, tf.mul(z, pdf)) as tf.Tensor2D;
      }
    }
  });
}
