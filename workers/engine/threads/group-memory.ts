// The shared memory of one data-parallel run (docs/threads.md): a barrier, the per-step command and batch, the
// batch-norm partial sums and the gradients, as SharedArrayBuffers every replica thread maps. Every exchange is
// "each replica writes its own slot, barrier, every replica sums the slots in rank order", so every replica
// computes the same bits and the result does not depend on which thread arrives first.
import { readFileSync } from 'node:fs';
import type { UpdateArena } from '../optimizer.js';
import { sharedMemory, type WasmMemory } from '../wasm/heap.js';

/**
 * Control words (Int32). The arrival count has a cache line of its own: every arrival writes it, and a waiter
 * spinning on the generation word in the same line would fight the writer for that line at every barrier.
 */
const COUNT = 0,
  GEN = 16,
  ABORT = 17,
  CMD = 18,
  ROWS = 19,
  ERR_LEN = 20,
  CTL_WORDS = 32;
const ERR_BYTES = 4096;

export const CMD_STEP = 1;
export const CMD_STEP_DEAD = 2;
export const CMD_STOP = 3;

/**
 * How long a replica spins at a barrier before it sleeps in Atomics.wait, adapted per replica between these
 * bounds: a deep batch-norm net meets a barrier every ~0.5 ms, and waking a sleeper costs far more than the
 * imbalance it waited for (a futex wake, on a VM an inter-processor interrupt to an idle vCPU: ~50–200 µs,
 * during which the waker runs ahead and then waits itself). A wait that outlasts the budget halves it (the
 * peer is descheduled: a machine busy with other work, where spinning would take the core it needs); one
 * that ends while spinning grows it again.
 */
const SPIN_MIN_MS = 0.02;
const SPIN_MAX_MS = 2;

/**
 * Per-rank profile slots (milliseconds unless noted), accumulated over the training steps in shared memory so
 * rank 0 can report every replica's breakdown (test/bench/threads.ts). Waits are wall time at barriers; the
 * other phases are wall time with the waits taken out.
 */
export const PHASES = [
  'post', // rank 0: batch assembly and copy into shared memory
  'between', // rank 0: the trainer's loop between steps
  'commandWait',
  'setup', // slicing the shared batch into tensors
  'forward',
  'forwardWait', // batch-norm exchanges in the forward pass
  'backward',
  'backwardWait', // batch-norm exchanges in the backward pass
  'readback', // loss, correct count, gradient views
  'reduce', // gradient reduction (this replica's share)
  'reduceWait',
  'optimizer',
  'paramSync', // copying the new weights into this replica's variables
  'paramWait',
  'stats', // running statistics, disposal
  'other', // the step's remainder
] as const;
export type Phase = (typeof PHASES)[number];
const PH = Object.fromEntries(PHASES.map((p, i) => [p, i])) as Record<Phase, number>;
const P_STEPS = PHASES.length,
  P_WALL = P_STEPS + 1,
  P_CPU = P_STEPS + 2,
  P_BARRIERS = P_STEPS + 3,
  P_SLEPT = P_STEPS + 4,
  P_SPUN = P_STEPS + 5,
  P_LATE = P_STEPS + 6,
  P_LAG = P_STEPS + 7,
  P_LONG = P_STEPS + 8,
  P_LONG_LAG = P_STEPS + 9,
  P_QUEUE = P_STEPS + 10,
  PROF_N = P_STEPS + 11,
  /** Each rank's profile slots start on a cache line of their own (written at every barrier: no false sharing). */
  PROF_STRIDE = 8 * Math.ceil(PROF_N / 8);

/** One replica's profile: per-phase wall milliseconds, steps, its thread's CPU milliseconds, barriers met and slept at. */
export interface RankProfile {
  rank: number;
  steps: number;
  wallMs: number;
  /** CPU time of the replica's thread in its steps (Linux /proc/thread-self, see threadClock; -1 where unavailable). */
  cpuMs: number;
  barriers: number;
  slept: number;
  /** Milliseconds of the waits spent spinning (CPU time that did no work). */
  spunMs: number;
  /**
   * Where the others' waits come from: the in-step barriers this replica arrived at last, by how much in total
   * (its arrival less the first replica's: the others' wait it caused, ms), and of those the lags over
   * LONG_LAG_MS (count, ms) — a thread that did not run (descheduled, a GC pause) rather than uneven work.
   */
  late: number;
  lagMs: number;
  longLate: number;
  longLagMs: number;
  /**
   * Milliseconds the thread was runnable but not running during its steps (Linux schedstat: the OS gave its core
   * to another thread; -1 where unavailable). A VM's host can still deschedule the vCPU unseen.
   */
  queueMs: number;
  phases: Record<Phase, number>;
}

/** A barrier lag counted as long: well above uneven work between barriers (~0.5 ms apart in a deep net). */
export const LONG_LAG_MS = 1;

/**
 * This thread's clocks in milliseconds, from one read of Linux's /proc/thread-self/schedstat (nanoseconds): CPU
 * time, and time spent runnable on the run queue while the OS ran something else. Without schedstat the CPU time
 * comes from /proc/thread-self/stat (10 ms ticks: read over many steps) and the queue is -1; off Linux both are -1.
 */
export function threadClock(): { cpuMs: number; queueMs: number } {
  try {
    const [run, queue] = readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ').map(Number);
    if (Number.isFinite(run) && Number.isFinite(queue)) return { cpuMs: run / 1e6, queueMs: queue / 1e6 };
  } catch {
    // no schedstat: the tick counters below
  }
  try {
    const s = readFileSync('/proc/thread-self/stat', 'latin1');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / 100, queueMs: -1 };
  } catch {
    return { cpuMs: -1, queueMs: -1 };
  }
}

/** This thread's CPU milliseconds (user + system), or -1 off Linux (threadClock). */
export function threadCpuMs(): number {
  return threadClock().cpuMs;
}
/** Sleep slices while waiting, to notice an abort; and how long rank 0 waits for a replica inside a step. */
const WAIT_SLICE_MS = 250;
const STEP_STALL_MS = 120_000;

export interface GroupLayout {
  size: number;
  /** Float64 values per replica per batch-norm exchange (≥ 2·width) and per end-of-step exchange. */
  reduceCap: number;
  /** Float32 values of all trainable parameters together. */
  params: number;
  batchRows: number;
  inputDim: number;
}

export interface GroupBuffers {
  layout: GroupLayout;
  ctl: SharedArrayBuffer;
  err: SharedArrayBuffer;
  reduce: SharedArrayBuffer;
  batchX: SharedArrayBuffer;
  batchY: SharedArrayBuffer;
  prof: SharedArrayBuffer;
  /** Each replica's arrival time (epoch ms) at the current barrier (lag accounting). */
  arrivals: SharedArrayBuffer;
  /**
   * The update's vectors at updateOffsets: every replica's gradients, their sum, the flat parameter vector and the
   * optimiser's moments (a sharded update: each replica writes its range). One shared wasm memory (`arena`), so the
   * sharded Adam runs there in wasm; where none can be made (or it would pass wasm32's 4 GiB), a plain buffer.
   */
  update: SharedArrayBuffer;
  arena: WasmMemory | null;
}

/** Byte offsets of the update vectors (16-aligned): gradients (size × P floats), sum, params, moments (P each). */
export function updateOffsets(layout: GroupLayout): {
  grads: number;
  sum: number;
  params: number;
  moment1: number;
  moment2: number;
  bytes: number;
} {
  const vec = 16 * Math.ceil((Math.max(1, layout.params) * 4) / 16);
  const grads = 0,
    sum = layout.size * vec,
    params = sum + vec,
    moment1 = params + vec,
    moment2 = moment1 + vec;
  return { grads, sum, params, moment1, moment2, bytes: moment2 + vec };
}

export function allocateGroup(layout: GroupLayout): GroupBuffers {
  const { bytes } = updateOffsets(layout);
  const arena = sharedMemory(bytes);
  return {
    layout,
    ctl: new SharedArrayBuffer(CTL_WORDS * 4),
    err: new SharedArrayBuffer(ERR_BYTES),
    // Two halves, alternated per barrier, so a fast replica's next write never meets a slow one's read.
    reduce: new SharedArrayBuffer(2 * layout.size * layout.reduceCap * 8),
    batchX: new SharedArrayBuffer(Math.max(1, layout.batchRows * layout.inputDim) * 4),
    batchY: new SharedArrayBuffer(Math.max(1, layout.batchRows) * 4),
    prof: new SharedArrayBuffer(layout.size * PROF_STRIDE * 8),
    arrivals: new SharedArrayBuffer(layout.size * 8),
    update: (arena?.buffer as SharedArrayBuffer | undefined) ?? new SharedArrayBuffer(bytes),
    arena,
  };
}

/** Thrown in every replica once any of them gave up (its message says why). */
export class GroupAborted extends Error {}

export class GroupMemory {
  readonly size: number;
  readonly ctl: Int32Array;
  readonly batchX: Float32Array;
  readonly batchY: Float32Array;
  /** The update arena (see GroupBuffers), for an optimiser that runs the sharded update inside it; null: none. */
  readonly arena: UpdateArena | null;
  /** The sharded update's flat parameters and moments (see GroupBuffers). */
  readonly params: Float32Array;
  readonly moment1: Float32Array;
  readonly moment2: Float32Array;
  private readonly err: Uint8Array;
  private readonly reduce: Float64Array;
  private readonly grads: Float32Array;
  private readonly cap: number;
  private readonly sum: Float64Array;
  private readonly gradSum: Float32Array;
  /** Barriers passed; its parity picks the reduce buffer half. Every replica passes the same sequence. */
  private phase = 0;
  /** Milliseconds this replica spent waiting at barriers, and how many barriers slept (vs. spun). */
  waitedMs = 0;
  slept = 0;
  barriers = 0;
  /** Every replica's profile slots; this replica writes only its own. */
  private readonly prof: Float64Array;
  private readonly profBase: number;
  /** The profile slot barrier waits are added to (the phase the replica is in). */
  waitSlot: number = PH.other;
  /** The current spin budget (ms), see SPIN_MAX_MS. */
  private spinMs = SPIN_MAX_MS;
  /** The thread's clocks when its current step began. */
  private clock0 = { cpuMs: -1, queueMs: -1 };
  private readonly arrivals: Float64Array;

  constructor(
    readonly buffers: GroupBuffers,
    readonly rank: number,
  ) {
    const { layout } = buffers;
    this.size = layout.size;
    this.cap = layout.reduceCap;
    this.ctl = new Int32Array(buffers.ctl);
    this.err = new Uint8Array(buffers.err);
    this.reduce = new Float64Array(buffers.reduce);
    this.batchX = new Float32Array(buffers.batchX);
    this.batchY = new Float32Array(buffers.batchY);
    this.sum = new Float64Array(this.cap);
    // Views of the arena's own buffer where there is one (a worker receives the memory and the buffer as two
    // objects over one block: the optimiser recognises the arena by its buffer).
    const update = (buffers.arena?.buffer as SharedArrayBuffer | undefined) ?? buffers.update;
    const at = updateOffsets(layout),
      P = layout.params;
    this.grads = new Float32Array(update, at.grads, layout.size * P);
    this.gradSum = new Float32Array(update, at.sum, P);
    this.params = new Float32Array(update, at.params, P);
    this.moment1 = new Float32Array(update, at.moment1, P);
    this.moment2 = new Float32Array(update, at.moment2, P);
    this.arena = buffers.arena
      ? {
          memory: buffers.arena,
          size: layout.size,
          P,
          grads: at.grads,
          sum: at.sum,
          params: at.params,
          moment1: at.moment1,
          moment2: at.moment2,
        }
      : null;
    this.prof = new Float64Array(buffers.prof);
    this.profBase = rank * PROF_STRIDE;
    this.arrivals = new Float64Array(buffers.arrivals);
  }

  /** Adds wall milliseconds to a phase of this replica's profile. */
  addTime(phase: Phase, ms: number): void {
    this.prof[this.profBase + PH[phase]] += ms;
  }

  setWaitPhase(phase: Phase): void {
    this.waitSlot = PH[phase];
  }

  /** A step begins: samples the thread's CPU clock (steps only: rank 0's epoch-end evaluation is not a step). */
  beginStep(): void {
    this.clock0 = threadClock();
  }

  /** A finished step of `wallMs`: counts it and adds the CPU time since beginStep. */
  endStep(wallMs: number): void {
    const p = this.prof,
      b = this.profBase;
    p[b + P_STEPS]++;
    p[b + P_WALL] += wallMs;
    const now = threadClock(),
      was = this.clock0;
    // A slot that was ever unavailable stays -1 (n/a), not a partial sum.
    for (const [slot, a, z] of [
      [P_CPU, was.cpuMs, now.cpuMs],
      [P_QUEUE, was.queueMs, now.queueMs],
    ]) {
      if (a < 0 || z < 0) p[b + slot] = -1;
      else if (p[b + slot] >= 0) p[b + slot] += z - a;
    }
    p[b + P_BARRIERS] = this.barriers;
    p[b + P_SLEPT] = this.slept;
  }

  /** Every replica's profile (rank 0 reads them between steps). */
  profiles(): RankProfile[] {
    return Array.from({ length: this.size }, (_, rank) => {
      const b = rank * PROF_STRIDE,
        p = this.prof;
      return {
        rank,
        steps: p[b + P_STEPS],
        wallMs: p[b + P_WALL],
        cpuMs: p[b + P_CPU],
        barriers: p[b + P_BARRIERS],
        slept: p[b + P_SLEPT],
        spunMs: p[b + P_SPUN],
        late: p[b + P_LATE],
        lagMs: p[b + P_LAG],
        longLate: p[b + P_LONG],
        longLagMs: p[b + P_LONG_LAG],
        queueMs: p[b + P_QUEUE],
        phases: Object.fromEntries(PHASES.map((name, i) => [name, p[b + i]])) as Record<Phase, number>,
      };
    });
  }

  get command(): number {
    return Atomics.load(this.ctl, CMD);
  }

  get rows(): number {
    return Atomics.load(this.ctl, ROWS);
  }

  /** Rank 0, before the command barrier. */
  post(command: number, rows: number): void {
    Atomics.store(this.ctl, CMD, command);
    Atomics.store(this.ctl, ROWS, rows);
  }

  /**
   * Waits until every replica has arrived. `patient`: no stall limit (replicas waiting for rank 0's next command
   * while it evaluates an epoch); otherwise a replica that has not arrived after STEP_STALL_MS aborts the group.
   * `lagged`: the one to arrive last counts its lateness (in-step barriers; not the command barrier, where the
   * replicas wait for rank 0's epoch-end evaluation by design).
   */
  barrier(patient = false, lagged = !patient): void {
    this.await(this.arrive(lagged), patient);
  }

  /**
   * The first half of a barrier: this replica has arrived (the others may pass once all have) and may do work
   * that no one waits for before `await`ing the rest with the returned token. `lagged`: see barrier.
   */
  arrive(lagged = true): number {
    const ctl = this.ctl;
    this.checkAbort();
    const gen = Atomics.load(ctl, GEN);
    // Stored before the count: the last to arrive reads every earlier arrival (the atomic add orders them), before
    // it opens the barrier, so no replica can have stored its next arrival yet.
    const now = performance.timeOrigin + performance.now();
    this.arrivals[this.rank] = now;
    if (Atomics.add(ctl, COUNT, 1) === this.size - 1) {
      if (lagged) this.countLag(now);
      Atomics.store(ctl, COUNT, 0);
      Atomics.add(ctl, GEN, 1);
      Atomics.notify(ctl, GEN);
      return -1; // the last to arrive: the barrier is already open
    }
    return gen;
  }

  /** This replica arrived last at an in-step barrier: the others waited from the first arrival until now. */
  private countLag(now: number): void {
    let first = now;
    for (let r = 0; r < this.size; r++) if (r !== this.rank) first = Math.min(first, this.arrivals[r]);
    const lag = now - first,
      p = this.prof,
      b = this.profBase;
    p[b + P_LATE]++;
    p[b + P_LAG] += lag;
    if (lag > LONG_LAG_MS) {
      p[b + P_LONG]++;
      p[b + P_LONG_LAG] += lag;
    }
  }

  /** The second half of a barrier: waits until every replica has arrived (see barrier for `patient`). */
  await(gen: number, patient = false): void {
    const ctl = this.ctl;
    if (gen !== -1 && Atomics.load(ctl, GEN) !== gen) gen = -1;
    if (gen !== -1) {
      const w0 = performance.now();
      const until = w0 + this.spinMs;
      spin: for (;;) {
        for (let i = 0; i < 64; i++) if (Atomics.load(ctl, GEN) !== gen) break spin;
        if (performance.now() > until) break;
      }
      if (!patient) this.prof[this.profBase + P_SPUN] += performance.now() - w0;
      const t0 = Date.now();
      if (Atomics.load(ctl, GEN) === gen) {
        this.slept++;
        this.spinMs = Math.max(SPIN_MIN_MS, this.spinMs / 2);
      } else this.spinMs = Math.min(SPIN_MAX_MS, this.spinMs * 1.25);
      while (Atomics.load(ctl, GEN) === gen) {
        Atomics.wait(ctl, GEN, gen, WAIT_SLICE_MS);
        this.checkAbort();
        if (!patient && Date.now() - t0 > STEP_STALL_MS) {
          this.abort(`replica threads stopped responding (waited ${STEP_STALL_MS / 1000} s inside a training step)`);
          this.checkAbort();
        }
      }
      const waited = performance.now() - w0;
      if (!patient) {
        this.waitedMs += waited;
        this.prof[this.profBase + this.waitSlot] += waited;
      }
    }
    this.phase++;
    if (!patient) this.barriers++;
    this.checkAbort();
  }

  /**
   * Σ over replicas of local[0..sumLen) in rank order, and the maximum over replicas of local[sumLen..len) (exact:
   * any order gives the same bits); `ghost` (an empty slice) contributes zeros and −∞.
   */
  allReduce(local: Float64Array, len: number, ghost: boolean, sumLen = len): Float64Array {
    if (len > this.cap) throw new Error(`group exchange of ${len} values exceeds its ${this.cap}`);
    const half = (this.phase & 1) * this.size * this.cap;
    const mine = this.reduce.subarray(half + this.rank * this.cap, half + this.rank * this.cap + len);
    if (ghost) {
      mine.fill(0, 0, sumLen);
      mine.fill(-Infinity, sumLen, len);
    } else mine.set(local.subarray(0, len));
    this.barrier();
    const out = this.sum,
      red = this.reduce;
    out.set(red.subarray(half, half + len));
    for (let r = 1; r < this.size; r++) {
      const o = half + r * this.cap;
      for (let j = 0; j < sumLen; j++) out[j] += red[o + j];
      for (let j = sumLen; j < len; j++) {
        const x = red[o + j];
        if (x > out[j] || x !== x) out[j] = x; // NaN wins, as in a one-thread max
      }
    }
    return out;
  }

  /**
   * The end of a step: this replica's gradients (views in parameter order, or null for a ghost) and scalars go
   * in, the sums over replicas come out (gradients summed in float64, in rank order, rounded once): of the
   * whole vector, or with `range` only of [from, to) (a sharded update: the rest of the result is stale).
   * Scalars [sumLen, len) are max-reduced (see allReduce). `sumGrads` false: the gradients go in but are not
   * summed here (an arena step sums them).
   */
  exchange(
    grads: readonly Float32Array[] | null,
    scalars: Float64Array,
    len: number,
    range: { from: number; to: number } | null = null,
    sumLen = len,
    sumGrads = true,
  ): { grads: Float32Array; scalars: Float64Array } {
    const P = this.gradSum.length;
    const from = range ? range.from : 0,
      to = range ? range.to : P;
    const base = this.rank * P;
    if (grads === null) this.grads.fill(0, base, base + P);
    else {
      let off = base;
      for (const g of grads) {
        this.grads.set(g, off);
        off += g.length;
      }
      if (off !== base + P) throw new Error(`gradients hold ${off - base} values, the group expects ${P}`);
    }
    const sums = this.allReduce(scalars, len, grads === null, sumLen);
    const out = this.gradSum,
      src = this.grads,
      n = this.size;
    if (!sumGrads) {
      // the optimiser sums them itself, in the arena (FlatOptimizer.arenaStep)
    } else if (n === 2) {
      for (let j = from; j < to; j++) out[j] = src[j] + src[P + j];
    } else {
      for (let j = from; j < to; j++) {
        let s = src[j];
        for (let r = 1; r < n; r++) s += src[r * P + j];
        out[j] = s;
      }
    }
    return { grads: out, scalars: sums };
  }

  /** Make every replica's next (or current) barrier throw with this message; the first message wins. */
  abort(message: string): void {
    if (Atomics.compareExchange(this.ctl, ABORT, 0, 1) === 0) {
      const bytes = new TextEncoder().encode(message).subarray(0, ERR_BYTES);
      this.err.set(bytes);
      Atomics.store(this.ctl, ERR_LEN, bytes.length);
      Atomics.store(this.ctl, ABORT, 2);
    }
    Atomics.notify(this.ctl, GEN);
  }

  get aborted(): boolean {
    return Atomics.load(this.ctl, ABORT) !== 0;
  }

  private checkAbort(): void {
    if (Atomics.load(this.ctl, ABORT) === 0) return;
    // The writer sets 1, then the message, then 2; wait briefly for the message.
    for (let i = 0; i < 1000 && Atomics.load(this.ctl, ABORT) === 1; i++) Atomics.wait(this.ctl, ABORT, 1, 1);
    const len = Atomics.load(this.ctl, ERR_LEN);
    throw new GroupAborted(new TextDecoder().decode(this.err.slice(0, len)));
  }
}
