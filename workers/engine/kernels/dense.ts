// Dense layer x·W + b as one kernel (the backend's own fused matMul + bias) with a gradient that transposes
// explicitly: matMul's transposeA/transposeB flags are ~9× slower on tfjs-wasm (DESIGN §2.3). Registered
// (not tf.customGrad) so each input's gradient is a separate lazy closure: the first layer's ∂L/∂x, which
// nobody needs, is never computed.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { FAST_BACKENDS } from './register.js';

export const DENSE_KERNEL = 'DeepBernDense';

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
  }
  tf.registerGradient({
    kernelName: DENSE_KERNEL,
    inputsToSave: ['x', 'w'],
    gradFunc: (dy, saved) => {
      const g = dy as tf.Tensor2D;
      const [x, w] = saved as tf.Tensor2D[];
      return {
        x: () => tf.matMul(g, tf.transpose(w)),
        w: () => tf.matMul(tf.transpose(x), g),
        b: () => tf.sum(g, 0),
      };
    },
  });
}

/** x [B, I] · w [I, O] + b [O]. */
export function denseFast(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return tf.engine().runKernel(DENSE_KERNEL, { x, w, b }) as tf.Tensor2D;
}
