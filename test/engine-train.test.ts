// trainRun on real tfjs-wasm: learning, determinism, resume, cancel, divergence, memory.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EpochReport } from '../shared/metrics.js';
import { initBackend } from '../workers/engine/backend.js';
import { loadState } from '../workers/engine/state.js';
import { trainRun } from '../workers/engine/train.js';
import { easyClassification, smallRegression, tinySpec } from './support/engine-fixtures.js';

beforeAll(async () => {
  await initBackend('wasm');
});

async function collect(spec = tinySpec(), ds = easyClassification(), extra: Parameters<typeof trainRun>[2] = {}) {
  const reports: EpochReport[] = [];
  const checkpoints: Uint8Array[] = [];
  const result = await trainRun(spec, ds, {
    ...extra,
    onEpoch: (r, c) => {
      reports.push(r);
      checkpoints.push(c);
    },
  });
  return { reports, checkpoints, result };
}

describe('trainRun', () => {
  it('a tiny Bernstein net learns an easy problem: loss falls over 3 epochs, all metrics present', async () => {
    const { reports, result } = await collect(tinySpec({ epochs: 3 }));
    expect(result.status).toBe('finished');
    expect(result.epochsDone).toBe(3);
    // 4·8+8 + 2·(8·8+8) + 3·8·(1+5) [a,θ] + 8·2+2
    expect(result.paramCount).toBe(40 + 144 + 144 + 18);
    const loss = reports.map((r) => r.metrics.train_loss!);
    expect(loss[2]).toBeLessThan(loss[0]);
    expect(reports[2].metrics.test_acc!).toBeGreaterThan(0.8);
    for (const k of [
      'train_acc',
      'test_loss',
      'mag1',
      'dead_ratio',
      'clipped_frac',
      'epoch_time_s',
      'probe_time_s',
      'dead_ratio_epoch',
      'dead_time_s',
    ] as const) {
      expect(Number.isFinite(reports[2].metrics[k])).toBe(true);
    }
    const layerMetrics = new Set(reports[0].layers.map((l) => `${l.layer}:${l.metric}`));
    expect(layerMetrics.size).toBe(3 * 6);
    expect(loadState(result.finalState).epoch).toBe(3);
  });

  it('the same seed gives identical losses; another seed does not', async () => {
    const a = await collect();
    const b = await collect();
    const c = await collect(tinySpec({ seed: 8 }));
    expect(b.reports.map((r) => r.metrics.train_loss)).toEqual(a.reports.map((r) => r.metrics.train_loss));
    expect(c.reports[0].metrics.train_loss).not.toEqual(a.reports[0].metrics.train_loss);
  });

  it('resuming from the epoch-1 checkpoint reproduces epoch 2 exactly (Adam slots, BN stats and γ/β, adaptive bounds, any init)', async () => {
    for (const over of [
      {},
      { boundsMode: 'adaptive' as const },
      { activation: 'relu' as const, residual: true, optimizer: 'sgd' as const },
      { init: 'torch' as const, bnAffine: true },
      { activation: 'gelu' as const, batchNorm: true, bnAffine: true, init: 'xavier_uniform' as const },
    ]) {
      const spec = tinySpec(over);
      const full = await collect(spec);
      const resumed = await collect(spec, easyClassification(), { resumeFrom: full.checkpoints[0] });
      expect(resumed.reports.map((r) => r.epoch)).toEqual([2]);
      const strip = (r: EpochReport) => ({
        ...r,
        metrics: { ...r.metrics, epoch_time_s: 0, probe_time_s: 0, dead_time_s: 0 },
      });
      expect(strip(resumed.reports[0])).toEqual(strip(full.reports[1]));
      expect(Buffer.from(resumed.result.finalState).equals(Buffer.from(full.result.finalState))).toBe(true);
    }
  });

  it('regression with MSE trains and has no accuracy metrics', async () => {
    const { reports, result } = await collect(tinySpec({ activation: 'gelu', epochs: 3 }), smallRegression());
    expect(result.status).toBe('finished');
    expect(reports[2].metrics.train_loss!).toBeLessThan(reports[0].metrics.train_loss!);
    expect(reports[0].metrics.train_acc).toBeUndefined();
  });

  it('abort → cancelled, the epoch in flight dropped; finalState is the last completed epoch', async () => {
    const ctrl = new AbortController();
    let batchesSeen = 0;
    const { reports, result } = await collect(tinySpec({ epochs: 5, batchSize: 8 }), easyClassification(), {
      signal: ctrl.signal,
      onBatch: (p) => {
        batchesSeen++;
        if (p.epoch === 2) ctrl.abort();
      },
    });
    expect(batchesSeen).toBeGreaterThan(0);
    expect(result.status).toBe('cancelled');
    expect(result.epochsDone).toBe(1);
    expect(reports.length).toBe(1);
    expect(loadState(result.finalState).epoch).toBe(1);
  });

  it('a huge learning rate → diverged, stopped at once', async () => {
    // MSE with plain SGD at lr 10 blows up geometrically.
    const { reports, result } = await collect(
      tinySpec({ activation: 'selu', batchNorm: false, lr: 10, optimizer: 'sgd', epochs: 50 }),
      smallRegression(),
    );
    expect(result.status).toBe('diverged');
    expect(result.error).toMatch(/loss became/);
    expect(reports.length).toBeLessThan(50);
  });

  it('pruning stops after the epoch the callback rejects', async () => {
    const { result } = await collect(tinySpec({ epochs: 4 }), easyClassification(), {
      shouldPrune: (epoch) => epoch === 2,
    });
    expect(result.status).toBe('pruned');
    expect(result.epochsDone).toBe(2);
  });

  it('no tensor leaks: numTensors is flat across epochs and back to the start after the run', async () => {
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const result = await trainRun(tinySpec({ epochs: 4, boundsMode: 'adaptive' }), easyClassification(), {
      onEpoch: () => void counts.push(tf.memory().numTensors),
    });
    expect(result.status).toBe('finished');
    expect(counts).toEqual(counts.map(() => counts[0]));
    expect(tf.memory().numTensors).toBe(before);
  });
});
