// The model's own backward pass (DeepBernModel.gradients with fused ops) against the tfjs tape over the same
// forward: same loss, same correct count, gradients within float32 error (in practice the same bits: the same
// kernels run), on wasm and cpu, for every layer kind the fused path takes; and the cases it must not take.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NetworkSpecInput } from '../shared/spec.js';
import { initBackend } from '../workers/engine/backend.js';
import { fastOps } from '../workers/engine/kernels/index.js';
import { DeepBernModel, disposeTargets, makeTargets } from '../workers/engine/model.js';
import type { EngineOps } from '../workers/engine/ops.js';
import { createTrainerOptimizer } from '../workers/engine/optimizer.js';
import { trainStep } from '../workers/engine/train.js';
import { easyClassification, smallRegression, tinySpec } from './support/engine-fixtures.js';

const tapeOps: EngineOps = { ...fastOps, name: 'fast-tape', backward: undefined };

const CASES: [string, Partial<NetworkSpecInput>][] = [
  ['Bernstein, batch norm', {}],
  ['Bernstein, affine batch norm, residual', { bnAffine: true, residual: true, width: 4 }],
  ['ReLU, batch norm', { activation: 'relu', batchNorm: true }],
  ['leaky ReLU, affine batch norm', { activation: 'leaky_relu', alpha: 0.1, batchNorm: true, bnAffine: true }],
  ['GELU, batch norm, residual', { activation: 'gelu', batchNorm: true, residual: true, width: 4 }],
];

function batch(task: 'classification' | 'regression') {
  const ds = task === 'classification' ? easyClassification(32) : smallRegression(32);
  return {
    ds,
    x: tf.tensor2d(ds.xTrain, [ds.nTrain, ds.inputDim]),
    y: makeTargets(ds.task, ds.outputDim, ds.yTrain),
  };
}

/** Largest |a − b| / (1 + |b|) over the elements. */
function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return m;
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`own backward vs the tape (${backend})`, () => {
    beforeAll(async () => {
      await initBackend(backend);
    });
    afterAll(() => tf.disposeVariables());

    for (const [name, over] of CASES) {
      for (const task of ['classification', 'regression'] as const) {
        it(`${name}, ${task}: same loss and gradients`, () => {
          const { ds, x, y } = batch(task);
          const spec = tinySpec(over);
          const dims = { inputDim: ds.inputDim, outputDim: ds.outputDim, task: ds.task };
          const own = new DeepBernModel(spec, dims, fastOps);
          const tape = new DeepBernModel(spec, dims, tapeOps);
          expect(own.canBackprop()).toBe(true);
          expect(tape.canBackprop()).toBe(false);
          const before = tf.memory().numTensors;
          const a = own.gradients(x, y);
          const b = tape.gradients(x, y);
          expect(a.loss.dataSync()[0]).toBe(b.loss.dataSync()[0]);
          if (task === 'classification') expect(a.correct!.dataSync()[0]).toBe(b.correct!.dataSync()[0]);
          expect(a.grads.length).toBe(own.trainables().length);
          own.trainables().forEach((p, i) => {
            expect(a.grads[i].shape, p.name).toEqual(p.variable.shape);
            const ga = a.grads[i].dataSync() as Float32Array,
              gb = b.grads[i].dataSync() as Float32Array;
            expect(maxRelDiff(ga, gb), p.name).toBeLessThan(1e-6);
            // some gradient must be non-trivial, or the comparison proves nothing
            if (p.name === 'out/w') expect(Math.max(...ga.map(Math.abs))).toBeGreaterThan(1e-4);
          });
          a.stats.bn.forEach((s, i) => {
            expect(Array.from(s!.mean.dataSync())).toEqual(Array.from(b.stats.bn[i]!.mean.dataSync()));
            expect(Array.from(s!.variance.dataSync())).toEqual(Array.from(b.stats.bn[i]!.variance.dataSync()));
          });
          for (const r of [a, b]) {
            tf.dispose([r.loss, ...(r.correct ? [r.correct] : []), ...r.grads]);
            for (const s of r.stats.bn) if (s) tf.dispose([s.mean, s.variance]);
          }
          // Everything the own pass made is returned or freed.
          expect(tf.memory().numTensors).toBe(before);
          own.dispose();
          tape.dispose();
          x.dispose();
          disposeTargets(y);
        });
      }
    }

    for (const affine of [false, true]) {
      it(`folded kernels give the bits of the separate ones (dense backward; coefficients in batch norm → Bernstein${affine ? ', affine' : ''})`, () => {
        const { ds, x, y } = batch('classification');
        const spec = tinySpec({ depth: 3, bnAffine: affine });
        const dims = { inputDim: ds.inputDim, outputDim: ds.outputDim, task: ds.task };
        const bw = fastOps.backward!;
        const separate: EngineOps = {
          ...fastOps,
          name: 'fast-separate',
          bnBernsteinTrainTheta: undefined,
          backward: {
            ...bw,
            dense: undefined,
            bnBernstein: (dy, h, c, l, u, eps, st, af) => bw.bnBernstein(dy, h, c, l, u, eps, st, af),
          },
        };
        const folded = new DeepBernModel(spec, dims, fastOps);
        const apart = new DeepBernModel(spec, dims, separate);
        const counted = [
          'DeepBernDenseGrad',
          'DeepBernGemm',
          'DeepBernColumnSum',
          'DeepBernCoefficientsGrad',
          'DeepBernCoefficients',
        ];
        const calls = { folded: 0, apart: 0 };
        const eng = tf.engine();
        const run = eng.runKernel.bind(eng);
        const counting = (k: keyof typeof calls) => {
          eng.runKernel = ((name: string, ...rest: unknown[]) => {
            if (counted.includes(name)) calls[k]++;
            return (run as (...args: unknown[]) => unknown)(name, ...rest);
          }) as typeof eng.runKernel;
        };
        counting('folded');
        const a = folded.gradients(x, y);
        counting('apart');
        const b = apart.gradients(x, y);
        eng.runKernel = run;
        // 3 hidden layers + the output layer, the first layer without an input gradient: 4 dense backward calls
        // against 4 ∂W + 4 ∂b + 3 ∂x (cpu: matMul and 4 column sums both ways); 3 coefficient forward and 3 backward
        // calls apart.
        expect(calls).toEqual(backend === 'wasm' ? { folded: 4, apart: 17 } : { folded: 4, apart: 10 });
        expect(a.loss.dataSync()[0]).toBe(b.loss.dataSync()[0]);
        a.stats.bn.forEach((st, i) =>
          expect(Array.from(st!.variance.dataSync())).toEqual(Array.from(b.stats.bn[i]!.variance.dataSync())),
        );
        folded
          .trainables()
          .forEach((p, i) =>
            expect(Array.from(a.grads[i].dataSync()), p.name).toEqual(Array.from(b.grads[i].dataSync())),
          );
        for (const r of [a, b]) {
          tf.dispose([r.loss, ...(r.correct ? [r.correct] : []), ...r.grads]);
          for (const st of r.stats.bn) if (st) tf.dispose([st.mean, st.variance]);
        }
        folded.dispose();
        apart.dispose();
        x.dispose();
        disposeTargets(y);
      });
    }

    it('training steps on the own backward follow the tape step for step (Adam, running stats)', () => {
      const { ds, x, y } = batch('classification');
      const spec = tinySpec({ bnAffine: true });
      const dims = { inputDim: ds.inputDim, outputDim: ds.outputDim, task: ds.task };
      const models = [fastOps, tapeOps].map((ops) => {
        const model = new DeepBernModel(spec, dims, ops);
        return { model, opt: createTrainerOptimizer(spec, ops, model.trainables()) };
      });
      for (let step = 0; step < 5; step++) {
        const [la, lb] = models.map((m) => trainStep(m.model, m.opt, x, y).loss);
        expect(la).toBe(lb);
      }
      const [ea, eb] = models.map((m) => m.model.exportTensors());
      ea.forEach((t, i) => expect(maxRelDiff(t.data, eb[i].data), t.name).toBeLessThan(1e-6));
      for (const m of models) {
        m.opt.dispose();
        m.model.dispose();
      }
      x.dispose();
      disposeTargets(y);
    });

    it('networks the fused chain does not cover take the tape', () => {
      const dims = { inputDim: 4, outputDim: 2, task: 'classification' as const };
      for (const over of [
        { batchNorm: false },
        { boundsMode: 'adaptive' as const },
        { activation: 'relu' as const, batchNorm: false },
      ]) {
        const m = new DeepBernModel(tinySpec(over), dims, fastOps);
        expect(m.canBackprop(), JSON.stringify(over)).toBe(false);
        m.dispose();
      }
    });
  });
}
