// The product's training path on the fast ops (fused kernels + fused Adam) learns exactly like the composed
// reference: same losses epoch by epoch. (A stale-weights bug once kept the fast path's loss flat.)
import { describe, expect, it } from 'vitest';
import { initBackend } from '../workers/engine/backend.js';
import { trainRun } from '../workers/engine/train.js';
import { fastOps } from '../workers/engine/kernels/index.js';
import { referenceOps, type EngineOps } from '../workers/engine/ops.js';
import { parseSpec } from '../shared/spec.js';
import { loadDataset } from '../workers/data/registry.js';

async function losses(activation: string, ops: EngineOps): Promise<number[]> {
  const spec = parseSpec({ dataset: 'synthetic-higgs', rows: 400, depth: 3, width: 8, epochs: 3, batchSize: 32, activation, lr: 0.01 });
  const ds = await loadDataset({ id: spec.dataset, rows: spec.rows, testFraction: 0.2, seed: 0 });
  const out: number[] = [];
  await trainRun(spec, ds, { ops, onEpoch: (r) => void out.push(r.metrics.train_loss as number) });
  return out;
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`fast training path on ${backend}`, () => {
    it.each(['bernstein', 'relu'])('%s: same losses as the reference, and they fall', async (activation) => {
      await initBackend(backend);
      const ref = await losses(activation, referenceOps);
      const fast = await losses(activation, fastOps);
      expect(fast[2]).toBeLessThan(fast[0]);
      fast.forEach((l, i) => expect(Math.abs(l - ref[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref[i]))));
    });
  });
}
