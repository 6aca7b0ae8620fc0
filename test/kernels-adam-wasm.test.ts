// adam.wat against FusedAdam's JS loops: the same bits, on tfjs-wasm's heap (one thread: weights, moments over
// several steps, sizes that are not multiples of 4, a checkpoint round trip) and in a shared update arena (the
// sharded update: every replica's gradients summed in rank order, then Adam on one range); the committed module
// is what scripts/build-adam.mjs compiles.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import seedrandom from 'seedrandom';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../workers/engine/backend.js';
import { setAdamWasm, sharedSumAdam } from '../workers/engine/kernels/adam-wasm.js';
import { FusedAdam } from '../workers/engine/kernels/index.js';
import { sharedMemory } from '../workers/engine/wasm/heap.js';

const SHAPES = [[7, 5], [5], [3, 4], [1], [2, 9]];
const CONFIG = { learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-6 };

function values(n: number, rng: () => number): Float32Array {
  // Mixed magnitudes (1e-3 … 10), both signs, some exact zeros: the ε term, the second moment, zero gradients.
  return Float32Array.from({ length: n }, () => (rng() < 0.05 ? 0 : (rng() - 0.5) * 10 ** (rng() * 4 - 3)));
}

/** Weights and moments after `steps` FusedAdam steps from the same start, with the wasm build on or off. */
function train(
  wasm: boolean,
  steps: number,
  tag: string,
): { weights: Float32Array[]; m: Float32Array[]; v: Float32Array[] } {
  setAdamWasm(wasm);
  try {
    const rng = seedrandom('weights');
    const vars = SHAPES.map((s, i) =>
      tf.tidy(() =>
        tf.variable(
          tf.tensor(
            values(
              s.reduce((a, b) => a * b, 1),
              rng,
            ),
            s,
          ),
          true,
          `${tag}/v${i}`,
        ),
      ),
    );
    const adam = new FusedAdam(vars, CONFIG);
    for (let step = 0; step < steps; step++) {
      const g = seedrandom(`g${step}`);
      const grads = Object.fromEntries(vars.map((v) => [v.name, tf.tensor(values(v.size, g), v.shape)]));
      adam.applyGradients(grads);
      for (const t of Object.values(grads)) t.dispose();
      if (step === 2) {
        // a checkpoint round trip in the middle: the moments leave and re-enter wherever they live
        const state = adam.getState();
        adam.setState(state);
      }
    }
    const state = adam.getState();
    const out = {
      weights: vars.map((v) => v.dataSync() as Float32Array),
      m: vars.map((v) => state.m[v.name]),
      v: vars.map((v) => state.v[v.name]),
    };
    adam.dispose();
    for (const v of vars) v.dispose();
    return out;
  } finally {
    setAdamWasm(true);
  }
}

describe('Adam in wasm (adam.wat)', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('on the wasm heap: the JS loop’s bits over 6 steps, weights and both moments', () => {
    const before = tf.memory().numTensors;
    const js = train(false, 6, 'adamjs');
    const wasm = train(true, 6, 'adamwasm');
    expect(tf.memory().numTensors).toBe(before);
    for (let i = 0; i < SHAPES.length; i++) {
      expect(Array.from(wasm.weights[i])).toEqual(Array.from(js.weights[i]));
      expect(Array.from(wasm.m[i])).toEqual(Array.from(js.m[i]));
      expect(Array.from(wasm.v[i])).toEqual(Array.from(js.v[i]));
    }
    // the update moved the weights (a test of something, not of two no-ops)
    const start = values(35, seedrandom('weights'));
    expect(Array.from(wasm.weights[0])).not.toEqual(Array.from(start));
  });

  it('in a shared arena: the rank-order sum of every replica’s gradients and Adam on one range, the JS bits', () => {
    const P = 1003,
      size = 3;
    const words = size * P + 4 * P;
    const memory = sharedMemory(4 * words + 64);
    expect(memory).not.toBeNull();
    const sumAdam = sharedSumAdam(memory!);
    expect(sumAdam).not.toBeNull();
    const at = {
      grads: 0,
      sum: 4 * size * P,
      params: 4 * (size + 1) * P,
      m: 4 * (size + 2) * P,
      v: 4 * (size + 3) * P,
    };
    const f32 = (byte: number, n: number) => new Float32Array(memory!.buffer, byte, n);
    const rng = seedrandom('arena');
    f32(at.grads, size * P).set(values(size * P, rng));
    f32(at.params, P).set(values(P, rng));
    f32(at.m, P).set(
      values(P, rng)
        .map(Math.abs)
        .map((x) => x / 10),
    );
    f32(at.v, P).set(values(P, rng).map((x) => x * x));
    // The JS path on copies: the exchange's sum (float64 in rank order, rounded once), then stepRange.
    const g = f32(at.grads, size * P);
    const sum = new Float32Array(P);
    for (let j = 0; j < P; j++) {
      let s = g[j];
      for (let r = 1; r < size; r++) s += g[r * P + j];
      sum[j] = s;
    }
    const jsParams = f32(at.params, P).slice(),
      jsM = f32(at.m, P).slice(),
      jsV = f32(at.v, P).slice();
    const dummy = tf.tidy(() => tf.variable(tf.zeros([P]), false, 'arenaDummy'));
    const js = new FusedAdam([dummy], CONFIG);
    js.attachMoments(jsM, jsV, false);
    js.stepRange(sum, jsParams, 5, 998);
    // The same range in the arena, by a second optimiser whose moments are the arena's.
    const arenaAdam = new FusedAdam([dummy], CONFIG);
    arenaAdam.attachMoments(f32(at.m, P), f32(at.v, P), false);
    const step = arenaAdam.arenaStep({
      memory: memory!,
      size,
      P,
      grads: at.grads,
      sum: at.sum,
      params: at.params,
      moment1: at.m,
      moment2: at.v,
    });
    expect(step).not.toBeNull();
    const untouched = f32(at.params, P).slice(0, 5);
    step!(5, 998);
    expect(Array.from(f32(at.sum, P).subarray(5, 998))).toEqual(Array.from(sum.subarray(5, 998)));
    expect(Array.from(f32(at.params, P))).toEqual(Array.from(jsParams));
    expect(Array.from(f32(at.m, P))).toEqual(Array.from(jsM));
    expect(Array.from(f32(at.v, P))).toEqual(Array.from(jsV));
    expect(Array.from(f32(at.params, P).subarray(0, 5))).toEqual(Array.from(untouched));
    expect(arenaAdam.step).toBe(1);
    dummy.dispose();
  });

  it('declines an arena whose moments it does not hold', () => {
    const memory = sharedMemory(4096)!;
    const dummy = tf.tidy(() => tf.variable(tf.zeros([8]), false, 'arenaDummy2'));
    const adam = new FusedAdam([dummy], CONFIG);
    const arena = { memory, size: 2, P: 8, grads: 0, sum: 64, params: 96, moment1: 128, moment2: 160 };
    expect(adam.arenaStep(arena)).toBeNull();
    dummy.dispose();
  });

  it('the committed module is what scripts/build-adam.mjs compiles from adam.wat', async () => {
    // @ts-expect-error -- a plain .mjs build script without types
    const { generated } = (await import('../scripts/build-adam.mjs')) as { generated(): Promise<string> };
    const file = new URL('../workers/engine/kernels/adam.generated.ts', import.meta.url);
    expect(readFileSync(file, 'utf8')).toBe(await generated());
  });
});
