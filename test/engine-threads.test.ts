// Data-parallel training (docs/threads.md): a run on N threads is bit-identical run to run, agrees with one
// thread within float32 reduction-order error, normalises with the whole batch's statistics, and resumes
// identically. Small nets and few steps; the replica threads compile from source through tsx.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { NetworkSpecInput } from '../shared/spec.js';
import type { EpochReport } from '../shared/metrics.js';
import { initBackend } from '../workers/engine/backend.js';
import { fastOps } from '../workers/engine/kernels/index.js';
import { referenceOps } from '../workers/engine/ops.js';
import { loadState } from '../workers/engine/state.js';
import { trainRun, type ThreadsInfo } from '../workers/engine/train.js';
import {
  maxRelDiff,
  threadsData as data,
  threadsSpec as spec,
  trainOnThreads as train,
  type ThreadsTrained as Trained,
} from './support/threads-run.js';

function tensor(state: Uint8Array, name: string): Float32Array {
  const t = loadState(state).tensors.find((x) => x.name === name);
  if (!t) throw new Error(`no ${name}`);
  return t.data;
}

beforeAll(async () => {
  await initBackend('wasm');
});

/** Epoch metrics without the wall-clock timings. */
function untimed(e: EpochReport): Record<string, number | undefined> {
  const { epoch_time_s: _a, probe_time_s: _b, dead_time_s: _c, ...rest } = e.metrics;
  return rest;
}

/** Measured largest differences 1 vs N threads after one SGD step (max over parameters, relative to max(1, |p|)): ≤ 6e-8, i.e. ~1 float32 ulp. */
const ONE_STEP_TOL = 1e-6;

describe('training on several threads', () => {
  it('is bit-identical run to run with threads = 2, and frees its tensors', async () => {
    const before = tf.memory().numTensors;
    const a = await train(2);
    const b = await train(2);
    expect(a.info).toEqual({ threads: 2 });
    expect(Buffer.from(b.result.finalState).equals(Buffer.from(a.result.finalState))).toBe(true);
    expect(b.epochs.map(untimed)).toEqual(a.epochs.map(untimed));
    expect(b.epochs.map((e) => e.layers)).toEqual(a.epochs.map((e) => e.layers));
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it.each([
    ['bernstein + batch norm', {}],
    ['bernstein + affine batch norm', { bnAffine: true, init: 'torch' }],
    ['relu + batch norm', { activation: 'relu' }],
    ['gelu + affine batch norm', { activation: 'gelu', bnAffine: true }],
    ['bernstein, no batch norm', { batchNorm: false }],
    ['relu regression', { activation: 'relu', dataset: 'synthetic-regression' }],
  ] as const)(
    'one SGD step of %s on 1, 2 and 3 threads: the same update, statistics and probes within float32 rounding',
    async (_label, over) => {
      // One batch per epoch and plain SGD: the parameter change is lr·gradient, so this compares the gradients,
      // which carry the batch-norm terms, and the running statistics (bn_mean, bn_var: the whole batch's moments).
      const one = {
        ...over,
        rows: 40,
        batchSize: 32,
        epochs: 1,
        optimizer: 'sgd',
        lr: 0.1,
      } as Partial<NetworkSpecInput>;
      const t1 = await train(1, one);
      for (const n of [2, 3]) {
        const tn = await train(n, one);
        expect(tn.info.threads).toBe(n);
        const { diff, name } = maxRelDiff(t1.result.finalState, tn.result.finalState);
        expect(diff, `${name} on ${n} threads`).toBeLessThan(ONE_STEP_TOL);
        // Probes (dead ratio, min σ′, MAG, gradient norms) and the epoch's loss, on the stepped weights.
        const [a, b] = [t1.epochs[0], tn.epochs[0]];
        for (const [k, v] of Object.entries(untimed(a))) {
          if (v === undefined) continue;
          expect(Math.abs((untimed(b)[k] as number) - v), `${k} on ${n} threads`).toBeLessThanOrEqual(
            1e-5 * Math.max(1, Math.abs(v)),
          );
        }
        expect(b.layers.map((r) => [r.layer, r.metric])).toEqual(a.layers.map((r) => [r.layer, r.metric]));
        b.layers.forEach((r, i) =>
          expect(Math.abs(r.value - a.layers[i].value), `${r.metric} L${r.layer}`).toBeLessThanOrEqual(
            1e-4 * Math.max(1e-3, Math.abs(a.layers[i].value)),
          ),
        );
      }
    },
    180_000,
  );

  it('a batch smaller than the thread count (empty slices) and uneven slices train like one thread', async () => {
    // 66 training rows in batches of 32: the last batch has 2 rows, so on 3 threads one replica's slice is empty.
    const over = {
      rows: 83,
      testFraction: 0.2,
      batchSize: 32,
      epochs: 1,
      optimizer: 'sgd',
      lr: 0.05,
      activation: 'relu',
    } as Partial<NetworkSpecInput>;
    expect((await data(83)).nTrain % 32).toBe(2);
    const t1 = await train(1, over);
    const t3 = await train(3, over);
    const { diff, name } = maxRelDiff(t1.result.finalState, t3.result.finalState);
    expect(diff, name).toBeLessThan(1e-5);
  }, 120_000);

  it('the epoch dead reading combines slices: a unit is dead only if it is dead on every sample of the whole batch', async () => {
    // GELU's σ′ reaches τ = 0.9 only for z ≳ 0.55 (no batch norm), so in batches of 4 some units are dead on the whole batch and
    // more on each 2-row slice: summing or OR-ing the replicas' per-slice readings would disagree with one thread.
    const over = {
      rows: 40,
      batchSize: 4,
      epochs: 1,
      optimizer: 'sgd',
      lr: 0.01,
      tau: 0.9,
      activation: 'gelu',
      batchNorm: false,
    } as Partial<NetworkSpecInput>;
    const t1 = await train(1, over);
    const t2 = await train(2, over);
    const ratio = t1.epochs[0].metrics.dead_ratio_epoch as number;
    expect(ratio).toBeGreaterThan(0);
    expect(ratio).toBeLessThan(1);
    expect(t2.epochs[0].metrics.dead_ratio_epoch).toBe(ratio);
    const perLayer = (t: Trained) =>
      t.epochs[0].layers.filter((r) => r.metric === 'dead_ratio_epoch').map((r) => r.value);
    expect(perLayer(t2)).toEqual(perLayer(t1));
  }, 120_000);

  it('different thread counts train alike over epochs of Adam (loss within 1e-4)', async () => {
    const t1 = await train(1, { epochs: 3 });
    const t2 = await train(2, { epochs: 3 });
    t1.epochs.forEach((e, i) => {
      const [a, b] = [e.metrics.train_loss as number, t2.epochs[i].metrics.train_loss as number];
      expect(Math.abs(a - b)).toBeLessThan(1e-4 * Math.max(1, a));
    });
  }, 120_000);

  it('a checkpoint written under threads = 2 resumes to the same bits as the uninterrupted run', async () => {
    const straight = await train(2, { epochs: 2 });
    const s = spec({ epochs: 2 });
    const firstEpoch: Uint8Array[] = [];
    await trainRun(spec({ epochs: 1 }), await data(400), {
      ops: fastOps,
      threads: 2,
      onEpoch: (_r, c) => void firstEpoch.push(c),
    });
    const resumed = await trainRun(s, await data(400), { ops: fastOps, threads: 2, resumeFrom: firstEpoch[0] });
    expect(resumed.status).toBe('finished');
    expect(Buffer.from(resumed.finalState).equals(Buffer.from(straight.result.finalState))).toBe(true);
    // and the resumed weights are the straight run's epoch-2 weights, tensor by tensor
    expect(Array.from(tensor(resumed.finalState, 'L2/theta'))).toEqual(
      Array.from(tensor(straight.result.finalState, 'L2/theta')),
    );
  }, 120_000);

  it('a run the replicas cannot split trains on one thread and says why', async () => {
    // (Adaptive Bernstein bounds used to be such a run; they now train on threads: engine-threads-sharded.test.ts.)
    let info: ThreadsInfo = { threads: 0 };
    const r = await trainRun(spec({ epochs: 1 }), await data(400), {
      ops: referenceOps,
      threads: 2,
      onStart: (_p, t) => void (info = t),
    });
    expect(r.status).toBe('finished');
    expect(info.threads).toBe(1);
    expect(info.note).toMatch(/2 threads asked for, training on 1: the reference ops have no batch-norm exchange/);
    await expect(trainRun(spec(), await data(400), { ops: fastOps, threads: 0 })).rejects.toThrow(
      /threads must be a whole number ≥ 1/,
    );
  }, 120_000);
});
