// One training step on one replica of a data-parallel run: the same for rank 0 (the run's own thread) and
// its peer threads. Each replica takes its contiguous slice of the batch rank 0 posted, runs forward and
// backward with the batch-norm kernels exchanging per-unit sums (kernels/collective.ts), then every replica
// sums the gradients, the loss, the correct count and the alive masks in rank order and applies the same
// update to its own copy of the weights, so the copies stay bit-identical without a broadcast.
import * as tf from '@tensorflow/tfjs-core';
import { readView } from '../kernels/backend-io.js';
import { setCollective } from '../kernels/collective.js';
import { disposeTargets, makeTargets, type BufferStats, type DeadTally, type DeepBernModel } from '../model.js';
import type { TrainerOptimizer } from '../optimizer.js';
import { GroupMemory } from './group-memory.js';

/** This replica's rows [from, to) of a batch of `rows` rows split over `size` replicas. */
export function sliceOf(rows: number, rank: number, size: number): { from: number; to: number } {
  return { from: Math.floor((rank * rows) / size), to: Math.floor(((rank + 1) * rows) / size) };
}

/** Float64 values the end-of-step exchange needs: loss, correct count, one alive flag per hidden unit. */
export function stepScalars(depth: number, width: number): number {
  return 2 + depth * width;
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

  constructor(
    readonly mem: GroupMemory,
    readonly model: DeepBernModel,
    readonly optimizer: TrainerOptimizer,
  ) {
    const { depth, width } = model.spec;
    this.scalars = new Float64Array(stepScalars(depth, width));
    this.alive = Array.from({ length: depth }, () => new Uint8Array(width));
    this.params = model.trainables();
  }

  /** The step rank 0 posted (mem.rows rows in mem.batchX / batchY). With a tally, its counts become the whole batch's. */
  step(tally?: DeadTally): ReplicaStepResult {
    const { mem, model, optimizer, params } = this;
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
      const { value, grads } = tf.variableGrads(
        () => {
          const r = model.forwardTrain(x, tally);
          stats = r.stats;
          for (const s of r.stats.bn) if (s) kept.push(tf.keep(s.mean), tf.keep(s.variance));
          for (const s of r.stats.range) if (s) kept.push(tf.keep(s.min), tf.keep(s.max));
          const lc = model.lossAndCorrect(r.out, targets);
          if (lc.correct) kept.push((correctT = tf.keep(lc.correct)));
          // This slice's share of the whole batch's mean loss: the gradients then sum over replicas.
          return tf.mul(lc.loss, scale) as tf.Scalar;
        },
        params.map((p) => p.variable),
      );
      const backend = tf.backend();
      const sc = this.scalars;
      sc[0] = value.dataSync()[0];
      sc[1] = correctT ? correctT.dataSync()[0] : 0;
      for (let i = 0; i < depth; i++) {
        const a = this.alive[i];
        for (let w = 0; w < W; w++) sc[2 + i * W + w] = tally ? a[w] : 0;
      }
      const views = ghost ? null : params.map((p) => readView(backend, grads[p.variable.name]));
      const sum = mem.exchange(views, sc, sc.length);
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
      value.dispose();
      for (const g of Object.values(grads)) g.dispose();
      if (Number.isFinite(loss)) {
        const copy = tf.getBackend() !== 'wasm'; // the cpu backend keeps the array it is given
        let off = 0;
        const reduced = params.map((p) => {
          const size = p.variable.size;
          const data = sum.grads.subarray(off, off + size);
          off += size;
          return tf.tensor(copy ? data.slice() : data, p.variable.shape, 'float32');
        });
        optimizer.apply(reduced);
        for (const t of reduced) t.dispose();
        if (stats) model.applyStats({ ...stats, batchSize: rows });
      }
      return { loss, right };
    } finally {
      setCollective(null);
      if (tally) delete tally.alive;
      x.dispose();
      disposeTargets(targets);
      for (const t of kept) t.dispose();
      kept = [];
    }
  }
}
