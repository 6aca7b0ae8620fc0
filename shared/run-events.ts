// What a training run says while it trains, wherever it trains (a pool thread, this process, a remote worker):
// the one shape the engine, the pool task, the remote protocol, the executors and the contract's events share.
import type { EpochReport } from './metrics.js';

/** One mini-batch done: the run's live progress (throttled by whoever sends it). */
export interface BatchProgress {
  epoch: number; // 1-based
  batch: number; // 1-based
  batches: number;
  loss: number;
}

/** The model is built and the data loaded: what the run trains on. */
export interface RunStartInfo {
  backend: string;
  paramCount: number;
  dataSource: string;
  /** Threads the run trains on (absent from workers that predate them: 1). */
  threads?: number;
  /** Why it trains on fewer threads than asked for, when so. */
  threadsNote?: string;
}

/** The messages of one run in order: start, then batches and epochs (each epoch carries its checkpoint). */
export type RunEvent =
  | ({ type: 'start' } & RunStartInfo)
  | ({ type: 'batch' } & BatchProgress)
  | { type: 'epoch'; report: EpochReport; checkpoint: Uint8Array };
