// Where runs execute. The scheduler sees only this interface: the local Piscina pool and the remote BullMQ
// executor both implement it.
import type { EpochReport } from '../../shared/metrics.js';
import type { BatchProgress, RunStartInfo } from '../../shared/run-events.js';
import type { RunJob, RunJobResult } from '../../workers/run-job.js';

export interface ExecutionHooks {
  signal: AbortSignal;
  onStart(info: RunStartInfo): void;
  onBatch(p: BatchProgress): void;
  /** Resolves once the epoch and checkpoint are stored; `prune: true` asks the run to stop (early termination). */
  onEpoch(report: EpochReport, checkpoint: Uint8Array): Promise<{ prune: boolean }>;
}

export interface Executor {
  /** How many runs may execute at once. */
  readonly capacity: number;
  /** Why capacity is what it is (shown in the UI), e.g. "native backend: one thread per process". */
  readonly capacityReason?: string;
  /**
   * Cores the executor's runs share (docs/threads.md): the scheduler gives each run its threads out of these and
   * starts no run while they are all in use. Undefined: runs execute elsewhere (remote) and choose for themselves.
   */
  readonly threadBudget?: number;
  execute(job: RunJob, hooks: ExecutionHooks): Promise<RunJobResult>;
  close(): Promise<void>;
}
