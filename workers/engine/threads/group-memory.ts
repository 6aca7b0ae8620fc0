// The shared memory of one data-parallel run (docs/threads.md): a barrier, the per-step command and batch, the
// batch-norm partial sums and the gradients, as SharedArrayBuffers every replica thread maps. Every exchange is
// "each replica writes its own slot, barrier, every replica sums the slots in rank order", so every replica
// computes the same bits and the result does not depend on which thread arrives first.

/** Control words (Int32). */
const COUNT = 0,
  GEN = 1,
  ABORT = 2,
  CMD = 3,
  ROWS = 4,
  ERR_LEN = 5,
  CTL_WORDS = 8;
const ERR_BYTES = 4096;

export const CMD_STEP = 1;
export const CMD_STEP_DEAD = 2;
export const CMD_STOP = 3;

/** Spin this many polls before sleeping in Atomics.wait: a barrier is ~every 0.2 ms in a deep net's step. */
const SPIN = 2_000;
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
  grads: SharedArrayBuffer;
  batchX: SharedArrayBuffer;
  batchY: SharedArrayBuffer;
}

export function allocateGroup(layout: GroupLayout): GroupBuffers {
  return {
    layout,
    ctl: new SharedArrayBuffer(CTL_WORDS * 4),
    err: new SharedArrayBuffer(ERR_BYTES),
    // Two halves, alternated per barrier, so a fast replica's next write never meets a slow one's read.
    reduce: new SharedArrayBuffer(2 * layout.size * layout.reduceCap * 8),
    grads: new SharedArrayBuffer(layout.size * layout.params * 4),
    batchX: new SharedArrayBuffer(Math.max(1, layout.batchRows * layout.inputDim) * 4),
    batchY: new SharedArrayBuffer(Math.max(1, layout.batchRows) * 4),
  };
}

/** Thrown in every replica once any of them gave up (its message says why). */
export class GroupAborted extends Error {}

export class GroupMemory {
  readonly size: number;
  readonly ctl: Int32Array;
  readonly batchX: Float32Array;
  readonly batchY: Float32Array;
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
    this.grads = new Float32Array(buffers.grads);
    this.batchX = new Float32Array(buffers.batchX);
    this.batchY = new Float32Array(buffers.batchY);
    this.sum = new Float64Array(this.cap);
    this.gradSum = new Float32Array(layout.params);
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
   */
  barrier(patient = false): void {
    const ctl = this.ctl;
    this.checkAbort();
    const gen = Atomics.load(ctl, GEN);
    if (Atomics.add(ctl, COUNT, 1) === this.size - 1) {
      Atomics.store(ctl, COUNT, 0);
      Atomics.add(ctl, GEN, 1);
      Atomics.notify(ctl, GEN);
    } else {
      const w0 = performance.now();
      let spins = 0;
      while (Atomics.load(ctl, GEN) === gen && spins < SPIN) spins++;
      const t0 = Date.now();
      if (Atomics.load(ctl, GEN) === gen) this.slept++;
      while (Atomics.load(ctl, GEN) === gen) {
        Atomics.wait(ctl, GEN, gen, WAIT_SLICE_MS);
        this.checkAbort();
        if (!patient && Date.now() - t0 > STEP_STALL_MS) {
          this.abort(`replica threads stopped responding (waited ${STEP_STALL_MS / 1000} s inside a training step)`);
          this.checkAbort();
        }
      }
      if (!patient) this.waitedMs += performance.now() - w0;
    }
    this.phase++;
    if (!patient) this.barriers++;
    this.checkAbort();
  }

  /** Σ over replicas of local[0..len) in rank order; `ghost` (an empty slice) contributes zeros. */
  allReduce(local: Float64Array, len: number, ghost: boolean): Float64Array {
    if (len > this.cap) throw new Error(`group exchange of ${len} values exceeds its ${this.cap}`);
    const half = (this.phase & 1) * this.size * this.cap;
    const mine = this.reduce.subarray(half + this.rank * this.cap, half + this.rank * this.cap + len);
    if (ghost) mine.fill(0);
    else mine.set(local.subarray(0, len));
    this.barrier();
    const out = this.sum;
    out.set(this.reduce.subarray(half, half + len));
    for (let r = 1; r < this.size; r++) {
      const o = half + r * this.cap;
      for (let j = 0; j < len; j++) out[j] += this.reduce[o + j];
    }
    return out;
  }

  /**
   * The end of a step: this replica's gradients (views in parameter order, or null for a ghost) and scalars go
   * in, the sums over replicas come out (gradients summed in float64, in rank order, rounded once).
   */
  exchange(
    grads: readonly Float32Array[] | null,
    scalars: Float64Array,
    len: number,
  ): { grads: Float32Array; scalars: Float64Array } {
    const P = this.gradSum.length;
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
    const sums = this.allReduce(scalars, len, grads === null);
    const out = this.gradSum,
      src = this.grads,
      n = this.size;
    if (n === 2) {
      for (let j = 0; j < P; j++) out[j] = src[j] + src[P + j];
    } else {
      for (let j = 0; j < P; j++) {
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
