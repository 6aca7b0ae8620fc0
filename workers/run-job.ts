// One training run as a job: pick the backend, load the dataset, train, report epochs. Shared by the local
// Piscina pool task, the CLI's in-process `train`, and remote (BullMQ) workers, so every path trains alike.
import type { NetworkSpec } from '../shared/spec.js';
import type { EpochReport } from '../shared/metrics.js';
import type { BackendName } from '../shared/api.js';
import type { BatchProgress, RunStartInfo } from '../shared/run-events.js';
import { initBackend, type BackendPref } from './engine/backend.js';
import { loadDataset } from './data/registry.js';
import { trainRun, type TrainResult } from './engine/train.js';
import { pickOps } from './engine/kernels/index.js';

export interface RunJob {
  runId: string;
  spec: NetworkSpec;
  /** Imported datasets: id → dataset file path (the store knows them; workers do not open the DB). */
  datasetFiles?: Record<string, string>;
  backend?: BackendPref;
  resumeFrom?: Uint8Array;
  /** Threads this run trains on (default 1; docs/threads.md). */
  threads?: number;
}

export interface RunJobHooks {
  signal?: AbortSignal;
  onStart?(info: RunStartInfo & { backend: BackendName }): void | Promise<void>;
  onBatch?(p: BatchProgress): void;
  /** Awaited: the caller persists the epoch and its checkpoint before training goes on. */
  onEpoch?(report: EpochReport, checkpoint: Uint8Array): void | Promise<void>;
  shouldPrune?(epoch: number, metrics: EpochReport['metrics']): boolean | Promise<boolean>;
}

export type RunJobResult = Omit<TrainResult, 'finalState'> & { finalState: Uint8Array; backend: BackendName };

export async function executeRunJob(job: RunJob, hooks: RunJobHooks = {}): Promise<RunJobResult> {
  const backend = await initBackend(job.backend);
  const dataset = await loadDataset(
    { id: job.spec.dataset, rows: job.spec.rows, testFraction: job.spec.testFraction, seed: job.spec.seed },
    (id) => job.datasetFiles?.[id],
  );
  const result = await trainRun(job.spec, dataset, {
    ops: pickOps(backend.name),
    signal: hooks.signal,
    resumeFrom: job.resumeFrom,
    threads: job.threads,
    onStart: hooks.onStart
      ? (paramCount, t) =>
          hooks.onStart?.({
            backend: backend.name,
            paramCount,
            dataSource: dataset.source,
            threads: t.threads,
            ...(t.note ? { threadsNote: t.note } : {}),
          })
      : undefined,
    onBatch: hooks.onBatch,
    onEpoch: hooks.onEpoch,
    shouldPrune: hooks.shouldPrune,
  });
  return { ...result, backend: backend.name };
}
