// Registers the fused Bernstein / batch-norm kernels and their gradients for the wasm and cpu backends, and
// exposes them as ops. Forward and backward are one kernel each (DESIGN §2.3: per-op overhead, not arithmetic,
// dominates at these sizes). Gradients are eager inside gradFunc: one backward kernel yields every input's
// gradient at once (closures run inside separate tidies, so computing lazily would lose the other outputs).
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, KernelBackend, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { runOnViews } from './backend-io.js';
import {
  batchNormBackward, batchNormForward, bernsteinBackward, bernsteinForward, bnBernsteinBackward, bnBernsteinForward,
} from './bernstein-math.js';

export const FAST_BACKENDS = ['wasm', 'cpu'] as const;

export const K = {
  bern: 'DeepBernBernstein',
  bernGrad: 'DeepBernBernsteinGrad',
  bnBern: 'DeepBernBnBernstein',
  bnBernGrad: 'DeepBernBnBernsteinGrad',
  bn: 'DeepBernBatchNorm',
  bnGrad: 'DeepBernBatchNormGrad',
} as const;

interface KernelArgs {
  inputs: Record<string, TensorInfo | undefined>;
  backend: KernelBackend;
  attrs: Record<string, number>;
}

function need(inputs: KernelArgs['inputs'], name: string): TensorInfo {
  const t = inputs[name];
  if (!t) throw new Error(`missing kernel input ${name}`);
  return t;
}

/** Bound inputs (per-unit tensors) when present, else the scalar attrs as one-element arrays. */
function boundsOf(args: KernelArgs, views: Float32Array[], at: number): { lo: Float32Array; hi: Float32Array } {
  if (args.inputs.lo) return { lo: views[at], hi: views[at + 1] };
  return { lo: Float32Array.of(args.attrs.l), hi: Float32Array.of(args.attrs.u) };
}

function boundInfos(inputs: KernelArgs['inputs']): TensorInfo[] {
  return inputs.lo ? [need(inputs, 'lo'), need(inputs, 'hi')] : [];
}

const bernFwd = (args: KernelArgs): TensorInfo[] => {
  const z = need(args.inputs, 'z'), c = need(args.inputs, 'coeffs');
  const [B, W] = z.shape, n = c.shape[1] - 1;
  return runOnViews(args.backend, [z, c, ...boundInfos(args.inputs)], [[B, W]], (i, o) => {
    const { lo, hi } = boundsOf(args, i, 2);
    bernsteinForward(i[0], B, W, i[1], n, lo, hi, null, null, o[0]);
  });
};

const bernBwd = (args: KernelArgs): TensorInfo[] => {
  const dy = need(args.inputs, 'dy'), z = need(args.inputs, 'z'), c = need(args.inputs, 'coeffs');
  const [B, W] = z.shape, n = c.shape[1] - 1;
  const bi = boundInfos(args.inputs);
  const shapes = [[B, W], c.shape, ...bi.map((t) => t.shape)];
  return runOnViews(args.backend, [dy, z, c, ...bi], shapes, (i, o) => {
    const { lo, hi } = boundsOf(args, i, 3);
    bernsteinBackward(i[0], i[1], B, W, i[2], n, lo, hi, null, null,
      { gx: o[0], gc: o[1], gl: o[2] ?? null, gh: o[3] ?? null });
  });
};

const bnBernFwd = (args: KernelArgs): TensorInfo[] => {
  const h = need(args.inputs, 'h'), c = need(args.inputs, 'coeffs');
  const [B, W] = h.shape, n = c.shape[1] - 1;
  return runOnViews(args.backend, [h, c, ...boundInfos(args.inputs)], [[B, W], [W], [W]], (i, o) => {
    const { lo, hi } = boundsOf(args, i, 2);
    bnBernsteinForward(i[0], B, W, i[1], n, lo, hi, args.attrs.eps, o[0], { mean: o[1], variance: o[2] });
  });
};

const bnBernBwd = (args: KernelArgs): TensorInfo[] => {
  const dy = need(args.inputs, 'dy'), h = need(args.inputs, 'h'), c = need(args.inputs, 'coeffs');
  const mean = need(args.inputs, 'mean'), variance = need(args.inputs, 'variance');
  const [B, W] = h.shape, n = c.shape[1] - 1;
  const bi = boundInfos(args.inputs);
  const shapes = [[B, W], c.shape, ...bi.map((t) => t.shape)];
  return runOnViews(args.backend, [dy, h, c, mean, variance, ...bi], shapes, (i, o) => {
    const { lo, hi } = boundsOf(args, i, 5);
    bnBernsteinBackward(i[0], i[1], B, W, i[2], n, lo, hi, args.attrs.eps, { mean: i[3], variance: i[4] },
      { gx: o[0], gc: o[1], gl: o[2] ?? null, gh: o[3] ?? null });
  });
};

const bnFwd = (args: KernelArgs): TensorInfo[] => {
  const h = need(args.inputs, 'h');
  const [B, W] = h.shape;
  return runOnViews(args.backend, [h], [[B, W], [W], [W]], (i, o) =>
    batchNormForward(i[0], B, W, args.attrs.eps, o[0], o[1], o[2]));
};

const bnBwd = (args: KernelArgs): TensorInfo[] => {
  const dy = need(args.inputs, 'dy'), h = need(args.inputs, 'h');
  const mean = need(args.inputs, 'mean'), variance = need(args.inputs, 'variance');
  const [B, W] = h.shape;
  return runOnViews(args.backend, [dy, h, mean, variance], [[B, W]], (i, o) =>
    batchNormBackward(i[0], i[1], B, W, args.attrs.eps, i[2], i[3], o[0]));
};

type Run = (name: string, inputs: tf.NamedTensorMap, attrs: NamedAttrMap) => tf.Tensor[];
const run: Run = (name, inputs, attrs) => tf.engine().runKernel(name, inputs, attrs) as tf.Tensor[];

/** saved = [main input, coeffs, (lo, hi)] + extra outputs; gradient names follow the forward inputs. */
function bernGradFunc(grad: string, main: 'z' | 'h', withStats: boolean): GradConfig['gradFunc'] {
  return (dy, saved, attrs) => {
    const dyMain = Array.isArray(dy) ? dy[0] : dy;
    const hasBounds = saved.length === (withStats ? 6 : 4);
    const inputs: tf.NamedTensorMap = { dy: dyMain, [main]: saved[0], coeffs: saved[1] };
    if (hasBounds) Object.assign(inputs, { lo: saved[2], hi: saved[3] });
    if (withStats) Object.assign(inputs, { mean: saved[saved.length - 2], variance: saved[saved.length - 1] });
    const g = run(grad, inputs, attrs);
    const out: Record<string, () => tf.Tensor> = { [main]: () => g[0], coeffs: () => g[1] };
    if (hasBounds) Object.assign(out, { lo: () => g[2], hi: () => g[3] });
    return out;
  };
}

let registered = false;

/** Idempotent: registers every fused kernel and gradient for the wasm and cpu backends. */
export function registerFastKernels(): void {
  if (registered) return;
  registered = true;
  const kernels: [string, (a: KernelArgs) => TensorInfo[]][] = [
    [K.bern, bernFwd], [K.bernGrad, bernBwd], [K.bnBern, bnBernFwd], [K.bnBernGrad, bnBernBwd],
    [K.bn, bnFwd], [K.bnGrad, bnBwd],
  ];
  for (const backendName of FAST_BACKENDS) {
    for (const [kernelName, f] of kernels) {
      if (tf.getKernel(kernelName, backendName)) continue;
      // tfjs types the backend as {} and attrs as a union; our kernels read numbers only.
      tf.registerKernel({ kernelName, backendName, kernelFunc: f as unknown as KernelFunc });
    }
  }
  // Two variants each: scalar bounds (attrs) and per-unit bounds (inputs lo, hi), since inputsToSave is static.
  for (const [name, grad, main, stats] of [
    [K.bern, K.bernGrad, 'z', false], [K.bnBern, K.bnBernGrad, 'h', true],
  ] as const) {
    tf.registerGradient({
      kernelName: name, inputsToSave: [main, 'coeffs'], outputsToSave: stats ? [false, true, true] : [],
      gradFunc: bernGradFunc(grad, main, stats),
    });
    tf.registerGradient({
      kernelName: `${name}Bounded`, inputsToSave: [main, 'coeffs', 'lo', 'hi'],
      outputsToSave: stats ? [false, true, true] : [], gradFunc: bernGradFunc(grad, main, stats),
    });
  }
  for (const backendName of FAST_BACKENDS) {
    for (const [kernelName, f] of [[`${K.bern}Bounded`, bernFwd], [`${K.bnBern}Bounded`, bnBernFwd]] as const) {
      if (!tf.getKernel(kernelName, backendName)) {
        tf.registerKernel({ kernelName, backendName, kernelFunc: f as unknown as KernelFunc });
      }
    }
  }
  tf.registerGradient({
    kernelName: K.bn, inputsToSave: ['h'], outputsToSave: [false, true, true],
    gradFunc: (dy, saved, attrs) => {
      const dyMain = Array.isArray(dy) ? dy[0] : dy;
      const g = run(K.bnGrad, { dy: dyMain, h: saved[0], mean: saved[1], variance: saved[2] }, attrs);
      return { h: () => g[0] };
    },
  });
}

/** Bound attrs for the kernels: numbers go in attrs; tensors go in as inputs. */
export function boundArgs(l: number | tf.Tensor1D, u: number | tf.Tensor1D): {
  suffix: '' | 'Bounded'; inputs: tf.NamedTensorMap; attrs: NamedAttrMap;
} {
  if (typeof l === 'number' && typeof u === 'number') return { suffix: '', inputs: {}, attrs: { l, u } };
  const lo = typeof l === 'number' ? tf.tensor1d([l]) : l;
  const hi = typeof u === 'number' ? tf.tensor1d([u]) : u;
  return { suffix: 'Bounded', inputs: { lo, hi }, attrs: {} };
}

export { run as runKernel };
