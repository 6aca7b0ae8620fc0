// Data-parallel training with the sharded optimiser (docs/threads.md "One update"): each replica reduces and
// Adam-updates its own range of the flat parameter vector in shared memory. The checkpoint still holds the whole
// Adam state, runs are bit-identical run to run and across a resume, thread counts agree within float32
// reduction error, and adaptive Bernstein bounds (their per-batch min/max reduced over the replicas) train on
// several threads. Real worker threads (compiled from source through tsx); small nets, few steps.
import { beforeAll, describe, expect, it } from 'vitest';
import type { NetworkSpecInput } from '../shared/spec.js';
import { initBackend } from '../workers/engine/backend.js';
import { setAdamWasm } from '../workers/engine/kernels/adam-wasm.js';
import { loadState } from '../workers/engine/state.js';
import { maxRelDiff, threadsData as data, trainOnThreads as train } from './support/threads-run.js';

function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

/**
 * Largest difference of the Adam moments, as gradient sizes (m and √v), relative to the largest over every
 * parameter. (Per tensor would not do: with batch norm after it, a layer's Bernstein offset `a` has a zero
 * gradient up to rounding, so its moments are float32 noise in any order.)
 */
function momentDiff(a: Uint8Array, b: Uint8Array): { diff: number; name: string } {
  const ta = loadState(a).tensors,
    tb = loadState(b).tensors;
  const size = (name: string, v: number): number => (name.startsWith('adam/v/') ? Math.sqrt(v) : Math.abs(v));
  const scale = { m: 0, v: 0 };
  for (const t of ta) {
    const kind = t.name.startsWith('adam/m/') ? 'm' : t.name.startsWith('adam/v/') ? 'v' : null;
    if (kind) for (const x of t.data) scale[kind] = Math.max(scale[kind], size(t.name, x));
  }
  expect(scale.m).toBeGreaterThan(0);
  let diff = 0,
    name = '';
  ta.forEach((t, i) => {
    if (!t.name.startsWith('adam/')) return;
    const s = t.name.startsWith('adam/v/') ? scale.v : scale.m;
    for (let j = 0; j < t.data.length; j++) {
      const d = Math.abs(size(t.name, t.data[j]) - size(t.name, tb[i].data[j])) / s;
      if (d > diff) [diff, name] = [d, t.name];
    }
  });
  return { diff, name };
}

/** Largest relative weight difference where the first run's gradient is real (|m| ≥ 10⁻³ of the largest |m|). */
function stepDiff(a: Uint8Array, b: Uint8Array): { diff: number; name: string; compared: number } {
  const ta = loadState(a).tensors,
    tb = loadState(b).tensors;
  const byName = new Map(ta.map((t) => [t.name, t]));
  let top = 0;
  for (const t of ta) if (t.name.startsWith('adam/m/')) for (const x of t.data) top = Math.max(top, Math.abs(x));
  let diff = 0,
    name = '',
    compared = 0;
  ta.forEach((t, i) => {
    const m = byName.get(`adam/m/${t.name}`);
    if (!m) return;
    for (let j = 0; j < t.data.length; j++) {
      if (Math.abs(m.data[j]) < 1e-3 * top) continue;
      compared++;
      const d = Math.abs(t.data[j] - tb[i].data[j]) / Math.max(1, Math.abs(t.data[j]));
      if (d > diff) [diff, name] = [d, t.name];
    }
  });
  return { diff, name, compared };
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('the sharded optimiser on several threads', () => {
  it('is bit-identical run to run on 3 threads, and its checkpoint holds every replica’s Adam moments', async () => {
    const a = await train(3);
    const b = await train(3);
    expect(a.info).toEqual({ threads: 3 });
    expect(a.result.threadWaits?.sharded).toBe(true);
    expect(same(b.result.finalState, a.result.finalState)).toBe(true);
    // Every moment tensor (the peers' ranges too: the last layers and the output layer are rank 2's) is live:
    // a checkpoint with only rank 0's range would hold the zeros of a fresh optimiser there.
    const st = loadState(a.result.finalState);
    expect(st.optimizer.step).toBe(2 * Math.ceil((await data(400)).nTrain / 32));
    for (const t of st.tensors.filter((x) => x.name.startsWith('adam/v/')))
      expect(Math.max(...Array.from(t.data)), t.name).toBeGreaterThan(0);
  }, 180_000);

  it('the update in wasm (one thread: on the heap; 3 threads: in the group’s arena) gives the JS update’s bits', async () => {
    const wasm1 = await train(1),
      wasm3 = await train(3);
    process.env.DEEPBERN_ADAM_WASM = '0'; // the replica threads read it as they load
    setAdamWasm(false); // this thread's module is loaded already
    try {
      const js1 = await train(1),
        js3 = await train(3);
      expect(wasm3.result.threadWaits?.inArena).toBe(true);
      expect(js3.result.threadWaits?.inArena).toBe(false);
      expect(same(js1.result.finalState, wasm1.result.finalState)).toBe(true);
      expect(same(js3.result.finalState, wasm3.result.finalState)).toBe(true);
      expect(same(js3.result.finalState, wasm1.result.finalState)).toBe(false); // 3 threads sum in another order
    } finally {
      delete process.env.DEEPBERN_ADAM_WASM;
      setAdamWasm(true);
    }
  }, 180_000);

  it('one Adam step on 1, 2 and 3 threads: the same weights and moments within float32 reduction error', async () => {
    const one = { rows: 40, batchSize: 32, epochs: 1, lr: 1e-3 } as Partial<NetworkSpecInput>;
    const t1 = await train(1, one);
    for (const n of [2, 3]) {
      const tn = await train(n, one);
      expect(tn.info.threads).toBe(n);
      const m = momentDiff(t1.result.finalState, tn.result.finalState);
      expect(m.diff, `${m.name} on ${n} threads`).toBeLessThan(1e-5);
      // Adam's first step is lr·m̂/√v̂ ≈ lr·sign(g): where the gradient is real it agrees to float32 rounding;
      // where it is zero up to rounding (a bias before batch norm) its sign, hence the step, is noise in any order.
      const p = stepDiff(t1.result.finalState, tn.result.finalState);
      expect(p.diff, `${p.name} on ${n} threads`).toBeLessThan(1e-6);
      expect(p.compared).toBeGreaterThan(300);
      const buffers = maxRelDiff(t1.result.finalState, tn.result.finalState, /bn_(mean|var)$/);
      expect(buffers.diff, `${buffers.name} on ${n} threads`).toBeLessThan(1e-6);
    }
  }, 180_000);

  it('over epochs of Adam, 1, 2 and 3 threads train alike (loss within 1e-4)', async () => {
    const t1 = await train(1, { epochs: 3 });
    for (const n of [2, 3]) {
      const tn = await train(n, { epochs: 3 });
      t1.epochs.forEach((e, i) => {
        const [a, b] = [e.metrics.train_loss as number, tn.epochs[i].metrics.train_loss as number];
        expect(Math.abs(a - b), `epoch ${i + 1} on ${n} threads`).toBeLessThan(1e-4 * Math.max(1, a));
      });
    }
  }, 180_000);

  it('a 3-thread checkpoint resumes to the same bits as the uninterrupted run, on 3 threads and from a 2-thread one', async () => {
    const straight = await train(3, { epochs: 3 });
    const resumed = await train(3, { epochs: 3 }, straight.checkpoints[0]);
    expect(same(resumed.result.finalState, straight.result.finalState)).toBe(true);
    expect(resumed.epochs.map((e) => e.metrics.train_loss)).toEqual(
      straight.epochs.slice(1).map((e) => e.metrics.train_loss),
    );
    // The full Adam state travels through the checkpoint: a 2-thread run's epoch-1 checkpoint resumed on 3 threads
    // is the 3-thread continuation of exactly that state (the moments scattered over three ranges), which
    // resuming it on 3 threads twice reproduces bit for bit.
    const two = await train(2, { epochs: 1 });
    const r1 = await train(3, { epochs: 2 }, two.checkpoints[0]);
    const r2 = await train(3, { epochs: 2 }, two.checkpoints[0]);
    expect(same(r1.result.finalState, r2.result.finalState)).toBe(true);
    expect(loadState(r1.result.finalState).optimizer.step).toBe(2 * Math.ceil((await data(400)).nTrain / 32));
  }, 240_000);
});

describe('adaptive Bernstein bounds on several threads', () => {
  const adaptive = { boundsMode: 'adaptive', epochs: 1 } as Partial<NetworkSpecInput>;

  it('train on 2 threads, bit-identical run to run', async () => {
    const a = await train(2, adaptive);
    const b = await train(2, adaptive);
    expect(a.info).toEqual({ threads: 2 });
    expect(same(a.result.finalState, b.result.finalState)).toBe(true);
  }, 180_000);

  it('one step on 1, 2 and 3 threads: the whole batch’s min/max move the bounds alike', async () => {
    // One batch, plain SGD: the bounds after the step are μ·l + (1 − μ)·min z (and max), z normalised with the
    // whole batch's statistics; a replica that used its own slice's min/max would move them differently.
    const one = { ...adaptive, rows: 40, batchSize: 32, optimizer: 'sgd', lr: 0.1 } as Partial<NetworkSpecInput>;
    const t1 = await train(1, one);
    const lo1 = loadState(t1.result.finalState).tensors.find((t) => t.name.endsWith('/lo'));
    expect(lo1?.data.some((v) => v !== -5)).toBe(true); // the bounds did move
    for (const n of [2, 3]) {
      const tn = await train(n, one);
      expect(tn.info.threads).toBe(n);
      const d = maxRelDiff(t1.result.finalState, tn.result.finalState);
      expect(d.diff, `${d.name} on ${n} threads`).toBeLessThan(1e-6);
    }
  }, 180_000);

  it('an empty slice (a batch smaller than the thread count) leaves the whole batch’s min/max alone', async () => {
    // 66 training rows in batches of 32: the last batch has 2 rows, so on 3 threads one replica has none; its
    // stand-in zero row must not count towards the bounds (nor the gradients).
    const over = { ...adaptive, rows: 83, optimizer: 'sgd', lr: 0.05 } as Partial<NetworkSpecInput>;
    expect((await data(83)).nTrain % 32).toBe(2);
    const t1 = await train(1, over);
    const t3 = await train(3, over);
    expect(t3.info.threads).toBe(3);
    const d = maxRelDiff(t1.result.finalState, t3.result.finalState);
    expect(d.diff, d.name).toBeLessThan(1e-5);
  }, 180_000);
});
