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

async function losses(
  activation: string,
  ops: EngineOps,
  batchNorm?: boolean,
  over: Record<string, unknown> = {},
): Promise<number[]> {
  const spec = parseSpec({
    dataset: 'synthetic-higgs',
    rows: 400,
    depth: 3,
    width: 8,
    epochs: 3,
    batchSize: 32,
    activation,
    lr: 0.01,
    batchNorm,
    ...over,
  });
  const ds = await loadDataset({ id: spec.dataset, rows: spec.rows, testFraction: 0.2, seed: 0 });
  const out: number[] = [];
  await trainRun(spec, ds, { ops, onEpoch: (r) => void out.push(r.metrics.train_loss as number) });
  return out;
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`fast training path on ${backend}`, () => {
    // Batch norm off by default for the fixed activations (activation kernel); on for the fused bnAct kernel.
    it.each([
      ['bernstein', undefined],
      ['relu', undefined],
      ['selu', undefined],
      ['gelu', undefined],
      ['relu', true],
      ['leaky_relu', true],
      ['selu', true],
      ['gelu', true],
    ] as const)('%s (batchNorm %s): same losses as the reference, and they fall', async (activation, batchNorm) => {
      await initBackend(backend);
      const ref = await losses(activation, referenceOps, batchNorm);
      const fast = await losses(activation, fastOps, batchNorm);
      expect(fast[2]).toBeLessThan(fast[0]);
      fast.forEach((l, i) => expect(Math.abs(l - ref[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref[i]))));
    });

    // Affine batch norm (γ, β trained by the fused Adam) under PyTorch's init, on each fused kernel and on the
    // composed path the fast ops take for adaptive bounds.
    it.each([
      ['bernstein', {}],
      ['bernstein', { boundsMode: 'adaptive' }],
      ['relu', {}],
      ['leaky_relu', {}],
      ['selu', {}],
      ['gelu', {}],
    ] as const)(
      '%s %j with affine batch norm and init torch: same losses as the reference, and they fall',
      async (activation, over) => {
        await initBackend(backend);
        const extra = { ...over, bnAffine: true, init: 'torch' };
        const ref = await losses(activation, referenceOps, true, extra);
        const fast = await losses(activation, fastOps, true, extra);
        expect(fast[2]).toBeLessThan(fast[0]);
        fast.forEach((l, i) => expect(Math.abs(l - ref[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref[i]))));
      },
    );
  });
}

describe('affine batch norm in the model', () => {
  it('γ starts at 1 and β at 0, both train, and they are in the checkpoint and the parameter count', async () => {
    await initBackend('wasm');
    const spec = parseSpec({
      dataset: 'synthetic-higgs',
      rows: 300,
      depth: 2,
      width: 6,
      epochs: 1,
      batchSize: 32,
      activation: 'bernstein',
      degree: 3,
      bnAffine: true,
      lr: 0.01,
    });
    const plain = new DeepBernModel(
      { ...spec, bnAffine: false },
      { inputDim: 28, outputDim: 2, task: 'classification' },
    );
    const model = new DeepBernModel(spec, { inputDim: 28, outputDim: 2, task: 'classification' });
    try {
      expect(model.paramCount() - plain.paramCount()).toBe(2 * 2 * 6);
      expect(Array.from(model.layers[0].gamma!.dataSync())).toEqual(Array(6).fill(1));
      expect(Array.from(model.layers[0].beta!.dataSync())).toEqual(Array(6).fill(0));
    } finally {
      model.dispose();
      plain.dispose();
    }
    const ds = await loadDataset({ id: spec.dataset, rows: spec.rows, testFraction: 0.2, seed: 0 });
    const result = await trainRun(spec, ds, {});
    const { loadState } = await import('../workers/engine/state.js');
    const state = loadState(result.finalState);
    const gamma = state.tensors.find((t) => t.name === 'L1/bn_gamma')!,
      beta = state.tensors.find((t) => t.name === 'L2/bn_beta')!;
    expect(gamma.shape).toEqual([6]);
    expect(Array.from(gamma.data).some((v) => v !== 1)).toBe(true);
    expect(Array.from(beta.data).some((v) => v !== 0)).toBe(true);
    expect(state.tensors.some((t) => t.name === 'adam/m/L1/bn_gamma')).toBe(true);
  });
});

describe('probes on the fast ops', () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    it.each([['fixed'], ['adaptive']])(
      `${backend}: the same per-layer metrics as the reference (%s bounds)`,
      async (boundsMode) => {
        await initBackend(backend);
        const spec = parseSpec({
          dataset: 'synthetic-higgs',
          depth: 3,
          width: 8,
          activation: 'bernstein',
          degree: 5,
          bounds: [-1, 1],
          boundsMode,
          seed: 3,
        });
        const dims = { inputDim: 6, outputDim: 2, task: 'classification' as const };
        const x = tf.randomNormal([64, 6], 0, 2, 'float32', 7) as tf.Tensor2D; // wide: some pre-activations leave [-1,1]
        const y = makeTargets(
          'classification',
          2,
          Float32Array.from({ length: 64 }, (_, i) => i % 2),
        );
        const results = [referenceOps, fastOps].map((ops) => {
          const model = new DeepBernModel(spec, dims, ops);
          try {
            return runProbes(model, x, y);
          } finally {
            model.dispose();
          }
        });
        const [ref, fast] = results;
        expect(fast.layers.map((l) => `${l.layer}/${l.metric}`)).toEqual(
          ref.layers.map((l) => `${l.layer}/${l.metric}`),
        );
        fast.layers.forEach((l, i) =>
          expect(Math.abs(l.value - ref.layers[i].value), `${l.layer}/${l.metric}`).toBeLessThan(
            1e-4 * Math.max(1, Math.abs(ref.layers[i].value)),
          ),
        );
        expect(Math.abs(fast.mag1 - ref.mag1)).toBeLessThan(1e-4 * Math.max(1e-6, ref.mag1) + 1e-9);
        expect(ref.clipped_frac).toBeGreaterThan(0);
        x.dispose();
        disposeTargets(y);
      },
    );
  }
});
