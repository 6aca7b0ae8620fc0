// What our hand-written wasm modules (GEMM, batch-norm kernels, Adam) need of WebAssembly and of tfjs-wasm's
// backend: the Node typings (lib ES2022, no DOM) do not declare WebAssembly, so the little we use is typed here.
import type { KernelBackend } from '@tensorflow/tfjs-core';

export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}

declare const WebAssembly: {
  Memory: {
    new (descriptor: { initial: number; maximum?: number; shared?: boolean }): WasmMemory;
    prototype: WasmMemory;
  };
  Module: new (bytes: Uint8Array) => object;
  validate(bytes: Uint8Array): boolean;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};

/** tfjs-backend-wasm's heap: its memory and allocator (structural, so we need not import the package). */
export interface WasmHeapBackend {
  wasm: { asm: { memory: WasmMemory }; _malloc(n: number): number; _free(p: number): void };
}

export function isWasmHeapBackend(b: KernelBackend): b is KernelBackend & WasmHeapBackend {
  const w = (b as Partial<WasmHeapBackend>).wasm;
  return typeof w?._malloc === 'function' && typeof w._free === 'function' && isWasmMemory(w.asm?.memory);
}

export function isWasmMemory(m: unknown): m is WasmMemory {
  return typeof WebAssembly !== 'undefined' && m instanceof WebAssembly.Memory;
}

export const decodeBase64 = (b64: string): Uint8Array => Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));

/** Whether this engine accepts the module (e.g. relaxed SIMD), without compiling it. */
export const validates = (base64: string): boolean => WebAssembly.validate(decodeBase64(base64));

const compiled = new Map<string, object>();

/**
 * The module's exports, instantiated on `memory` (compiled once per source and thread; a few KB, synchronously:
 * fine in Node and worker threads, only a browser's main thread caps synchronous compiles).
 */
export function instantiate(base64: string, memory: WasmMemory): Record<string, unknown> {
  let module = compiled.get(base64);
  if (!module) compiled.set(base64, (module = new WebAssembly.Module(decodeBase64(base64))));
  return new WebAssembly.Instance(module, { env: { memory } }).exports;
}

/** A shared memory of `bytes` (rounded up to whole 64 KiB pages), fixed at that size; null where none can be made. */
export function sharedMemory(bytes: number): WasmMemory | null {
  const pages = Math.max(1, Math.ceil(bytes / 65536));
  if (pages > 65536) return null;
  try {
    return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  } catch {
    return null;
  }
}
