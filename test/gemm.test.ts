// Our wasm SIMD GEMM (workers/engine/gemm/) against tfjs's matMul: every transpose combination on random shapes
// (edges of the 4×8 blocking included), bit-exact fixed-order float32 sums on block edges (so: deterministic), the
// dense layer's three products, and training with it gives the same losses as with XNNPACK. Also: the committed .wat and generated .ts are what scripts/build-gemm.mjs produces.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import seedrandom from 'seedrandom';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../workers/engine/backend.js';
import {
  gemmUsable,
  gemmVariant,
  gemmWasm,
  relaxedSimdAvailable,
  setGemmVariant,
} from '../workers/engine/gemm/gemm.js';
import { walkGemmCases } from './support/gemm-cases.js';
import {
  denseFast,
  denseGemm,
  denseInputGrad,
  denseWeightGrad,
  registerDenseKernel,
  setDenseGemm,
} from '../workers/engine/kernels/dense.js';
import { fastOps } from '../workers/engine/kernels/index.js';
import { trainRun } from '../workers/engine/train.js';
import { parseSpec } from '../shared/spec.js';
import { loadDataset } from '../workers/data/registry.js';

const initial = denseGemm();
afterAll(() => {
  setDenseGemm(initial);
  setGemmVariant('auto');
});

function ours(a: tf.Tensor2D, ta: boolean, b: tf.Tensor2D, tb: boolean, bias?: tf.Tensor1D): tf.Tensor2D {
  return tf.engine().makeTensorFromTensorInfo(gemmWasm(tf.backend(), a, ta, b, tb, bias)) as tf.Tensor2D;
}

/** max |ours − ref| / (Σ_k |a||b| scale): float32 rounding of a K-term sum is ≲ K·2⁻²⁴ of Σ|a_k b_k|. */
function relErr(got: tf.Tensor, ref: tf.Tensor, scale: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.div(tf.abs(tf.sub(got, ref)), tf.add(scale, 1e-30))).dataSync()[0]);
}

describe('wasm SIMD GEMM', () => {
  it('matches tfjs matMul (+ bias) for every transpose combination on random shapes', async () => {
    await initBackend('wasm');
    const rng = seedrandom('gemm');
    const dims = (): number => [1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 33, 100][Math.floor(rng() * 14)];
    let cases = 0;
    for (let t = 0; t < 60; t++) {
      const M = dims(),
        K = dims(),
        N = dims(),
        ta = rng() < 0.5,
        tb = rng() < 0.5,
        withBias = rng() < 0.5;
      tf.tidy(() => {
        const a = tf.randomNormal(ta ? [K, M] : [M, K], 0, 1, 'float32', t) as tf.Tensor2D;
        const b = tf.randomNormal(tb ? [N, K] : [K, N], 0, 1, 'float32', t + 1000) as tf.Tensor2D;
        const bias = withBias ? (tf.randomNormal([N], 0, 1, 'float32', t + 2000) as tf.Tensor1D) : undefined;
        const ref = bias ? tf.add(tf.matMul(a, b, ta, tb), bias) : tf.matMul(a, b, ta, tb);
        const got = ours(a, ta, b, tb, bias);
        expect(got.shape).toEqual([M, N]);
        const scale = tf.add(tf.matMul(tf.abs(a), tf.abs(b), ta, tb), bias ? tf.abs(bias) : 0);
        expect(relErr(got, ref, scale), `M=${M} K=${K} N=${N} ta=${ta} tb=${tb} bias=${withBias}`).toBeLessThan(
          K * 2 ** -23,
        );
        cases++;
      });
    }
    expect(cases).toBe(60);
  });

  it('the bench shapes (batch 256, widths 28/100/784/10) and K = 0', async () => {
    await initBackend('wasm');
    for (const [M, K, N] of [
      [256, 28, 100],
      [256, 100, 100],
      [256, 784, 100],
      [256, 100, 10],
      [100, 256, 784],
    ]) {
      tf.tidy(() => {
        const a = tf.randomNormal([M, K], 0, 1, 'float32', 1) as tf.Tensor2D,
          b = tf.randomNormal([K, N], 0, 1, 'float32', 2) as tf.Tensor2D;
        const scale = tf.matMul(tf.abs(a), tf.abs(b));
        expect(relErr(ours(a, false, b, false), tf.matMul(a, b), scale)).toBeLessThan(K * 2 ** -23);
      });
    }
    tf.tidy(() => {
      const got = ours(tf.zeros([3, 0]), false, tf.zeros([0, 5]), false, tf.tensor1d([1, 2, 3, 4, 5]));
      expect(Array.from(got.dataSync())).toEqual([1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2, 3, 4, 5]);
    });
  });

  it('every output is the fixed-order float32 sum (bias, then k = 0 … K−1), bit for bit, on block edges', async () => {
    // Edges of the 4-row panels and 8/4-wide column panels, K = 1, N = 1, every transpose combination, with and
    // without a bias: the result must equal a float32 emulation of one sequential sum per output (so it is the
    // same bits on every run, thread and machine) and lie within float32 rounding of the float64 product. The
    // SIMD128 build: the relaxed one fuses each multiply-add (test/gemm-relaxed.test.ts).
    await initBackend('wasm');
    setGemmVariant('simd128');
    const rng = seedrandom('gemm-edges');
    const sizes = [1, 3, 4, 5, 8, 9, 12, 13];
    const shapes: [number, number, number][] = [
      ...sizes.flatMap((m) => sizes.map((n): [number, number, number] => [m, n, 1 + ((m * 7 + n) % 13)])),
      [6, 13, 784],
      [257, 1, 3],
      [1, 100, 256],
      [5, 2, 100],
    ];
    const biasFor = (M: number, N: number, K: number, ta: boolean, tb: boolean): boolean =>
      (M + N + K + Number(ta) + Number(tb)) % 2 === 0;
    const cases = walkGemmCases(rng, shapes, biasFor, ({ M, N, K, withBias, label, got, biasv, aAt, bAt }) => {
      expect(got.length, label).toBe(M * N);
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let f32 = withBias ? biasv[j] : 0,
            f64 = f32,
            scale = Math.abs(f32);
          for (let k = 0; k < K; k++) {
            const p = aAt(i, k) * bAt(k, j);
            f32 = Math.fround(f32 + Math.fround(p));
            f64 += p;
            scale += Math.abs(p);
          }
          const g = got[i * N + j];
          if (g !== f32) expect(g, `${label} at (${i}, ${j})`).toBe(f32);
          if (!(Math.abs(g - f64) <= (K + 1) * 2 ** -24 * scale))
            expect(Math.abs(g - f64), `${label} at (${i}, ${j}) vs float64`).toBeLessThanOrEqual(
              (K + 1) * 2 ** -24 * scale,
            );
        }
    });
    expect(cases).toBe(4 * (sizes.length ** 2 + 4));
  });

  it('the same inputs give the same bits call after call (scratch reused and regrown in between)', async () => {
    await initBackend('wasm');
    tf.tidy(() => {
      const a = tf.randomNormal([100, 256], 0, 1, 'float32', 11) as tf.Tensor2D;
      const b = tf.randomNormal([100, 37], 0, 1, 'float32', 12) as tf.Tensor2D;
      const bias = tf.randomNormal([37], 0, 1, 'float32', 13) as tf.Tensor1D;
      const first = ours(a, true, b, false, bias).dataSync();
      // a larger call in between grows the scratch; a smaller one leaves stale panels behind
      ours(tf.randomNormal([64, 784]) as tf.Tensor2D, false, tf.randomNormal([784, 100]) as tf.Tensor2D, false);
      ours(tf.randomNormal([3, 5]) as tf.Tensor2D, false, tf.randomNormal([2, 5]) as tf.Tensor2D, true);
      const again = ours(a, true, b, false, bias).dataSync();
      expect(Buffer.from(again.buffer, again.byteOffset, again.byteLength)).toEqual(
        Buffer.from(first.buffer, first.byteOffset, first.byteLength),
      );
    });
  });

  it('rejects mismatched shapes and the cpu backend with a clear error', async () => {
    await initBackend('wasm');
    tf.tidy(() => {
      expect(() => ours(tf.zeros([2, 3]), false, tf.zeros([4, 5]), false)).toThrow(/inner dimensions differ/);
    });
    await initBackend('cpu');
    tf.tidy(() => {
      expect(() => gemmWasm(tf.backend(), tf.zeros([2, 3]), false, tf.zeros([3, 5]), false)).toThrow(
        /wasm backend only/,
      );
    });
    await initBackend('wasm');
  });

  it('a heap it cannot import (a shared memory, as tfjs-wasm threaded has) is reported unusable, not a crash', async () => {
    await initBackend('wasm');
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const threaded = { wasm: { asm: { memory }, _malloc: () => 0, _free: () => {} }, getMemoryOffset: () => 0 };
    expect(gemmUsable(threaded as unknown as tf.KernelBackend)).toBe(false);
    expect(gemmUsable(tf.backend())).toBe(true);
  });

  it('picks the relaxed-SIMD build only where the engine has it; asking for it elsewhere is a clear error', async () => {
    // (test/gemm-relaxed.test.ts runs that build with the engine flag set.)
    await initBackend('wasm');
    setGemmVariant('auto');
    const has = relaxedSimdAvailable();
    expect(gemmVariant()).toBe(has ? 'relaxed' : 'simd128');
    setGemmVariant('simd128');
    expect(gemmVariant()).toBe('simd128');
    setGemmVariant('relaxed');
    if (has) expect(gemmVariant()).toBe('relaxed');
    else expect(() => gemmVariant()).toThrow(/no relaxed SIMD/);
    setGemmVariant('simd128');
  });

  it("the dense layer's three products agree between XNNPACK and ours", async () => {
    await initBackend('wasm');
    registerDenseKernel();
    for (const [I, O] of [
      [28, 100],
      [100, 100],
      [784, 100],
      [100, 10],
      [100, 2],
    ]) {
      tf.tidy(() => {
        const x = tf.randomNormal([256, I], 0, 1, 'float32', 3) as tf.Tensor2D,
          w = tf.randomNormal([I, O], 0, 1, 'float32', 4) as tf.Tensor2D;
        const b = tf.randomNormal([O], 0, 1, 'float32', 5) as tf.Tensor1D,
          dy = tf.randomNormal([256, O], 0, 1, 'float32', 6) as tf.Tensor2D;
        const run = (): tf.Tensor[] => [denseFast(x, w, b), denseInputGrad(dy, w), denseWeightGrad(x, dy)];
        setDenseGemm('xnnpack');
        const ref = run();
        setDenseGemm('ours');
        const got = run();
        const scales = [
          tf.add(tf.matMul(tf.abs(x), tf.abs(w)), tf.abs(b)),
          tf.matMul(tf.abs(dy), tf.abs(w), false, true),
          tf.matMul(tf.abs(x), tf.abs(dy), true, false),
        ];
        const K = [I, O, 256];
        got.forEach((g, i) =>
          expect(relErr(g, ref[i], scales[i]), `product ${i} of ${I}→${O}`).toBeLessThan(K[i] * 2 ** -23),
        );
      });
    }
  });

  it('training with our GEMM gives the epoch losses of training with XNNPACK (within 1e-5)', async () => {
    await initBackend('wasm');
    for (const activation of ['relu', 'bernstein']) {
      const spec = parseSpec({
        dataset: 'synthetic-higgs',
        rows: 512,
        depth: 4,
        width: 100,
        epochs: 4,
        batchSize: 128,
        activation,
        lr: 0.003,
        seed: 7,
      });
      const ds = await loadDataset({ id: spec.dataset, rows: spec.rows, testFraction: 0.25, seed: 0 });
      const losses: Record<string, number[]> = {};
      for (const g of ['xnnpack', 'ours'] as const) {
        setDenseGemm(g);
        const out: number[] = [];
        await trainRun(spec, ds, { ops: fastOps, onEpoch: (r) => void out.push(r.metrics.train_loss as number) });
        losses[g] = out;
      }
      expect(losses.ours.length).toBe(4);
      expect(losses.xnnpack.length).toBe(4);
      expect(losses.ours[3]).toBeLessThan(losses.ours[0]);
      losses.ours.forEach((l, i) =>
        expect(Math.abs(l - losses.xnnpack[i]), `${activation} epoch ${i}`).toBeLessThan(1e-5),
      );
    }
  });

  it('the committed gemm.wat, gemm-relaxed.wat and their compiled modules are what scripts/build-gemm.mjs generates', async () => {
    // @ts-expect-error -- a plain .mjs build script without types
    const { generated } = (await import('../scripts/build-gemm.mjs')) as {
      generated(): Promise<{ wat: string; watRelaxed: string; ts: string }>;
    };
    const want = await generated();
    const dir = new URL('../workers/engine/gemm/', import.meta.url);
    expect(readFileSync(new URL('gemm.wat', dir), 'utf8')).toBe(want.wat);
    expect(readFileSync(new URL('gemm-relaxed.wat', dir), 'utf8')).toBe(want.watRelaxed);
    expect(readFileSync(new URL('gemm-wasm.generated.ts', dir), 'utf8')).toBe(want.ts);
  });
});
