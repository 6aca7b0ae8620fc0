// One training run: a plain async function with callbacks, so the CLI process and Piscina worker threads
// drive it alike. Deterministic per (seed, backend): init from the seed, shuffling from (seed, epoch), and the
// checkpoint holds everything else, so a resumed run continues bit-identically.
import * as tf from '@tensorflow/tfjs-core';
import seedrandom from 'seedrandom';
import { permutation } from '../data/rng.js';
import type { EpochMetric, EpochReport } from '../../shared/metrics.js';
import type { NetworkSpec } from '../../shared/spec.js';
import type { BatchProgress } from '../../shared/run-events.js';
import type { Dataset } from '../data/types.js';
import { DeepBernModel, disposeTargets, makeTargets, type BatchTargets, type DeadTally } from './model.js';
import { createTrainerOptimizer, type TrainerOptimizer } from './optimizer.js';
import { referenceOps, type EngineOps } from './ops.js';
import { runProbes } from './probes.js';
import { loadState, saveState, tensorMap, type ModelDims } from './state.js';
import { MAX_THREADS, ThreadGroup, threadsUnsupported, type ThreadWaits } from './threads/thread-group.js';

export type { BatchProgress } from '../../shared/run-events.js';

export interface TrainOptions {
  ops?: EngineOps;
  signal?: AbortSignal;
  /** Called once the model is built (the parameter count is print-worthy) and its threads are running. */
  onStart?(paramCount: number, threads: ThreadsInfo): void | Promise<void>;
  /** Throttled to at most ~10 calls per second. */
  onBatch?(p: BatchProgress): void;
  /** Awaited: the caller persists metrics and checkpoint before training goes on. */
  onEpoch?(report: EpochReport, checkpoint: Uint8Array): void | Promise<void>;
  /** Continue from a checkpoint at its next epoch. */
  resumeFrom?: Uint8Array;
  shouldPrune?(epoch: number, metrics: EpochReport['metrics']): boolean | Promise<boolean>;
  /** The epoch-average dead reading inside the training step (default on; off only to benchmark its cost). */
  epochDeadReading?: boolean;
  /**
   * Threads to train on (default 1): data-parallel replicas, each on a slice of every batch (docs/threads.md).
   * Results are bit-identical run to run for a given thread count; thread counts differ by float32 rounding.
   */
  threads?: number;
}

/** The threads a run trains on, and why fewer than asked for (when so). */
export interface ThreadsInfo {
  threads: number;
  note?: string;
}

export type TrainStatus = 'finished' | 'diverged' | 'cancelled' | 'pruned';

export interface TrainResult {
  status: TrainStatus;
  epochsDone: number;
  /** The checkpoint of the last completed epoch (the initial state if none completed). */
  finalState: Uint8Array;
  paramCount: number;
  error?: string;
  /** On several threads: rank 0's synchronisation cost over the run (benchmarks). */
  threadWaits?: ThreadWaits;
}

const BATCH_REPORT_MS = 100;
const EVAL_CHUNK = 1024;

/** Row order of an epoch, from (seed, epoch) alone so a resume needs no RNG state. */
export function epochPermutation(n: number, seed: number, epoch: number): Uint32Array {
  return permutation(n, seedrandom(`deepbern-shuffle:${seed}:${epoch}`));
}

function gatherRows(src: Float32Array, dim: number, idx: ArrayLike<number>, from: number, to: number): Float32Array {
  const out = new Float32Array((to - from) * dim);
  for (let r = from; r < to; r++) out.set(src.subarray(idx[r] * dim, idx[r] * dim + dim), (r - from) * dim);
  return out;
}

function gatherRowsInto(
  src: Float32Array,
  dim: number,
  idx: ArrayLike<number>,
  from: number,
  to: number,
  out: Float32Array,
): void {
  for (let r = from; r < to; r++) out.set(src.subarray(idx[r] * dim, idx[r] * dim + dim), (r - from) * dim);
}

/** One thread, or a group of replicas when more are asked for and this run supports them. */
async function startThreads(
  wanted: number | undefined,
  spec: NetworkSpec,
  dims: ModelDims,
  ops: EngineOps,
  state: Uint8Array,
  model: DeepBernModel,
  optimizer: TrainerOptimizer,
): Promise<{ group?: ThreadGroup; info: ThreadsInfo }> {
  const asked = wanted === undefined ? 1 : Math.floor(wanted);
  if (!Number.isFinite(asked) || asked < 1) throw new Error(`threads must be a whole number ≥ 1 (got ${wanted})`);
  if (asked === 1) return { info: { threads: 1 } };
  const why = threadsUnsupported(spec, ops, tf.getBackend());
  if (why) return { info: { threads: 1, note: `${asked} threads asked for, training on 1: ${why}` } };
  const threads = Math.min(asked, MAX_THREADS);
  const group = await ThreadGroup.start({ threads, spec, dims, state, model, optimizer });
  return { group, info: { threads, note: asked > threads ? `at most ${MAX_THREADS} threads per run` : undefined } };
}

function gatherValues(src: Float32Array, idx: ArrayLike<number>, from: number, to: number): Float32Array {
  const out = new Float32Array(to - from);
  for (let r = from; r < to; r++) out[r - from] = src[idx[r]];
  return out;
}

function checkDims(spec: NetworkSpec, ds: Dataset): ModelDims {
  if (ds.nTrain < 1) throw new Error(`dataset ${ds.id} has no training rows`);
  if (ds.xTrain.length !== ds.nTrain * ds.inputDim)
    throw new Error(`dataset ${ds.id}: xTrain has ${ds.xTrain.length} values, expected ${ds.nTrain}×${ds.inputDim}`);
  if (spec.batchNorm && spec.batchSize < 2) throw new Error('batch norm needs batchSize ≥ 2');
  return { inputDim: ds.inputDim, outputDim: ds.outputDim, task: ds.task };
}

/** Mean loss and accuracy over a split in eval mode, in chunks to bound memory. */
export function evaluateSplit(
  model: DeepBernModel,
  x: Float32Array,
  y: Float32Array,
  n: number,
): { loss: number; acc?: number } {
  const { inputDim, outputDim, task } = model.dims;
  let lossSum = 0,
    correct = 0;
  for (let s = 0; s < n; s += EVAL_CHUNK) {
    const e = Math.min(n, s + EVAL_CHUNK);
    const targets = makeTargets(task, outputDim, y.subarray(s, e));
    const [l, c] = tf.tidy(() => {
      const out = model.forwardEval(tf.tensor2d(x.subarray(s * inputDim, e * inputDim), [e - s, inputDim]));
      return [model.loss(out, targets), task === 'classification' ? model.correct(out, targets) : tf.scalar(0)];
    });
    lossSum += l.dataSync()[0] * (e - s);
    correct += c.dataSync()[0];
    l.dispose();
    c.dispose();
    disposeTargets(targets);
  }
  return { loss: lossSum / n, acc: task === 'classification' ? correct / n : undefined };
}

export async function trainRun(spec: NetworkSpec, dataset: Dataset, opts: TrainOptions = {}): Promise<TrainResult> {
  const dims = checkDims(spec, dataset);
  const ops = opts.ops ?? referenceOps;
  const model = new DeepBernModel(spec, dims, ops);
  const params = model.trainables();
  const optimizer: TrainerOptimizer = createTrainerOptimizer(spec, ops, params);
  const paramCount = model.paramCount();
  let startEpoch = 0;
  let group: ThreadGroup | undefined;
  const evalN = Math.min(spec.evalBatch, dataset.nTrain);
  const evalX = tf.tensor2d(dataset.xTrain.subarray(0, evalN * dims.inputDim), [evalN, dims.inputDim]);
  const evalY = makeTargets(dims.task, dims.outputDim, dataset.yTrain.subarray(0, evalN));

  const checkpoint = (epoch: number): Uint8Array =>
    saveState({
      spec,
      dims,
      epoch,
      standardization: { mean: Array.from(dataset.standardization.mean), std: Array.from(dataset.standardization.std) },
      optimizer: { kind: spec.optimizer, step: optimizer.step },
      paramCount,
      tensors: [...model.exportTensors(), ...optimizer.exportSlots()],
    });

  try {
    if (opts.resumeFrom) {
      const state = loadState(opts.resumeFrom);
      if (state.optimizer.kind !== spec.optimizer)
        throw new Error(`checkpoint optimizer ${state.optimizer.kind} ≠ spec optimizer ${spec.optimizer}`);
      const byName = tensorMap(state);
      model.importTensors(byName);
      optimizer.importSlots(state.optimizer.step, byName);
      startEpoch = state.epoch;
    }
    let last = checkpoint(startEpoch);
    const threads = await startThreads(opts.threads, spec, dims, ops, last, model, optimizer);
    group = threads.group;
    await opts.onStart?.(paramCount, threads.info);
    const bs = spec.batchSize;
    const n = dataset.nTrain;
    // A trailing batch of one row has no batch variance: fold it away when batch norm is on.
    const batches = spec.batchNorm && n % bs === 1 && n > 1 ? Math.floor(n / bs) : Math.ceil(n / bs);
    let lastReport = 0;

    for (let epoch = startEpoch + 1; epoch <= spec.epochs; epoch++) {
      const t0 = performance.now();
      const perm = epochPermutation(n, spec.seed, epoch);
      let lossSum = 0,
        correct = 0,
        seen = 0;
      // Epoch-average dead reading (docs/metrics.md dead_ratio_epoch): per-layer sums of per-batch dead counts.
      const deadSums = new Float64Array(spec.depth);
      let deadSeconds = 0;
      const tally: DeadTally | undefined =
        opts.epochDeadReading === false ? undefined : { tau: spec.tau, counts: [], seconds: 0 };
      for (let b = 0; b < batches; b++) {
        if (opts.signal?.aborted) return { status: 'cancelled', epochsDone: epoch - 1, finalState: last, paramCount };
        const from = b * bs,
          to = Math.min(n, from + bs);
        let loss: number, right: number;
        if (group) {
          ({ loss, right } = group.step(
            to - from,
            (xb, yb) => {
              gatherRowsInto(dataset.xTrain, dims.inputDim, perm, from, to, xb);
              for (let r = from; r < to; r++) yb[r - from] = dataset.yTrain[perm[r]];
            },
            tally,
          ));
        } else {
          const x = tf.tensor2d(gatherRows(dataset.xTrain, dims.inputDim, perm, from, to), [to - from, dims.inputDim]);
          const targets = makeTargets(dims.task, dims.outputDim, gatherValues(dataset.yTrain, perm, from, to));
          if (tally) {
            tally.counts.length = 0;
            tally.seconds = 0;
          }
          ({ loss, right } = trainStep(model, optimizer, x, targets, tally));
          x.dispose();
          disposeTargets(targets);
        }
        if (!Number.isFinite(loss)) {
          return {
            status: 'diverged',
            epochsDone: epoch - 1,
            finalState: last,
            paramCount,
            error: `loss became ${loss} at epoch ${epoch}, batch ${b + 1}`,
          };
        }
        if (tally) {
          for (let i = 0; i < spec.depth; i++) deadSums[i] += tally.counts[i];
          deadSeconds += tally.seconds;
        }
        lossSum += loss;
        correct += right;
        seen += to - from;
        const now = performance.now();
        if (opts.onBatch && now - lastReport >= BATCH_REPORT_MS) {
          lastReport = now;
          opts.onBatch({ epoch, batch: b + 1, batches, loss });
        }
        // Let aborts and other tasks in this thread get a turn without costing a timer per batch.
        if ((b & 15) === 15) await new Promise<void>((r) => setImmediate(r));
      }
      group?.pause();
      const metrics: Partial<Record<EpochMetric, number>> = { train_loss: lossSum / batches, lr: spec.lr };
      if (dims.task === 'classification') metrics.train_acc = correct / seen;
      if (dataset.nTest > 0) {
        const t = evaluateSplit(model, dataset.xTest, dataset.yTest, dataset.nTest);
        metrics.test_loss = t.loss;
        if (t.acc !== undefined) metrics.test_acc = t.acc;
      }
      const t1 = performance.now();
      const probes = runProbes(model, evalX, evalY);
      const t2 = performance.now();
      metrics.mag1 = probes.mag1;
      metrics.dead_ratio = probes.dead_ratio;
      const layers = probes.layers;
      if (tally) {
        const W = spec.width;
        let all = 0;
        model.layers.forEach((L, i) => {
          all += deadSums[i];
          layers.push({ layer: L.index, metric: 'dead_ratio_epoch', value: deadSums[i] / (W * batches) });
        });
        metrics.dead_ratio_epoch = all / (spec.depth * W * batches);
        metrics.dead_time_s = deadSeconds;
      }
      if (probes.clipped_frac !== undefined) metrics.clipped_frac = probes.clipped_frac;
      metrics.epoch_time_s = (t1 - t0) / 1000;
      metrics.probe_time_s = (t2 - t1) / 1000;
      last = checkpoint(epoch);
      await opts.onEpoch?.({ epoch, metrics, layers }, last);
      if (epoch < spec.epochs && opts.shouldPrune && (await opts.shouldPrune(epoch, metrics))) {
        return { status: 'pruned', epochsDone: epoch, finalState: last, paramCount };
      }
    }
    return {
      status: 'finished',
      epochsDone: Math.max(startEpoch, spec.epochs),
      finalState: last,
      paramCount,
      ...(group ? { threadWaits: group.waits } : {}),
    };
  } finally {
    await group?.stop();
    evalX.dispose();
    disposeTargets(evalY);
    optimizer.dispose();
    model.dispose();
  }
}

/** Forward + backward + update on one batch; returns the batch's mean loss and correct count (and fills `dead`). */
export function trainStep(
  model: DeepBernModel,
  optimizer: TrainerOptimizer,
  x: tf.Tensor2D,
  y: BatchTargets,
  dead?: DeadTally,
): { loss: number; right: number } {
  const { loss: value, correct, grads, stats } = model.gradients(x, y, dead);
  const loss = value.dataSync()[0];
  const right = correct ? correct.dataSync()[0] : 0;
  if (Number.isFinite(loss)) {
    optimizer.apply(grads);
    model.applyStats(stats);
  }
  value.dispose();
  correct?.dispose();
  for (const g of grads) g.dispose();
  for (const s of stats.bn) if (s) tf.dispose([s.mean, s.variance]);
  for (const s of stats.range) if (s) tf.dispose([s.min, s.max]);
  return { loss, right };
}
