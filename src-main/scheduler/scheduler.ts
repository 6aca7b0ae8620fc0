// The sweep scheduler: queues runs, hands them to an Executor (local pool or remote), and is the only writer
// of their results: each run goes through a RunRecorder (run-recorder.ts), so each epoch's metrics and its
// checkpoint land in one transaction before training goes on.
import { EventEmitter } from 'node:events';
import type { WorkbenchEvent } from '../../shared/api.js';
import { RESUMABLE_RUN_STATUSES } from '../../shared/metrics.js';
import {
  DEFAULT_RUN_THREADS,
  parseSweepText,
  planSweep,
  SweepError,
  type RunThreads,
  type SweepFile,
  type SweepPlan,
} from '../../shared/sweep.js';
import { activationLabel } from '../../shared/spec.js';
import { describeOwner, OwnedError, type RunStore } from '../store/run-store.js';
import type { Executor } from './executor.js';
import { hyperbandBracket, shouldStop } from './early-stop.js';
import { proposeNextRun } from './bayes.js';
import { RunRecorder } from './run-recorder.js';
import { Ownership } from './ownership.js';
import { FINAL_RUN_STATUSES } from '../../shared/metrics.js';

/** Create the sweep and its runs (all queued) from a plan; nothing starts until `Scheduler.startSweep`. */
export async function createSweepFromPlan(
  store: RunStore,
  plan: SweepPlan,
  text: string,
): Promise<{ sweepId: string; runIds: string[] }> {
  const file = plan.file;
  const sweepId = await store.createSweep({ name: file.name, config: file, fileText: text });
  const runIds: string[] = [];
  for (const r of plan.runs) {
    const name = `${file.name}-${String(r.index + 1).padStart(3, '0')} ${activationLabel(r.spec)}`;
    runIds.push(await store.createRun({ spec: r.spec, name, sweepId, epochsTotal: r.spec.epochs }));
  }
  return { sweepId, runIds };
}

/** The same from file text (parsed and planned here), after checking its datasets exist. */
export async function createSweepFromText(
  store: RunStore,
  text: string,
): Promise<{ sweepId: string; runIds: string[] }> {
  const plan = planSweep(parseSweepText(text));
  await store.assertDatasetsAvailable(plan.runs.map((r) => r.spec.dataset));
  return createSweepFromPlan(store, plan, text);
}

interface ActiveRun {
  runId: string;
  sweepId: string | null;
  /** Threads the run trains on (undefined: the executor's runs choose; remote). */
  threads?: number;
  abort: AbortController;
  /** Stopped by a shutdown (a pause: the run ends `interrupted`), not by a user's cancel. */
  paused: boolean;
}

export interface SchedulerOptions {
  backend?: string;
  /** This process's lease (shared by the schedulers of one service); default: the scheduler registers its own. */
  ownership?: Ownership;
  /** What this process is, for the owner record when the scheduler registers its own lease. */
  command?: string;
}

export class Scheduler extends EventEmitter {
  private readonly queue: { runId: string; sweepId: string | null }[] = [];
  /** Threads asked for: per run (`deepbern train --threads`) and per sweep (its file's `threads`). */
  private readonly runThreads = new Map<string, RunThreads>();
  private readonly sweepThreads = new Map<string, RunThreads>();
  private readonly active = new Map<string, ActiveRun>();
  private readonly waiters = new Map<string, (() => void)[]>();
  /** Sweeps this scheduler holds the lease of. */
  private readonly sweeps = new Set<string>();
  /** Running `method: bayes` sweeps: their next runs are proposed as workers free up. */
  private readonly sequential = new Map<string, SweepFile>();
  private readonly proposing = new Set<string>();
  private closed = false;
  private own: Promise<Ownership> | null;
  private readonly ownsLease: boolean;

  constructor(
    private readonly store: RunStore,
    private readonly executor: Executor,
    private readonly opts: SchedulerOptions = {},
  ) {
    super();
    this.ownsLease = !opts.ownership;
    this.own = opts.ownership ? Promise.resolve(opts.ownership) : null;
    if (opts.ownership) this.listen(opts.ownership);
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

  private ownership(): Promise<Ownership> {
    this.own ??= Ownership.start(this.store, {
      command: this.opts.command ?? 'deepbern',
      log: (l) => this.emit('error-log', new Error(l)),
    }).then((o) => {
      this.listen(o);
      return o;
    });
    return this.own;
  }

  private listen(o: Ownership): void {
    o.on('cancel-run', (id: string) => {
      if (this.active.has(id)) void this.cancelRun(id).catch((e: unknown) => this.emit('error-log', e));
    });
    o.on('cancel-sweep', (id: string) => {
      if (this.sweeps.has(id)) void this.cancelSweep(id).catch((e: unknown) => this.emit('error-log', e));
    });
  }

  /** Queue every unfinished run of a sweep (first launch, or resume after a crash or cancel). OwnedError when a live process drives it. */
  async startSweep(sweepId: string): Promise<number> {
    const own = await this.ownership();
    const sweep = await this.store.getSweep(sweepId);
    const owner = this.sweeps.has(sweepId) ? null : await this.store.liveOwnerOf('sweeps', sweepId);
    if (owner && owner.id !== own.id)
      throw new OwnedError(
        `sweep ${sweepId} (${sweep.name}) is being run by ${describeOwner(owner)}; it is not taken over`,
        owner,
      );
    const runs = (await this.store.listRuns({ sweepId, limit: 100_000, orderBy: 'created_at' })).rows;
    const todo = runs.filter(
      (r) => RESUMABLE_RUN_STATUSES.includes(r.status) && !this.active.has(r.id) && !this.isQueued(r.id),
    );
    const proposes = sweep.config.method === 'bayes' && runs.length < (sweep.config.run_cap ?? 0);
    if (todo.length === 0 && !proposes && !runs.some((r) => this.active.has(r.id) || this.isQueued(r.id))) {
      throw new SweepError([`sweep ${sweepId} (${sweep.name}) has no unfinished runs: nothing to resume`]);
    }
    await own.write('claim the sweep', () => this.store.claimSweep(sweepId, own.id)); // never takes over a live owner's sweep
    this.sweeps.add(sweepId);
    for (const r of todo) {
      if (r.status !== 'queued') await own.write('queue a run', () => this.store.setRunStatus(r.id, 'queued'));
      this.queue.push({ runId: r.id, sweepId });
    }
    if (sweep.config.method === 'bayes') this.sequential.set(sweepId, sweep.config);
    if (sweep.config.threads !== undefined) this.sweepThreads.set(sweepId, sweep.config.threads);
    this.emitEvent({ type: 'sweep-status', sweepId, status: 'running' });
    this.pump();
    return todo.length;
  }

  /** Queue a single run (the CLI's `train`, or a resume of one run); it is claimed when it starts. */
  async startRun(runId: string, opts: { threads?: RunThreads } = {}): Promise<void> {
    if (this.active.has(runId) || this.isQueued(runId)) return;
    if (opts.threads !== undefined) this.runThreads.set(runId, opts.threads);
    const own = await this.ownership();
    const run = await this.store.getRun(runId);
    const owner = await this.store.liveOwnerOf('runs', runId);
    if (owner && owner.id !== own.id) await own.write('claim the run', () => this.store.claimRun(runId, own.id)); // throws OwnedError, naming it
    this.queue.push({ runId, sweepId: run.sweepId });
    this.pump();
  }

  /** Resolves when the run has left the queue and finished executing (at once when it is neither). */
  async waitForRun(runId: string): Promise<void> {
    while (this.active.has(runId) || this.isQueued(runId)) await new Promise((r) => setTimeout(r, 50));
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

  /** A user's cancel: queued and interrupted runs end cancelled, running ones stop after their batch. */
  async cancelSweep(sweepId: string): Promise<void> {
    await this.store.getSweep(sweepId); // unknown id → StoreError
    this.sequential.delete(sweepId);
    const own = await this.ownership();
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i].sweepId === sweepId) this.queue.splice(i, 1);
    for (const r of (await this.store.listRuns({ sweepId, status: ['queued', 'interrupted'], limit: 100_000 })).rows) {
      await own.write('cancel a run', () => this.store.finishRun(r.id, 'cancelled'));
      this.emitEvent({ type: 'run-status', runId: r.id, status: 'cancelled' });
    }
    for (const a of this.active.values()) if (a.sweepId === sweepId) a.abort.abort();
    await own.write('cancel the sweep', () => this.store.setSweepStatus(sweepId, 'cancelled'));
    this.emitEvent({ type: 'sweep-status', sweepId, status: 'cancelled' });
    await this.checkSweepDone(sweepId);
  }

  async cancelRun(runId: string): Promise<void> {
    const run = await this.store.getRun(runId);
    const i = this.queue.findIndex((q) => q.runId === runId);
    if (i >= 0) {
      this.queue.splice(i, 1);
      const own = await this.ownership();
      await own.write('cancel the run', () => this.store.finishRun(runId, 'cancelled'));
      this.emitEvent({ type: 'run-status', runId, status: 'cancelled' });
      if (run.sweepId) await this.checkSweepDone(run.sweepId);
    }
    this.active.get(runId)?.abort.abort();
  }

  /** Whether this scheduler has the run queued or executing. */
  has(runId: string): boolean {
    return this.active.has(runId) || this.isQueued(runId);
  }

  /** Cancel everything running and queued (a user's "stop all"). Finished epochs stay stored. */
  async cancelAll(): Promise<void> {
    this.sequential.clear();
    for (const id of [...this.sweeps]) await this.cancelSweep(id);
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

  /**
   * A shutdown is a pause, not a cancel: running runs stop after their batch and end `interrupted` (resumable),
   * queued sweep runs stay queued, this process's sweeps become `interrupted`, and its lease ends.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sequential.clear();
    const own = this.own ? await this.own : null;
    const queued = this.queue.splice(0);
    for (const a of this.active.values()) {
      a.paused = true;
      a.abort.abort();
    }
    await this.idle();
    if (own) {
      for (const q of queued)
        if (!q.sweepId)
          await own.write('pause a run', () =>
            this.store.finishRun(q.runId, 'interrupted', 'the process stopped before the run started; resume runs it'),
          );
      for (const id of this.sweeps) {
        const s = await this.store.getSweep(id).catch(() => null);
        if (s)
          await own.write('pause the sweep', () =>
            this.store.releaseSweep(id, own.id, s.status === 'running' ? 'interrupted' : undefined),
          );
      }
      if (this.ownsLease) await own.stop();
    }
    this.sweeps.clear();
    await this.executor.close();
  }

  private isQueued(runId: string): boolean {
    return this.queue.some((q) => q.runId === runId);
  }

  /**
   * Threads for the run at the head of the queue, or null when the cores it needs are busy (it waits). With a
   * thread budget: an explicit count waits for that many free cores (at most the budget); auto splits the free
   * cores evenly over the runs that can start now (1 run on 2 cores: 2 threads; 2 runs: 1 each).
   */
  private threadsFor(runId: string, sweepId: string | null): number | undefined | null {
    const asked =
      this.runThreads.get(runId) ?? (sweepId ? this.sweepThreads.get(sweepId) : undefined) ?? DEFAULT_RUN_THREADS;
    const budget = this.executor.threadBudget;
    if (budget === undefined) return asked === 'auto' ? undefined : asked;
    let used = 0;
    for (const a of this.active.values()) used += a.threads ?? 1;
    const free = budget - used;
    if (asked !== 'auto') return free >= Math.min(asked, budget) ? asked : null;
    if (free < 1) return null;
    const starting = Math.max(1, Math.min(this.queue.length, this.executor.capacity - this.active.size));
    return Math.max(1, Math.ceil(free / starting)); // 3 runs on 4 cores: 2, 1, 1
  }

  private pump(): void {
    while (!this.closed && this.active.size < this.executor.capacity && this.queue.length > 0) {
      const head = this.queue[0];
      const threads = this.threadsFor(head.runId, head.sweepId);
      if (threads === null) break;
      const { runId, sweepId } = this.queue.shift() as { runId: string; sweepId: string | null };
      const entry: ActiveRun = { runId, sweepId, threads, abort: new AbortController(), paused: false };
      this.active.set(runId, entry);
      this.emitEvent({ type: 'workers', size: this.executor.capacity, busy: this.active.size });
      void this.execute(entry)
        .catch((e: unknown) => this.emit('error-log', e))
        .finally(() => {
          this.active.delete(runId);
          this.runThreads.delete(runId);
          this.emitEvent({ type: 'workers', size: this.executor.capacity, busy: this.active.size });
          this.pump();
          if (entry.sweepId) void this.checkSweepDone(entry.sweepId).catch((e: unknown) => this.emit('error-log', e));
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
      while (
        !this.closed &&
        this.sequential.has(sweepId) &&
        this.active.size + this.queue.length < this.executor.capacity
      ) {
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
    const own = await this.ownership();
    const run = await this.store.getRun(runId);
    if (run.status === 'cancelled' || FINAL_RUN_STATUSES.includes(run.status)) return; // cancelled by another process while queued here
    const recorder = new RunRecorder(this.store, runId, run.spec, (e) => this.emitEvent(e), {
      owner: own.id,
      write: (w, fn) => own.write(w, fn),
    });
    const start = await recorder.begin();
    if (!start) return;
    const sweepFile: SweepFile | undefined = run.sweepId ? (await this.store.getSweep(run.sweepId)).config : undefined;
    try {
      const result = await this.executor.execute(
        {
          runId,
          spec: start.spec,
          resumeFrom: start.resumeFrom,
          datasetFiles: await this.store.datasetFiles(),
          backend: this.opts.backend as never,
          ...(entry.threads !== undefined ? { threads: entry.threads } : {}),
        },
        {
          signal: entry.abort.signal,
          onStart: (info) => void recorder.started(info).catch((e: unknown) => this.emit('error-log', e)),
          onBatch: (p) => recorder.progress(p),
          onEpoch: async (report, state) => {
            await recorder.epoch(report, state);
            return { prune: await this.decidePrune(runId, sweepFile, report.epoch, report.metrics) };
          },
        },
      );
      if (entry.paused && result.status === 'cancelled')
        await recorder.finish(
          'interrupted',
          'the process stopped (shut down) before the run finished; resume continues from its last checkpoint',
        );
      else await recorder.end(result);
    } catch (e) {
      await recorder.fail(e);
    }
  }

  private async decidePrune(
    runId: string,
    file: SweepFile | undefined,
    epoch: number,
    metrics: Record<string, number | undefined>,
  ): Promise<boolean> {
    if (!file?.early_terminate) return false;
    const value = metrics[file.metric.name];
    if (value === undefined) return false;
    const run = await this.store.getRun(runId);
    const rule = file.early_terminate;
    if (rule.type === 'hyperband') {
      // Runs are compared within their bracket; a run's bracket follows from its place in the sweep.
      const order = (await this.store.sweepTrials(run.sweepId as string, file.metric.name)).map((t) => t.runId);
      const bracketOf = (id: string) =>
        hyperbandBracket({ ...rule, max_epochs: rule.max_epochs ?? run.spec.epochs }, order.indexOf(id));
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
    if (this.closed) return; // a pause: close() releases the sweep as interrupted
    if (this.proposing.has(sweepId)) return;
    if (this.sequential.has(sweepId)) {
      // A bayes sweep with budget left is between runs, not done: propose (pump) instead.
      this.pump();
      return;
    }
    const runs = (await this.store.listRuns({ sweepId, limit: 100_000 })).rows;
    if (runs.some((r) => r.status === 'running' && this.active.has(r.id))) return;
    const sweep = await this.store.getSweep(sweepId);
    if (this.sweeps.has(sweepId)) {
      const own = await this.ownership();
      let status: typeof sweep.status | undefined;
      if (sweep.status === 'running') {
        // Interrupted runs (a dead remote process, lost jobs) leave it resumable; runs that still wait mean it was
        // stopped; one run cancelled by hand while the rest ran to the end leaves a finished sweep (its counts say
        // which run did not finish), unless nothing finished at all.
        const stopped = runs.some((r) => r.status === 'queued') || runs.every((r) => r.status === 'cancelled');
        status = runs.some((r) => r.status === 'interrupted') ? 'interrupted' : stopped ? 'cancelled' : 'finished';
      }
      await own.write('finish the sweep', () => this.store.releaseSweep(sweepId, own.id, status));
      this.sweeps.delete(sweepId);
      if (status) this.emitEvent({ type: 'sweep-status', sweepId, status });
    }
    const list = this.waiters.get(sweepId);
    this.waiters.delete(sweepId);
    list?.forEach((w) => w());
  }
}
