// Fused fixed activations for the wasm and cpu backends: training-mode batch norm → activation as one forward
// kernel and one backward kernel, and the activation alone (batch norm off). Same pattern as register.ts:
// JS loops over backend memory views (backend-io.ts), gradients registered per kernel name.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { FixedActivation } from '../activations.js';
import type { BatchNormOut, BnAffine } from '../ops.js';
import { runOnViews } from './backend-io.js';
import { prepareBnSimd } from './bn-simd.js';
import { ACT_CODES, actBackward, actForward, bnActBackward, bnActForward } from './act-math.js';
import { FAST_BACKENDS } from './register.js';

export const ACT_K = {
  bnAct: 'DeepBernBnAct',
  bnActAffine: 'DeepBernBnActAffine',
  bnActGrad: 'DeepBernBnActGrad',
  act: 'DeepBernAct',
  actGrad: 'DeepBernActGrad',
} as const;

interface Args {
  inputs: Record<string, TensorInfo | undefined>;
  backend: KernelBackend;
  attrs: { eps: number; act: number; alpha: number };
}

function need(inputs: Args['inputs'], name: string): TensorInfo {
  const t = inputs[name];
  if (!t) throw new Error(`missing kernel input ${name}`);
  return t;
}

/** [gamma, beta] when the kernel runs affine batch norm, else none. */
function affineInfos(inputs: Args['inputs']): TensorInfo[] {
  return inputs.gamma ? [need(inputs, 'gamma'), need(inputs, 'beta')] : [];
}

const bnActFwd = ({ inputs, backend, attrs }: Args): TensorInfo[] => {
  prepareBnSimd(backend);
  const h = need(inputs, 'h');
  const [B, W] = h.shape;
  const ai = affineInfos(inputs);
  return runOnViews(backend, [h, ...ai], [[B, W], [W], [W]], (i, o) =>
    bnActForward(
      i[0],
      B,
      W,
      attrs.eps,
      attrs.act,
      attrs.alpha,
      o[0],
      o[1],
      o[2],
      ai.length ? { gamma: i[1], beta: i[2] } : null,
    ),
  );
};

const bnActBwd = ({ inputs, backend, attrs }: Args): TensorInfo[] => {
  prepareBnSimd(backend);
  const dy = need(inputs, 'dy'),
    h = need(inputs, 'h'),
    mean = need(inputs, 'mean'),
    variance = need(inputs, 'variance');
  const [B, W] = h.shape;
  const ai = affineInfos(inputs);
  return runOnViews(backend, [dy, h, mean, variance, ...ai], [[B, W], ...ai.map(() => [W])], (i, o) =>
    bnActBackward(
      i[0],
      i[1],
      B,
      W,
      attrs.eps,
      attrs.act,
      attrs.alpha,
      i[2],
      i[3],
      o[0],
      ai.length ? { gamma: i[4], beta: i[5] } : null,
      ai.length ? { gamma: o[1], beta: o[2] } : null,
    ),
  );
};

const actFwd = ({ inputs, backend, attrs }: Args): TensorInfo[] => {
  const z = need(inputs, 'z');
  return runOnViews(backend, [z], [z.shape], (i, o) =>
    actForward(i[0], z.shape[0] * z.shape[1], attrs.act, attrs.alpha, o[0]),
  );
};

const actBwd = ({ inputs, backend, attrs }: Args): TensorInfo[] => {
  const dy = need(inputs, 'dy'),
    z = need(inputs, 'z');
  return runOnViews(backend, [dy, z], [z.shape], (i, o) =>
    actBackward(i[0], i[1], z.shape[0] * z.shape[1], attrs.act, attrs.alpha, o[0]),
  );
};

export const runActKernel = (name: string, inputs: tf.NamedTensorMap, attrs: Record<string, number>): tf.Tensor[] =>
  tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];

let registered = false;

export function registerActKernels(): void {
  if (registered) return;
  registered = true;
  for (const backendName of FAST_BACKENDS) {
    for (const [kernelName, f] of [
      [ACT_K.bnAct, bnActFwd],
      [ACT_K.bnActAffine, bnActFwd],
      [ACT_K.bnActGrad, bnActBwd],
      [ACT_K.act, actFwd],
      [ACT_K.actGrad, actBwd],
    ] as const) {
      // tfjs types the backend as {} and attrs as a union; ours are numbers.
      if (!tf.getKernel(kernelName, backendName))
        tf.registerKernel({ kernelName, backendName, kernelFunc: f as unknown as KernelFunc });
    }
  }
  tf.registerGradient({
    kernelName: ACT_K.bnAct,
    inputsToSave: ['h'],
    outputsToSave: [false, true, true],
    gradFunc: (dy, saved, attrs) => {
      const dyMain = Array.isArray(dy) ? dy[0] : dy;
      const g = runActKernel(
        ACT_K.bnActGrad,
        { dy: dyMain, h: saved[0], mean: saved[1], variance: saved[2] },
        attrs as Record<string, number>,
      );
      return { h: () => g[0] };
    },
  });
  tf.registerGradient({
    kernelName: ACT_K.bnActAffine,
    inputsToSave: ['h', 'gamma', 'beta'],
    outputsToSave: [false, true, true],
    gradFunc: (dy, saved, attrs) => {
      const dyMain = Array.isArray(dy) ? dy[0] : dy;
      const g = runActKernel(
        ACT_K.bnActGrad,
        {
          dy: dyMain,
          h: saved[0],
          gamma: saved[1],
          beta: saved[2],
          mean: saved[3],
          variance: saved[4],
        },
        attrs as Record<string, number>,
      );
      return { h: () => g[0], gamma: () => g[1], beta: () => g[2] };
    },
  });
  tf.registerGradient({
    kernelName: ACT_K.act,
    inputsToSave: ['z'],
    gradFunc: (dy, saved, attrs) => ({
      z: () => runActKernel(ACT_K.actGrad, { dy: dy as tf.Tensor, z: saved[0] }, attrs as Record<string, number>)[0],
    }),
  });
}

export function actAttrs(kind: FixedActivation, alpha: number): { act: number; alpha: number } {
  return { act: ACT_CODES[kind], alpha: kind === 'leaky_relu' ? alpha : 0 };
}

/** Training batch norm (biased variance, optionally affine) → activation; mean/variance are not differentiated. */
export function bnActTrainFast(
  h: tf.Tensor2D,
  kind: FixedActivation,
  alpha: number,
  eps: number,
  affine?: BnAffine,
): BatchNormOut {
  registerActKernels();
  const r = affine
    ? runActKernel(ACT_K.bnActAffine, { h, gamma: affine.gamma, beta: affine.beta }, { eps, ...actAttrs(kind, alpha) })
    : runActKernel(ACT_K.bnAct, { h }, { eps, ...actAttrs(kind, alpha) });
  return { y: r[0] as tf.Tensor2D, mean: r[1] as tf.Tensor1D, variance: r[2] as tf.Tensor1D };
}

export function activationFast(z: tf.Tensor2D, kind: FixedActivation, alpha: number): tf.Tensor2D {
  registerActKernels();
  return runActKernel(ACT_K.act, { z }, actAttrs(kind, alpha))[0] as tf.Tensor2D;
}
