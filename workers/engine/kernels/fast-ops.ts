// The fast EngineOps: fused JS kernels for batch norm and the Bernstein activation, dense layers with
// explicit-transpose gradients. Same semantics as referenceOps (tested against it in test/kernels-*.test.ts).
import * as tf from '@tensorflow/tfjs-core';
import { referenceOps, type BatchNormOut, type BnAffine, type Bound, type EngineOps } from '../ops.js';
import { denseFast, registerDenseKernel } from './dense.js';
import { boundArgs, FAST_BACKENDS, K, registerFastKernels, runKernel, variantSuffix } from './register.js';
import { effectiveCoefficientsFast } from './coeffs.js';
import { fusedTrainerAdam } from './fused-adam.js';
import { activationFast, bnActTrainFast } from './act.js';
import { softmaxCrossEntropyFast } from './loss.js';
import { runningStatsFast } from './running-stats.js';

function ensureRegistered(): void {
  registerFastKernels();
  registerDenseKernel();
}

function asBnOut(r: tf.Tensor[]): BatchNormOut {
  return { y: r[0] as tf.Tensor2D, mean: r[1] as tf.Tensor1D, variance: r[2] as tf.Tensor1D };
}

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
  bnActTrain: (h, kind, alpha, eps, affine) => bnActTrainFast(h, kind, alpha, eps, affine),
  activation: (z, kind, alpha) => activationFast(z, kind, alpha),
  softmaxCrossEntropy: (logits, target) => softmaxCrossEntropyFast(logits, target),
  runningStats: (updates, momentum, unbiased) => runningStatsFast(updates, momentum, unbiased),
  coefficients: (a, theta, eps) => effectiveCoefficientsFast(a, theta, eps),
  createAdam: (params, lr) => fusedTrainerAdam(params, lr),
};

/** fastOps where its kernels exist (wasm, cpu); the composed reference elsewhere (e.g. tfjs-node). */
export function pickOps(backendName: string = tf.getBackend()): EngineOps {
  return (FAST_BACKENDS as readonly string[]).includes(backendName) ? fastOps : referenceOps;
}
