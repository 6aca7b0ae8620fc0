// adam.wat's two builds bound where they run: on a tfjs-wasm backend's heap (one thread's FusedAdam: gradients,
// weights and moments all on that heap) and on a data-parallel group's shared update arena (the sharded update:
// every replica's gradients, their sum, the flat weights and moments). Same bits as FusedAdam's JS loops.
import type { KernelBackend } from '@tensorflow/tfjs-core';
import { instantiate, isWasmHeapBackend, type WasmMemory } from '../wasm/heap.js';
import { ADAM_SHARED_WASM_BASE64, ADAM_WASM_BASE64 } from './adam.generated.js';

/** Byte addresses (g, src, dst, m, v), the count n, then β1, 1 − β1, β2, 1 − β2, step size, rc2, ε. */
export type AdamFn = (...args: number[]) => void;

// DEEPBERN_ADAM_WASM=0 turns the builds off in every thread a run starts (read as each thread loads this module).
let enabled = process.env.DEEPBERN_ADAM_WASM !== '0';

/** Whether FusedAdam may use the wasm builds (default on; off to compare with the JS loops: tests, benchmarks). */
export function setAdamWasm(on: boolean): void {
  enabled = on;
}

export interface HeapAdam {
  memory: WasmMemory;
  adam: AdamFn;
  malloc(bytes: number): number;
  free(ptr: number): void;
}

const onHeap = new WeakMap<object, HeapAdam | null>();

/** The heap build bound to this backend's heap (once per backend), or null (not wasm, disabled, refused). */
export function heapAdam(backend: KernelBackend): HeapAdam | null {
  if (!enabled || !isWasmHeapBackend(backend)) return null;
  let bound = onHeap.get(backend);
  if (bound === undefined) {
    const { wasm } = backend;
    try {
      const ex = instantiate(ADAM_WASM_BASE64, wasm.asm.memory);
      bound = {
        memory: wasm.asm.memory,
        adam: ex.adam as AdamFn,
        malloc: (bytes) => wasm._malloc(bytes) >>> 0,
        free: (ptr) => wasm._free(ptr),
      };
    } catch {
      bound = null; // e.g. a threaded (shared) tfjs heap, which the plain build cannot import: the JS loops run
    }
    onHeap.set(backend, bound);
  }
  return bound;
}

const onShared = new WeakMap<object, AdamFn | null>();

/**
 * sum_adam bound to a shared arena: (grads, P, size, from, to, sum, p, m, v, β1, 1 − β1, β2, 1 − β2, step, rc2, ε),
 * addresses in bytes. Null when disabled or the engine refuses the shared build.
 */
export function sharedSumAdam(memory: WasmMemory): AdamFn | null {
  if (!enabled) return null;
  let fn = onShared.get(memory);
  if (fn === undefined) {
    try {
      fn = instantiate(ADAM_SHARED_WASM_BASE64, memory).sum_adam as AdamFn;
    } catch {
      fn = null;
    }
    onShared.set(memory, fn);
  }
  return fn;
}
