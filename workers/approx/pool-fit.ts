// The Piscina task for one approximation-lab fit, so the lab trains on the worker pool instead of the main
// thread. It receives the train and validation grids only (never the test grid: the main thread scores the
// returned checkpoints on it after this task has finished), reports each report point over a MessagePort and
// waits for the main thread's `ack` (the point is stored) before training on.
import type { MessagePort } from 'node:worker_threads';
import type { Grid } from '../../shared/approx-targets.js';
import { initBackend, type BackendPref } from '../engine/backend.js';
import { pickOps } from '../engine/kernels/index.js';
import { fitTarget, type FitOptions, type FitOutcome, type FitReport } from './fit.js';

export interface ApproxFitJob {
  options: Omit<FitOptions, 'ops'>;
  backend: BackendPref;
  train: Grid;
  validation: Grid;
}

export type FitTaskToMain = { type: 'report'; report: FitReport };
export type FitMainToTask = { type: 'ack'; index: number } | { type: 'cancel' };

export interface ApproxFitTaskInput {
  job: ApproxFitJob;
  port: MessagePort;
}

export type ApproxFitTaskResult = FitOutcome & { backend: string };

export default async function approxFitTask({ job, port }: ApproxFitTaskInput): Promise<ApproxFitTaskResult> {
  const waiting = new Map<number, () => void>();
  let cancelled = false;
  port.on('message', (m: FitMainToTask) => {
    if (m.type === 'ack') {
      waiting.get(m.index)?.();
      waiting.delete(m.index);
    } else {
      cancelled = true;
      for (const release of waiting.values()) release();
    }
  });
  try {
    const backend = await initBackend(job.backend);
    const outcome = await fitTarget(
      { ...job.options, ops: pickOps(backend.name) },
      { train: job.train, validation: job.validation },
      (report) =>
        new Promise<void>((resolve, reject) => {
          if (cancelled) return reject(new Error('cancelled'));
          waiting.set(report.index, () => (cancelled ? reject(new Error('cancelled')) : resolve()));
          port.postMessage({ type: 'report', report } satisfies FitTaskToMain);
        }),
    );
    return { ...outcome, backend: backend.name };
  } finally {
    port.close();
  }
}
