// Dense layer x·W + b as one kernel with a gradient of two products, dY·Wᵀ and Xᵀ·dY. Two implementations:
// - 'xnnpack': the backend's own fused matMul + bias; the gradient transposes explicitly, since matMul's
//   transposeA/transposeB flags are ~9× slower on tfjs-wasm (DESIGN §2.3).
// - 'ours' (wasm only): our wasm SIMD GEMM (../gemm/), which reads transposed operands by stride.
// The pick: DEEPBERN_GEMM=ours|xnnpack, or setDenseGemm(); the cpu backend always uses its matMul.
// Registered (not tf.customGrad) so each input's gradient is a separate lazy closure: the first layer's ∂L/∂x,
// which nobody needs, is never computed.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { DenseGrads } from '../ops.js';
import { runOnViews } from './backend-io.js';
import { prepareBnSimd, simdColumnSum, simdFor } from './bn-simd.js';
import { FAST_BACKENDS } from './register.js';
import { gemmUsable, gemmWasm } from '../gemm/gemm.js';

export const DENSE_KERNEL = 'DeepBernDense';
const GEMM_KERNEL = 'DeepBernGemm';

export const DENSE_GEMMS = ['xnnpack', 'ours'] as const;
export type DenseGemm = (typeof DENSE_GEMMS)[number];

function envGemm(): DenseGemm {
  const raw = typeof process !== 'undefined' ? process.env.DEEPBERN_GEMM : undefined;
  if (raw === undefined || raw === '') return DEFAULT_GEMM;
  if ((DENSE_GEMMS as readonly string[]).includes(raw)) return raw as DenseGemm;
  throw new Error(`DEEPBERN_GEMM=${raw} is not one of ${DENSE_GEMMS.join(', ')}`);
}

/**
 * The default: ours. `npm run bench -- gemm` (2 cores, load average ~11, medians of 3, per CPU-second): the
 * minimal training step of the four bench nets is 1.20–1.31× XNNPACK's with its SIMD128 build (1.10–1.15× before
 * the packed-panel kernel), 1.32–1.41× with its relaxed-SIMD build; the products themselves run at ~30 (SIMD128)
 * and ~40 (relaxed) GFLOP/s on the 100- and 784-wide shapes, fastest call, vs XNNPACK's 13–21 as called here
 * (fresh weights every step, so XNNPACK repacks them per call, and explicit transposes).
 */
const DEFAULT_GEMM: DenseGemm = 'ours';
let gemmPick: DenseGemm | undefined;

/** Which GEMM the wasm backend's dense layers use from now on (this thread). */
export function setDenseGemm(g: DenseGemm): void {
  if (!(DENSE_GEMMS as readonly string[]).includes(g))
    throw new Error(`dense GEMM must be one of ${DENSE_GEMMS.join(', ')}`);
  gemmPick = g;
}

export function denseGemm(): DenseGemm {
  return (gemmPick ??= envGemm());
}

/**
 * Whether the dense layers' weights may be updated in place on this backend: our GEMM runs them (it packs the
 * weights afresh in every call), not XNNPACK (which caches them packed by tensor id); cpu keeps no cache.
 */
export function weightsUncached(backend: KernelBackend): boolean {
  return oursOn(backend);
}

/** Our GEMM runs here: the pick is 'ours' and the backend is tfjs-wasm with a heap our module can use. */
function oursOn(backend: KernelBackend): boolean {
  return denseGemm() === 'ours' && gemmUsable(backend);
}
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
  prepareBnSimd(backend);
  return runOnViews(backend, [x], [[C]], ([a], [o]) => {
    const simd = simdFor(C, a); // the same float64 sums, four columns at a time (bn-simd.ts)
    if (simd) simdColumnSum(simd, a, R, C, o);
    else columnSumLoop(a, o, R, C);
  });
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
    if (oursOn(backend)) return gemmWasm(backend, x, false, w, false, b);
    fused ??= tf.getKernel(tf._FusedMatMul, backendName);
    if (!fused) throw new Error(`backend ${backendName} has no ${tf._FusedMatMul} kernel`);
    const [B, I] = x.shape,
      O = w.shape[1];
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

interface GemmArgs {
  inputs: { a: TensorInfo; b: TensorInfo };
  backend: KernelBackend;
  attrs: { transposeA: boolean; transposeB: boolean };
}

const gemmKernel = ({ inputs: { a, b }, backend, attrs }: GemmArgs): TensorInfo =>
  gemmWasm(backend, a, attrs.transposeA, b, attrs.transposeB);

// A dense layer's whole backward as one kernel (our GEMM only): ∂L/∂W, ∂L/∂b and, when asked, ∂L/∂x — the same
// three computations as the separate kernels, in their order, so the same bits with a third of the dispatches.
const DENSE_GRAD_KERNEL = 'DeepBernDenseGrad';

interface DenseGradArgs {
  inputs: { x: TensorInfo; dy: TensorInfo; w: TensorInfo };
  backend: KernelBackend;
  attrs: { input: boolean };
}

const denseGradKernel = ({ inputs: { x, dy, w }, backend, attrs }: DenseGradArgs): TensorInfo[] => {
  const dw = gemmWasm(backend, x, true, dy, false);
  const [db] = columnSum({ inputs: { x: dy }, backend });
  return attrs.input ? [dw, db, gemmWasm(backend, dy, false, w, true)] : [dw, db];
};

function gemm(a: tf.Tensor2D, b: tf.Tensor2D, transposeA: boolean, transposeB: boolean): tf.Tensor2D {
  return tf.engine().runKernel(GEMM_KERNEL, { a, b }, { transposeA, transposeB }) as tf.Tensor2D;
}

/** ∂L/∂x = dY·Wᵀ. */
export function denseInputGrad(dy: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  if (oursOn(tf.backend())) return gemm(dy, w, false, true);
  return tf.matMul(dy, unary(TRANSPOSE_KERNEL, w) as tf.Tensor2D);
}

/** ∂L/∂W = Xᵀ·dY. */
export function denseWeightGrad(x: tf.Tensor2D, dy: tf.Tensor2D): tf.Tensor2D {
  if (oursOn(tf.backend())) return gemm(x, dy, true, false);
  return tf.matMul(unary(TRANSPOSE_KERNEL, x) as tf.Tensor2D, dy);
}

/** ∂L/∂b = Σ over rows of dY. */
export function denseBiasGrad(dy: tf.Tensor2D): tf.Tensor1D {
  return unary(COLSUM_KERNEL, dy) as tf.Tensor1D;
}

/** ∂L/∂W, ∂L/∂b and (input) ∂L/∂x of dense(x, w, b) from dY: one kernel on our GEMM, else the three above. */
export function denseGrads(x: tf.Tensor2D, dy: tf.Tensor2D, w: tf.Tensor2D, input: boolean): DenseGrads {
  if (!oursOn(tf.backend())) {
    const dw = denseWeightGrad(x, dy),
      db = denseBiasGrad(dy);
    return input ? { dw, db, dx: denseInputGrad(dy, w) } : { dw, db };
  }
  const g = tf.engine().runKernel(DENSE_GRAD_KERNEL, { x, dy, w }, { input }) as tf.Tensor[];
  return input
    ? { dw: g[0] as tf.Tensor2D, db: g[1] as tf.Tensor1D, dx: g[2] as tf.Tensor2D }
    : { dw: g[0] as tf.Tensor2D, db: g[1] as tf.Tensor1D };
}

let registered = false;

export function registerDenseKernel(): void {
  if (registered) return;
  registered = true;
  for (const backendName of FAST_BACKENDS) {
    if (!tf.getKernel(DENSE_KERNEL, backendName)) {
      tf.registerKernel({ kernelName: DENSE_KERNEL, backendName, kernelFunc: denseKernel(backendName) });
    }
    for (const [kernelName, f] of [
      [TRANSPOSE_KERNEL, transpose2d],
      [COLSUM_KERNEL, columnSum],
    ] as const) {
      // Our kernel args are always present; tfjs types them loosely.
      if (!tf.getKernel(kernelName, backendName))
        tf.registerKernel({ kernelName, backendName, kernelFunc: f as unknown as KernelFunc });
    }
  }
  for (const [kernelName, f] of [
    [GEMM_KERNEL, gemmKernel],
    [DENSE_GRAD_KERNEL, denseGradKernel],
  ] as const) {
    if (!tf.getKernel(kernelName, 'wasm'))
      tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: f as unknown as KernelFunc });
  }
  tf.registerGradient({
    kernelName: DENSE_KERNEL,
    inputsToSave: ['x', 'w'],
    gradFunc: (dy, saved) => {
      const g = dy as tf.Tensor2D;
      const [x, w] = saved as tf.Tensor2D[];
      return {
        x: () => denseInputGrad(g, w),
        w: () => denseWeightGrad(x, g),
        b: () => denseBiasGrad(g),
      };
    },
  });
}

/** x [B, I] · w [I, O] + b [O]. */
export function denseFast(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return tf.engine().runKernel(DENSE_KERNEL, { x, w, b }) as tf.Tensor2D;
}
