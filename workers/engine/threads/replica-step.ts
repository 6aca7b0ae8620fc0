// One training step on one replica of a data-parallel run: the same for rank 0 (the run's own thread) and
// its peer threads. Each replica takes its contiguous slice of the batch rank 0 posted, runs forward and
// backward with the batch-norm kernels exchanging per-unit sums (kernels/collective.ts), then the replicas
// sum the gradients, the loss, the correct count and the alive masks in rank order (and take the whole batch's
// min/max for adaptive bounds). With a flat optimiser (FusedAdam) the update is sharded ZeRO-1 style: replica r
// sums and updates only its range of the flat parameter vector, in shared memory, and after one barrier every
// replica copies the whole vector into its variables, so the copies are bit-identical by construction.
// Otherwise (SGD) every replica sums everything and applies the same update to its own copy.
import * as tf from '@tensorflow/tfjs-core';
import { exclusiveView, readView } from '../kernels/backend-io.js';
import { weightsUncached } from '../kernels/dense.js';
import { setCollective } from '../kernels/collective.js';
import { disposeTargets, makeTargets, type BufferStats, type DeadTally, type DeepBernModel } from '../model.js';
import type { FlatOptimizer, TrainerOptimizer } from '../optimizer.js';
import { GroupMemory, type Phase } from './group-memory.js';

/** This replica's rows [from, to) of a batch of `rows` rows split over `size` replicas. */
export function sliceOf(rows: number, rank: number, size: number): { from: number; to: number } {
  return { from: Math.floor((rank * rows) / size), to: Math.floor(((rank + 1) * rows) / size) };
}

/**
 * Float64 values the end-of-step exchange needs: loss, correct count, one alive flag per hidden unit (summed),
 * and with adaptive bounds each hidden unit's −min and max over the batch (max-reduced).
 */
export function stepScalars(depth: number, width: number, adaptive = false): number {
  return 2 + depth * width + (adaptive ? 2 * depth * width : 0);
}

export interface ReplicaStepResult {
  /** The whole batch's mean loss and correct count. */
  loss: number;
  right: number;
}

export class Replica {
  private readonly scalars: Float64Array;
  private readonly alive: Uint8Array[];
  private readonly params;
  private readonly adaptive: boolean;
  /** The sharded update's optimiser and this replica's range of the flat parameter vector; null: unsharded. */
  private readonly flat: FlatOptimizer | null;
  private readonly shard: { from: number; to: number };
  /** The sharded update inside the group's arena (gradient sum and Adam in wasm), where the optimiser can. */
  private readonly arenaStep: ((from: number, to: number) => void) | null;

  constructor(
    readonly mem: GroupMemory,
    readonly model: DeepBernModel,
    readonly optimizer: TrainerOptimizer,
  ) {
    const { depth, width } = model.spec;
    this.adaptive = model.spec.activation === 'bernstein' && model.spec.boundsMode === 'adaptive';
    this.scalars = new Float64Array(stepScalars(depth, width, this.adaptive));
    this.alive = Array.from({ length: depth }, () => new Uint8Array(width));
    this.params = model.trainables();
    const P = this.params.reduce((s, p) => s + p.variable.size, 0);
    this.flat = optimizer.flat && optimizer.flat.size === P && mem.params.length === P ? optimizer.flat : null;
    this.shard = sliceOf(P, mem.rank, mem.size);
    if (this.flat) {
      // Rank 0 holds the run's current weights and moments (peers loaded the same checkpoint): it fills the
      // shared vectors before any step; every replica's optimiser then keeps its moments there.
      if (mem.rank === 0) {
        const backend = tf.backend();
        let off = 0;
        for (const p of this.params) {
          mem.params.set(readView(backend, p.variable), off);
          off += p.variable.size;
        }
      }
      this.flat.attachMoments(mem.moment1, mem.moment2, mem.rank === 0);
    }
    this.arenaStep = this.flat && mem.arena ? (this.flat.arenaStep?.(mem.arena) ?? null) : null;
  }

  get sharded(): boolean {
    return this.flat !== null;
  }

  get inArena(): boolean {
    return this.arenaStep !== null;
  }

  /** The step rank 0 posted (mem.rows rows in mem.batchX / batchY). With a tally, its counts become the whole batch's. */
  step(tally?: DeadTally): ReplicaStepResult {
    const { mem, model, optimizer, params, flat } = this;
    // Profile laps: each phase's wall time without the barrier waits it contained (those go to their own slot).
    let t = performance.now(),
      w = mem.waitedMs;
    const lap = (phase: Phase, nextWait: Phase): void => {
      const now = performance.now(),
        ww = mem.waitedMs;
      mem.addTime(phase, now - t - (ww - w));
      t = now;
      w = ww;
      mem.setWaitPhase(nextWait);
    };
    const { inputDim, outputDim, task } = model.dims;
    const { depth, width: W } = model.spec;
    const rows = mem.rows;
    const { from, to } = sliceOf(rows, mem.rank, mem.size);
    // An empty slice (a batch smaller than the thread count) still runs the step's exchanges, on one zero row
    // whose contributions are dropped.
    const ghost = to === from;
    const n = ghost ? 1 : to - from;
    const x = tf.tensor2d(ghost ? new Float32Array(inputDim) : mem.batchX.slice(from * inputDim, to * inputDim), [
      n,
      inputDim,
    ]);
    const targets = makeTargets(task, outputDim, ghost ? new Float32Array(1) : mem.batchY.slice(from, to));
    const scale = ghost ? 0 : n / rows;
    if (tally) {
      tally.counts.length = 0;
      tally.seconds = 0;
      tally.alive = this.alive;
    }
    let kept: tf.Tensor[] = [];
    let stats: BufferStats | undefined;
    let correctT: tf.Scalar | undefined;
    setCollective({ batchRows: rows, allReduce: (local, len) => mem.allReduce(local, len, ghost) });
    try {
      lap('setup', 'forwardWait');
      // The model's own backward where it has one (else the tape), on this slice's share of the whole batch's mean
      // loss (the gradients then sum over replicas); the batch-norm kernels exchange their sums either way.
      const {
        loss: value,
        correct,
        grads,
        stats: st,
      } = model.gradients(x, targets, tally, scale, () => lap('forward', 'backwardWait'));
      stats = st;
      for (const s of st.bn) if (s) kept.push(s.mean, s.variance);
      for (const s of st.range) if (s) kept.push(s.min, s.max);
      if (correct) kept.push((correctT = correct));
      lap('backward', 'other');
      const backend = tf.backend();
      const sc = this.scalars;
      sc[0] = value.dataSync()[0];
      sc[1] = correctT ? correctT.dataSync()[0] : 0;
      for (let i = 0; i < depth; i++) {
        const a = this.alive[i];
        for (let w = 0; w < W; w++) sc[2 + i * W + w] = tally ? a[w] : 0;
      }
      const sumLen = 2 + depth * W;
      if (this.adaptive && stats) {
        // Adaptive bounds: the whole batch's per-unit min and max (exact in any order), as max of −min and max.
        const ranges = stats.range;
        for (let i = 0; i < depth; i++) {
          const r = ranges[i],
            o = sumLen + 2 * i * W;
          if (!r) {
            sc.fill(-Infinity, o, o + 2 * W);
            continue;
          }
          const lo = readView(backend, r.min),
            hi = readView(backend, r.max);
          for (let w = 0; w < W; w++) {
            sc[o + w] = -lo[w];
            sc[o + W + w] = hi[w];
          }
        }
      }
      const views = ghost ? null : grads.map((g) => readView(backend, g));
      lap('readback', 'reduceWait');
      const sum = mem.exchange(views, sc, sc.length, flat ? this.shard : null, sumLen, !this.arenaStep);
      lap('reduce', 'other');
      const loss = sum.scalars[0],
        right = sum.scalars[1];
      if (tally) {
        tally.counts.length = 0;
        for (let i = 0; i < depth; i++) {
          let dead = 0;
          for (let w = 0; w < W; w++) if (sum.scalars[2 + i * W + w] === 0) dead++;
          tally.counts.push(dead);
        }
      }
      if (this.adaptive && stats) {
        const s = sum.scalars;
        stats.range = stats.range.map((r, i) => {
          if (!r) return r;
          const o = sumLen + 2 * i * W;
          const lo = new Float32Array(W),
            hi = new Float32Array(W);
          for (let w = 0; w < W; w++) {
            lo[w] = -s[o + w];
            hi[w] = s[o + W + w];
          }
          const min = tf.tensor1d(lo),
            max = tf.tensor1d(hi);
          kept.push(min, max);
          return { min, max };
        });
      }
      value.dispose();
      for (const g of grads) g.dispose();
      if (Number.isFinite(loss)) {
        // Running batch-norm statistics serve evaluation, which rank 0 alone runs; adaptive bounds shape every
        // replica's forward pass.
        const applyStats = (): void => {
          if (stats) model.applyStats({ ...stats, bn: mem.rank === 0 ? stats.bn : [], batchSize: rows });
        };
        if (flat) this.shardedUpdate(flat, sum.grads, lap, applyStats);
        else {
          const copy = tf.getBackend() !== 'wasm'; // the cpu backend keeps the array it is given
          let off = 0;
          const reduced = params.map((p) => {
            const size = p.variable.size;
            const data = sum.grads.subarray(off, off + size);
            off += size;
            return tf.tensor(copy ? data.slice() : data, p.variable.shape, 'float32');
          });
          optimizer.apply(reduced);
          for (const r of reduced) r.dispose();
          lap('optimizer', 'other');
          applyStats();
        }
      }
      lap('stats', 'other');
      return { loss, right };
    } finally {
      setCollective(null);
      if (tally) delete tally.alive;
      x.dispose();
      disposeTargets(targets);
      for (const k of kept) k.dispose();
      kept = [];
      lap('other', 'other');
    }
  }

  /**
   * This replica's range of the update into the shared vector, one barrier, then every weight from it. `meanwhile`
   * (the running statistics: rank 0's extra work) runs between arriving at the barrier and waiting at it, so the
   * others need not wait for it.
   */
  private shardedUpdate(
    flat: FlatOptimizer,
    grads: Float32Array,
    lap: (p: Phase, next: Phase) => void,
    meanwhile: () => void,
  ): void {
    const { mem, params } = this;
    if (this.arenaStep) this.arenaStep(this.shard.from, this.shard.to);
    else flat.stepRange(grads, mem.params, this.shard.from, this.shard.to);
    lap('optimizer', 'paramWait');
    const token = mem.arrive();
    meanwhile();
    lap('stats', 'paramWait');
    mem.await(token);
    const copy = tf.getBackend() !== 'wasm'; // wasm copies a tensor's values into its heap; cpu keeps the array
    const backend = tf.backend();
    const uncached = weightsUncached(backend);
    let off = 0;
    for (const p of params) {
      const size = p.variable.size;
      const data = mem.params.subarray(off, off + size);
      off += size;
      // In place where nothing caches by tensor id (our GEMM, backend-io.ts exclusiveView), else a fresh tensor.
      const inPlace = exclusiveView(backend, p.variable, uncached);
      if (inPlace) {
        inPlace.set(data);
        continue;
      }
      const next = tf.tensor(copy ? data.slice() : data, p.variable.shape, 'float32');
      p.variable.assign(next);
      next.dispose();
    }
    lap('paramSync', 'other');
  }
}
