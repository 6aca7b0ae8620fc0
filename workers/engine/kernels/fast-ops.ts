// The fast EngineOps: fused JS kernels for batch norm and the Bernstein activation, dense layers with
// explicit-transpose gradients. Same semantics as referenceOps (tested against it in test/kernels-*.test.ts).
import * as tf from '@tensorflow/tfjs-core';
import {
  referenceOps,
  type BatchNormOut,
  type BnAffine,
  type Bound,
  type EngineOps,
  type FusedBackward,
} from '../ops.js';
import { denseBiasGrad, denseFast, denseGrads, denseInputGrad, denseWeightGrad, registerDenseKernel } from './dense.js';
import { boundArgs, FAST_BACKENDS, K, registerFastKernels, runKernel, variantSuffix } from './register.js';
import { COEFFS_GRAD_KERNEL, effectiveCoefficientsFast } from './coeffs.js';
import { fusedTrainerAdam } from './fused-adam.js';
import { ACT_K, actAttrs, activationFast, bnActTrainFast, runActKernel } from './act.js';
import { softmaxCrossEntropyFast } from './loss.js';
import { runningStatsFast } from './running-stats.js';

function ensureRegistered(): void {
  registerFastKernels();
  registerDenseKernel();
}

function asBnOut(r: tf.Tensor[]): BatchNormOut {
  return { y: r[0] as tf.Tensor2D, mean: r[1] as tf.Tensor1D, variance: r[2] as tf.Tensor1D };
}

/** The kernels the fused ops' registered gradients run, with the same inputs and attrs (register.ts, act.ts). */
const fastBackward: FusedBackward = {
  denseInput: (dy, w) => denseInputGrad(dy, w),
  denseWeight: (x, dy) => denseWeightGrad(x, dy),
  denseBias: (dy) => denseBiasGrad(dy),
  dense: (x, dy, w, input) => denseGrads(x, dy, w, input),
  bnBernstein(dy, h, coeffs, l, u, eps, stats, affine, theta) {
    const inputs: tf.NamedTensorMap = { dy, h, coeffs };
    if (affine) Object.assign(inputs, { gamma: affine.gamma, beta: affine.beta });
    Object.assign(inputs, { mean: stats.mean, variance: stats.variance });
    if (theta) inputs.theta = theta;
    const g = runKernel(K.bnBernGrad, inputs, { l, u, eps });
    const coeffGrads = theta
      ? { da: g[1] as tf.Tensor1D, dtheta: g[2] as tf.Tensor2D }
      : { dcoeffs: g[1] as tf.Tensor2D };
    const at = theta ? 3 : 2;
    return affine
      ? { dh: g[0] as tf.Tensor2D, ...coeffGrads, dgamma: g[at] as tf.Tensor1D, dbeta: g[at + 1] as tf.Tensor1D }
      : { dh: g[0] as tf.Tensor2D, ...coeffGrads };
  },
  bnAct(dy, h, kind, alpha, eps, stats, affine) {
    const inputs: tf.NamedTensorMap = { dy, h };
    if (affine) Object.assign(inputs, { gamma: affine.gamma, beta: affine.beta });
    Object.assign(inputs, { mean: stats.mean, variance: stats.variance });
    const g = runActKernel(ACT_K.bnActGrad, inputs, { eps, ...actAttrs(kind, alpha) });
    return affine
      ? { dh: g[0] as tf.Tensor2D, dgamma: g[1] as tf.Tensor1D, dbeta: g[2] as tf.Tensor1D }
      : { dh: g[0] as tf.Tensor2D };
  },
  coefficients(dc, theta, eps) {
    const g = tf.engine().runKernel(COEFFS_GRAD_KERNEL, { dc, theta }, { eps }) as tf.Tensor[];
    return { da: g[0] as tf.Tensor1D, dtheta: g[1] as tf.Tensor2D };
  },
};

export const fastOps: EngineOps = {
  name: 'fast',
  dense(x, w, b) {
    ensureRegistered();
    return denseFast(x, w, b);
  },
  batchNormTrain(h, eps) {
    ensureRegistered();
    return asBnOut(runKernel(K.bn, { h }, { eps }));
  },
  bernstein(z, coeffs, l: Bound, u: Bound) {
    ensureRegistered();
    const a = boundArgs(l, u);
    return runKernel(K.bern + a.suffix, { z, coeffs, ...a.inputs }, a.attrs)[0] as tf.Tensor2D;
  },
  /** mean/variance are statistics for running averages: like the reference's use, not differentiated. */
  bnBernsteinTrain(h, coeffs, l: Bound, u: Bound, eps, affine?: BnAffine) {
    ensureRegistered();
    const a = boundArgs(l, u);
    const name = K.bnBern + variantSuffix(a.suffix === 'Bounded', affine !== undefined);
    const ab: tf.NamedTensorMap = affine ? { gamma: affine.gamma, beta: affine.beta } : {};
    return asBnOut(runKernel(name, { h, coeffs, ...a.inputs, ...ab }, { ...a.attrs, eps }));
  },
  bnBernsteinTrainTheta(h, a, theta, coeffEps, l: Bound, u: Bound, eps, affine?: BnAffine) {
    ensureRegistered();
    const b = boundArgs(l, u);
    const ab: tf.NamedTensorMap = affine ? { gamma: affine.gamma, beta: affine.beta } : {};
    const r = runKernel(K.bnBernTheta, { h, a, theta, ...b.inputs, ...ab }, { ...b.attrs, eps, coeffEps });
    return { ...asBnOut(r), coeffs: r[3] as tf.Tensor2D };
  },
  bnActTrain: (h, kind, alpha, eps, affine) => bnActTrainFast(h, kind, alpha, eps, affine),
  activation: (z, kind, alpha) => activationFast(z, kind, alpha),
  softmaxCrossEntropy: (logits, target) => softmaxCrossEntropyFast(logits, target),
  runningStats: (updates, momentum, unbiased) => runningStatsFast(updates, momentum, unbiased),
  coefficients: (a, theta, eps) => effectiveCoefficientsFast(a, theta, eps),
  createAdam: (params, lr) => fusedTrainerAdam(params, lr),
  backward: fastBackward,
};

/** fastOps where its kernels exist (wasm, cpu); the composed reference elsewhere (e.g. tfjs-node). */
export function pickOps(backendName: string = tf.getBackend()): EngineOps {
  return (FAST_BACKENDS as readonly string[]).includes(backendName) ? fastOps : referenceOps;
}
