// The product's training path on the fast ops (fused kernels + fused Adam) learns exactly like the composed
// reference: same losses epoch by epoch. (A stale-weights bug once kept the fast path's loss flat.)
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { DeepBernModel, disposeTargets, makeTargets } from '../workers/engine/model.js';
import { runProbes } from '../workers/engine/probes.js';
import { initBackend } from '../workers/engine/backend.js';
import { trainRun } from '../workers/engine/train.js';
import { fastOps } from '../workers/engine/kernels/index.js';
import { referenceOps, type EngineOps } from '../workers/engine/ops.js';
import { parseSpec } from '../shared/spec.js';
import { loadDataset } from '../workers/data/registry.js';

async function losses(activation: string, ops: EngineOps, batchNorm?: boolean): Promise<number[]> {
  const spec = parseSpec({ dataset: 'synthetic-higgs', rows: 400, depth: 3, width: 8, epochs: 3, batchSize: 32, activation, lr: 0.01, batchNorm });
  const ds = await loadDataset({ id: spec.dataset, rows: spec.rows, testFraction: 0.2, seed: 0 });
  const out: number[] = [];
  await trainRun(spec, ds, { ops, onEpoch: (r) => void out.push(r.metrics.train_loss as number) });
  return out;
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`fast training path on ${backend}`, () => {
    // Batch norm off by default for the fixed activations (activation kernel); on for the fused bnAct kernel.
    it.each([
      ['bernstein', undefined], ['relu', undefined], ['selu', undefined], ['gelu', undefined],
      ['relu', true], ['leaky_relu', true], ['selu', true], ['gelu', true],
    ] as const)('%s (batchNorm %s): same losses as the reference, and they fall', async (activation, batchNorm) => {
      await initBackend(backend);
      const ref = await losses(activation, referenceOps, batchNorm);
      const fast = await losses(activation, fastOps, batchNorm);
      expect(fast[2]).toBeLessThan(fast[0]);
      fast.forEach((l, i) => expect(Math.abs(l - ref[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref[i]))));
    });
  });
}

describe('probes on the fast ops', () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    it.each([['fixed'], ['adaptive']])(`${backend}: the same per-layer metrics as the reference (%s bounds)`, async (boundsMode) => {
      await initBackend(backend);
      const spec = parseSpec({ dataset: 'synthetic-higgs', depth: 3, width: 8, activation: 'bernstein', degree: 5, bounds: [-1, 1], boundsMode, seed: 3 });
      const dims = { inputDim: 6, outputDim: 2, task: 'classification' as const };
      const x = tf.randomNormal([64, 6], 0, 2, 'float32', 7) as tf.Tensor2D; // wide: some pre-activations leave [-1,1]
      const y = makeTargets('classification', 2, Float32Array.from({ length: 64 }, (_, i) => i % 2));
      const results = [referenceOps, fastOps].map((ops) => {
        const model = new DeepBernModel(spec, dims, ops);
        try {
          return runProbes(model, x, y);
        } finally {
          model.dispose();
        }
      });
      const [ref, fast] = results;
      expect(fast.layers.map((l) => `${l.layer}/${l.metric}`)).toEqual(ref.layers.map((l) => `${l.layer}/${l.metric}`));
      fast.layers.forEach((l, i) => expect(Math.abs(l.value - ref.layers[i].value), `${l.layer}/${l.metric}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref.layers[i].value))));
      expect(Math.abs(fast.mag1 - ref.mag1)).toBeLessThan(1e-4 * Math.max(1e-6, ref.mag1) + 1e-9);
      expect(ref.clipped_frac).toBeGreaterThan(0);
      x.dispose();
      disposeTargets(y);
    });
  }
});
