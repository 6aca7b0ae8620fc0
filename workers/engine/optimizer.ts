// Adam and SGD with explicit, serialisable state. Not tf.train.adam: its setWeights rebuilds β^t with pow(),
// which differs from the running product in the last bits, so a resumed run would not be bit-identical.
// Here the bias corrections come from the step count in float64, identical before and after a resume.
import * as tf from '@tensorflow/tfjs-core';
import type { NetworkSpec } from '../../shared/spec.js';
import type { EngineOps } from './ops.js';
import type { NamedArray } from './state.js';
import type { WasmMemory } from './wasm/heap.js';

/** PyTorch's Adam defaults (the speed/accuracy comparisons run against PyTorch). */
export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
export const ADAM_EPS = 1e-8;

export interface Param {
  name: string;
  variable: tf.Variable;
}

/**
 * An optimiser's flat form (its state as flat arrays over the parameters in the trainer's order), which a
 * data-parallel run shards: each replica updates one range of the vector (workers/engine/threads/).
 */
export interface FlatOptimizer {
  /** Parameters in the flat vector. */
  readonly size: number;
  /** Keeps the first and second moments in these arrays from now on; `copy` carries the current values over. */
  attachMoments(m: Float32Array, v: Float32Array, copy: boolean): void;
  /** One step (it counts as one) on [from, to): grads and params flat, params updated in place. */
  stepRange(grads: Float32Array, params: Float32Array, from: number, to: number): void;
  /**
   * Where the optimiser can run the sharded update inside the group's shared update arena (the moments attached
   * there): a step on [from, to) that sums every replica's gradients itself, in rank order, as the exchange would.
   * Null where it cannot (then the exchange sums and stepRange updates).
   */
  arenaStep?(arena: UpdateArena): ((from: number, to: number) => void) | null;
}

/**
 * A data-parallel group's update vectors in one shared wasm memory (byte addresses): every replica's gradients
 * (`size` × P floats, rank r's at grads + 4·r·P), their sum, the flat weights and the two moments (P floats each).
 */
export interface UpdateArena {
  memory: WasmMemory;
  size: number;
  P: number;
  grads: number;
  sum: number;
  params: number;
  moment1: number;
  moment2: number;
}

/** What the trainer needs of an optimiser; fast backends supply a fused one (EngineOps.createAdam). */
export interface TrainerOptimizer {
  readonly step: number;
  /** Present when the optimiser can be sharded over replicas. */
  readonly flat?: FlatOptimizer;
  /** One update; grads in the same order as the params. Does not dispose grads. */
  apply(grads: tf.Tensor[]): void;
  exportSlots(): NamedArray[];
  importSlots(step: number, byName: Map<string, NamedArray>): void;
  dispose(): void;
}

export class Optimizer implements TrainerOptimizer {
  step = 0;
  private m: tf.Tensor[] = [];
  private v: tf.Tensor[] = [];

  constructor(
    readonly kind: 'adam' | 'sgd',
    readonly lr: number,
    private readonly params: Param[],
  ) {
    if (kind === 'adam') {
      this.m = params.map((p) => tf.keep(tf.zerosLike(p.variable)));
      this.v = params.map((p) => tf.keep(tf.zerosLike(p.variable)));
    }
  }

  /** One update; grads in the same order as params. Does not dispose grads. */
  apply(grads: tf.Tensor[]): void {
    this.step++;
    if (this.kind === 'sgd') {
      tf.tidy(() => this.params.forEach((p, i) => p.variable.assign(tf.sub(p.variable, tf.mul(grads[i], this.lr)))));
      return;
    }
    const bc1 = 1 - ADAM_BETA1 ** this.step;
    const bc2 = 1 - ADAM_BETA2 ** this.step;
    const stepSize = this.lr / bc1;
    const invSqrtBc2 = 1 / Math.sqrt(bc2);
    this.params.forEach((p, i) => {
      const g = grads[i];
      const [m, v] = tf.tidy(() => {
        const m1 = tf.add(tf.mul(this.m[i], ADAM_BETA1), tf.mul(g, 1 - ADAM_BETA1));
        const v1 = tf.add(tf.mul(this.v[i], ADAM_BETA2), tf.mul(tf.square(g), 1 - ADAM_BETA2));
        // θ ← θ − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε)   (PyTorch's form)
        const denom = tf.add(tf.mul(tf.sqrt(v1), invSqrtBc2), ADAM_EPS);
        p.variable.assign(tf.sub(p.variable, tf.mul(tf.div(m1, denom), stepSize)));
        return [m1, v1];
      });
      this.m[i].dispose();
      this.v[i].dispose();
      this.m[i] = tf.keep(m);
      this.v[i] = tf.keep(v);
    });
  }

  exportSlots(): NamedArray[] {
    if (this.kind === 'sgd') return [];
    const dump = (prefix: string, ts: tf.Tensor[]) =>
      ts.map((t, i) => ({
        name: `${prefix}/${this.params[i].name}`,
        shape: t.shape.slice(),
        data: Float32Array.from(t.dataSync() as Float32Array),
      }));
    return [...dump('adam/m', this.m), ...dump('adam/v', this.v)];
  }

  importSlots(step: number, byName: Map<string, NamedArray>): void {
    this.step = step;
    if (this.kind === 'sgd') return;
    const load = (prefix: string, ts: tf.Tensor[]) =>
      ts.forEach((t, i) => {
        const name = `${prefix}/${this.params[i].name}`;
        const a = byName.get(name);
        if (!a || a.data.length !== t.size)
          throw new Error(`checkpoint lacks optimizer slot ${name} of size ${t.size}`);
        ts[i] = tf.keep(tf.tensor(a.data, t.shape));
        t.dispose();
      });
    load('adam/m', this.m);
    load('adam/v', this.v);
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}

/** The run's optimiser: the ops' fused Adam when they have one, else the composed one. */
export function createTrainerOptimizer(
  spec: Pick<NetworkSpec, 'optimizer' | 'lr'>,
  ops: EngineOps,
  params: Param[],
): TrainerOptimizer {
  return spec.optimizer === 'adam' && ops.createAdam
    ? ops.createAdam(params, spec.lr)
    : new Optimizer(spec.optimizer, spec.lr, params);
}
