// Our wasm SIMD GEMM (gemm.wat, built by scripts/build-gemm.mjs) running on tfjs-wasm's own heap: the module
// imports the backend's WebAssembly.Memory, so operands are read where tfjs keeps them and the product is written
// straight into a tfjs output tensor — no copies of tfjs's; a transposed operand is only swapped strides, read once
// while the module packs it into its panels (scratch on the same heap).
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';
import { instantiate, isWasmMemory, validates, type WasmMemory } from '../wasm/heap.js';
import { GEMM_RELAXED_WASM_BASE64, GEMM_WASM_BASE64 } from './gemm-wasm.generated.js';

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
  fns: Partial<Record<GemmVariant, GemmFn>>;
  scratch: number;
  scratchBytes: number;
}

/**
 * The module's two builds (scripts/build-gemm.mjs): 'relaxed' does each multiply-add as f32x4.relaxed_madd (one
 * FMA on x64; V8 ≥ 11.4, so Electron — Node 20 only behind --experimental-wasm-relaxed-simd), 'simd128' as mul +
 * add. The default is 'simd128': IEEE mul + add gives the same bits on every engine and CPU, so a run started in
 * the app resumes in the CLI (and reproduces on another machine) bit for bit. relaxed_madd is FMA or mul + add at
 * the engine's choice, so it is opt-in: DEEPBERN_GEMM_SIMD=relaxed|auto (auto: relaxed where the engine
 * validates it) or setGemmVariant() (this thread). 'auto' depends only on the engine, so every thread of a
 * process runs the same build; the two builds differ by float32 rounding.
 */
export const GEMM_VARIANTS = ['simd128', 'relaxed'] as const;
export type GemmVariant = (typeof GEMM_VARIANTS)[number];
type VariantPick = GemmVariant | 'auto';

const SOURCES: Record<GemmVariant, string> = { simd128: GEMM_WASM_BASE64, relaxed: GEMM_RELAXED_WASM_BASE64 };
let relaxedOk: boolean | undefined;
let variantPick: VariantPick | undefined;

/** Whether this engine accepts relaxed SIMD (checked once; setGemmVariant checks again). */
export function relaxedSimdAvailable(): boolean {
  return (relaxedOk ??= validates(GEMM_RELAXED_WASM_BASE64));
}

function parsePick(raw: string, from: string): VariantPick {
  if (raw === 'auto' || (GEMM_VARIANTS as readonly string[]).includes(raw)) return raw as VariantPick;
  throw new Error(`${from}=${raw} is not one of auto, ${GEMM_VARIANTS.join(', ')}`);
}

/** DEEPBERN_GEMM_SIMD, read once (an environment lookup costs about a small product's time). */
function envPick(): VariantPick {
  const env = typeof process !== 'undefined' ? process.env.DEEPBERN_GEMM_SIMD : undefined;
  return env ? parsePick(env, 'DEEPBERN_GEMM_SIMD') : 'simd128';
}

/** Which build gemmWasm uses from now on (this thread): 'simd128' (the default), 'relaxed' or 'auto'. */
export function setGemmVariant(v: VariantPick): void {
  variantPick = parsePick(v, 'gemm variant');
  relaxedOk = undefined;
}

/** The build gemmWasm runs; 'relaxed' asked for where the engine lacks it is an error, not a silent fallback. */
export function gemmVariant(): GemmVariant {
  const pick = (variantPick ??= envPick());
  if (pick === 'auto') return relaxedSimdAvailable() ? 'relaxed' : 'simd128';
  if (pick === 'relaxed' && !relaxedSimdAvailable())
    throw new Error(
      'gemm: this engine has no relaxed SIMD (V8 ≥ 11.4; Node 20 needs --experimental-wasm-relaxed-simd)',
    );
  return pick;
}

/** One instance per tfjs-wasm backend object (per thread) and build; the backend's heap is what it runs on. */
const instances = new WeakMap<object, Bound>();

export function isWasmBackend(b: KernelBackend): b is KernelBackend & WasmBackendLike {
  const w = (b as Partial<WasmBackendLike>).wasm;
  return typeof (b as Partial<WasmBackendLike>).getMemoryOffset === 'function' && isWasmMemory(w?.asm?.memory);
}

function bind(backend: WasmBackendLike, variant: GemmVariant): GemmFn {
  let inst = instances.get(backend);
  if (!inst) {
    inst = { fns: {}, scratch: 0, scratchBytes: 0 };
    instances.set(backend, inst);
  }
  let fn = inst.fns[variant];
  if (!fn) {
    // ~3 KB, compiled synchronously: fine in Node and worker threads (only a browser main thread caps sync size).
    fn = inst.fns[variant] = instantiate(SOURCES[variant], backend.wasm.asm.memory).gemm as GemmFn;
  }
  return fn;
}

const unusable = new WeakSet<object>();

/**
 * Whether our module can run on this backend's heap (it binds on first use). It cannot when the heap is not
 * what it imports — e.g. a shared memory under tfjs-wasm's threaded build — and then callers keep XNNPACK.
 */
export function gemmUsable(backend: KernelBackend): boolean {
  if (!isWasmBackend(backend) || unusable.has(backend)) return false;
  const variant = gemmVariant();
  try {
    bind(backend, variant);
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
function scratchFor(backend: WasmBackendLike, K: number, N: number): number {
  const inst = instances.get(backend);
  if (!inst) throw new Error('gemm: scratch asked for before the module was bound');
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
 * set (read by strides while packing, never materialised). a, b are rank-2 float32 (rank-3 with batch 1 is accepted).
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
  const gemm = bind(backend, gemmVariant());
  // Allocate before reading any offsets (offsets stay valid when the heap grows; only views detach).
  const out = backend.makeOutput([M, N], 'float32');
  const scratch = scratchFor(backend, K, N);
  if (M * N === 0) return out;
  const pa = backend.getMemoryOffset(a.dataId),
    pb = backend.getMemoryOffset(b.dataId);
  const pc = backend.getMemoryOffset(out.dataId);
  const pbias = bias ? backend.getMemoryOffset(bias.dataId) : 0;
  // Stored row-major [ar, ac]: element (r, c) at r·ac + c. Transposed view: (r, c) at c·ac + r.
  const [rsA, csA] = transposeA ? [1, ac] : [ac, 1];
  const [rsB, csB] = transposeB ? [1, bc] : [bc, 1];
  gemm(M, N, K, pa, rsA, csA, pb, rsB, csB, pc, N, pbias, scratch);
  return out;
}
