// Adam over all parameters in one pass with flat moment buffers (DESIGN §2.3: tf.train.adam runs ~10 small ops
// per variable per step). Same maths as tf.train.adam (and PyTorch):
//   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²,  p ← p − lr·(m/(1−β1^t)) / (sqrt(v/(1−β2^t)) + ε).
// Parameters are updated in place when their storage is unshared (cpu array), otherwise assigned a fresh tensor.
// On tfjs-wasm the loop is adam.wat (same bits, f64x2), with the moments moved onto the backend's heap.
import * as tf from '@tensorflow/tfjs-core';
import type { FlatOptimizer, TrainerOptimizer, UpdateArena } from '../optimizer.js';
import { heapAdam, sharedSumAdam, type HeapAdam } from './adam-wasm.js';
import { exclusiveView, heapOutput, readView } from './backend-io.js';
import { weightsUncached } from './dense.js';

export interface AdamConfig {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  /** tf.train.adam's default is the backend epsilon (1e-7 in float32); PyTorch uses 1e-8. */
  epsilon?: number;
  /**
   * Update the variables' storage in place on wasm too, where our GEMM runs the dense layers (dense.ts
   * weightsUncached): only for variables that nothing but our kernels read (the trainer's model on fastOps), since
   * tfjs's own matMul caches weights by tensor id (backend-io.ts exclusiveView). Default: in place on cpu only.
   */
  inPlaceOnWasm?: boolean;
}

/** Checkpointable optimiser state, keyed by variable name. */
export interface AdamState {
  step: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

interface Slot {
  variable: tf.Variable;
  offset: number;
  size: number;
}

export class FusedAdam {
  learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private stepCount = 0;
  private readonly slots = new Map<string, Slot>();
  /** Parameters in the flat vector. */
  readonly size: number;
  private m: Float32Array;
  private v: Float32Array;
  /** The moments' block on a tfjs-wasm heap (m then v), once applyGradients ran there; null: JS arrays. */
  private heap: { bound: HeapAdam; ptr: number } | null = null;
  /** Whether the moments are the caller's (attachMoments). */
  private attached = false;

  private readonly inPlaceOnWasm: boolean;

  constructor(variables: readonly tf.Variable[], config: AdamConfig) {
    this.learningRate = config.learningRate;
    this.beta1 = config.beta1 ?? 0.9;
    this.beta2 = config.beta2 ?? 0.999;
    this.epsilon = config.epsilon ?? 1e-7;
    this.inPlaceOnWasm = config.inPlaceOnWasm ?? false;
    let offset = 0;
    for (const variable of variables) {
      if (variable.dtype !== 'float32') throw new Error(`FusedAdam: ${variable.name} is ${variable.dtype}`);
      this.slots.set(variable.name, { variable, offset, size: variable.size });
      offset += variable.size;
    }
    this.size = offset;
    this.m = new Float32Array(offset);
    this.v = new Float32Array(offset);
  }

  /** Counts one step; its step size and 1/√(bias correction 2). */
  private advance(): { stepSize: number; rc2: number } {
    this.stepCount++;
    // Fold the bias corrections into the step size and ε, as PyTorch does: one multiply-add fewer per element.
    const c1 = 1 - Math.pow(this.beta1, this.stepCount),
      c2 = 1 - Math.pow(this.beta2, this.stepCount);
    return { stepSize: this.learningRate / c1, rc2: 1 / Math.sqrt(c2) };
  }

  /** The moments' views, made again after their wasm heap has grown (which detaches the old ones). */
  private moments(): { m: Float32Array; v: Float32Array } {
    const h = this.heap;
    if (h && this.m.buffer !== h.bound.memory.buffer) {
      this.m = new Float32Array(h.bound.memory.buffer, h.ptr, this.size);
      this.v = new Float32Array(h.bound.memory.buffer, h.ptr + 4 * this.size, this.size);
    }
    return { m: this.m, v: this.v };
  }

  /**
   * The heap build when this backend has it, the moments moved onto that heap on first use (so the update reads
   * everything from one memory); null: the JS loop. Call before taking any view: it may allocate.
   */
  private onHeap(backend: tf.KernelBackend): { bound: HeapAdam; ptr: number } | null {
    if (this.attached || this.size === 0) return null;
    const bound = heapAdam(backend);
    if (this.heap) return this.heap.bound === bound ? this.heap : null;
    if (!bound) return null;
    const ptr = bound.malloc(8 * this.size);
    if (!ptr) return null;
    const { m, v } = this.moments();
    this.heap = { bound, ptr };
    this.m = new Float32Array(0); // re-viewed below
    const now = this.moments();
    now.m.set(m);
    now.v.set(v);
    return this.heap;
  }

  /** Frees the moments' heap block (their values move back into JS arrays). */
  private leaveHeap(): void {
    const h = this.heap;
    if (!h) return;
    const { m, v } = this.moments();
    this.m = m.slice();
    this.v = v.slice();
    this.heap = null;
    h.bound.free(h.ptr);
  }

  dispose(): void {
    this.leaveHeap();
  }

  get step(): number {
    return this.stepCount;
  }

  /** One Adam step. Grads are keyed by variable name (as tf.variableGrads returns them); the caller owns them. */
  applyGradients(grads: Record<string, tf.Tensor>): void {
    const { stepSize, rc2 } = this.advance();
    const { beta1: b1, beta2: b2, epsilon: eps } = this;
    const backend = tf.backend();
    const heap = this.onHeap(backend);
    const uncached = this.inPlaceOnWasm && weightsUncached(backend);
    for (const [name, g] of Object.entries(grads)) {
      const slot = this.slots.get(name);
      if (!slot) continue; // not ours (e.g. a frozen variable)
      const { variable, offset, size } = slot;
      if (g.size !== size) throw new Error(`FusedAdam: gradient for ${name} has ${g.size} elements, not ${size}`);
      const inPlace = exclusiveView(backend, variable, uncached);
      // Not in place: a fresh tensor (on wasm its storage is allocated first, before any view is taken), the old
      // values read through a view.
      const out = inPlace ? null : heapOutput(backend, variable.shape);
      const gv = readView(backend, g);
      const src = inPlace ?? readView(backend, variable);
      const p = inPlace ?? out?.view ?? new Float32Array(size);
      if (heap) {
        // on the heap's backend: p is a heap view (in place or a fresh tensor's storage)
        const at = heap.ptr + 4 * offset;
        heap.bound.adam(
          gv.byteOffset,
          src.byteOffset,
          p.byteOffset,
          at,
          at + 4 * this.size,
          size,
          b1,
          1 - b1,
          b2,
          1 - b2,
          stepSize,
          rc2,
          eps,
        );
      } else {
        const { m, v } = this.moments();
        for (let i = 0; i < size; i++) {
          const gi = gv[i],
            j = offset + i;
          const mi = b1 * m[j] + (1 - b1) * gi;
          const vi = b2 * v[j] + (1 - b2) * gi * gi;
          m[j] = mi;
          v[j] = vi;
          p[i] = src[i] - (stepSize * mi) / (Math.sqrt(vi) * rc2 + eps);
        }
      }
      if (!inPlace) {
        // assign() shares the new tensor's storage; disposing our handle leaves the variable its sole owner.
        const next = out ? tf.engine().makeTensorFromTensorInfo(out.info) : tf.tensor(p, variable.shape, 'float32');
        variable.assign(next);
        next.dispose();
      }
    }
  }

  /**
   * Keeps the moments in caller-owned flat arrays from now on (a data-parallel run's shared memory, where each
   * replica updates its own range); `copy` carries the current values over.
   */
  attachMoments(m: Float32Array, v: Float32Array, copy: boolean): void {
    if (m.length !== this.size || v.length !== this.size)
      throw new Error(`FusedAdam: moments of ${m.length} values for ${this.size} parameters`);
    this.leaveHeap();
    if (copy) {
      m.set(this.m);
      v.set(this.v);
    }
    this.m = m;
    this.v = v;
    this.attached = true;
  }

  /**
   * One Adam step on the range [from, to) of the flat parameter vector (the variables in order): `g` the
   * gradients and `p` the parameters, both flat, `p` updated in place. The same arithmetic as applyGradients,
   * so a sharded run (every replica one range) computes the bits the whole update would.
   */
  stepRange(g: Float32Array, p: Float32Array, from: number, to: number): void {
    const { stepSize, rc2 } = this.advance();
    const { beta1: b1, beta2: b2, epsilon: eps } = this;
    const m = this.m,
      v = this.v;
    for (let j = from; j < to; j++) {
      const gi = g[j];
      const mi = b1 * m[j] + (1 - b1) * gi;
      const vi = b2 * v[j] + (1 - b2) * gi * gi;
      m[j] = mi;
      v[j] = vi;
      p[j] = p[j] - (stepSize * mi) / (Math.sqrt(vi) * rc2 + eps);
    }
  }

  /**
   * stepRange inside a group's shared update arena, the gradients summed there too (adam.wat's sum_adam: the
   * exchange's rank-order float64 sum, then the same update), when the moments are the arena's; else null.
   */
  arenaStep(arena: UpdateArena): ((from: number, to: number) => void) | null {
    const fn = sharedSumAdam(arena.memory);
    const mine = this.m.buffer === arena.memory.buffer && this.m.byteOffset === arena.moment1;
    if (!fn || !mine || this.v.byteOffset !== arena.moment2 || arena.P !== this.size) return null;
    const { beta1: b1, beta2: b2, epsilon: eps } = this;
    return (from, to) => {
      const { stepSize, rc2 } = this.advance();
      const { grads, P, size, sum, params, moment1, moment2 } = arena;
      fn(grads, P, size, from, to, sum, params, moment1, moment2, b1, 1 - b1, b2, 1 - b2, stepSize, rc2, eps);
    };
  }

  getState(): AdamState {
    const m: Record<string, Float32Array> = {},
      v: Record<string, Float32Array> = {};
    const now = this.moments();
    for (const [name, { offset, size }] of this.slots) {
      m[name] = now.m.slice(offset, offset + size);
      v[name] = now.v.slice(offset, offset + size);
    }
    return { step: this.stepCount, m, v };
  }

  setState(state: AdamState): void {
    for (const [name, { offset, size }] of this.slots) {
      const m = state.m[name],
        v = state.v[name];
      if (!m || !v || m.length !== size || v.length !== size)
        throw new Error(`FusedAdam: state for ${name} missing or mis-sized`);
      const now = this.moments();
      now.m.set(m, offset);
      now.v.set(v, offset);
    }
    this.stepCount = state.step;
  }
}

/**
 * FusedAdam behind the trainer's Optimizer interface: params in the trainer's order, grads passed as an array
 * in that order, slots named `adam/m/<name>`, `adam/v/<name>` like the composed Optimizer's checkpoints.
 */
export function fusedTrainerAdam(
  params: readonly { name: string; variable: tf.Variable }[],
  lr: number,
  epsilon = 1e-8,
): TrainerOptimizer {
  const adam = new FusedAdam(
    params.map((p) => p.variable),
    { learningRate: lr, epsilon, inPlaceOnWasm: true }, // the trainer's model: only our kernels read it
  );
  const vname = new Map(params.map((p) => [p.name, p.variable.name]));
  const flat: FlatOptimizer = {
    size: adam.size,
    attachMoments: (m, v, copy) => adam.attachMoments(m, v, copy),
    stepRange: (g, p, from, to) => adam.stepRange(g, p, from, to),
    arenaStep: (arena) => adam.arenaStep(arena),
  };
  return {
    get step() {
      return adam.step;
    },
    flat,
    apply(grads) {
      adam.applyGradients(Object.fromEntries(params.map((p, i) => [p.variable.name, grads[i]])));
    },
    exportSlots() {
      const s = adam.getState();
      const slot = (kind: 'm' | 'v') =>
        params.map((p) => ({
          name: `adam/${kind}/${p.name}`,
          shape: p.variable.shape.slice(),
          data: s[kind][p.variable.name],
        }));
      return [...slot('m'), ...slot('v')];
    },
    importSlots(step, byName) {
      const m: Record<string, Float32Array> = {},
        v: Record<string, Float32Array> = {};
      for (const [name, varName] of vname) {
        const a = byName.get(`adam/m/${name}`),
          b = byName.get(`adam/v/${name}`);
        if (!a || !b) throw new Error(`checkpoint lacks optimizer slots for ${name}`);
        m[varName] = a.data;
        v[varName] = b.data;
      }
      adam.setState({ step, m, v });
    },
    dispose() {
      adam.dispose(); // the moments' block on the wasm heap, if any
    },
  };
}
