// The sweep scheduler: queues runs, hands them to an Executor (local pool or remote), and is the only writer
// of their results: each epoch's metrics and its checkpoint land in one transaction before training goes on.
import { EventEmitter } from 'node:events';
import type { WorkbenchEvent } from '../../shared/api.js';
import type { RunStatus } from '../../shared/metrics.js';
import { parseSweepText, planSweep, SweepError, type SweepFile, type SweepPlan } from '../../shared/sweep.js';
import { activationLabel, type NetworkSpec } from '../../shared/spec.js';
import type { RunStore } from '../store/run-store.js';
import type { Executor } from './executor.js';
import { assertDatasetsAvailable } from '../service/datasets.js';
import { hyperbandBracket, shouldStop } from './early-stop.js';
import { proposeNextRun } from './bayes.js';

const UNFINISHED: RunStatus[] = ['queued', 'running', 'cancelled'];

interface ActiveRun {
  runId: string;
  sweepId: string | null;
  abort: AbortController;
}

/** Create the sweep and its runs (all queued) from file text; nothing starts until `Scheduler.startSweep`. */
export async function createSweepFromText(store: RunStore, text: string, planned?: SweepPlan): Promise<{ sweepId: string; runIds: string[] }> {
  const plan = planned ?? planSweep(parseSweepText(text));
  const { file } = plan;
  await assertDatasetsAvailable(store, plan.runs.map((r) => r.spec.dataset));
  const sweepId = await store.createSweep({ name: file.name, config: file, fileText: text });
  const runIds: string[] = [];
  for (const r of plan.runs) {
    const name = `${file.name}-${String(r.index + 1).padStart(3, '0')} ${activationLabel(r.spec)}`;
    runIds.push(await store.createRun({ spec: r.spec, name, sweepId, epochsTotal: r.spec.epochs }));
  }
  return { sweepId, runIds };
}

export class Scheduler extends EventEmitter {
  private readonly queue: { runId: string; sweepId: string | null }[] = [];
  private readonly active = new Map<string, ActiveRun>();
  private readonly waiters = new Map<string, (() => void)[]>();
  /** Running `method: bayes` sweeps: their next runs are proposed as workers free up. */
  private readonly sequential = new Map<string, SweepFile>();
  private readonly proposing = new Set<string>();
  private closed = false;

  constructor(
    private readonly store: RunStore,
    private readonly executor: Executor,
    private readonly opts: { backend?: string } = {},
  ) {
    super();
  }

  get capacity(): number {
    return this.executor.capacity;
  }

  get busy(): number {
    return this.active.size;
  }

  private emitEvent(e: WorkbenchEvent): void {
    this.emit('event', e);
  }

  /** Queue every unfinished run of a sweep (first launch, or resume after a crash or cancel). */
  async startSweep(sweepId: string): Promise<number> {
    const sweep = await this.store.getSweep(sweepId);
    const runs = (await this.store.listRuns({ sweepId, limit: 100_000, orderBy: 'created_at' })).rows;
    const todo = runs.filter((r) => UNFINISHED.includes(r.status) && !this.active.has(r.id) && !this.isQueued(r.id));
    const proposes = sweep.config.method === 'bayes' && runs.length < (sweep.config.run_cap ?? 0);
    if (todo.length === 0 && !proposes && !runs.some((r) => this.active.has(r.id) || this.isQueued(r.id))) {
      throw new SweepError([`sweep ${sweepId} (${sweep.name}) has no unfinished runs: nothing to resume`]);
    }
    for (const r of todo) {
      if (r.status !== 'queued') await this.store.setRunStatus(r.id, 'queued');
      this.queue.push({ runId: r.id, sweepId });
    }
    if (sweep.config.method === 'bayes') this.sequential.set(sweepId, sweep.config);
    await this.store.setSweepStatus(sweepId, 'running');
    this.emitEvent({ type: 'sweep-status', sweepId, status: 'running' });
    this.pump();
    return todo.length;
  }

  /** Queue a single run (the CLI's `train`, or a resume of one run). */
  async startRun(runId: string): Promise<void> {
    if (this.active.has(runId) || this.isQueued(runId)) return;
    this.queue.push({ runId, sweepId: (await this.store.getRun(runId)).sweepId });
    this.pump();
  }

  /** Resolves when every run of the sweep has left the queue and finished executing. */
  waitForSweep(sweepId: string): Promise<void> {
    return new Promise((resolve) => {
      const list = this.waiters.get(sweepId) ?? [];
      list.push(resolve);
      this.waiters.set(sweepId, list);
      void this.checkSweepDone(sweepId);
    });
  }

  async cancelSweep(sweepId: string): Promise<void> {
    await this.store.getSweep(sweepId); // unknown id → StoreError
    this.sequential.delete(sweepId);
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i].sweepId === sweepId) this.queue.splice(i, 1);
    for (const r of (await this.store.listRuns({ sweepId, status: 'queued', limit: 100_000 })).rows) {
      await this.store.finishRun(r.id, 'cancelled');
      this.emitEvent({ type: 'run-status', runId: r.id, status: 'cancelled' });
    }
    for (const a of this.active.values()) if (a.sweepId === sweepId) a.abort.abort();
    await this.store.setSweepStatus(sweepId, 'cancelled');
    this.emitEvent({ type: 'sweep-status', sweepId, status: 'cancelled' });
    await this.checkSweepDone(sweepId);
  }

  async cancelRun(runId: string): Promise<void> {
    const run = await this.store.getRun(runId);
    const i = this.queue.findIndex((q) => q.runId === runId);
    if (i >= 0) {
      this.queue.splice(i, 1);
      await this.store.finishRun(runId, 'cancelled');
      this.emitEvent({ type: 'run-status', runId, status: 'cancelled' });
      if (run.sweepId) await this.checkSweepDone(run.sweepId);
    }
    this.active.get(runId)?.abort.abort();
  }

  /** Cancel everything running and queued (Ctrl-C, app quit). Finished epochs stay stored. */
  async cancelAll(): Promise<void> {
    this.sequential.clear();
    const queued = this.queue.splice(0).map((q) => q.runId);
    for (const id of queued) {
      await this.store.finishRun(id, 'cancelled');
      this.emitEvent({ type: 'run-status', runId: id, status: 'cancelled' });
    }
    for (const a of this.active.values()) a.abort.abort();
    await this.idle();
  }

  /** Resolves when nothing is running. */
  async idle(): Promise<void> {
    while (this.active.size > 0) await new Promise((r) => setTimeout(r, 50));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.cancelAll();
    await this.executor.close();
  }

  private isQueued(runId: string): boolean {
    return this.queue.some((q) => q.runId === runId);
  }

  private pump(): void {
    while (!this.closed && this.active.size < this.executor.capacity && this.queue.length > 0) {
      const { runId, sweepId } = this.queue.shift() as { runId: string; sweepId: string | null };
      const entry: ActiveRun = { runId, sweepId, abort: new AbortController() };
      this.active.set(runId, entry);
      this.emitEvent({ type: 'workers', size: this.executor.capacity, busy: this.active.size });
      void this.execute(entry)
        .catch((e: unknown) => this.emit('error-log', e))
        .finally(() => {
          this.active.delete(runId);
          this.emitEvent({ type: 'workers', size: this.executor.capacity, busy: this.active.size });
          this.pump();
          if (entry.sweepId) void this.checkSweepDone(entry.sweepId);
        });
    }
    if (!this.closed && this.active.size + this.queue.length < this.executor.capacity) {
      for (const [sweepId, file] of this.sequential) if (!this.proposing.has(sweepId)) void this.propose(sweepId, file);
    }
  }

  /** Queue the next proposed run of a bayes sweep while a worker is free and the budget lasts. */
  private async propose(sweepId: string, file: SweepFile): Promise<void> {
    this.proposing.add(sweepId);
    try {
      while (!this.closed && this.sequential.has(sweepId) && this.active.size + this.queue.length < this.executor.capacity) {
        const runId = await proposeNextRun(this.store, sweepId, file);
        if (runId === undefined || !this.sequential.has(sweepId)) {
          this.sequential.delete(sweepId);
          break;
        }
        this.queue.push({ runId, sweepId });
        this.pump();
      }
    } catch (e) {
      this.sequential.delete(sweepId);
      this.emit('error-log', e);
    } finally {
      this.proposing.delete(sweepId);
      void this.checkSweepDone(sweepId);
    }
  }

  private async execute(entry: ActiveRun): Promise<void> {
    const { runId } = entry;
    const run = await this.store.getRun(runId);
    const spec: NetworkSpec = run.spec;
    const checkpoint = await this.store.loadCheckpoint(runId);
    if (checkpoint && checkpoint.epoch >= spec.epochs) {
      await this.finish(runId, 'finished');
      return;
    }
    const sweepFile: SweepFile | undefined = run.sweepId ? (await this.store.getSweep(run.sweepId)).config : undefined;
    await this.store.setRunStatus(runId, 'running');
    this.emitEvent({ type: 'run-status', runId, status: 'running' });
    try {
      const result = await this.executor.execute(
        { runId, spec, resumeFrom: checkpoint?.state, datasetFiles: await this.store.datasetFiles(), backend: this.opts.backend as never },
        {
          signal: entry.abort.signal,
          onStart: (info) => void this.store.markRunning(runId, info.backend, info.paramCount),
          onBatch: ({ epoch, batch, batches, loss }) => this.emitEvent({ type: 'run-progress', runId, epochs: spec.epochs, epoch, batch, batches, loss }),
          onEpoch: async (report, state) => {
            await this.store.appendEpoch(runId, report, state);
            this.emitEvent({ type: 'run-epoch', runId, epoch: report.epoch, metrics: report.metrics });
            return { prune: await this.decidePrune(runId, sweepFile, report.epoch, report.metrics) };
          },
        },
      );
      if (result.status === 'finished' || result.status === 'pruned') await this.store.saveModel(runId, result.finalState);
      await this.finish(runId, result.status, result.error);
    } catch (e) {
      await this.finish(runId, 'failed', e instanceof Error ? e.message : String(e));
    }
  }

  private async finish(runId: string, status: RunStatus, error?: string): Promise<void> {
    await this.store.finishRun(runId, status, error);
    this.emitEvent({ type: 'run-status', runId, status, error });
  }

  private async decidePrune(runId: string, file: SweepFile | undefined, epoch: number, metrics: Record<string, number | undefined>): Promise<boolean> {
    if (!file?.early_terminate) return false;
    const value = metrics[file.metric.name];
    if (value === undefined) return false;
    const run = await this.store.getRun(runId);
    const rule = file.early_terminate;
    if (rule.type === 'hyperband') {
      // Runs are compared within their bracket; a run's bracket follows from its place in the sweep.
      const order = (await this.store.sweepTrials(run.sweepId as string, file.metric.name)).map((t) => t.runId);
      const bracketOf = (id: string) => hyperbandBracket({ ...rule, max_epochs: rule.max_epochs ?? run.spec.epochs }, order.indexOf(id));
      const mine = bracketOf(runId);
      const peers = (await this.store.metricAtEpochByRun(run.sweepId as string, file.metric.name, epoch))
        .filter((p) => p.runId !== runId && bracketOf(p.runId) === mine)
        .map((p) => p.value);
      return shouldStop(rule, file.metric.goal, epoch, value, peers, { bracket: mine, epochs: run.spec.epochs });
    }
    const peers = await this.store.metricAtEpoch(run.sweepId as string, file.metric.name, epoch, runId);
    return shouldStop(rule, file.metric.goal, epoch, value, peers);
  }

  private async checkSweepDone(sweepId: string): Promise<void> {
    if ([...this.active.values(), ...this.queue].some((a) => a.sweepId === sweepId)) return;
    if (this.proposing.has(sweepId)) return;
    if (this.sequential.has(sweepId)) {
      // A bayes sweep with budget left is between runs, not done: propose (pump) instead.
      this.pump();
      return;
    }
    const runs = (await this.store.listRuns({ sweepId, limit: 100_000 })).rows;
    if (runs.some((r) => r.status === 'running' && this.active.has(r.id))) return;
    const sweep = await this.store.getSweep(sweepId);
    if (sweep.status === 'running') {
      // Runs that still wait mean the sweep was stopped; one run cancelled by hand while the rest ran to the end
      // leaves a finished sweep (its counts say which run did not finish), unless nothing finished at all.
      const stopped = runs.some((r) => r.status === 'queued') || runs.every((r) => r.status === 'cancelled');
      const status = stopped ? 'cancelled' : 'finished';
      await this.store.setSweepStatus(sweepId, status);
      this.emitEvent({ type: 'sweep-status', sweepId, status });
    }
    const list = this.waiters.get(sweepId);
    this.waiters.delete(sweepId);
    list?.forEach((w) => w());
  }
}
