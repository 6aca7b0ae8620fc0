// Sweep planning for the server, off its event loop: each plan runs in a short-lived worker thread with a
// capped heap, at most a few at a time, so one big or hostile sweep file cannot stall or exhaust the server.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SweepError, type SweepPlan } from '../../shared/sweep.js';
import type { PlanReply } from './plan-worker.js';

/** Plans in flight at once; later requests wait their turn. */
const MAX_CONCURRENT = 2;
/** A plan of MAX_SWEEP_RUNS runs needs well under this. */
const HEAP_MB = 384;

let running = 0;
const waiting: (() => void)[] = [];

function workerFile(): string {
  // Under vitest this module runs from source: the worker is the compiled one (dist/).
  const here = fileURLToPath(import.meta.url);
  const file = here.endsWith('.ts')
    ? fileURLToPath(new URL('../../dist/src-main/service/plan-worker.js', import.meta.url))
    : fileURLToPath(new URL('./plan-worker.js', import.meta.url));
  if (!existsSync(file)) throw new Error(`sweep planner not built: ${file} is missing (run npm run build)`);
  return file;
}

async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** parseSweepText + planSweep in a worker thread: the same plan or the same SweepError. */
export function planSweepOffThread(text: string): Promise<SweepPlan> {
  return slot(
    () =>
      new Promise<SweepPlan>((resolve, reject) => {
        const worker = new Worker(workerFile(), { workerData: text, resourceLimits: { maxOldGenerationSizeMb: HEAP_MB } });
        let settled = false;
        const settle = (fn: () => void) => {
          if (settled) return;
          settled = true;
          fn();
        };
        worker.once('message', (m: PlanReply) =>
          settle(() => {
            if (m.ok) resolve(m.plan);
            else if ('issues' in m) reject(new SweepError(m.issues));
            else reject(new Error(`sweep planning failed: ${m.crash}`));
          }),
        );
        worker.once('error', (e: Error & { code?: string }) =>
          settle(() =>
            reject(
              e.code === 'ERR_WORKER_OUT_OF_MEMORY'
                ? new SweepError([`the sweep file is too large to plan (it needs more than ${HEAP_MB} MB)`])
                : e,
            ),
          ),
        );
        worker.once('exit', (code) => settle(() => reject(new Error(`sweep planning stopped (worker exit code ${code})`))));
      }),
  );
}
