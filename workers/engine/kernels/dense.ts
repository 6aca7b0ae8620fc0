// Dense layer x·W + b as one kernel (the backend's own fused matMul + bias) with a gradient that transposes
// explicitly: matMul's transposeA/transposeB flags are ~9× slower on tfjs-wasm (DESIGN §2.3). Registered
// (not tf.customGrad) so each input's gradient is a separate lazy closure: the first layer's ∂L/∂x, which
// nobody needs, is never computed.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { runOnViews } from './backend-io.js';
import { FAST_BACKENDS } from './register.js';

export const DENSE_KERNEL = 'DeepBernDense';
// tfjs-wasm's Transpose (also behind Sum over axis 0) is a generic N-D permute costing ~10× a plain loop here.
const TRANSPOSE_KERNEL = 'DeepBernTranspose2D';
const COLSUM_KERNEL = 'DeepBernColumnSum';

interface UnaryArgs {
  inputs: { x: TensorInfo };
  backend: KernelBackend;
}

// Loops live in top-level functions with explicit arguments: V8 optimises a loop over values captured by a
// fresh closure (one per kernel call) about 2× worse.

/**
 * [R, C] → [C, R], eight rows at a time: each step reads one value from eight rows and writes eight adjacent
 * outputs (measured ~2× faster than 16-row blocks with an inner row loop on [256, 100] and [256, 784]).
 */
function transposeLoop(a: Float32Array, o: Float32Array, R: number, C: number): void {
  let r0 = 0;
  for (; r0 + 8 <= R; r0 += 8) {
    for (let c = 0, ai = r0 * C, oi = r0; c < C; c++, ai++, oi += R) {
      o[oi] = a[ai];
      o[oi + 1] = a[ai + C];
      o[oi + 2] = a[ai + 2 * C];
      o[oi + 3] = a[ai + 3 * C];
      o[oi + 4] = a[ai + 4 * C];
      o[oi + 5] = a[ai + 5 * C];
      o[oi + 6] = a[ai + 6 * C];
      o[oi + 7] = a[ai + 7 * C];
    }
  }
  for (; r0 < R; r0++) for (let c = 0; c < C; c++) o[c * R + r0] = a[r0 * C + c];
}

/** Σ over rows: [R, C] → [C] (float64 accumulation). */
function columnSumLoop(a: Float32Array, o: Float32Array, R: number, C: number): void {
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let i = c; i < R * C; i += C) s += a[i];
    o[c] = s;
  }
}

const transpose2d = ({ inputs: { x }, backend }: UnaryArgs): TensorInfo[] => {
  const [R, C] = x.shape;
  return runOnViews(backend, [x], [[C, R]], ([a], [o]) => transposeLoop(a, o, R, C));
};

const columnSum = ({ inputs: { x }, backend }: UnaryArgs): TensorInfo[] => {
  const [R, C] = x.shape;
  return runOnViews(backend, [x], [[C]], ([a], [o]) => columnSumLoop(a, o, R, C));
};

function unary(kernel: string, x: tf.Tensor): tf.Tensor {
  return (tf.engine().runKernel(kernel, { x }) as tf.Tensor[])[0];
}

interface DenseArgs {
  inputs: { x: TensorInfo; w: TensorInfo; b: TensorInfo };
  backend: KernelBackend;
}

function denseKernel(backendName: string): KernelFunc {
  let fused: tf.KernelConfig | undefined; // looked up on first use: the backend may register after us
  const f = ({ inputs: { x, w, b }, backend }: DenseArgs): TensorInfo => {
    fused ??= tf.getKernel(tf._FusedMatMul, backendName);
    if (!fused) throw new Error(`backend ${backendName} has no ${tf._FusedMatMul} kernel`);
    const [B, I] = x.shape, O = w.shape[1];
    // The wasm kernel reads rank-3 shapes; re-viewing a TensorInfo's shape costs nothing (as Reshape does).
    const out = fused.kernelFunc({
      inputs: { a: { ...x, shape: [1, B, I] }, b: { ...w, shape: [1, I, O] }, bias: b },
      backend,
      attrs: { transposeA: false, transposeB: false, activation: 'linear', leakyreluAlpha: 0 },
    }) as TensorInfo;
    return { dataId: out.dataId, dtype: out.dtype, shape: [B, O] };
  };
  return f as unknown as KernelFunc; // tfjs types kernel inputs loosely; ours are always present.
}

let registered = false;

export function registerDenseKernel(): void {
  if (registered) return;
  registered = true;
  for (const backendName of FAST_BACKENDS) {
    if (!tf.getKernel(DENSE_KERNEL, backendName)) {
      tf.registerKernel({ kernelName: DENSE_KERNEL, backendName, kernelFunc: denseKernel(backendName) });
    }
    for (const [kernelName, f] of [[TRANSPOSE_KERNEL, transpose2d], [COLSUM_KERNEL, columnSum]] as const) {
      // Our kernel args are always present; tfjs types them loosely.
      if (!tf.getKernel(kernelName, backendName)) tf.registerKernel({ kernelName, backendName, kernelFunc: f as unknown as KernelFunc });
    }
  }
  tf.registerGradient({
    kernelName: DENSE_KERNEL,
    inputsToSave: ['x', 'w'],
    gradFunc: (dy, saved) => {
      const g = dy as tf.Tensor2D;
      const [x, w] = saved as tf.Tensor2D[];
      return {
        x: () => tf.matMul(g, unary(TRANSPOSE_KERNEL, w) as tf.Tensor2D),
        w: () => tf.matMul(unary(TRANSPOSE_KERNEL, x) as tf.Tensor2D, g),
        b: () => unary(COLSUM_KERNEL, g),
      };
    },
  });
}

/** x [B, I] · w [I, O] + b [O]. */
export function denseFast(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return tf.engine().runKernel(DENSE_KERNEL, { x, w, b }) as tf.Tensor2D;
}
