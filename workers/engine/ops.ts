// The seam between the model and its arithmetic. The model calls only these ops; `referenceOps` composes
// plain tfjs ops (autodiff does the gradients), fast implementations (workers/engine/kernels/) register
// fused kernels with custom gradients and must match the reference (forward ≤ 1e-4 rel., gradients ≤ 1e-3).
import * as tf from '@tensorflow/tfjs-core';
import { bernsteinReference, type Bound } from './bernstein-reference.js';
import type { Param, TrainerOptimizer } from './optimizer.js';
import type { FixedActivation } from './activations.js';

export type { Bound };

export interface RunningUpdate {
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  batchMean: tf.Tensor1D;
  batchVar: tf.Tensor1D;
}

/** Affine batch norm's learnable per-unit scale γ and shift β [W]: z = γ·x̂ + β. */
export interface BnAffine {
  gamma: tf.Tensor1D;
  beta: tf.Tensor1D;
}

/** γ·y + β as composed ops (the reference for the fused kernels' affine part). */
export function applyAffine(y: tf.Tensor2D, affine: BnAffine): tf.Tensor2D {
  return tf.add(tf.mul(y, affine.gamma), affine.beta) as tf.Tensor2D;
}

export interface BatchNormOut {
  /** (h − mean)/sqrt(variance + eps), no affine part. */
  y: tf.Tensor2D;
  /** Batch statistics [W], for the running averages (not differentiated). */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

export interface EngineOps {
  readonly name: string;
  /** x·W + b. x [B, I], W [I, O], b [O]. Differentiable in all three. */
  dense(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D;
  /** Training-mode batch norm over the batch axis (biased variance, as PyTorch uses for normalising). */
  batchNormTrain(h: tf.Tensor2D, eps: number): BatchNormOut;
  /** σ(z) with effective coefficients [W, n+1]; bounds scalar or per unit. Differentiable in z and coeffs. */
  bernstein(z: tf.Tensor2D, coeffs: tf.Tensor2D, l: Bound, u: Bound): tf.Tensor2D;
  /**
   * Optional fused batchNormTrain → (applyAffine) → bernstein, same semantics as calling them in turn;
   * differentiable in h, coeffs, the bounds and γ, β.
   */
  bnBernsteinTrain?(
    h: tf.Tensor2D,
    coeffs: tf.Tensor2D,
    l: Bound,
    u: Bound,
    eps: number,
    affine?: BnAffine,
  ): BatchNormOut;
  /**
   * Optional: coefficients(a, θ, coeffEps) then bnBernsteinTrain with them, in one call; returns the coefficients
   * too. Not differentiable (the model's own backward pass uses it, with no tape).
   */
  bnBernsteinTrainTheta?(
    h: tf.Tensor2D,
    a: tf.Tensor1D,
    theta: tf.Tensor2D,
    coeffEps: number,
    l: Bound,
    u: Bound,
    eps: number,
    affine?: BnAffine,
  ): BatchNormOut & { coeffs: tf.Tensor2D };
  /** Optional fused batchNormTrain → (applyAffine) → fixed activation (α for leaky_relu), same semantics. */
  bnActTrain?(h: tf.Tensor2D, kind: FixedActivation, alpha: number, eps: number, affine?: BnAffine): BatchNormOut;
  /** Optional fused fixed activation (same values and autodiff subgradients as activations.ts applyActivation). */
  activation?(z: tf.Tensor2D, kind: FixedActivation, alpha: number): tf.Tensor2D;
  /**
   * Optional fused mean softmax cross-entropy −mean_b Σ_c target·log softmax(logits), differentiable in the
   * logits, and the count of rows whose first arg-max class has target 1 (not differentiated).
   */
  softmaxCrossEntropy?(logits: tf.Tensor2D, target: tf.Tensor2D): { loss: tf.Scalar; correct: tf.Scalar };
  /**
   * Optional running batch-norm averages for many layers at once: per update, new mean = (1 − m)·mean + m·batch
   * mean and new variance = (1 − m)·variance + m·unbiased·batch variance (float32 like the composed ops).
   */
  runningStats?(updates: readonly RunningUpdate[], momentum: number, unbiased: number): [tf.Tensor1D, tf.Tensor1D][];
  /** Optional fused effective coefficients (c_0 = a, c_k = c_{k−1} + softplus(θ_k) + ε); else composed ops. */
  coefficients?(a: tf.Tensor1D, theta: tf.Tensor2D, eps: number): tf.Tensor2D;
  /** Optional fused Adam over all parameters (same maths and checkpoint slots as the trainer's Optimizer). */
  createAdam?(params: readonly Param[], lr: number): TrainerOptimizer;
  /**
   * Optional: the backward kernels of the fused ops above, called directly. With them (and the fused batch-norm
   * ops) the model computes a training step's gradients by its own backward pass over the layer chain instead
   * of the tfjs tape (DeepBernModel.gradients): the same kernels the registered gradients run, so the same bits.
   */
  backward?: FusedBackward;
}

export interface DenseGrads {
  dw: tf.Tensor2D;
  db: tf.Tensor1D;
  dx?: tf.Tensor2D;
}

/** The backward halves of the fused ops (each the exact kernel the op's registered gradient runs). */
export interface FusedBackward {
  /** ∂L/∂x = dY·Wᵀ, ∂L/∂W = Xᵀ·dY and ∂L/∂b = Σ_rows dY of dense(x, w, b). */
  denseInput(dy: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D;
  denseWeight(x: tf.Tensor2D, dy: tf.Tensor2D): tf.Tensor2D;
  denseBias(dy: tf.Tensor2D): tf.Tensor1D;
  /** Optional: the three above at once (∂L/∂x only when `input`), the same values in fewer kernel calls. */
  dense?(x: tf.Tensor2D, dy: tf.Tensor2D, w: tf.Tensor2D, input: boolean): DenseGrads;
  /**
   * Of bnBernsteinTrain with scalar bounds: ∂L/∂h, ∂L/∂coeffs and (affine) ∂L/∂γ, ∂L/∂β. With `theta` (the
   * coefficients' θ) it may instead return ∂L/∂a, ∂L/∂θ: coefficients() below folded into the same call.
   */
  bnBernstein(
    dy: tf.Tensor2D,
    h: tf.Tensor2D,
    coeffs: tf.Tensor2D,
    l: number,
    u: number,
    eps: number,
    stats: { mean: tf.Tensor1D; variance: tf.Tensor1D },
    affine?: BnAffine,
    theta?: tf.Tensor2D,
  ): {
    dh: tf.Tensor2D;
    dcoeffs?: tf.Tensor2D;
    da?: tf.Tensor1D;
    dtheta?: tf.Tensor2D;
    dgamma?: tf.Tensor1D;
    dbeta?: tf.Tensor1D;
  };
  /** Of bnActTrain: ∂L/∂h and (affine) ∂L/∂γ, ∂L/∂β. */
  bnAct(
    dy: tf.Tensor2D,
    h: tf.Tensor2D,
    kind: FixedActivation,
    alpha: number,
    eps: number,
    stats: { mean: tf.Tensor1D; variance: tf.Tensor1D },
    affine?: BnAffine,
  ): { dh: tf.Tensor2D; dgamma?: tf.Tensor1D; dbeta?: tf.Tensor1D };
  /** Of coefficients(a, θ, eps): ∂L/∂a, ∂L/∂θ from ∂L/∂c. */
  coefficients(dc: tf.Tensor2D, theta: tf.Tensor2D, eps: number): { da: tf.Tensor1D; dtheta: tf.Tensor2D };
}

export const referenceOps: EngineOps = {
  name: 'reference',
  dense: (x, w, b) => tf.add(tf.matMul(x, w), b),
  batchNormTrain(h, eps) {
    const { mean, variance } = tf.moments(h, 0);
    const y = tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, eps))) as tf.Tensor2D;
    return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  },
  bernstein: bernsteinReference,
};
