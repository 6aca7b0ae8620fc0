// Softmax cross-entropy (mean over the batch, targets as probability rows, e.g. one-hot) as one forward kernel
// that also counts the rows whose first arg-max class has target 1 (the accuracy, not differentiated), and one
// backward kernel: ∂L/∂logits = dy·(softmax·Σ_c y − y)/B. Replaces ~20 composed ops (logSoftmax, mul, sum,
// mean, neg, argMax, equal, cast, sum and their gradients) per step. Registered for wasm and cpu.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { runOnViews } from './backend-io.js';
import { FAST_BACKENDS } from './register.js';

const XENT = 'DeepBernSoftmaxXent';
const XENT_GRAD = 'DeepBernSoftmaxXentGrad';

/** loss[0] = −(1/B) Σ_b Σ_c y·log softmax(o); correct[0] = #rows with y[argmax o] = 1. */
export function xentForward(
  o: Float32Array,
  y: Float32Array,
  B: number,
  C: number,
  loss: Float32Array,
  correct: Float32Array,
): void {
  let total = 0,
    right = 0;
  for (let b = 0, r = 0; b < B; b++, r += C) {
    let mx = o[r],
      arg = 0;
    for (let c = 1; c < C; c++)
      if (o[r + c] > mx) {
        mx = o[r + c];
        arg = c;
      }
    let se = 0;
    for (let c = 0; c < C; c++) se += Math.exp(o[r + c] - mx);
    const lse = mx + Math.log(se);
    for (let c = 0; c < C; c++) {
      const t = y[r + c];
      if (t !== 0) total -= t * (o[r + c] - lse);
    }
    if (y[r + arg] === 1) right++;
  }
  loss[0] = total / B;
  correct[0] = right;
}

export function xentBackward(
  dy: number,
  o: Float32Array,
  y: Float32Array,
  B: number,
  C: number,
  g: Float32Array,
): void {
  const k = dy / B;
  for (let b = 0, r = 0; b < B; b++, r += C) {
    let mx = o[r],
      sy = 0;
    for (let c = 1; c < C; c++) if (o[r + c] > mx) mx = o[r + c];
    let se = 0;
    for (let c = 0; c < C; c++) {
      se += Math.exp(o[r + c] - mx);
      sy += y[r + c];
    }
    const inv = 1 / se;
    for (let c = 0; c < C; c++) g[r + c] = k * (Math.exp(o[r + c] - mx) * inv * sy - y[r + c]);
  }
}

interface Args {
  inputs: Record<string, TensorInfo>;
  backend: KernelBackend;
}

const fwd = ({ inputs: { logits, target }, backend }: Args): TensorInfo[] => {
  const [B, C] = logits.shape;
  return runOnViews(backend, [logits, target], [[], []], (i, o) => xentForward(i[0], i[1], B, C, o[0], o[1]));
};
const bwd = ({ inputs: { dy, logits, target }, backend }: Args): TensorInfo[] => {
  const [B, C] = logits.shape;
  return runOnViews(backend, [dy, logits, target], [[B, C]], (i, o) => xentBackward(i[0][0], i[1], i[2], B, C, o[0]));
};

let registered = false;

function register(): void {
  if (registered) return;
  registered = true;
  for (const backendName of FAST_BACKENDS) {
    for (const [kernelName, f] of [
      [XENT, fwd],
      [XENT_GRAD, bwd],
    ] as const) {
      if (!tf.getKernel(kernelName, backendName))
        tf.registerKernel({ kernelName, backendName, kernelFunc: f as unknown as KernelFunc });
    }
  }
  tf.registerGradient({
    kernelName: XENT,
    inputsToSave: ['logits', 'target'],
    gradFunc: (dy, saved) => {
      const d = Array.isArray(dy) ? dy[0] : dy;
      return {
        logits: () =>
          (tf.engine().runKernel(XENT_GRAD, { dy: d, logits: saved[0], target: saved[1] }) as tf.Tensor[])[0],
        target: () => tf.zerosLike(saved[1]), // targets are data: never on a gradient path
      };
    },
  });
}

/** Mean softmax cross-entropy and the number of correctly classified rows (not differentiated). */
export function softmaxCrossEntropyFast(
  logits: tf.Tensor2D,
  target: tf.Tensor2D,
): { loss: tf.Scalar; correct: tf.Scalar } {
  register();
  const r = tf.engine().runKernel(XENT, { logits, target }) as tf.Tensor[];
  return { loss: r[0] as tf.Scalar, correct: r[1] as tf.Scalar };
}
