// The local executor: a Piscina pool of worker threads, one run per thread (one wasm instance each).
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { MainToTask, TaskToMain } from '../../workers/pool-task.js';
import type { RunJob, RunJobResult } from '../../workers/run-job.js';
import type { Executor, ExecutionHooks } from './executor.js';

/** The compiled task module. Under vitest this file runs from source, so point at the build (dist/). */
export function poolTaskFile(): string {
  const here = fileURLToPath(import.meta.url);
  const compiled = here.endsWith('.ts')
    ? fileURLToPath(new URL('../../dist/workers/pool-task.js', import.meta.url))
    : fileURLToPath(new URL('../../workers/pool-task.js', import.meta.url));
  if (!existsSync(compiled)) throw new Error(`worker task not built: ${compiled} is missing (run npm run build)`);
  return compiled;
}

export interface LocalPoolOptions {
  workers?: number;
  backend?: RunJob['backend'];
}

export class LocalPoolExecutor implements Executor {
  readonly capacity: number;
  readonly capacityReason?: string;
  /** One core per pool thread: a run on N threads takes N of them (the native backend: one run, one thread). */
  readonly threadBudget: number;
  private readonly pool: Piscina;

  constructor(opts: LocalPoolOptions = {}) {
    const requested = opts.workers ?? Math.max(1, cpus().length);
    // tfjs-node(-gpu) fails when loaded in a second thread of one process (tfjs#8388): one thread then.
    const native = opts.backend === 'tfjs-node' || opts.backend === 'tfjs-node-gpu';
    this.capacity = native ? 1 : requested;
    if (native && requested > 1) this.capacityReason = 'native TensorFlow backend: one training thread per process';
    this.threadBudget = this.capacity;
    this.pool = new Piscina({
      filename: poolTaskFile(),
      minThreads: 0,
      maxThreads: this.capacity,
      idleTimeout: 60_000,
      // Threads hold wasm heaps and datasets; keep them to one run each at a time.
      concurrentTasksPerWorker: 1,
    });
  }

  async execute(job: RunJob, hooks: ExecutionHooks): Promise<RunJobResult> {
    const { port1, port2 } = new MessageChannel();
    const send = (m: MainToTask) => port1.postMessage(m);
    const onAbort = () => send({ type: 'cancel' });
    hooks.signal.addEventListener('abort', onAbort, { once: true });
    let storeError: unknown;
    port1.on('message', (m: TaskToMain) => {
      if (m.type === 'start') hooks.onStart(m);
      else if (m.type === 'batch') hooks.onBatch(m);
      else if (m.type === 'epoch') {
        hooks.onEpoch(m.report, m.checkpoint).then(
          ({ prune }) => send({ type: 'ack', epoch: m.report.epoch, prune }),
          (e: unknown) => {
            storeError ??= e; // storing failed: stop the run rather than train on unsaved epochs, and say why
            send({ type: 'cancel' });
          },
        );
      }
    });
    try {
      if (hooks.signal.aborted) onAbort();
      const result = (await this.pool.run({ job, port: port2 }, { transferList: [port2] })) as RunJobResult;
      if (storeError !== undefined) throw storeError;
      return result;
    } finally {
      hooks.signal.removeEventListener('abort', onAbort);
      port1.close();
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
