// Our wasm SIMD GEMM (gemm.wat, built by scripts/build-gemm.mjs) running on tfjs-wasm's own heap: the module
// imports the backend's WebAssembly.Memory, so operands are read where tfjs keeps them and the product is written
// straight into a tfjs output tensor — no copies of tfjs's; a transposed operand is only swapped strides, read once
// while the module packs it into its panels (scratch on the same heap).
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';
import { GEMM_WASM_BASE64 } from './gemm-wasm.generated.js';

// The Node typings (lib ES2022, no DOM) do not declare WebAssembly; the little we use, typed here.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
declare const WebAssembly: {
  Memory: abstract new (...args: never[]) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};

/** The parts of tfjs-backend-wasm's BackendWasm we use (structural, so we need not import the package). */
interface WasmBackendLike {
  wasm: { asm: { memory: WasmMemory }; _malloc(n: number): number; _free(p: number): void };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  getMemoryOffset(dataId: object): number;
}

type GemmFn = (
  M: number,
  N: number,
  K: number,
  a: number,
  rsA: number,
  csA: number,
  b: number,
  rsB: number,
  csB: number,
  c: number,
  ldc: number,
  bias: number,
  scratch: number,
) => void;

interface Bound {
  gemm: GemmFn;
  scratch: number;
  scratchBytes: number;
}

/** One instance per tfjs-wasm backend object (per thread); the backend's heap is what it runs on. */
const instances = new WeakMap<object, Bound>();

export function isWasmBackend(b: KernelBackend): b is KernelBackend & WasmBackendLike {
  const w = (b as Partial<WasmBackendLike>).wasm;
  return (
    typeof (b as Partial<WasmBackendLike>).getMemoryOffset === 'function' &&
    w?.asm?.memory instanceof WebAssembly.Memory
  );
}

function bind(backend: WasmBackendLike): Bound {
  let inst = instances.get(backend);
  if (!inst) {
    const bytes = Uint8Array.from(atob(GEMM_WASM_BASE64), (ch) => ch.charCodeAt(0));
    // ~3 KB, compiled synchronously: fine in Node and worker threads (only a browser main thread caps sync size).
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
      env: { memory: backend.wasm.asm.memory },
    });
    inst = { gemm: instance.exports.gemm as GemmFn, scratch: 0, scratchBytes: 0 };
    instances.set(backend, inst);
  }
  return inst;
}

const unusable = new WeakSet<object>();

/**
 * Whether our module can run on this backend's heap (it binds on first use). It cannot when the heap is not
 * what it imports — e.g. a shared memory under tfjs-wasm's threaded build — and then callers keep XNNPACK.
 */
export function gemmUsable(backend: KernelBackend): boolean {
  if (!isWasmBackend(backend) || unusable.has(backend)) return false;
  try {
    bind(backend);
    return true;
  } catch {
    unusable.add(backend);
    return false;
  }
}

/** The GEMM's row-panel height (MR in scripts/build-gemm.mjs). */
const MR = 4;

/**
 * Scratch for one call, 16-byte aligned (kept between calls, grown on demand): the packed B panels (K × 8 floats
 * each), the padded bias, one packed A panel (K × MR, rounded up to 16 bytes) and an MR × 8 edge tile. The layout
 * is the driver's in gemm.wat.
 */
function scratchFor(backend: WasmBackendLike, inst: Bound, K: number, N: number): number {
  const npad = Math.ceil(N / 8) * 8;
  const aPanel = Math.ceil((K * MR) / 4) * 4;
  const need = (K * npad + npad + aPanel + MR * 8) * 4 + 16;
  if (need > inst.scratchBytes) {
    if (inst.scratch) backend.wasm._free(inst.scratch);
    const bytes = Math.max(need, inst.scratchBytes * 2);
    inst.scratch = backend.wasm._malloc(bytes) >>> 0;
    if (!inst.scratch) throw new Error(`gemm: could not allocate ${bytes} bytes of scratch on the wasm heap`);
    inst.scratchBytes = bytes;
  }
  return (inst.scratch + 15) & ~15;
}

/**
 * op(a)·op(b) (+ bias) into a new [M, N] float32 tensor on the wasm backend, where op(t) = tᵀ when the flag is
 * set (read by strides, never materialised). a, b are rank-2 float32 (rank-3 with batch 1 is accepted).
 */
export function gemmWasm(
  backend: KernelBackend,
  a: TensorInfo,
  transposeA: boolean,
  b: TensorInfo,
  transposeB: boolean,
  bias?: TensorInfo,
): TensorInfo {
  if (!isWasmBackend(backend)) throw new Error('gemmWasm runs on the tfjs wasm backend only');
  for (const t of bias ? [a, b, bias] : [a, b])
    if (t.dtype !== 'float32') throw new Error(`gemm takes float32, got ${t.dtype}`);
  const [ar, ac] = a.shape.slice(-2),
    [br, bc] = b.shape.slice(-2);
  const M = transposeA ? ac : ar,
    K = transposeA ? ar : ac;
  const Kb = transposeB ? bc : br,
    N = transposeB ? br : bc;
  if (K !== Kb)
    throw new Error(
      `gemm: inner dimensions differ (${a.shape} vs ${b.shape}, transposes ${transposeA}, ${transposeB})`,
    );
  if (bias && bias.shape[bias.shape.length - 1] !== N)
    throw new Error(`gemm: bias has ${bias.shape} entries, want ${N}`);
  const inst = bind(backend);
  // Allocate before reading any offsets (offsets stay valid when the heap grows; only views detach).
  const out = backend.makeOutput([M, N], 'float32');
  const scratch = scratchFor(backend, inst, K, N);
  if (M * N === 0) return out;
  const pa = backend.getMemoryOffset(a.dataId),
    pb = backend.getMemoryOffset(b.dataId);
  const pc = backend.getMemoryOffset(out.dataId);
  const pbias = bias ? backend.getMemoryOffset(bias.dataId) : 0;
  // Stored row-major [ar, ac]: element (r, c) at r·ac + c. Transposed view: (r, c) at c·ac + r.
  const [rsA, csA] = transposeA ? [1, ac] : [ac, 1];
  const [rsB, csB] = transposeB ? [1, bc] : [bc, 1];
  inst.gemm(M, N, K, pa, rsA, csA, pb, rsB, csB, pc, N, pbias, scratch);
  return out;
}
