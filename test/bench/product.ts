// Times the product's own training loop (workers/engine/train.ts trainRun with pickOps) on a random dataset
// of the peer's shape: steps/s = batches / epoch_time_s (the trainer's own per-epoch clock, which excludes
// the per-epoch probes and checkpoint). Epoch 1 is warm-up; the best later epoch counts.
import * as tf from '@tensorflow/tfjs-core';
import seedrandom from 'seedrandom';
import { parseSpec } from '../../shared/spec.js';
import type { Dataset } from '../../workers/data/types.js';
import { pickOps } from '../../workers/engine/kernels/index.js';
import { trainRun } from '../../workers/engine/train.js';
import { threadCpuMs, type RankProfile } from '../../workers/engine/threads/group-memory.js';
import type { NetSpec } from './nets.js';

export interface ProductResult {
  stepsPerSec: number;
  epochRates: number[];
  params: number;
  /** tf.memory().numTensors after epoch 1 and after the last epoch, and the steps in between. */
  tensorsBefore: number;
  tensorsAfter: number;
  stepsBetween: number;
  /** Threads the run trained on, and the largest RSS (MB) sampled at its epoch ends. */
  threads: number;
  rssMB: number;
  /** On several threads: share of the trainer's time rank 0 waited at barriers, barriers per step, share that slept. */
  waitShare?: number;
  barriersPerStep?: number;
  sleptShare?: number;
  /** CPU milliseconds of the run's own thread per step after epoch 1 (epoch-end probes and checkpoints included). */
  cpuMsPerStep: number;
  /** On several threads: every rank's per-phase profile over the run's steps. */
  profiles?: RankProfile[];
}

function randomDataset(spec: NetSpec, rows: number): Dataset {
  const rng = seedrandom(`bench-${spec.name}`);
  const x = Float32Array.from({ length: rows * spec.inputs }, () => rng() * 2 - 1);
  const y = Float32Array.from({ length: rows }, () => Math.floor(rng() * spec.outputs));
  return {
    id: 'bench',
    task: 'classification',
    inputDim: spec.inputs,
    outputDim: spec.outputs,
    xTrain: x,
    yTrain: y,
    nTrain: rows,
    xTest: new Float32Array(0),
    yTest: new Float32Array(0),
    nTest: 0,
    standardization: { mean: new Float32Array(spec.inputs), std: new Float32Array(spec.inputs).fill(1) },
    source: 'bench (random)',
  };
}

/** batchesPerEpoch × epochs steps; at least minSteps between the first and last tensor count. */
export async function timeProduct(
  spec: NetSpec,
  batchesPerEpoch: number,
  epochs: number,
  threads = 1,
): Promise<ProductResult> {
  const net = parseSpec({
    dataset: 'bench',
    depth: spec.depth,
    width: spec.width,
    activation: spec.act === 'bern' ? 'bernstein' : 'relu',
    degree: spec.degree,
    eps: spec.eps,
    bounds: [spec.l, spec.u],
    boundsMode: 'fixed',
    batchNorm: true,
    residual: false,
    optimizer: 'adam',
    lr: 1e-3,
    batchSize: spec.batch,
    epochs,
    evalBatch: 256,
  });
  const rates: number[] = [];
  const counts: number[] = [];
  let params = 0;
  let usedThreads = 1;
  let rss = 0;
  let epochSeconds = 0;
  const cpuAt: number[] = [];
  const res = await trainRun(net, randomDataset(spec, batchesPerEpoch * spec.batch), {
    ops: pickOps(tf.getBackend()),
    threads,
    onStart: (p, t) => {
      params = p;
      usedThreads = t.threads;
    },
    onEpoch: (r) => {
      const t = r.metrics.epoch_time_s;
      if (t !== undefined) rates.push(batchesPerEpoch / t);
      epochSeconds += t ?? 0;
      counts.push(tf.memory().numTensors);
      cpuAt.push(threadCpuMs());
      rss = Math.max(rss, process.memoryUsage().rss);
    },
  });
  if (res.status !== 'finished') throw new Error(`bench training ${res.status}: ${res.error ?? ''}`);
  return {
    stepsPerSec: Math.max(...rates.slice(1)),
    epochRates: rates,
    params,
    tensorsBefore: counts[0],
    tensorsAfter: counts[counts.length - 1],
    stepsBetween: (counts.length - 1) * batchesPerEpoch,
    threads: usedThreads,
    rssMB: Math.round(rss / 2 ** 20),
    cpuMsPerStep: cpuAt[0] < 0 ? -1 : (cpuAt[cpuAt.length - 1] - cpuAt[0]) / ((cpuAt.length - 1) * batchesPerEpoch),
    ...(res.threadWaits
      ? {
          waitShare: res.threadWaits.waitedMs / 1000 / epochSeconds,
          barriersPerStep: res.threadWaits.barriers / res.threadWaits.steps,
          sleptShare: res.threadWaits.slept / res.threadWaits.barriers,
          profiles: res.threadWaits.profiles,
        }
      : {}),
  };
}
