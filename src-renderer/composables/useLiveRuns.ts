// What the runs screen learns between pages from live events: a running run's progress inside its epoch, a
// finished epoch's metrics, a status change. Rows are updated in place (they are reactive); what needs the
// server (new runs, a sweep's counts) is left to `refresh`.
import { reactive } from 'vue';
import type { RunSummary, WorkbenchEvent } from '../../shared/api.js';

export interface LiveProgress {
  epoch: number;
  epochs: number;
  /** Fraction of the current epoch's batches done. */
  frac: number;
  loss: number;
}

export interface LiveRunsHooks {
  findRow(id: string): RunSummary | undefined;
  /** Something changed that only the server can tell (new rows, counts): reload soon. */
  refresh(): void;
  /** An epoch finished: the sweeps' stored epoch counts moved. */
  epochDone(): void;
  /** A sweep changed state. */
  sweepChanged(): void;
}

export function useLiveRuns(hooks: LiveRunsHooks) {
  const live = reactive(new Map<string, LiveProgress>());
  /** The sweep of each run with live progress (known from its row when the first progress event came). */
  const runSweep = new Map<string, string | null>();

  function onEvent(e: WorkbenchEvent) {
    if (e.type === 'run-progress') {
      if (!runSweep.has(e.runId)) runSweep.set(e.runId, hooks.findRow(e.runId)?.sweepId ?? null);
      live.set(e.runId, { epoch: e.epoch, epochs: e.epochs, frac: e.batches ? e.batch / e.batches : 0, loss: e.loss });
    } else if (e.type === 'run-epoch') {
      live.delete(e.runId); // the epoch is now counted in the sweep's stored epochs
      hooks.epochDone();
      const r = hooks.findRow(e.runId);
      if (r) {
        r.epochsDone = e.epoch;
        r.final = {
          train_loss: e.metrics.train_loss ?? r.final.train_loss,
          test_loss: e.metrics.test_loss ?? r.final.test_loss,
          test_acc: e.metrics.test_acc ?? r.final.test_acc,
        };
      }
    } else if (e.type === 'run-status') {
      const r = hooks.findRow(e.runId);
      if (r) {
        r.status = e.status;
        if (e.error) r.error = e.error;
      }
      if (e.status !== 'running') live.delete(e.runId);
      hooks.refresh();
    } else if (e.type === 'sweep-status') {
      hooks.sweepChanged();
      hooks.refresh();
    } else if (e.type === 'data-changed' && (e.what === 'runs' || e.what === 'sweeps')) {
      hooks.refresh();
    }
  }

  /** A run's progress 0…1: inside the running epoch from live events, else epochs done / total. */
  function progressOf(r: RunSummary): number {
    const l = live.get(r.id);
    if (l && r.status === 'running') return Math.min(1, (l.epoch - 1 + l.frac) / Math.max(1, l.epochs));
    return r.epochsTotal ? r.epochsDone / r.epochsTotal : 0;
  }
  /** The running epochs' fractions of one sweep's runs (added to its stored epochs for its progress bar). */
  function partialEpochs(sweepId: string): number {
    let partial = 0;
    for (const [runId, l] of live) if (runSweep.get(runId) === sweepId) partial += l.frac;
    return partial;
  }
  return { live, onEvent, progressOf, partialEpochs };
}
