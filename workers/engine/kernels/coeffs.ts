// Effective coefficients c_0 = a, c_k = c_{k−1} + softplus(θ_k) + ε (DESIGN §1.2) as one kernel with one
// backward kernel: the composed version is ~8 ops forward and ~15 backward per layer, for [W, n+1] numbers.
//   ∂L/∂a = Σ_k ∂L/∂c_k,   ∂L/∂θ_j = sigmoid(θ_j) · Σ_{k ≥ j} ∂L/∂c_k   (θ_j feeds c_j … c_n; j = 1..n)
import * as tf from '@tensorflow/tfjs-core';
import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { runOnViews } from './backend-io.js';
import { prepareBnSimd } from './bn-simd.js';
import { coefficientsBackward, coefficientsForward } from './coeffs-math.js';
import { FAST_BACKENDS } from './register.js';

export const COEFFS_KERNEL = 'DeepBernCoefficients';
export const COEFFS_GRAD_KERNEL = 'DeepBernCoefficientsGrad';

interface Args {
  inputs: Record<string, TensorInfo>;
  backend: KernelBackend;
  attrs: { eps: number };
}

// On tfjs-wasm the module in bn-simd.wat runs them (float32 softplus and sigmoid, 4 lanes: the JS loops' ~45 000
// log1p/exp per step of a depth-50 net were ~3 ms of a step, done by every replica of a threaded run).
const forward = ({ inputs: { a, theta }, backend, attrs: { eps } }: Args): TensorInfo[] => {
  const [W, n] = theta.shape;
  prepareBnSimd(backend);
  return runOnViews(backend, [a, theta], [[W, n + 1]], ([av, th], [c]) => coefficientsForward(av, th, c, W, n, eps));
};

const backward = ({ inputs: { dc, theta }, backend }: Args): TensorInfo[] => {
  const [W, n] = theta.shape;
  prepareBnSimd(backend);
  return runOnViews(backend, [dc, theta], [[W], [W, n]], ([g, th], [ga, gt]) =>
    coefficientsBackward(g, th, ga, gt, W, n),
  );
};

let registered = false;

export function registerCoefficientKernels(): void {
  if (registered) return;
  registered = true;
  for (const backendName of FAST_BACKENDS) {
    for (const [kernelName, f] of [
      [COEFFS_KERNEL, forward],
      [COEFFS_GRAD_KERNEL, backward],
    ] as const) {
      // tfjs types kernel args loosely; ours are always present.
      if (!tf.getKernel(kernelName, backendName))
        tf.registerKernel({ kernelName, backendName, kernelFunc: f as unknown as KernelFunc });
    }
  }
  tf.registerGradient({
    kernelName: COEFFS_KERNEL,
    inputsToSave: ['theta'],
    gradFunc: (dy, saved, attrs) => {
      const g = tf
        .engine()
        .runKernel(COEFFS_GRAD_KERNEL, { dc: dy as tf.Tensor, theta: saved[0] }, attrs) as tf.Tensor[];
      return { a: () => g[0], theta: () => g[1] };
    },
  });
}

/** Same as effectiveCoefficientsT (bernstein-reference.ts): a [W], θ [W, n] → c [W, n+1]. */
export function effectiveCoefficientsFast(a: tf.Tensor1D, theta: tf.Tensor2D, eps: number): tf.Tensor2D {
  registerCoefficientKernels();
  return (tf.engine().runKernel(COEFFS_KERNEL, { a, theta }, { eps }) as tf.Tensor[])[0] as tf.Tensor2D;
}
