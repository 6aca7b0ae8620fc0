// FusedAdam (one pass over all parameters, flat moments) against tf.train.adam on cpu and wasm; its state
// round-trips through getState/setState; in-place updates leave no extra tensors behind.
import * as tf from '@tensorflow/tfjs-core';
import seedrandom from 'seedrandom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../workers/engine/backend.js';
import { FusedAdam, fusedTrainerAdam } from '../workers/engine/kernels/index.js';
import { Optimizer } from '../workers/engine/optimizer.js';

const SHAPES = [[7, 5], [5], [3, 4]];
let counter = 0;

function makeVars(seed: string): tf.Variable[] {
  const rng = seedrandom(seed);
  const id = ++counter;
  return SHAPES.map((s, i) =>
    tf.tidy(() =>
      tf.variable(
        tf.tensor(
          Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rng() * 2 - 1),
          s,
        ),
        true,
        `adamtest${id}/v${i}`,
      ),
    ),
  );
}

function gradsFor(vars: tf.Variable[], step: number): tf.Tensor[] {
  const rng = seedrandom(`g${step}`);
  // Mixed magnitudes (1e-3 … 10) exercise the ε term and the second moment.
  return vars.map((v) =>
    tf.tensor(
      Float32Array.from({ length: v.size }, () => (rng() - 0.5) * 10 ** (rng() * 4 - 3)),
      v.shape,
    ),
  );
}

function maxRel(a: tf.Tensor, b: tf.Tensor): number {
  const av = a.dataSync(),
    bv = b.dataSync();
  let m = 0;
  for (let i = 0; i < av.length; i++) m = Math.max(m, Math.abs(av[i] - bv[i]) / Math.max(1e-3, Math.abs(bv[i])));
  return m;
}

afterAll(async () => {
  await initBackend('wasm');
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`FusedAdam on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend(backend);
    });

    it('matches tf.train.adam over several steps', () => {
      const cfg = { learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-6 };
      const ours = makeVars('init'),
        theirs = makeVars('init');
      const fused = new FusedAdam(ours, cfg);
      const ref = tf.train.adam(cfg.learningRate, cfg.beta1, cfg.beta2, cfg.epsilon);
      for (let step = 1; step <= 6; step++) {
        const g = gradsFor(ours, step);
        fused.applyGradients(Object.fromEntries(ours.map((v, i) => [v.name, g[i]])));
        ref.applyGradients(theirs.map((v, i) => ({ name: v.name, tensor: g[i] })));
        tf.dispose(g);
      }
      ours.forEach((v, i) => expect(maxRel(v, theirs[i])).toBeLessThan(1e-5));
      expect(fused.step).toBe(6);
      ref.dispose();
      tf.dispose([...ours, ...theirs]);
    });

    it('state exported mid-run and imported into a fresh optimiser continues identically', () => {
      const a = makeVars('s'),
        b = makeVars('s');
      const optA = new FusedAdam(a, { learningRate: 0.05 });
      const apply = (opt: FusedAdam, vars: tf.Variable[], step: number) => {
        const g = gradsFor(vars, step);
        opt.applyGradients(Object.fromEntries(vars.map((v, i) => [v.name, g[i]])));
        tf.dispose(g);
      };
      for (let s = 1; s <= 3; s++) apply(optA, a, s);
      // b catches up with a's parameters, then takes over a's optimiser state.
      b.forEach((v, i) => v.assign(a[i]));
      const optB = new FusedAdam(b, { learningRate: 0.05 });
      const st = optA.getState();
      optB.setState({
        step: st.step,
        m: Object.fromEntries(b.map((v, i) => [v.name, st.m[a[i].name]])),
        v: Object.fromEntries(b.map((v, i) => [v.name, st.v[a[i].name]])),
      });
      for (let s = 4; s <= 6; s++) {
        apply(optA, a, s);
        apply(optB, b, s);
      }
      a.forEach((v, i) => expect(Array.from(b[i].dataSync())).toEqual(Array.from(v.dataSync())));
      expect(() => optB.setState({ step: 1, m: {}, v: {} })).toThrow(/missing/);
      tf.dispose([...a, ...b]);
    });

    it('fusedTrainerAdam stands in for the trainer Optimizer (same updates, same slot names)', () => {
      const a = makeVars('t'),
        b = makeVars('t');
      const named = (vs: tf.Variable[]) => vs.map((variable, i) => ({ name: `L${i}/w`, variable }));
      const ours = fusedTrainerAdam(named(a), 0.01),
        theirs = new Optimizer('adam', 0.01, named(b));
      for (let s = 1; s <= 4; s++) {
        const g = gradsFor(a, s);
        ours.apply(g);
        theirs.apply(g);
        tf.dispose(g);
      }
      a.forEach((v, i) => expect(maxRel(v, b[i])).toBeLessThan(1e-5));
      expect(ours.step).toBe(theirs.step);
      const so = ours.exportSlots(),
        st = theirs.exportSlots();
      expect(so.map((x) => x.name)).toEqual(st.map((x) => x.name));
      so.forEach((x, i) => expect(maxRel(tf.tensor(x.data), tf.tensor(st[i].data))).toBeLessThan(1e-4));
      ours.importSlots(4, new Map(st.map((x) => [x.name, x])));
      theirs.dispose();
      tf.dispose([...a, ...b]);
    });

    it('updates without leaking tensors (in place on cpu only)', () => {
      const vars = makeVars('leak');
      const opt = new FusedAdam(vars, { learningRate: 0.01 });
      const g = gradsFor(vars, 1);
      const grads = Object.fromEntries(vars.map((v, i) => [v.name, g[i]]));
      opt.applyGradients(grads);
      const before = tf.memory().numTensors;
      const ids = vars.map((v) => v.dataId);
      for (let i = 0; i < 5; i++) opt.applyGradients(grads);
      expect(tf.memory().numTensors).toBe(before);
      // cpu: each variable owns its storage after the first step, so later steps write into it. wasm: a fresh
      // tensor each step, because its matMul caches packed weights by tensor id.
      vars.forEach((v, i) => (backend === 'cpu' ? expect(v.dataId).toBe(ids[i]) : expect(v.dataId).not.toBe(ids[i])));
      tf.dispose([...g, ...vars]);
    });

    it('inPlaceOnWasm (the trainer: only our kernels read its weights) writes into the storage, with the same bits', () => {
      const a = makeVars('inplace'),
        b = makeVars('inplace');
      const inPlace = new FusedAdam(a, { learningRate: 0.01, inPlaceOnWasm: true });
      const fresh = new FusedAdam(b, { learningRate: 0.01 });
      const step = (opt: FusedAdam, vars: tf.Variable[], k: number) => {
        const g = gradsFor(vars, k);
        opt.applyGradients(Object.fromEntries(vars.map((v, i) => [v.name, g[i]])));
        tf.dispose(g);
      };
      step(inPlace, a, 0);
      step(fresh, b, 0);
      const ids = a.map((v) => v.dataId);
      for (let k = 1; k < 4; k++) {
        step(inPlace, a, k);
        step(fresh, b, k);
      }
      // wasm with our GEMM and cpu: in place after the first step (each variable then owns its storage)
      a.forEach((v, i) => expect(v.dataId).toBe(ids[i]));
      a.forEach((v, i) => expect(Array.from(v.dataSync())).toEqual(Array.from(b[i].dataSync())));
      tf.dispose([...a, ...b]);
    });

    it('a matMul after an update sees the new weights (no stale packed-weight cache)', () => {
      const w = tf.variable(
        tf.tensor2d([
          [1, 2],
          [3, 4],
        ]),
        true,
        `stale-${backend}`,
      );
      const x = tf.tensor2d([[1, 1]]);
      const before = tf.matMul(x, w).dataSync().slice(); // primes any operator cache for w
      const opt = new FusedAdam([w], { learningRate: 0.5 });
      opt.applyGradients({ [w.name]: tf.onesLike(w) });
      const after = tf.matMul(x, w).dataSync();
      expect(Array.from(after)).toEqual(Array.from(before).map((v) => v - 1)); // each weight moved by −lr·sign = −0.5
      tf.dispose([w, x]);
    });
  });
}
