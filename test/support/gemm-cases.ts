// The GEMM edge-case walk both builds' tests share (test/gemm.test.ts, test/gemm-relaxed.test.ts): every shape ×
// transpose combination on random operands through our gemmWasm; each test checks the products its own way.
import * as tf from '@tensorflow/tfjs-core';
import { gemmWasm } from '../../workers/engine/gemm/gemm.js';

export interface GemmCase {
  M: number;
  N: number;
  K: number;
  withBias: boolean;
  label: string;
  /** Our product, [M, N] row-major. */
  got: Float32Array;
  biasv: Float32Array;
  /** a[i, k] and b[k, j] of the logical (untransposed) operands. */
  aAt(i: number, k: number): number;
  bAt(k: number, j: number): number;
}

const TRANSPOSES: [boolean, boolean][] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

/** Runs every shape under the four transpose combinations; returns how many cases ran. */
export function walkGemmCases(
  rng: () => number,
  shapes: [number, number, number][],
  biasFor: (M: number, N: number, K: number, ta: boolean, tb: boolean) => boolean,
  check: (c: GemmCase) => void,
): number {
  let cases = 0;
  for (const [M, N, K] of shapes) {
    for (const [ta, tb] of TRANSPOSES) {
      const withBias = biasFor(M, N, K, ta, tb);
      const av = Float32Array.from({ length: M * K }, () => rng() * 2 - 1);
      const bv = Float32Array.from({ length: K * N }, () => rng() * 2 - 1);
      const biasv = Float32Array.from({ length: N }, () => rng() * 2 - 1);
      // a stored [M, K] (or [K, M] when transposed), b [K, N] (or [N, K])
      const got = tf.tidy(
        () =>
          tf
            .engine()
            .makeTensorFromTensorInfo(
              gemmWasm(
                tf.backend(),
                tf.tensor2d(av, ta ? [K, M] : [M, K]),
                ta,
                tf.tensor2d(bv, tb ? [N, K] : [K, N]),
                tb,
                withBias ? tf.tensor1d(biasv) : undefined,
              ),
            )
            .dataSync() as Float32Array,
      );
      check({
        M,
        N,
        K,
        withBias,
        label: `M=${M} N=${N} K=${K} ta=${ta} tb=${tb} bias=${withBias}`,
        got,
        biasv,
        aAt: (i, k) => (ta ? av[k * M + i] : av[i * K + k]),
        bAt: (k, j) => (tb ? bv[j * K + k] : bv[k * N + j]),
      });
      cases++;
    }
  }
  return cases;
}
