// Adam over all parameters in one pass with flat moment buffers (DESIGN §2.3: tf.train.adam runs ~10 small ops
// per variable per step). Same maths as tf.train.adam (and PyTorch):
//   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²,  p ← p − lr·(m/(1−β1^t)) / (sqrt(v/(1−β2^t)) + ε).
// Parameters are updated in place when their storage is unshared (wasm heap / cpu array), otherwise assigned.
import * as tf from '@tensorflow/tfjs-core';
import type { FlatOptimizer, TrainerOptimizer } from '../optimizer.js';
import { exclusiveView, readView } from './backend-io.js';

export interface AdamConfig {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  /** tf.train.adam's default is the backend epsilon (1e-7 in float32); PyTorch uses 1e-8. */
  epsilon?: number;
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
  private m: Float32Array;
  private v: Float32Array;

  constructor(variables: readonly tf.Variable[], config: AdamConfig) {
    this.learningRate = config.learningRate;
    this.beta1 = config.beta1 ?? 0.9;
    this.beta2 = config.beta2 ?? 0.999;
    this.epsilon = config.epsilon ?? 1e-7;
    let offset = 0;
    for (const variable of variables) {
      if (variable.dtype !== 'float32') throw new Error(`FusedAdam: ${variable.name} is ${variable.dtype}`);
      this.slots.set(variable.name, { variable, offset, size: variable.size });
      offset += variable.size;
    }
    this.m = new Float32Array(offset);
    this.v = new Float32Array(offset);
  }

  get step(): number {
    return this.stepCount;
  }

  /** One Adam step. Grads are keyed by variable name (as tf.variableGrads returns them); the caller owns them. */
  applyGradients(grads: Record<string, tf.Tensor>): void {
    this.stepCount++;
    const { beta1: b1, beta2: b2, epsilon: eps } = this;
    // Fold the bias corrections into the step size and ε, as PyTorch does: one multiply-add fewer per element.
    const c1 = 1 - Math.pow(b1, this.stepCount),
      c2 = 1 - Math.pow(b2, this.stepCount);
    const stepSize = this.learningRate / c1,
      rc2 = 1 / Math.sqrt(c2);
    const backend = tf.backend();
    for (const [name, g] of Object.entries(grads)) {
      const slot = this.slots.get(name);
      if (!slot) continue; // not ours (e.g. a frozen variable)
      const { variable, offset, size } = slot;
      if (g.size !== size) throw new Error(`FusedAdam: gradient for ${name} has ${g.size} elements, not ${size}`);
      const gv = readView(backend, g);
      const inPlace = exclusiveView(backend, variable.dataId);
      // Not in place: read the old values through a view (no copy; nothing allocates on the backend until the
      // loop is done) and write a fresh array.
      const src = inPlace ?? readView(backend, variable);
      const p = inPlace ?? new Float32Array(size);
      const m = this.m,
        v = this.v;
      for (let i = 0; i < size; i++) {
        const gi = gv[i],
          j = offset + i;
        const mi = b1 * m[j] + (1 - b1) * gi;
        const vi = b2 * v[j] + (1 - b2) * gi * gi;
        m[j] = mi;
        v[j] = vi;
        p[i] = src[i] - (stepSize * mi) / (Math.sqrt(vi) * rc2 + eps);
      }
      if (!inPlace) {
        // assign() shares the new tensor's storage; disposing our handle leaves the variable its sole owner,
        // so the next step can update in place.
        const next = tf.tensor(p, variable.shape, 'float32');
        variable.assign(next);
        next.dispose();
      }
    }
  }

  /** Parameters in the flat vector (the variables in order). */
  get size(): number {
    return this.m.length;
  }

  /**
   * Keeps the moments in caller-owned flat arrays from now on (a data-parallel run's shared memory, where each
   * replica updates its own range); `copy` carries the current values over.
   */
  attachMoments(m: Float32Array, v: Float32Array, copy: boolean): void {
    if (m.length !== this.m.length || v.length !== this.v.length)
      throw new Error(`FusedAdam: moments of ${m.length} values for ${this.m.length} parameters`);
    if (copy) {
      m.set(this.m);
      v.set(this.v);
    }
    this.m = m;
    this.v = v;
  }

  /**
   * One Adam step on the range [from, to) of the flat parameter vector (the variables in order): `g` the
   * gradients and `p` the parameters, both flat, `p` updated in place. The same arithmetic as applyGradients,
   * so a sharded run (every replica one range) computes the bits the whole update would.
   */
  stepRange(g: Float32Array, p: Float32Array, from: number, to: number): void {
    this.stepCount++;
    const { beta1: b1, beta2: b2, epsilon: eps } = this;
    const c1 = 1 - Math.pow(b1, this.stepCount),
      c2 = 1 - Math.pow(b2, this.stepCount);
    const stepSize = this.learningRate / c1,
      rc2 = 1 / Math.sqrt(c2);
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

  getState(): AdamState {
    const m: Record<string, Float32Array> = {},
      v: Record<string, Float32Array> = {};
    for (const [name, { offset, size }] of this.slots) {
      m[name] = this.m.slice(offset, offset + size);
      v[name] = this.v.slice(offset, offset + size);
    }
    return { step: this.stepCount, m, v };
  }

  setState(state: AdamState): void {
    for (const [name, { offset, size }] of this.slots) {
      const m = state.m[name],
        v = state.v[name];
      if (!m || !v || m.length !== size || v.length !== size)
        throw new Error(`FusedAdam: state for ${name} missing or mis-sized`);
      this.m.set(m, offset);
      this.v.set(v, offset);
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
    { learningRate: lr, epsilon },
  );
  const vname = new Map(params.map((p) => [p.name, p.variable.name]));
  const flat: FlatOptimizer = {
    size: adam.size,
    attachMoments: (m, v, copy) => adam.attachMoments(m, v, copy),
    stepRange: (g, p, from, to) => adam.stepRange(g, p, from, to),
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
      // moments live in JS arrays: nothing to free in the tfjs engine
    },
  };
}
