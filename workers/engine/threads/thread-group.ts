// Rank 0's side of a data-parallel run (docs/threads.md): starts the peer replica threads, posts each batch
// into shared memory, runs its own slice, and stops the peers when the run ends.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { NetworkSpec } from '../../../shared/spec.js';
import { MAX_RUN_THREADS } from '../../../shared/sweep.js';
import type { BackendPref } from '../backend.js';
import type { DeadTally, DeepBernModel } from '../model.js';
import type { EngineOps } from '../ops.js';
import type { TrainerOptimizer } from '../optimizer.js';
import type { ModelDims } from '../state.js';
import {
  allocateGroup,
  CMD_STEP,
  CMD_STEP_DEAD,
  CMD_STOP,
  GroupAborted,
  GroupMemory,
  type RankProfile,
} from './group-memory.js';
import { Replica, stepScalars, type ReplicaStepResult } from './replica-step.js';
import type { ReplicaWorkerData } from './replica-worker.js';

/** Most threads one run may use (each holds a wasm heap and a copy of the weights). */
export const MAX_THREADS = MAX_RUN_THREADS;

/** Why this run cannot train on several threads (it then trains on one), or null when it can. */
export function threadsUnsupported(spec: NetworkSpec, ops: EngineOps, backend: string): string | null {
  if (backend !== 'wasm' && backend !== 'cpu') return `the ${backend} backend trains on one thread per run`;
  if (ops.name !== 'fast') return `the ${ops.name} ops have no batch-norm exchange between threads`;
  return null;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The compiled replica worker; from TypeScript sources (vitest) tsx compiles it on the fly. */
function spawnReplica(data: ReplicaWorkerData): Worker {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    const url = new URL('./replica-worker.ts', import.meta.url).href;
    const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); })`;
    return new Worker(boot, { eval: true, workerData: data });
  }
  return new Worker(new URL('./replica-worker.js', import.meta.url), { workerData: data });
}

/** Steps and barriers rank 0 went through, the milliseconds it waited at them, and how many it slept at (vs. spun). */
export interface ThreadWaits {
  steps: number;
  barriers: number;
  waitedMs: number;
  slept: number;
  /** Whether the optimiser update is sharded over the replicas (a flat optimiser: FusedAdam). */
  sharded: boolean;
  /** Whether that update runs in wasm inside the group's shared update arena (else in JS loops). */
  inArena: boolean;
  /** Per-rank phase breakdown over the run's steps (read between steps: the peers' last step is complete). */
  profiles: RankProfile[];
}

export interface ThreadGroupOptions {
  threads: number;
  spec: NetworkSpec;
  dims: ModelDims;
  /** The run's current checkpoint: the peers start from exactly these weights and optimizer slots. */
  state: Uint8Array;
  model: DeepBernModel;
  optimizer: TrainerOptimizer;
}

export class ThreadGroup {
  private stopped = false;
  private steps = 0;
  /** When rank 0's last step ended (the trainer's own work between steps is profiled as 'between'). */
  private lastEnd = -1;

  private constructor(
    private readonly mem: GroupMemory,
    private readonly replica: Replica,
    private readonly workers: Worker[],
    private readonly exited: Promise<unknown>[],
  ) {}

  get threads(): number {
    return this.mem.size;
  }

  static async start(o: ThreadGroupOptions): Promise<ThreadGroup> {
    const size = Math.min(MAX_THREADS, Math.max(2, Math.floor(o.threads)));
    const params = o.model.trainables().reduce((s, p) => s + p.variable.size, 0);
    const buffers = allocateGroup({
      size,
      reduceCap: Math.max(
        2 * o.spec.width,
        stepScalars(o.spec.depth, o.spec.width, o.spec.activation === 'bernstein' && o.spec.boundsMode === 'adaptive'),
      ),
      params,
      batchRows: o.spec.batchSize,
      inputDim: o.dims.inputDim,
    });
    const mem = new GroupMemory(buffers, 0);
    const backend = tf.getBackend() as BackendPref;
    const workers: Worker[] = [];
    const exited: Promise<unknown>[] = [];
    const ready: Promise<void>[] = [];
    for (let rank = 1; rank < size; rank++) {
      const w = spawnReplica({ buffers, rank, spec: o.spec, dims: o.dims, state: o.state, backend });
      workers.push(w);
      exited.push(new Promise((r) => w.once('exit', r)));
      ready.push(
        new Promise<void>((resolve, reject) => {
          w.on('message', (m: { type: string; message?: string }) => {
            if (m.type === 'ready') resolve();
            else if (m.type === 'error') reject(new Error(`replica thread ${rank}: ${m.message}`));
          });
          w.once('error', (e) => {
            mem.abort(`replica thread ${rank}: ${message(e)}`);
            reject(new Error(`replica thread ${rank}: ${message(e)}`));
          });
          w.once('exit', (code) => reject(new Error(`replica thread ${rank} exited (${code}) before it was ready`)));
        }),
      );
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      mem.abort(message(e));
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
    return new ThreadGroup(mem, new Replica(mem, o.model, o.optimizer), workers, exited);
  }

  /**
   * One step over `rows` rows: `fill` writes them (x [rows, inputDim], y [rows]) into the shared batch, then
   * every replica trains on its slice. A tally receives the whole batch's dead counts.
   */
  step(rows: number, fill: (x: Float32Array, y: Float32Array) => void, tally?: DeadTally): ReplicaStepResult {
    const mem = this.mem;
    try {
      this.steps++;
      const t0 = performance.now();
      mem.beginStep();
      if (this.lastEnd >= 0) mem.addTime('between', t0 - this.lastEnd);
      fill(mem.batchX, mem.batchY);
      mem.post(tally ? CMD_STEP_DEAD : CMD_STEP, rows);
      mem.addTime('post', performance.now() - t0);
      mem.setWaitPhase('commandWait');
      mem.barrier(false, false); // rank 0 is last here by design: the replicas waited for this command
      const result = this.replica.step(tally);
      this.lastEnd = performance.now();
      mem.endStep(this.lastEnd - t0);
      return result;
    } catch (e) {
      if (!(e instanceof GroupAborted)) mem.abort(`rank 0: ${message(e)}`);
      this.stopped = true;
      throw e instanceof GroupAborted ? new Error(`data-parallel training stopped: ${e.message}`) : e;
    }
  }

  /** The trainer leaves the step loop (an epoch's end): the gap to the next step is not profiled as 'between'. */
  pause(): void {
    this.lastEnd = -1;
  }

  /** Rank 0's barrier waits so far: the cost of synchronisation (benchmarks report it), and every rank's profile. */
  get waits(): ThreadWaits {
    return {
      steps: this.steps,
      barriers: this.mem.barriers,
      waitedMs: this.mem.waitedMs,
      slept: this.mem.slept,
      sharded: this.replica.sharded,
      inArena: this.replica.inArena,
      profiles: this.mem.profiles(),
    };
  }

  /** Stops the peers (they dispose their models and exit); idempotent. */
  async stop(): Promise<void> {
    if (!this.stopped && !this.mem.aborted) {
      this.stopped = true;
      try {
        this.mem.post(CMD_STOP, 0);
        this.mem.barrier(false, false);
      } catch {
        // a peer already gave up: terminate below
      }
    }
    this.stopped = true;
    const timeout = new Promise((r) => setTimeout(r, 10_000).unref());
    await Promise.race([Promise.all(this.exited), timeout]);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
