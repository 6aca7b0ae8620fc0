// The fused fixed-activation kernels (workers/engine/kernels/act.ts) against the composed reference on cpu and
// wasm: batch norm → activation and the activation alone, forward ≤ 1e-4 relative, ∂L/∂input ≤ 1e-3, batch
// statistics ≤ 1e-4, for relu / leaky_relu / selu / gelu, with inputs exactly at 0 (the relu/leaky kinks).
import * as tf from '@tensorflow/tfjs-core';
import seedrandom from 'seedrandom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXED_ACTIVATIONS } from '../shared/activations.js';
import { applyActivation } from '../workers/engine/activations.js';
import { initBackend } from '../workers/engine/backend.js';
import { fastOps } from '../workers/engine/kernels/index.js';
import { applyAffine, referenceOps } from '../workers/engine/ops.js';
import { relErr } from './support/tensors.js';

const BACKENDS = ['cpu', 'wasm'] as const;
const KINDS = FIXED_ACTIVATIONS; // every activation in the table, including one added later
const B = 30,
  W = 7,
  ALPHA = 0.2,
  EPS = 1e-5;

beforeAll(async () => {
  await initBackend('cpu');
  await initBackend('wasm');
});
afterAll(async () => {
  await initBackend('wasm');
});

/** h [B, W]: random, plus columns whose batch mean is hit exactly (x̂ = 0) and plain zeros (z = 0). */
function input(seed: string): Float32Array {
  const rng = seedrandom(seed);
  const h = Float32Array.from({ length: B * W }, () => 3 * (rng() - 0.5) + 0.4);
  for (let b = 0; b < B; b++) {
    // unit 0: symmetric values around 1 ⇒ mean exactly 1, and rows with h = 1 give x̂ = 0
    h[b * W] = b % 3 === 0 ? 1 : b % 3 === 1 ? 1 + (b % 5) * 0.25 : 1 - ((b - 1) % 5) * 0.25;
    if (b % 4 === 0) h[b * W + 1] = 0; // unit 1: exact zeros for the activation-only case
  }
  return h;
}

describe.each(BACKENDS)('fused activations on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it.each(KINDS)('%s after batch norm: forward, statistics and ∂L/∂h match the reference', (kind) => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const h = tf.tensor2d(input(`bn-${kind}`), [B, W]);
      const mean0 = tf.mean(tf.slice(h, [0, 0], [B, 1])).dataSync()[0];
      expect(mean0).toBe(1); // the kink is really exercised
      const dy = tf.randomNormal([B, W], 0, 1, 'float32', 11) as tf.Tensor2D;
      const ref = (x: tf.Tensor2D): tf.Tensor2D => applyActivation(kind, referenceOps.batchNormTrain(x, EPS).y, ALPHA);
      const fast = (x: tf.Tensor2D): tf.Tensor2D => fastOps.bnActTrain!(x, kind, ALPHA, EPS).y;
      expect(relErr(fast(h), ref(h))).toBeLessThan(1e-4);
      const r = fastOps.bnActTrain!(h, kind, ALPHA, EPS),
        rr = referenceOps.batchNormTrain(h, EPS);
      expect(relErr(r.mean, rr.mean)).toBeLessThan(1e-4);
      expect(relErr(r.variance, rr.variance)).toBeLessThan(1e-4);
      const gFast = tf.grad((x) => tf.sum(tf.mul(fast(x as tf.Tensor2D), dy)))(h);
      const gRef = tf.grad((x) => tf.sum(tf.mul(ref(x as tf.Tensor2D), dy)))(h);
      expect(relErr(gFast, gRef)).toBeLessThan(1e-3);
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each(KINDS)('%s after affine batch norm: forward and ∂L/∂h, ∂L/∂γ, ∂L/∂β match γ·x̂+β composed', (kind) => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const h = tf.tensor2d(input(`bn-affine-${kind}`), [B, W]);
      const rng = seedrandom(`affine-${kind}`);
      const gamma = tf.tensor1d(Float32Array.from({ length: W }, () => 2.5 * rng() - 0.8));
      const beta = tf.tensor1d(Float32Array.from({ length: W }, () => 2 * rng() - 1));
      const dy = tf.randomNormal([B, W], 0, 1, 'float32', 13) as tf.Tensor2D;
      const ref = (x: tf.Tensor2D, g: tf.Tensor1D, b: tf.Tensor1D): tf.Tensor2D =>
        applyActivation(kind, applyAffine(referenceOps.batchNormTrain(x, EPS).y, { gamma: g, beta: b }), ALPHA);
      const fast = (x: tf.Tensor2D, g: tf.Tensor1D, b: tf.Tensor1D): tf.Tensor2D =>
        fastOps.bnActTrain!(x, kind, ALPHA, EPS, { gamma: g, beta: b }).y;
      expect(relErr(fast(h, gamma, beta), ref(h, gamma, beta))).toBeLessThan(1e-4);
      const loss = (f: typeof fast) => (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(f(x as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D), dy));
      const gFast = tf.grads(loss(fast))([h, gamma, beta]);
      const gRef = tf.grads(loss(ref))([h, gamma, beta]);
      gFast.forEach((g, i) => expect(relErr(g, gRef[i]), ['h', 'gamma', 'beta'][i]).toBeLessThan(1e-3));
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each(KINDS)('%s alone: forward and ∂L/∂z match the reference, zeros included', (kind) => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const z = tf.tensor2d(input(`act-${kind}`), [B, W]);
      const dy = tf.randomNormal([B, W], 0, 1, 'float32', 12) as tf.Tensor2D;
      const ref = (x: tf.Tensor2D): tf.Tensor2D => applyActivation(kind, x, ALPHA);
      const fast = (x: tf.Tensor2D): tf.Tensor2D => fastOps.activation!(x, kind, ALPHA);
      expect(relErr(fast(z), ref(z))).toBeLessThan(1e-4);
      const gFast = tf.grad((x) => tf.sum(tf.mul(fast(x as tf.Tensor2D), dy)))(z);
      const gRef = tf.grad((x) => tf.sum(tf.mul(ref(x as tf.Tensor2D), dy)))(z);
      expect(relErr(gFast, gRef)).toBeLessThan(1e-3);
      // at z = 0 exactly: relu′ = 0, leaky′ = α (tfjs' subgradients)
      const g = gFast.dataSync(),
        d = dy.dataSync();
      for (let b = 0; b < B; b += 4) {
        const i = b * W + 1;
        if (kind === 'relu') expect(Math.abs(g[i])).toBe(0); // ±0: tfjs gives dy·0 too
        if (kind === 'leaky_relu') expect(g[i]).toBeCloseTo(ALPHA * d[i], 6);
      }
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe.each(BACKENDS)('fused loss and running statistics on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it('softmax cross-entropy: loss ≤ 1e-4, ∂L/∂logits ≤ 1e-3, correct count exact', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const Bn = 40,
        C = 6;
      const logits = tf.mul(tf.randomNormal([Bn, C], 0, 1, 'float32', 5), 3) as tf.Tensor2D;
      const labels = tf.tensor1d(
        Array.from({ length: Bn }, (_, i) => (i * 7) % C),
        'int32',
      );
      const target = tf.cast(tf.oneHot(labels, C), 'float32') as tf.Tensor2D;
      const ref = (o: tf.Tensor2D): tf.Scalar =>
        tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(o)), 1))) as tf.Scalar;
      const fast = (o: tf.Tensor2D): tf.Scalar => fastOps.softmaxCrossEntropy!(o, target).loss;
      expect(relErr(fast(logits), ref(logits))).toBeLessThan(1e-4);
      const refCorrect = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32'));
      expect(fastOps.softmaxCrossEntropy!(logits, target).correct.dataSync()[0]).toBe(refCorrect.dataSync()[0]);
      const g = (f: (o: tf.Tensor2D) => tf.Scalar): tf.Tensor =>
        tf.grad((o) => tf.mul(f(o as tf.Tensor2D), 2.5))(logits);
      expect(relErr(g(fast), g(ref))).toBeLessThan(1e-3);
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('running averages: bit-identical to the composed float32 ops', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const t = (seed: number, lo: number): tf.Tensor1D =>
        tf.add(tf.randomUniform([W], 0, 2, 'float32', seed), lo) as tf.Tensor1D;
      const updates = [0, 1, 2].map((i) => ({
        mean: t(i, -1),
        variance: t(10 + i, 0.1),
        batchMean: t(20 + i, -1),
        batchVar: t(30 + i, 0.1),
      }));
      const unbiased = 256 / 255;
      const fast = fastOps.runningStats!(updates, 0.1, unbiased);
      updates.forEach((u, i) => {
        const m = tf.add(tf.mul(u.mean, 1 - 0.1), tf.mul(u.batchMean, 0.1));
        const v = tf.add(tf.mul(u.variance, 1 - 0.1), tf.mul(u.batchVar, 0.1 * unbiased));
        expect(Array.from(fast[i][0].dataSync())).toEqual(Array.from(m.dataSync()));
        expect(Array.from(fast[i][1].dataSync())).toEqual(Array.from(v.dataSync()));
      });
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});
