// Registers the fused Bernstein / batch-norm kernels and their gradients for the wasm and cpu backends, and
// exposes them as ops. Forward and backward are one kernel each (DESIGN §2.3: per-op overhead, not arithmetic,
// dominates at these sizes). Gradients are eager inside gradFunc: one backward kernel yields every input's
// gradient at once (closures run inside separate tidies, so computing lazily would lose the other outputs).
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, KernelBackend, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { runOnViews } from './backend-io.js';
import { prepareBnSimd } from './bn-simd.js';
import { coefficientsBackward, coefficientsForward } from './coeffs-math.js';
import {
  batchNormBackward,
  batchNormForward,
  bernsteinBackward,
  bernsteinForward,
  bnBernsteinBackward,
  bnBernsteinForward,
} from './bernstein-math.js';

export const FAST_BACKENDS = ['wasm', 'cpu'] as const;

export const K = {
  bern: 'DeepBernBernstein',
  bernGrad: 'DeepBernBernsteinGrad',
  bnBern: 'DeepBernBnBernstein',
  bnBernGrad: 'DeepBernBnBernsteinGrad',
  /** bnBern with the coefficients made from a, θ in the same call (an extra output); no gradient. */
  bnBernTheta: 'DeepBernBnBernsteinTheta',
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
  prepareBnSimd(args.backend);
  const z = need(args.inputs, 'z'),
    c = need(args.inputs, 'coeffs');
  const [B, W] = z.shape,
    n = c.shape[1] - 1;
  return runOnViews(args.backend, [z, c, ...boundInfos(args.inputs)], [[B, W]], (i, o) => {
    const { lo, hi } = boundsOf(args, i, 2);
    bernsteinForward(i[0], B, W, i[1], n, lo, hi, null, null, o[0]);
  });
};

const bernBwd = (args: KernelArgs): TensorInfo[] => {
  prepareBnSimd(args.backend);
  const dy = need(args.inputs, 'dy'),
    z = need(args.inputs, 'z'),
    c = need(args.inputs, 'coeffs');
  const [B, W] = z.shape,
    n = c.shape[1] - 1;
  const bi = boundInfos(args.inputs);
  const shapes = [[B, W], c.shape, ...bi.map((t) => t.shape)];
  return runOnViews(args.backend, [dy, z, c, ...bi], shapes, (i, o) => {
    const { lo, hi } = boundsOf(args, i, 3);
    bernsteinBackward(i[0], i[1], B, W, i[2], n, lo, hi, null, null, {
      gx: o[0],
      gc: o[1],
      gl: o[2] ?? null,
      gh: o[3] ?? null,
    });
  });
};

function affineInfos(inputs: KernelArgs['inputs']): TensorInfo[] {
  return inputs.gamma ? [need(inputs, 'gamma'), need(inputs, 'beta')] : [];
}

// Coefficients as an input, or (K.bnBernTheta, the model's own backward) made here from a and θ into an extra
// output by the coefficients kernel's code (coeffs-math.ts, the same bits).
const bnBernFwd = (args: KernelArgs): TensorInfo[] => {
  prepareBnSimd(args.backend);
  const h = need(args.inputs, 'h'),
    theta = args.inputs.theta;
  const coeffIns = theta ? [need(args.inputs, 'a'), theta] : [need(args.inputs, 'coeffs')];
  const [B, W] = h.shape,
    n = theta ? theta.shape[1] : coeffIns[0].shape[1] - 1;
  const bi = boundInfos(args.inputs),
    ai = affineInfos(args.inputs);
  const shapes = [[B, W], [W], [W], ...(theta ? [[W, n + 1]] : [])];
  return runOnViews(args.backend, [h, ...coeffIns, ...bi, ...ai], shapes, (i, o) => {
    const { lo, hi } = boundsOf(args, i, 1 + coeffIns.length);
    const at = 1 + coeffIns.length + bi.length;
    const affine = ai.length ? { gamma: i[at], beta: i[at + 1] } : null;
    if (theta) coefficientsForward(i[1], i[2], o[3], W, n, args.attrs.coeffEps);
    const c = theta ? o[3] : i[1];
    bnBernsteinForward(i[0], B, W, c, n, lo, hi, args.attrs.eps, o[0], { mean: o[1], variance: o[2] }, affine);
  });
};

const bnBernBwd = (args: KernelArgs): TensorInfo[] => {
  prepareBnSimd(args.backend);
  const dy = need(args.inputs, 'dy'),
    h = need(args.inputs, 'h'),
    c = need(args.inputs, 'coeffs');
  const mean = need(args.inputs, 'mean'),
    variance = need(args.inputs, 'variance');
  const [B, W] = h.shape,
    n = c.shape[1] - 1;
  const bi = boundInfos(args.inputs),
    ai = affineInfos(args.inputs);
  // With θ (the model's own backward): ∂L/∂a, ∂L/∂θ in place of ∂L/∂c, which stays in a scratch array — the
  // coefficients' backward kernel's work in this call (coeffs.ts, the same bits).
  const theta = args.inputs.theta;
  const coeffShapes = theta ? [[W], theta.shape] : [c.shape];
  const shapes = [[B, W], ...coeffShapes, ...bi.map((t) => t.shape), ...ai.map(() => [W])];
  const ins = [dy, h, c, mean, variance, ...bi, ...ai, ...(theta ? [theta] : [])];
  return runOnViews(args.backend, ins, shapes, (i, o) => {
    const { lo, hi } = boundsOf(args, i, 5);
    const at = 5 + bi.length,
      ot = coeffShapes.length + 1 + bi.length;
    const affine = ai.length ? { gamma: i[at], beta: i[at + 1] } : null;
    const affineGrads = ai.length ? { gamma: o[ot], beta: o[ot + 1] } : null;
    const gc = theta ? gcScratch(W * (n + 1)) : o[1];
    const bo = coeffShapes.length + 1;
    bnBernsteinBackward(
      i[0],
      i[1],
      B,
      W,
      i[2],
      n,
      lo,
      hi,
      args.attrs.eps,
      { mean: i[3], variance: i[4] },
      { gx: o[0], gc, gl: bi.length ? o[bo] : null, gh: bi.length ? o[bo + 1] : null },
      affine,
      affineGrads,
    );
    if (theta) coefficientsBackward(gc, i[i.length - 1], o[1], o[2], W, n);
  });
};

let gcBuffer = new Float32Array(0);
function gcScratch(size: number): Float32Array {
  if (gcBuffer.length < size) gcBuffer = new Float32Array(size);
  return gcBuffer.subarray(0, size);
}

const bnFwd = (args: KernelArgs): TensorInfo[] => {
  const h = need(args.inputs, 'h');
  const [B, W] = h.shape;
  return runOnViews(args.backend, [h], [[B, W], [W], [W]], (i, o) =>
    batchNormForward(i[0], B, W, args.attrs.eps, o[0], o[1], o[2]),
  );
};

const bnBwd = (args: KernelArgs): TensorInfo[] => {
  const dy = need(args.inputs, 'dy'),
    h = need(args.inputs, 'h');
  const mean = need(args.inputs, 'mean'),
    variance = need(args.inputs, 'variance');
  const [B, W] = h.shape;
  return runOnViews(args.backend, [dy, h, mean, variance], [[B, W]], (i, o) =>
    batchNormBackward(i[0], i[1], B, W, args.attrs.eps, i[2], i[3], o[0]),
  );
};

type Run = (name: string, inputs: tf.NamedTensorMap, attrs: NamedAttrMap) => tf.Tensor[];
const run: Run = (name, inputs, attrs) => tf.engine().runKernel(name, inputs, attrs) as tf.Tensor[];

/**
 * saved = [main input, coeffs, (lo, hi), (gamma, beta)] + extra outputs (mean, variance); gradient names follow
 * the forward inputs. The layout is fixed per kernel name (inputsToSave is static), hence the flags.
 */
function bernGradFunc(
  grad: string,
  main: 'z' | 'h',
  withStats: boolean,
  bounded: boolean,
  affine: boolean,
): GradConfig['gradFunc'] {
  return (dy, saved, attrs) => {
    const dyMain = Array.isArray(dy) ? dy[0] : dy;
    const inputs: tf.NamedTensorMap = { dy: dyMain, [main]: saved[0], coeffs: saved[1] };
    let at = 2;
    if (bounded) {
      Object.assign(inputs, { lo: saved[at], hi: saved[at + 1] });
      at += 2;
    }
    if (affine) {
      Object.assign(inputs, { gamma: saved[at], beta: saved[at + 1] });
      at += 2;
    }
    if (withStats) Object.assign(inputs, { mean: saved[at], variance: saved[at + 1] });
    const g = run(grad, inputs, attrs);
    const out: Record<string, () => tf.Tensor> = { [main]: () => g[0], coeffs: () => g[1] };
    // Output layout [main, coeffs, (lo, hi), (gamma, beta)]; constant indices (closures run later).
    if (bounded) Object.assign(out, { lo: () => g[2], hi: () => g[3] });
    const ga = bounded ? 4 : 2;
    if (affine) Object.assign(out, { gamma: () => g[ga], beta: () => g[ga + 1] });
    return out;
  };
}

let registered = false;

/** Idempotent: registers every fused kernel and gradient for the wasm and cpu backends. */
export function registerFastKernels(): void {
  if (registered) return;
  registered = true;
  const kernels: [string, (a: KernelArgs) => TensorInfo[]][] = [
    [K.bern, bernFwd],
    [K.bernGrad, bernBwd],
    [K.bnBern, bnBernFwd],
    [K.bnBernGrad, bnBernBwd],
    [K.bnBernTheta, bnBernFwd],
    [K.bn, bnFwd],
    [K.bnGrad, bnBwd],
  ];
  for (const backendName of FAST_BACKENDS) {
    for (const [kernelName, f] of kernels) {
      if (tf.getKernel(kernelName, backendName)) continue;
      // tfjs types the backend as {} and attrs as a union; our kernels read numbers only.
      tf.registerKernel({ kernelName, backendName, kernelFunc: f as unknown as KernelFunc });
    }
  }
  // Variants per kernel, since inputsToSave is static: scalar bounds (attrs) or per-unit bounds (inputs lo, hi),
  // and for batch norm + Bernstein without or with the affine γ, β (inputs gamma, beta).
  const variants: [string, string, 'z' | 'h', boolean, boolean, boolean, (a: KernelArgs) => TensorInfo[]][] = [];
  for (const bounded of [false, true]) {
    variants.push([K.bern, K.bernGrad, 'z', false, bounded, false, bernFwd]);
    for (const affine of [false, true]) variants.push([K.bnBern, K.bnBernGrad, 'h', true, bounded, affine, bnBernFwd]);
  }
  for (const [base, grad, main, stats, bounded, affine, f] of variants) {
    const kernelName = base + variantSuffix(bounded, affine);
    tf.registerGradient({
      kernelName,
      inputsToSave: [main, 'coeffs', ...(bounded ? ['lo', 'hi'] : []), ...(affine ? ['gamma', 'beta'] : [])],
      outputsToSave: stats ? [false, true, true] : [],
      gradFunc: bernGradFunc(grad, main, stats, bounded, affine),
    });
    if (kernelName === base) continue; // registered with the plain kernels above
    for (const backendName of FAST_BACKENDS) {
      if (!tf.getKernel(kernelName, backendName)) {
        tf.registerKernel({ kernelName, backendName, kernelFunc: f as unknown as KernelFunc });
      }
    }
  }
  tf.registerGradient({
    kernelName: K.bn,
    inputsToSave: ['h'],
    outputsToSave: [false, true, true],
    gradFunc: (dy, saved, attrs) => {
      const dyMain = Array.isArray(dy) ? dy[0] : dy;
      const g = run(K.bnGrad, { dy: dyMain, h: saved[0], mean: saved[1], variance: saved[2] }, attrs);
      return { h: () => g[0] };
    },
  });
}

/** Kernel-name suffix of a variant: per-unit bounds, affine batch norm. */
export function variantSuffix(bounded: boolean, affine: boolean): string {
  return (bounded ? 'Bounded' : '') + (affine ? 'Affine' : '');
}

/** Bound attrs for the kernels: numbers go in attrs; tensors go in as inputs. */
export function boundArgs(
  l: number | tf.Tensor1D,
  u: number | tf.Tensor1D,
): {
  suffix: '' | 'Bounded';
  inputs: tf.NamedTensorMap;
  attrs: NamedAttrMap;
} {
  if (typeof l === 'number' && typeof u === 'number') return { suffix: '', inputs: {}, attrs: { l, u } };
  const lo = typeof l === 'number' ? tf.tensor1d([l]) : l;
  const hi = typeof u === 'number' ? tf.tensor1d([u]) : u;
  return { suffix: 'Bounded', inputs: { lo, hi }, attrs: {} };
}

export { run as runKernel };
