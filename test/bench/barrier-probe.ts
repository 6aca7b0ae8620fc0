// What the machine itself charges a data-parallel run for meeting at barriers (`npm run bench -- threads` prints
// it beside the scaling): N threads run the same pure arithmetic, calibrated to `segmentUs` per segment, and meet
// at a spinning barrier after every segment, as the replicas of a depth-50 batch-norm net meet ~100 times a step.
// With identical work the waits are the machine's jitter (other tenants of a VM's host, interrupts, the scheduler),
// not the code's: the share of the wall clock they take is a floor under the replicas' barrier waits.
import { Worker } from 'node:worker_threads';

export interface BarrierProbe {
  threads: number;
  kind: ProbeWork;
  segmentUs: number;
  /** The other threads' own segment time, measured alone the same way (the work is identical: these should match). */
  peerSegmentUs: number[];
  /** Wall µs per segment with the barrier, against segmentUs measured alone. */
  wallUs: number;
  /** Rank 0's waits: share of the wall clock, and quantiles (µs). */
  waitShare: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
}

// The same functions run in every thread (rank 0 here; the others as eval'd workers, from their source text): a
// fixed multiply-add chain and a spinning barrier, plain JS, so no module loading differs between the threads.
function work(n: number, buf: Float32Array | null): number {
  let x = 1.0001,
    s = 0;
  if (buf === null) {
    for (let i = 0; i < n; i++) {
      x = x * 1.0000001 + 1e-9;
      s += x;
    }
    return s;
  }
  // streaming: read-modify-write a buffer as a kernel streams its activations
  const mask = buf.length - 1;
  for (let i = 0; i < n; i++) {
    const j = i & mask;
    s += buf[j] * x;
    buf[j] = s * 1e-9;
  }
  return s;
}

function run(
  sab: SharedArrayBuffer,
  size: number,
  n: number,
  iters: number,
  buf: Float32Array | null,
): { waits: Float64Array; sink: number } {
  const ctl = new Int32Array(sab);
  const waits = new Float64Array(iters);
  let sink = 0;
  for (let it = 0; it < iters; it++) {
    sink += work(n, buf);
    const gen = Atomics.load(ctl, 16);
    const t0 = performance.now();
    if (Atomics.add(ctl, 0, 1) === size - 1) {
      Atomics.store(ctl, 0, 0);
      Atomics.add(ctl, 16, 1);
    } else while (Atomics.load(ctl, 16) === gen);
    waits[it] = performance.now() - t0;
  }
  return { waits, sink };
}

/** µs per segment of `n` iterations on this thread, median of 25 (run alone, before the barriers start). */
function soloSegmentUs(n: number, buf: Float32Array | null): number {
  const times: number[] = [];
  for (let i = 0; i < 25; i++) {
    const t = performance.now();
    work(n, buf);
    times.push((performance.now() - t) * 1000);
  }
  return times.sort((a, b) => a - b)[12];
}

const WARM_MS = 400;

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** The kinds of identical work: arithmetic in registers, or streaming a per-thread 256 KiB buffer (L2-resident). */
export type ProbeWork = 'arithmetic' | 'streaming';
const STREAM_FLOATS = 65536;

export async function barrierProbe(
  threads: number,
  kind: ProbeWork = 'arithmetic',
  segmentUs = 500,
  iters = 4000,
): Promise<BarrierProbe> {
  const buf = kind === 'streaming' ? new Float32Array(STREAM_FLOATS).fill(1) : null;
  // Warm up for 0.4 s (every thread, so each runs optimised code), then calibrate iterations per segment.
  let n = 10_000;
  for (const t0 = performance.now(); performance.now() - t0 < WARM_MS;) work(n, buf);
  const t = performance.now();
  for (let i = 0; i < 50; i++) work(n, buf);
  n = Math.max(1000, Math.round((n * segmentUs) / (((performance.now() - t) / 50) * 1000)));
  const soloUs = soloSegmentUs(n, buf);
  const sab = new SharedArrayBuffer(128);
  const workers = Array.from(
    { length: threads - 1 },
    () =>
      new Worker(
        `${work.toString()}\n${run.toString()}\nconst { workerData: d, parentPort } = require('node:worker_threads');
         const buf = d.stream ? new Float32Array(d.stream).fill(1) : null;
         for (const t0 = performance.now(); performance.now() - t0 < d.warm; ) work(d.n, buf);
         parentPort.postMessage((${soloSegmentUs.toString()})(d.n, buf));
         run(d.sab, d.size, d.n, d.iters, buf);`,
        { eval: true, workerData: { sab, size: threads, n, iters, stream: buf ? STREAM_FLOATS : 0, warm: WARM_MS } },
      ),
  );
  try {
    const peers = await Promise.all(workers.map((w) => new Promise<number>((ok) => w.once('message', ok))));
    const start = performance.now();
    const { waits } = run(sab, threads, n, iters, buf);
    const wallMs = performance.now() - start;
    const total = waits.reduce((a, b) => a + b, 0);
    const sorted = Float64Array.from(waits).sort();
    return {
      threads,
      kind,
      segmentUs: soloUs,
      peerSegmentUs: peers,
      wallUs: (wallMs / iters) * 1000,
      waitShare: total / wallMs,
      p50Us: quantile(sorted, 0.5) * 1000,
      p90Us: quantile(sorted, 0.9) * 1000,
      p99Us: quantile(sorted, 0.99) * 1000,
    };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

export function probeLine(p: BarrierProbe): string {
  return (
    `machine barrier probe (${p.kind}): ${p.threads} threads of identical work (${[p.segmentUs, ...p.peerSegmentUs].map((u) => u.toFixed(0)).join(' / ')} µs alone) ` +
    `meeting after every segment: ${p.wallUs.toFixed(0)} µs per segment, rank 0 waits ${(100 * p.waitShare).toFixed(1)} % ` +
    `of the time (p50 ${p.p50Us.toFixed(0)} µs, p90 ${p.p90Us.toFixed(0)} µs, p99 ${p.p99Us.toFixed(0)} µs per barrier)`
  );
}
