// The two activation tables agree with each other and with themselves: for every fixed activation (so also one
// added later), the shared float64 σ′ is σ's derivative, the engine's kernel code matches its tfjs forward and
// derivative, and both match the shared σ/σ′ — so the fused kernels, the composed reference, the probes and the
// model-file evaluator compute one function.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACTIVATIONS, FIXED_ACTIVATIONS, PARAMLESS_ACTIVATIONS, fixedActivation } from '../shared/activations.js';
import { activationLabel, defaultInit, parseSpec } from '../shared/spec.js';
import { ENGINE_ACTIVATIONS } from '../workers/engine/activations.js';
import { initBackend } from '../workers/engine/backend.js';
import { ACT_CODES } from '../workers/engine/kernels/act-math.js';

const ALPHA = 0.1;
const P = { alpha: ALPHA };
// A grid that avoids the kinks at 0 by a margin, plus 0 itself where subgradients are compared.
const GRID = Array.from({ length: 81 }, (_, i) => -6 + i * 0.15 + 0.0123);

beforeAll(async () => {
  await initBackend('cpu');
});

describe.each(FIXED_ACTIVATIONS)('%s', (kind) => {
  const shared = fixedActivation(kind);
  const engine = ENGINE_ACTIVATIONS[kind];

  it('shared σ′ is the derivative of shared σ (central differences), σ′(0) is the engine kernel’s subgradient', () => {
    for (const x of GRID) {
      const h = 1e-6;
      const fd = (shared.f(x + h, P) - shared.f(x - h, P)) / (2 * h);
      expect(Math.abs(fd - shared.df(x, P))).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
    }
    expect(shared.df(0, P)).toBeCloseTo(engine.kernel.grad(0, ALPHA), 6);
  });

  it('kernel σ/σ′ = tfjs forward/derivative (float32) ≈ shared float64 σ/σ′', () => {
    const xs = [...GRID, 0];
    const [fwd, der] = tf.tidy(() => {
      const z = tf.tensor2d(xs, [xs.length, 1]);
      return [engine.forward(z, ALPHA).dataSync(), tf.tidy(() => engine.derivative(z, ALPHA)).dataSync()];
    });
    xs.forEach((x, i) => {
      const tol = (v: number) => 2e-6 * Math.max(1, Math.abs(v));
      expect(Math.abs(engine.kernel.act(x, ALPHA) - fwd[i])).toBeLessThan(tol(fwd[i]));
      expect(Math.abs(engine.kernel.grad(x, ALPHA) - der[i])).toBeLessThan(tol(der[i]));
      expect(Math.abs(engine.kernel.act(x, ALPHA) - shared.f(x, P))).toBeLessThan(tol(fwd[i]));
      expect(Math.abs(engine.kernel.grad(x, ALPHA) - shared.df(x, P))).toBeLessThan(tol(der[i]));
    });
  });

  it('is a spec activation with a label, a default init and a kernel code of its own', () => {
    const spec = parseSpec({ dataset: 'synthetic-higgs', depth: 2, width: 4, activation: kind, alpha: ALPHA });
    expect(spec.init).toBe(shared.defaultInit);
    expect(defaultInit(kind)).toBe(shared.defaultInit);
    expect(activationLabel(spec)).toBe(shared.label + shared.params.map((p) => `_${spec[p]}`).join(''));
    expect(ACT_CODES[kind]).toBe(FIXED_ACTIVATIONS.indexOf(kind));
    expect(PARAMLESS_ACTIVATIONS.includes(kind as never)).toBe(shared.params.length === 0);
  });
});

it('the vocabulary: bernstein first, then the fixed activations, no duplicates', () => {
  expect(ACTIVATIONS[0]).toBe('bernstein');
  expect(new Set(ACTIVATIONS).size).toBe(ACTIVATIONS.length);
  expect(Object.keys(ENGINE_ACTIVATIONS).sort()).toEqual([...FIXED_ACTIVATIONS].sort());
});
