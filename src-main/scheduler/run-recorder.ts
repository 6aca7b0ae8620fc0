// One run's lifecycle in the store, written once: create → running → epochs (each with its checkpoint, in one
// transaction, before training goes on) → model → a final status. Every run goes through a recorder: the
// scheduler's (sweep runs, `deepbern train`, runs resumed by the app) and the approximation lab's fits
// (report/approx-lab.ts), so every path leases, stores and reports alike.
import type { WorkbenchEvent } from '../../shared/api.js';
import type { EpochReport, RunStatus } from '../../shared/metrics.js';
import type { BatchProgress, RunStartInfo } from '../../shared/run-events.js';
import type { NetworkSpec } from '../../shared/spec.js';
import { StoreError, type RunStore } from '../store/run-store.js';
import type { RunJobResult } from '../../workers/run-job.js';

/**
 * Thrown by an executor when the run stopped for a reason that is not the run's fault (a remote worker's
 * process was killed, Redis lost the job): the run ends `interrupted`, resumable from its last checkpoint.
 */
export class RunInterruptedError extends Error {
  override name = 'RunInterruptedError';
}

export interface RunStart {
  spec: NetworkSpec;
  /** The last stored checkpoint (the run continues at its next epoch), or undefined: from scratch. */
  resumeFrom?: Uint8Array;
}

export class RunRecorder {
  private readonly epochs: number;

  constructor(
    private readonly store: RunStore,
    readonly runId: string,
    readonly spec: NetworkSpec,
    private readonly emit: (e: WorkbenchEvent) => void,
    opts: {
      /** The lease this run is driven under: it is claimed at begin, and writes stop if another process took it over. */
      owner?: string;
      /** Every write goes through this (the scheduler waits out transient locks here). */
      write?: <T>(what: string, fn: () => Promise<T>) => Promise<T>;
    } = {},
  ) {
    this.epochs = spec.epochs;
    this.owner = opts.owner;
    this.write = opts.write ?? ((_w, fn) => fn());
  }

  private readonly owner: string | undefined;
  private readonly write: <T>(what: string, fn: () => Promise<T>) => Promise<T>;
  /** Another process holds the run now: this one writes nothing more. */
  private lost = false;

  /** Loads the run's checkpoint and marks it running; null when the checkpoint already holds every epoch (then it is finished). */
  async begin(): Promise<RunStart | null> {
    const checkpoint = await this.store.loadCheckpoint(this.runId);
    if (checkpoint && checkpoint.epoch >= this.epochs) {
      await this.finish('finished');
      return null;
    }
    const owner = this.owner;
    if (owner) await this.write('claim the run', () => this.store.claimRun(this.runId, owner));
    else await this.write('mark the run running', () => this.store.setRunStatus(this.runId, 'running'));
    this.emit({ type: 'run-status', runId: this.runId, status: 'running' });
    return { spec: this.spec, resumeFrom: checkpoint?.state };
  }

  /** The model is built: its backend and size go on the run's row. */
  async started(info: RunStartInfo): Promise<void> {
    await this.write('record the backend', () => this.store.markRunning(this.runId, info.backend, info.paramCount));
    this.emit({
      type: 'run-start',
      runId: this.runId,
      backend: info.backend,
      paramCount: info.paramCount,
      dataSource: info.dataSource,
      ...(info.threads !== undefined ? { threads: info.threads } : {}),
      ...(info.threadsNote ? { threadsNote: info.threadsNote } : {}),
    });
  }

  progress(p: BatchProgress): void {
    // Field by field: executors hand over their own messages (with their `type`, an attempt number…).
    this.emit({
      type: 'run-progress',
      runId: this.runId,
      epochs: this.epochs,
      epoch: p.epoch,
      batch: p.batch,
      batches: p.batches,
      loss: p.loss,
    });
  }

  /** Stores the epoch with its checkpoint (when the run has one: a lab fit keeps only its model); resolves once both are durable. */
  async epoch(report: EpochReport, checkpoint?: Uint8Array): Promise<void> {
    await this.write(`store epoch ${report.epoch}`, () =>
      this.store.appendEpoch(this.runId, report, checkpoint, this.owner),
    );
    this.emit({ type: 'run-epoch', runId: this.runId, epoch: report.epoch, metrics: report.metrics });
  }

  /** Replaces the run's tags (what a lab fit learns about itself once it is scored). */
  async tags(tags: readonly string[]): Promise<void> {
    if (this.lost) return;
    await this.write('store the tags', () => this.store.setTags(this.runId, tags));
  }

  /** The executor's result: the final model (when the run finished or was pruned) and the final status. */
  async end(result: Pick<RunJobResult, 'status' | 'finalState' | 'error'>): Promise<RunStatus> {
    if (this.lost) return 'interrupted';
    if (result.status === 'finished' || result.status === 'pruned') await this.model(result.finalState);
    await this.finish(result.status, result.error);
    return result.status;
  }

  /** Stores the run's model (its final weights, or the ones a lab fit selected). */
  async model(state: Uint8Array): Promise<void> {
    if (this.lost) return;
    await this.write('store the model', () => this.store.saveModel(this.runId, state));
  }

  /** The executor threw: `interrupted` for RunInterruptedError (resumable), else `failed` with the message. */
  async fail(e: unknown): Promise<RunStatus> {
    if (e instanceof StoreError && e.code === 'owned') {
      this.lost = true; // our lease lapsed and another process resumed the run: it is theirs now
      this.emit({ type: 'run-status', runId: this.runId, status: 'interrupted', error: e.message });
      return 'interrupted';
    }
    const status: RunStatus = e instanceof RunInterruptedError ? 'interrupted' : 'failed';
    await this.finish(status, e instanceof Error ? e.message : String(e));
    return status;
  }

  async finish(status: RunStatus, error?: string): Promise<void> {
    if (this.lost) return;
    const mine = await this.write(`mark the run ${status}`, () =>
      this.store.finishRun(this.runId, status, error, this.owner),
    );
    if (mine) this.emit({ type: 'run-status', runId: this.runId, status, error });
  }
}
