// The wasm SIMD bodies (bn-simd.wat) of the fused batch-norm → Bernstein / ReLU kernels, run on tfjs-wasm's
// own heap: the kernels' Float32Array views are views of that heap, so a view's byteOffset is its address and
// nothing is copied. Four units (columns) per call, f32x4; the per-unit constants go through a small parameter
// block on the heap. Measured (2-core machine under load, best of 300, [256, 100], n = 9): Bernstein forward
// ~4×, backward ~3×, batch norm → ReLU forward / backward ~3× the JS loops they replace.
//
// Used when the views are on a bound heap, W is a multiple of 4 and the degree ≤ SIMD_MAX_DEGREE; the JS loops
// (bernstein-math.ts, act-math.ts) stay for everything else (cpu backend, other widths, affine ReLU, …).
// Arithmetic is float32 here (float64 in the JS loops): results differ by float32 rounding, run-to-run identical.
import type { KernelBackend } from '@tensorflow/tfjs-core';
import { BN_SIMD_WASM_BASE64 } from './bn-simd.generated.js';

interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
declare const WebAssembly: {
  Memory: abstract new (...args: never[]) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};

interface WasmBackendLike {
  wasm: { asm: { memory: WasmMemory }; _malloc(n: number): number };
}

type Fn = (...args: number[]) => void;

export const SIMD_MAX_DEGREE = 200;
/** Parameter block (7 + n + 1 slots), accumulators (n + 5) and powers of s (n + 1), 16 bytes a slot. */
const SCRATCH_BYTES = 16 * (3 * (SIMD_MAX_DEGREE + 1) + 12) + 16;

export interface BnSimd {
  memory: WasmMemory;
  bernFwd: Fn;
  bernBwd: Fn;
  bnApply: Fn;
  bnReluFwd: Fn;
  bnReluBwd: Fn;
  colSums: Fn;
  /** Addresses: parameter block, accumulators, s powers. */
  p: number;
  acc: number;
  sp: number;
}

const bound: BnSimd[] = [];
const refused = new WeakSet<object>();

function isWasmBackend(b: KernelBackend): b is KernelBackend & WasmBackendLike {
  const w = (b as Partial<WasmBackendLike>).wasm;
  return typeof w?._malloc === 'function' && w.asm?.memory instanceof WebAssembly.Memory;
}

/**
 * Binds the module to a wasm backend's heap (once per backend). Call before taking any view in a kernel: the
 * first call allocates scratch, which may grow the heap and detach views.
 */
export function prepareBnSimd(backend: KernelBackend): void {
  if (!isWasmBackend(backend) || refused.has(backend)) return;
  const memory = backend.wasm.asm.memory;
  if (bound.some((b) => b.memory === memory)) return;
  try {
    const bytes = Uint8Array.from(atob(BN_SIMD_WASM_BASE64), (ch) => ch.charCodeAt(0));
    const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
    const raw = backend.wasm._malloc(SCRATCH_BYTES) >>> 0;
    if (!raw) throw new Error('no scratch');
    const p = (raw + 15) & ~15;
    bound.push({
      memory,
      bernFwd: ex.bern_fwd as Fn,
      bernBwd: ex.bern_bwd as Fn,
      bnApply: ex.bn_apply as Fn,
      bnReluFwd: ex.bnrelu_fwd as Fn,
      bnReluBwd: ex.bnrelu_bwd as Fn,
      colSums: ex.col_sums as Fn,
      p,
      acc: p + 16 * (SIMD_MAX_DEGREE + 8),
      sp: p + 16 * (2 * SIMD_MAX_DEGREE + 14),
    });
  } catch {
    // e.g. a shared (threaded) heap our module does not import: the JS loops run instead
    refused.add(backend);
  }
}

let enabled = true;

/** Whether the kernels may use this module (default on; off to compare with the JS loops: tests, benchmarks). */
export function setBnSimd(on: boolean): void {
  enabled = on;
}

/** The bound module when every view lies on its heap (and 4-unit groups fit: W % 4 = 0), else null. */
export function simdFor(W: number, ...views: Float32Array[]): BnSimd | null {
  if (!enabled || W % 4 !== 0 || bound.length === 0) return null;
  const buf = views[0].buffer;
  for (const v of views) if (v.buffer !== buf || v.byteOffset % 4 !== 0) return null;
  for (const b of bound) if (b.memory.buffer === buf) return b;
  return null;
}

/** A float32 view of `slots` 16-byte slots at addr (views are cheap; the heap may have grown since). */
function slotsAt(s: BnSimd, addr: number, slots: number): Float32Array {
  return new Float32Array(s.memory.buffer, addr, slots * 4);
}

interface Column {
  shift: Float32Array | null;
  scale: Float64Array | null;
  gamma: Float32Array | null;
  beta: Float32Array | null;
  lo: Float32Array;
  hi: Float32Array;
}

/** Slots 0–6 (mu, sc, ga, be, l, inv, u) for units w0 … w0+3. */
function fillCommon(P: Float32Array, w0: number, c: Column): void {
  const ls = c.lo.length === 1 ? 0 : 1,
    hs = c.hi.length === 1 ? 0 : 1;
  for (let j = 0; j < 4; j++) {
    const w = w0 + j;
    const l = c.lo[w * ls],
      u = c.hi[w * hs];
    P[j] = c.shift === null ? 0 : c.shift[w];
    P[4 + j] = c.scale === null ? 1 : c.scale[w];
    P[8 + j] = c.gamma === null ? 1 : c.gamma[w];
    P[12 + j] = c.beta === null ? 0 : c.beta[w];
    P[16 + j] = l;
    P[20 + j] = 1 / (u - l);
    P[24 + j] = u;
  }
}

/** bernsteinForward on the heap: binom = C(n, k). */
export function simdBernsteinForward(
  s: BnSimd,
  src: Float32Array,
  B: number,
  W: number,
  coeffs: Float32Array,
  n: number,
  binom: Float64Array,
  col: Column,
  y: Float32Array,
): void {
  const n1 = n + 1;
  for (let w0 = 0; w0 < W; w0 += 4) {
    const P = slotsAt(s, s.p, 7 + n1);
    fillCommon(P, w0, col);
    for (let j = 0; j < 4; j++) {
      const base = (w0 + j) * n1;
      for (let k = 0; k < n1; k++) P[(7 + k) * 4 + j] = binom[k] * coeffs[base + k];
    }
    s.bernFwd(src.byteOffset + 4 * w0, y.byteOffset + 4 * w0, B, 4 * W, s.p, n);
  }
}

/**
 * bernsteinBackward on the heap: binom = C(n, k), binom1 = C(n − 1, k). gc, gl, gh as the JS loop fills them;
 * sums (if given) receive Σ gx and Σ gx·x̂ per unit.
 */
export function simdBernsteinBackward(
  s: BnSimd,
  dy: Float32Array,
  src: Float32Array,
  B: number,
  W: number,
  coeffs: Float32Array,
  n: number,
  binom: Float64Array,
  binom1: Float64Array,
  col: Column,
  gx: Float32Array,
  gc: Float32Array,
  gl: Float32Array | null,
  gh: Float32Array | null,
  sums: Float64Array | null,
): void {
  const n1 = n + 1;
  const ls = col.lo.length === 1 ? 0 : 1,
    hs = col.hi.length === 1 ? 0 : 1;
  for (let w0 = 0; w0 < W; w0 += 4) {
    const P = slotsAt(s, s.p, 7 + n1);
    fillCommon(P, w0, col);
    for (let j = 0; j < 4; j++) {
      const base = (w0 + j) * n1;
      for (let k = 0; k < n; k++) P[(7 + k) * 4 + j] = n * binom1[k] * (coeffs[base + k + 1] - coeffs[base + k]);
    }
    s.bernBwd(dy.byteOffset + 4 * w0, src.byteOffset + 4 * w0, gx.byteOffset + 4 * w0, B, 4 * W, s.p, n, s.acc, s.sp);
    const A = slotsAt(s, s.acc, n1 + 4);
    for (let j = 0; j < 4; j++) {
      const w = w0 + j;
      for (let k = 0; k < n1; k++) gc[w * n1 + k] = A[k * 4 + j] * binom[k];
      if (gl) gl[w * ls] += A[n1 * 4 + j];
      if (gh) gh[w * hs] += A[(n1 + 1) * 4 + j];
      if (sums) {
        sums[w] = A[(n1 + 2) * 4 + j];
        sums[W + w] = A[(n1 + 3) * 4 + j];
      }
    }
  }
}

/**
 * The batch-norm backward update in place for units w0 … w0+3: g ← k_w·(g − mg_w − (h − mu_w)·sc_w·mgx_w).
 * k, mg, mgx per unit from the callback (float64 in, stored as float32).
 */
function applyGroup(
  s: BnSimd,
  g: Float32Array,
  h: Float32Array,
  B: number,
  W: number,
  w0: number,
  mu: (w: number) => number,
  sc: (w: number) => number,
  k: (w: number) => number,
  mg: (w: number) => number,
  mgx: (w: number) => number,
): void {
  const P = slotsAt(s, s.p, 10);
  for (let j = 0; j < 4; j++) {
    const w = w0 + j;
    P[j] = mu(w);
    P[4 + j] = sc(w);
    P[28 + j] = k(w);
    P[32 + j] = mg(w);
    P[36 + j] = mgx(w);
  }
  s.bnApply(g.byteOffset + 4 * w0, h.byteOffset + 4 * w0, B, 4 * W, s.p);
}

/**
 * bnBernsteinBackward's final pass: g ← k·(g − Σg/R − x̂·Σgx̂/R), k = istd (·γ under affine batch norm);
 * sums = [Σg per unit, Σg·x̂ per unit].
 */
export function simdBnApply(
  s: BnSimd,
  g: Float32Array,
  h: Float32Array,
  B: number,
  W: number,
  R: number,
  mean: Float32Array,
  istd: Float64Array,
  gamma: Float32Array | null,
  sums: Float64Array,
): void {
  for (let w0 = 0; w0 < W; w0 += 4) {
    applyGroup(
      s,
      g,
      h,
      B,
      W,
      w0,
      (w) => mean[w],
      (w) => istd[w],
      (w) => (gamma === null ? istd[w] : istd[w] * gamma[w]),
      (w) => sums[w] / R,
      (w) => sums[W + w] / R,
    );
  }
}

/** Batch norm → ReLU forward with the statistics already in mean/variance. */
export function simdBnReluForward(
  s: BnSimd,
  h: Float32Array,
  B: number,
  W: number,
  eps: number,
  mean: Float32Array,
  variance: Float32Array,
  y: Float32Array,
): void {
  for (let w0 = 0; w0 < W; w0 += 4) {
    const P = slotsAt(s, s.p, 2);
    for (let j = 0; j < 4; j++) {
      P[j] = mean[w0 + j];
      P[4 + j] = 1 / Math.sqrt(variance[w0 + j] + eps);
    }
    s.bnReluFwd(h.byteOffset + 4 * w0, y.byteOffset + 4 * w0, B, 4 * W, s.p);
  }
}

/** Batch norm → ReLU backward (one thread, no affine): dh = istd·(g − mean_b g − x̂·mean_b(g·x̂)), g = dy·[x̂ > 0]. */
export function simdBnReluBackward(
  s: BnSimd,
  dy: Float32Array,
  h: Float32Array,
  B: number,
  W: number,
  eps: number,
  mean: Float32Array,
  variance: Float32Array,
  dh: Float32Array,
): void {
  const sums = new Float64Array(8);
  for (let w0 = 0; w0 < W; w0 += 4) {
    let P = slotsAt(s, s.p, 9);
    for (let j = 0; j < 4; j++) {
      P[j] = mean[w0 + j];
      P[4 + j] = 1 / Math.sqrt(variance[w0 + j] + eps);
    }
    s.bnReluBwd(dy.byteOffset + 4 * w0, h.byteOffset + 4 * w0, dh.byteOffset + 4 * w0, B, 4 * W, s.p);
    P = slotsAt(s, s.p, 9);
    for (let j = 0; j < 4; j++) {
      sums[j] = P[28 + j];
      sums[4 + j] = P[32 + j];
    }
    applyGroup(
      s,
      dh,
      h,
      B,
      W,
      w0,
      (w) => mean[w],
      (w) => 1 / Math.sqrt(variance[w] + eps),
      (w) => 1 / Math.sqrt(variance[w] + eps),
      (w) => sums[w - w0] / B,
      (w) => sums[4 + w - w0] / B,
    );
  }
}

/** columnStats (bernstein-math.ts) on the heap: the same float64 sums in the same order, so the same bits. */
export function simdColumnStats(
  s: BnSimd,
  h: Float32Array,
  B: number,
  W: number,
  mean: Float32Array,
  variance: Float32Array,
): void {
  for (let w0 = 0; w0 < W; w0 += 4) {
    s.colSums(h.byteOffset + 4 * w0, B, 4 * W, s.p, 1);
    const F = new Float64Array(s.memory.buffer, s.p, 8);
    for (let j = 0; j < 4; j++) {
      const m = F[j] / B;
      mean[w0 + j] = m;
      variance[w0 + j] = Math.max(F[4 + j] / B - m * m, 0);
    }
  }
}

/** Σ over the rows of a [R, C] tensor (float64 sums in row order, as the JS loop), into o [C]. */
export function simdColumnSum(s: BnSimd, a: Float32Array, R: number, C: number, o: Float32Array): void {
  for (let c0 = 0; c0 < C; c0 += 4) {
    s.colSums(a.byteOffset + 4 * c0, R, 4 * C, s.p, 0);
    const F = new Float64Array(s.memory.buffer, s.p, 4);
    for (let j = 0; j < 4; j++) o[c0 + j] = F[j];
  }
}
