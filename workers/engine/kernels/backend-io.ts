// Float32Array views of kernel inputs and outputs on the wasm and cpu backends, without copies:
// wasm gives views of its heap (makeOutput / typedArrayFromHeap), cpu stores plain typed arrays.
import type { DataId, KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-wasm's BackendWasm we use (structural, so we need not import the package). */
interface WasmLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}
/** The part of tfjs-backend-cpu's MathBackendCPU we use (readSync returns its stored array, uncopied). */
interface CpuLike {
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

function isWasm(b: KernelBackend): b is KernelBackend & WasmLike {
  return typeof (b as Partial<WasmLike>).typedArrayFromHeap === 'function';
}
function isCpu(b: KernelBackend): b is KernelBackend & CpuLike {
  return typeof (b as Partial<CpuLike>).makeTensorInfo === 'function';
}

function size(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

/**
 * Runs `body` over views of the inputs and freshly allocated outputs, returning the outputs' TensorInfos.
 * On wasm every output is allocated before any view is taken: allocation may grow the heap and detach views.
 */
export function runOnViews(
  backend: KernelBackend,
  inputs: readonly TensorInfo[],
  outShapes: readonly number[][],
  body: (ins: Float32Array[], outs: Float32Array[]) => void,
): TensorInfo[] {
  for (const t of inputs) if (t.dtype !== 'float32') throw new Error(`fused kernels take float32, got ${t.dtype}`);
  if (isWasm(backend)) {
    const infos = outShapes.map((s) => backend.makeOutput(s.slice(), 'float32'));
    body(
      inputs.map((t) => backend.typedArrayFromHeap(t)),
      infos.map((t) => backend.typedArrayFromHeap(t)),
    );
    return infos;
  }
  if (isCpu(backend)) {
    const outs = outShapes.map((s) => new Float32Array(size(s)));
    body(
      inputs.map((t) => backend.readSync(t.dataId) as Float32Array),
      outs,
    );
    return outs.map((v, i) => backend.makeTensorInfo(outShapes[i].slice(), 'float32', v));
  }
  throw new Error('fused kernels are registered for the wasm and cpu backends only');
}

/**
 * A writable view of a tensor's storage when nothing else shares it (refCount 1), for in-place updates; null
 * when shared or elsewhere, so the caller falls back to a fresh tensor + assign. On wasm only with `heapOk`:
 * tfjs-wasm's XNNPACK matMul caches operators with the weights packed, keyed by the weight tensor's id, assuming
 * tensors are immutable, so an in-place update would leave its forward pass on stale weights (measured: the loss
 * never moved). Callers pass heapOk where our GEMM runs the dense layers, which caches nothing (dense.ts
 * weightsUncached).
 */
export function exclusiveView(
  backend: KernelBackend,
  t: { dataId: DataId; shape: number[] },
  heapOk = false,
): Float32Array | null {
  if (backend.refCount(t.dataId) !== 1) return null;
  if (isWasm(backend))
    return heapOk ? backend.typedArrayFromHeap({ dataId: t.dataId, shape: t.shape, dtype: 'float32' }) : null;
  if (isCpu(backend)) {
    const v = backend.readSync(t.dataId);
    return v instanceof Float32Array ? v : null;
  }
  return null;
}

/** A read-only view of a tensor's float32 data on wasm/cpu (no copy), else a copy via dataSync. */
export function readView(
  backend: KernelBackend,
  t: { dataId: DataId; shape: number[]; dataSync(): unknown },
): Float32Array {
  if (isWasm(backend)) return backend.typedArrayFromHeap({ dataId: t.dataId, shape: t.shape, dtype: 'float32' });
  if (isCpu(backend)) {
    const v = backend.readSync(t.dataId);
    if (v instanceof Float32Array) return v;
  }
  return t.dataSync() as Float32Array;
}

/**
 * On wasm, a new float32 tensor's storage on the heap and a view of it to fill, so an update writes its result
 * where the tensor will live (no JS array per step, no copy into the heap); null elsewhere. Allocate it before
 * taking any other view: allocation may grow the heap and detach them.
 */
export function heapOutput(
  backend: KernelBackend,
  shape: readonly number[],
): { info: TensorInfo; view: Float32Array } | null {
  if (!isWasm(backend)) return null;
  const info = backend.makeOutput(shape.slice(), 'float32');
  return { info, view: backend.typedArrayFromHeap(info) };
}
