// `npm run bench -- gemm`: GFLOP/s of a dense layer's three products (forward X·W + b, input gradient dY·Wᵀ,
// weight gradient Xᵀ·dY) on tfjs-wasm, XNNPACK (as dense.ts calls it: fresh weights each step, explicit
// transposes) vs our wasm SIMD GEMM (workers/engine/gemm/, its SIMD128 build; and its relaxed-SIMD FMA build
// where the engine has it, e.g. `node --experimental-wasm-relaxed-simd dist/test/bench/index.js gemm` on Node 20),
// at the bench nets' shapes (batch 256); then the minimal training step of the peer nets with each. Samples
// alternate between the implementations so load drifts hit all; figures are medians over --repeats samples, and
// the fastest single call (the kernel's own speed on a loaded machine); the load average is printed beside them. Flags: --json, --repeats N, --no-nets.
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../workers/engine/backend.js';
import { pickOps } from '../../workers/engine/kernels/index.js';
import {
  denseFast,
  denseInputGrad,
  denseWeightGrad,
  registerDenseKernel,
  setDenseGemm,
} from '../../workers/engine/kernels/dense.js';
import { relaxedSimdAvailable, setGemmVariant } from '../../workers/engine/gemm/gemm.js';
import { buildNet, PEER_NETS } from './nets.js';

/** 'ours' is the SIMD128 build (the default in Node 20); 'oursRelaxed' the FMA build, where it can run. */
type Impl = 'xnnpack' | 'ours' | 'oursRelaxed';
const use: Record<Impl, () => void> = {
  xnnpack: () => setDenseGemm('xnnpack'),
  ours: () => {
    setDenseGemm('ours');
    setGemmVariant('simd128');
  },
  oursRelaxed: () => {
    setDenseGemm('ours');
    setGemmVariant('relaxed');
  },
};
let IMPLS: Impl[] = ['xnnpack', 'ours'];
/** Per-implementation figures; oursRelaxed only where that build ran. */
type Figures = Record<'xnnpack' | 'ours', number> & { oursRelaxed?: number };
type Samples = Record<Impl, number[]>;
const noSamples = (): Samples => ({ xnnpack: [], ours: [], oursRelaxed: [] });
function figures(s: Samples, f: (v: number[]) => number): Figures {
  const out: Figures = { xnnpack: f(s.xnnpack), ours: f(s.ours) };
  if (s.oursRelaxed.length) out.oursRelaxed = f(s.oursRelaxed);
  return out;
}
/** [inputs, outputs] of the nets' layers: HIGGS 28→100, hidden 100→100, MNIST 784→100, heads 100→10 / 100→2. */
const SHAPES: [number, number][] = [
  [28, 100],
  [100, 100],
  [784, 100],
  [100, 10],
  [100, 2],
];
const BATCH = 256;

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Milliseconds per call of f over ~`ms` of wall time (after a warm-up), by the wall clock and by this process's
 * CPU time: on a shared machine the second says what the kernel costs, the first what a user waits. `fastest`:
 * the quickest single call, which other load rarely reaches (a call is 0.05–2 ms, a time slice longer).
 */
function msPerCall(f: () => tf.Tensor, ms: number): { wall: number; cpu: number; fastest: number } {
  for (let i = 0; i < 3; i++) f().dispose();
  let n = 0,
    fastest = Infinity;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let t = t0, now = t0; now - t0 < ms; t = now) {
    f().dispose();
    now = performance.now();
    fastest = Math.min(fastest, now - t);
    n++;
  }
  const wall = (performance.now() - t0) / n;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 / n, fastest };
}

interface ProductRow {
  shape: string;
  product: 'forward' | 'inputGrad' | 'weightGrad';
  /** Median GFLOP/s by the wall clock. */
  gflops: Figures;
  /** Median GFLOP/s per CPU-second of this process (less sensitive to other load). */
  gflopsCpu: Figures;
  /** GFLOP/s of the fastest single call (what the kernel does when other load lets it run). */
  best: Figures;
  /** ours / xnnpack, wall clock and CPU time; the relaxed build's / xnnpack where it ran. */
  ratio: number;
  ratioCpu: number;
  ratioRelaxed?: number;
}

function productRows(repeats: number): ProductRow[] {
  const rows: ProductRow[] = [];
  for (const [I, O] of SHAPES) {
    const x = tf.randomNormal([BATCH, I]) as tf.Tensor2D,
      w = tf.randomNormal([I, O]) as tf.Tensor2D;
    const b = tf.randomNormal([O]) as tf.Tensor1D,
      dy = tf.randomNormal([BATCH, O]) as tf.Tensor2D;
    const flop = 2 * BATCH * I * O;
    // Training makes new weights (and a new dY) every step, so each call gets a fresh tensor: XNNPACK caches its
    // packed-weight operator per tensor id, which a real step never hits. Both sides pay the same copy.
    const products: [ProductRow['product'], () => tf.Tensor][] = [
      ['forward', () => tf.tidy(() => denseFast(x, tf.clone(w), b))],
      ['inputGrad', () => tf.tidy(() => denseInputGrad(tf.clone(dy), w))],
      ['weightGrad', () => tf.tidy(() => denseWeightGrad(x, tf.clone(dy)))],
    ];
    for (const [product, f] of products) {
      const samples: Samples = noSamples();
      const cpu: Samples = noSamples();
      const fastest: Samples = noSamples();
      for (let r = 0; r < repeats; r++) {
        for (const impl of IMPLS) {
          use[impl]();
          const t = msPerCall(f, 150);
          samples[impl].push(flop / 1e6 / t.wall);
          fastest[impl].push(flop / 1e6 / t.fastest);
          cpu[impl].push(flop / 1e6 / t.cpu);
        }
      }
      const gflops = figures(samples, median);
      const gflopsCpu = figures(cpu, median);
      const best = figures(fastest, (v) => Math.max(...v));
      rows.push({
        shape: `${BATCH}×${I}·${I}×${O}`,
        product,
        gflops,
        gflopsCpu,
        best,
        ratio: gflops.ours / gflops.xnnpack,
        ratioCpu: gflopsCpu.ours / gflopsCpu.xnnpack,
        ...(gflops.oursRelaxed !== undefined && { ratioRelaxed: gflops.oursRelaxed / gflops.xnnpack }),
      });
    }
    tf.dispose([x, w, b, dy]);
  }
  return rows;
}

interface NetRow {
  net: string;
  /** Median steps/s by the wall clock, and per CPU-second of this process. */
  stepsPerSec: Figures;
  stepsPerCpuSec: Figures;
  ratio: number;
  ratioCpu: number;
}

function netRows(repeats: number): NetRow[] {
  const rows: NetRow[] = [];
  const ops = pickOps('wasm');
  for (const spec of PEER_NETS) {
    const x = tf.randomNormal([spec.batch, spec.inputs]) as tf.Tensor2D;
    const labels = tf.randomUniform([spec.batch], 0, spec.outputs, 'int32') as tf.Tensor1D;
    const y = tf.cast(tf.oneHot(labels, spec.outputs), 'float32') as tf.Tensor2D;
    const samples: Samples = noSamples();
    const cpu: Samples = noSamples();
    const nets = Object.fromEntries(IMPLS.map((impl) => [impl, buildNet(spec, ops)])) as Record<
      Impl,
      ReturnType<typeof buildNet>
    >;
    for (const impl of IMPLS) {
      use[impl]();
      for (let i = 0; i < 5; i++) nets[impl].step(x, y); // warm-up: JIT, heap growth
    }
    for (let r = 0; r < repeats; r++) {
      for (const impl of IMPLS) {
        use[impl]();
        const steps = spec.act === 'bern' ? 8 : 20;
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        for (let i = 0; i < steps; i++) nets[impl].step(x, y);
        samples[impl].push((steps * 1000) / (performance.now() - t0));
        const c = process.cpuUsage(c0);
        cpu[impl].push((steps * 1e6) / (c.user + c.system));
      }
    }
    const stepsPerSec = figures(samples, median);
    const stepsPerCpuSec = figures(cpu, median);
    rows.push({
      net: spec.name,
      stepsPerSec,
      stepsPerCpuSec,
      ratio: stepsPerSec.ours / stepsPerSec.xnnpack,
      ratioCpu: stepsPerCpuSec.ours / stepsPerCpuSec.xnnpack,
    });
    for (const n of Object.values(nets)) n.dispose();
    tf.dispose([x, labels, y]);
  }
  return rows;
}

export async function gemmBench(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const at = argv.indexOf('--repeats');
  const repeats = at >= 0 ? Number(argv[at + 1]) : 7;
  const info = await initBackend('wasm');
  registerDenseKernel();
  IMPLS = relaxedSimdAvailable() ? ['xnnpack', 'ours', 'oursRelaxed'] : ['xnnpack', 'ours'];
  const load0 = loadavg()[0];
  const products = productRows(repeats);
  const nets = argv.includes('--no-nets') ? [] : netRows(repeats);
  const load = [load0, loadavg()[0]];
  setDenseGemm('xnnpack');
  setGemmVariant('auto');
  const builds = IMPLS.includes('oursRelaxed') ? 'simd128 and relaxed-SIMD' : 'simd128 (no relaxed SIMD here)';
  if (json) {
    process.stdout.write(
      JSON.stringify(
        { suite: 'gemm', backend: info.tfBackend, repeats, builds: IMPLS, loadavg1: load, products, nets },
        null,
        2,
      ) + '\n',
    );
    return;
  }
  const f = (v: number): string => v.toFixed(2).padStart(6);
  const relaxed = (fig: Figures, best?: Figures): string =>
    fig.oursRelaxed === undefined
      ? ''
      : `   relaxed ${f(fig.oursRelaxed)}${best?.oursRelaxed !== undefined ? ` (${f(best.oursRelaxed)})` : ''}`;
  console.log(
    `dense-layer products on ${info.tfBackend}, batch ${BATCH}, our GEMM's ${builds}: GFLOP/s, medians of ` +
      `${repeats}; wall clock (fastest call in brackets) | per CPU-second. Load average ${load.map((l) => l.toFixed(2)).join(' → ')}`,
  );
  for (const r of products) {
    console.log(
      `  ${r.shape.padEnd(16)} ${r.product.padEnd(10)} xnnpack ${f(r.gflops.xnnpack)} (${f(r.best.xnnpack)})` +
        `   ours ${f(r.gflops.ours)} (${f(r.best.ours)})${relaxed(r.gflops, r.best)}   ours/xnnpack ${r.ratio.toFixed(2)}` +
        `  | cpu: xnnpack ${f(r.gflopsCpu.xnnpack)} ours ${f(r.gflopsCpu.ours)}${relaxed(r.gflopsCpu)} ratio ${r.ratioCpu.toFixed(2)}`,
    );
  }
  if (nets.length) console.log('minimal training step, steps/s (medians): wall clock | per CPU-second');
  for (const r of nets) {
    console.log(
      `  ${r.net.padEnd(26)} xnnpack ${f(r.stepsPerSec.xnnpack)}   ours ${f(r.stepsPerSec.ours)}${relaxed(r.stepsPerSec)}   ` +
        `ratio ${r.ratio.toFixed(2)}  | cpu: xnnpack ${f(r.stepsPerCpuSec.xnnpack)} ours ${f(r.stepsPerCpuSec.ours)}` +
        `${relaxed(r.stepsPerCpuSec)} ratio ${r.ratioCpu.toFixed(2)}`,
    );
  }
}
