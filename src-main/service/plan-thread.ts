// Sweep planning for the server, off its event loop: plans run in worker threads with a capped heap, at most a
// few at a time, so one big or hostile sweep file cannot stall or exhaust the server. Threads are kept warm and
// reused; one that ran out of memory or crashed is dropped and a fresh one starts for the next plan.
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
/** Planner threads between plans (unref'd: they never keep the process alive). */
const idle: Worker[] = [];

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

function planner(): Worker {
  let worker = idle.pop();
  if (!worker) {
    const fresh = new Worker(workerFile(), { resourceLimits: { maxOldGenerationSizeMb: HEAP_MB } });
    started++;
    // A thread that dies between plans is dropped; the next plan starts a fresh one.
    fresh.on('error', () => undefined).on('exit', () => idle.splice(idle.indexOf(fresh) >>> 0, 1));
    worker = fresh;
  }
  worker.ref(); // while it plans, the plan is what the process waits for
  return worker;
}

/** parseSweepText + planSweep in a worker thread: the same plan or the same SweepError. */
export function planSweepOffThread(text: string): Promise<SweepPlan> {
  return slot(
    () =>
      new Promise<SweepPlan>((resolve, reject) => {
        const worker = planner();
        const onMessage = (m: PlanReply) =>
          settle(() => {
            if (m.ok) resolve(m.plan);
            else if ('issues' in m) reject(new SweepError(m.issues));
            else reject(new Error(`sweep planning failed: ${m.crash}`));
          }, true);
        const onError = (e: Error & { code?: string }) =>
          settle(
            () =>
              reject(
                e.code === 'ERR_WORKER_OUT_OF_MEMORY'
                  ? new SweepError([`the sweep file is too large to plan (it needs more than ${HEAP_MB} MB)`])
                  : e,
              ),
            false,
          );
        const onExit = (code: number) =>
          settle(() => reject(new Error(`sweep planning stopped (worker exit code ${code})`)), false);
        let settled = false;
        // Only our own listeners come off: Worker uses listener events internally (removeAllListeners breaks it).
        const settle = (fn: () => void, reusable: boolean) => {
          if (settled) return;
          settled = true;
          worker.off('message', onMessage).off('error', onError).off('exit', onExit);
          if (reusable) {
            worker.unref();
            idle.push(worker);
          } else {
            idle.splice(idle.indexOf(worker) >>> 0, 1);
            void worker.terminate();
          }
          fn();
        };
        worker.on('message', onMessage).on('error', onError).on('exit', onExit);
        worker.postMessage(text);
      }),
  );
}

let started = 0;
/** How many planner threads this process started, and how many are warm now. */
export function plannerStats(): { started: number; idle: number } {
  return { started, idle: idle.length };
}

/** Ends the warm planner threads (the service's close); the next plan starts a fresh one. */
export async function closePlanners(): Promise<void> {
  await Promise.all(idle.splice(0).map((w) => w.terminate()));
}
