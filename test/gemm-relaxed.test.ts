// The relaxed-SIMD build of our GEMM (f32x4.relaxed_madd: one FMA per multiply-add on x64), opt-in (auto/relaxed)
// because its rounding may differ between engines and CPUs. Node 20 has relaxed SIMD only behind
// --experimental-wasm-relaxed-simd: this file sets the flag at run time (vitest runs each file in its own process,
// so no other suite sees it), then checks that the default stays SIMD128 even here, that 'auto' picks relaxed, matches a float64 product within float32 rounding on every block edge and transpose,
// gives the same bits call after call, and agrees with the plain SIMD128 build within rounding.
import v8 from 'node:v8';
import * as tf from '@tensorflow/tfjs-core';
import seedrandom from 'seedrandom';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../workers/engine/backend.js';
import { gemmVariant, gemmWasm, relaxedSimdAvailable, setGemmVariant } from '../workers/engine/gemm/gemm.js';
import { walkGemmCases } from './support/gemm-cases.js';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
afterAll(() => setGemmVariant('auto'));

function ours(a: tf.Tensor2D, ta: boolean, b: tf.Tensor2D, tb: boolean, bias?: tf.Tensor1D): Float32Array {
  return tf.tidy(
    () =>
      tf
        .engine()
        .makeTensorFromTensorInfo(gemmWasm(tf.backend(), a, ta, b, tb, bias))
        .dataSync() as Float32Array,
  );
}

describe('wasm GEMM, relaxed-SIMD build', () => {
  it('is not the default even where the engine has relaxed SIMD (runs keep the same bits everywhere); auto picks it', async () => {
    await initBackend('wasm');
    if (!process.env.DEEPBERN_GEMM_SIMD) expect(gemmVariant()).toBe('simd128');
    setGemmVariant('auto'); // re-checks the engine now that the flag is set
    expect(relaxedSimdAvailable()).toBe(true);
    expect(gemmVariant()).toBe('relaxed');
    expect(() => setGemmVariant('fma' as never)).toThrow(/not one of auto, simd128, relaxed/);
  });

  it('matches the float64 product within float32 rounding on block edges, every transpose, bias or not', async () => {
    await initBackend('wasm');
    setGemmVariant('relaxed');
    const rng = seedrandom('gemm-relaxed');
    const sizes = [1, 3, 4, 5, 8, 9, 12, 13];
    const shapes: [number, number, number][] = [
      ...sizes.flatMap((m) => sizes.map((n): [number, number, number] => [m, n, 1 + ((m * 5 + n) % 11)])),
      [6, 13, 784],
      [256, 100, 100],
    ];
    const biasFor = (M: number, N: number, K: number, ta: boolean): boolean => (M + N + K + Number(ta)) % 2 === 0;
    const cases = walkGemmCases(rng, shapes, biasFor, ({ M, N, K, withBias, label, got, biasv, aAt, bAt }) => {
      expect(got.length, label).toBe(M * N);
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let f64 = withBias ? biasv[j] : 0,
            scale = Math.abs(f64);
          for (let k = 0; k < K; k++) {
            const p = aAt(i, k) * bAt(k, j);
            f64 += p;
            scale += Math.abs(p);
          }
          const err = Math.abs(got[i * N + j] - f64);
          if (!(err <= (K + 1) * 2 ** -24 * scale))
            expect(err, `${label} at (${i}, ${j})`).toBeLessThanOrEqual((K + 1) * 2 ** -24 * scale);
        }
    });
    expect(cases).toBe(4 * (sizes.length ** 2 + 2));
  });

  it('gives the same bits call after call, and the SIMD128 build within rounding', async () => {
    await initBackend('wasm');
    const a = tf.randomNormal([256, 100], 0, 1, 'float32', 21) as tf.Tensor2D;
    const b = tf.randomNormal([100, 100], 0, 1, 'float32', 22) as tf.Tensor2D;
    const bias = tf.randomNormal([100], 0, 1, 'float32', 23) as tf.Tensor1D;
    setGemmVariant('relaxed');
    const first = ours(a, false, b, false, bias);
    const again = ours(a, false, b, false, bias);
    expect(Buffer.from(again.buffer)).toEqual(Buffer.from(first.buffer));
    setGemmVariant('simd128');
    const plain = ours(a, false, b, false, bias);
    const scale = tf.tidy(() => tf.add(tf.matMul(tf.abs(a), tf.abs(b)), tf.abs(bias)).dataSync());
    let maxRel = 0;
    for (let i = 0; i < plain.length; i++) maxRel = Math.max(maxRel, Math.abs(plain[i] - first[i]) / scale[i]);
    expect(maxRel).toBeLessThan(101 * 2 ** -23);
    tf.dispose([a, b, bias]);
  });
});
