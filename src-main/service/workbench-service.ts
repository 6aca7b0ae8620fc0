// The workbench service: the ONE implementation of the WorkbenchApi contract, over the RunStore and the
// Scheduler. The Electron IPC bridge and the HTTP/WS server are thin adapters over an instance of this class
// (DESIGN §2.1). It owns the scheduler (and through it the worker pool) for its whole lifetime.
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type {
  AppSettings,
  ApproxLabJob,
  ApproxLabRequest,
  DatasetImportRequest,
  DatasetInfo,
  Design,
  DesignBlock,
  LayerGrid,
  ListRunsQuery,
  PaperExample,
  RemoteStatus,
  RunDetail,
  RunSummary,
  SavedView,
  SeriesBucket,
  SettingsPatch,
  SweepPlanView,
  SweepInsights,
  SweepSummary,
  SystemInfo,
  WorkbenchApi,
  WorkbenchEvent,
} from '../../shared/api.js';
import {
  EPOCH_METRICS,
  LAYER_METRICS,
  type EpochMetric,
  type LayerMetric,
  type RunStatus,
} from '../../shared/metrics.js';
import { activationLabel, type NetworkSpec, type NetworkSpecInput } from '../../shared/spec.js';
import { SweepError, type RunThreads, type SweepPlan } from '../../shared/sweep.js';
import { closePlanners, planSweepOffThread } from './plan-thread.js';
import { sweepInsights } from '../report/sweep-insights.js';
import { initBackend, type BackendInfo, type BackendPref } from '../../workers/engine/backend.js';
import { BUILTIN_DATASETS } from '../../workers/data/registry.js';
import { createSweepFromPlan, Scheduler } from '../scheduler/scheduler.js';
import type { Executor } from '../scheduler/executor.js';
import { LocalPoolExecutor } from '../scheduler/local-pool.js';
import { Ownership } from '../scheduler/ownership.js';
import { describeOwner, OwnedError, type LeaseTimings } from '../store/run-store.js';
import { RunStore } from '../store/run-store.js';
import type { SweepRecord } from '../store/sweeps.js';
import { VERSION } from '../version.js';
import { datasetsDirFor, importDatasetFile } from './datasets.js';
import { cleanStaleFiles, cleanupLine } from './stale-files.js';
import * as designs from './designs.js';
import { ServiceError } from './errors.js';
import { runsToCsv } from './export-csv.js';
import { FileGrants } from './file-grants.js';
import type { ApproxResults, DeadReading, GradientCertificate, PaperFigures } from '../../shared/paper.js';
import type { BandMode } from '../../shared/groups.js';
import { loadApproxResults, runApproxLab, type ApproxLabOptions, type FitDone } from '../report/approx-lab.js';
import { buildCertificate } from '../report/certificate.js';
import { buildPaperFigures } from '../report/figures.js';
import { buildPaperReport } from '../report/paper-report.js';
import { findTargetFunction, TARGET_FUNCTIONS } from '../../workers/data/target-functions.js';
import { ApproxLabRunner, listPaperExamples } from './paper-app.js';
import { SettingsFile, settingsPathFor } from './settings.js';
import { assembleIdxDir } from './idx-upload.js';
import type { Upload } from './file-grants.js';
import { connectRemoteExecutor, remoteStatus } from './remote.js';
import { IMPORT_KINDS, isOneOf } from '../../shared/vocab.js';

export interface WorkbenchServiceOptions {
  /** The SQLite store file (created when missing). */
  dbPath: string;
  transport: SystemInfo['transport'];
  /** Parallel runs (default: CPU cores; 1 with a native backend). */
  workers?: number;
  /** Backend preference; the main process initialises it once and the pool's threads use the same one. */
  backend?: BackendPref;
  /** How the backend is detected (default: in this thread). The desktop app asks a worker thread instead. */
  probeBackend?: (pref?: BackendPref) => Promise<BackendInfo>;
  /** Re-queue sweeps a crash left running. The app does; tests choose. */
  resumeOnStart?: boolean;
  /** Where runs execute (default: the local Piscina pool). */
  executor?: (backend: BackendInfo) => Executor | Promise<Executor>;
  /** Files the renderer may import (uploads, dialog picks); shared with the transport. */
  grants?: FileGrants;
  /** Settings file (Redis URL, remote toggle); default `settings.json` beside the DB. */
  settingsPath?: string;
  /** The backend jobs ask executors for (default: the one detected here); undefined lets remote workers choose. */
  jobBackend?: BackendPref;
  /** What this process is, as a second process names it ("sweep … is being run by pid … (deepbern sweep run)"). */
  command?: string;
  /** Lease timings (default: $DEEPBERN_LEASE_MS / $DEEPBERN_HEARTBEAT_MS, else 15 s / 3 s). */
  leases?: Partial<LeaseTimings>;
  /** Follow Settings → "use remote workers" when launching (default true; the CLI chooses with --redis instead). */
  remoteFromSettings?: boolean;
  /** The executor for sweeps launched while "use remote workers" is on (default: BullMQ RemoteExecutor). */
  remoteExecutor?: (redisUrl: string, backend: BackendInfo) => Promise<Executor>;
}

const ACTIVE: readonly RunStatus[] = ['queued', 'running'];
/** Runs a user may cancel: active ones, and interrupted ones (their owner is gone; they would otherwise resume). */
const CANCELLABLE: readonly RunStatus[] = ['queued', 'running', 'interrupted'];
const COMMANDS: Record<SystemInfo['transport'], string> = {
  electron: 'the desktop app',
  web: 'deepbern serve',
  cli: 'deepbern',
};
const PROGRESS_EVERY_MS = 200;

export class WorkbenchService implements WorkbenchApi {
  private readonly events = new EventEmitter();
  private closing: Promise<void> | null = null;
  /** Sweeps launched on remote workers run on a second scheduler over the remote executor (made on first use). */
  private remote: { url: string; scheduler: Scheduler; executor: Executor } | null = null;
  private remoteConnecting: Promise<Scheduler> | null = null;
  /** Which scheduler each sweep launched (or resumed) in this session runs on. */
  private readonly sweepOn = new Map<string, Scheduler>();
  private readonly lab: ApproxLabRunner;
  settings!: SettingsFile;
  private remoteFactory: (redisUrl: string, backend: BackendInfo) => Promise<Executor> = connectRemoteExecutor;
  private remoteFromSettings = true;
  private jobBackend: string | undefined;

  private constructor(
    readonly store: RunStore,
    private readonly ownership: Ownership,
    private readonly scheduler: Scheduler,
    private readonly executor: Executor,
    private readonly backend: BackendInfo,
    readonly grants: FileGrants,
    private readonly transport: SystemInfo['transport'],
  ) {
    // Many browser tabs and the bridge may listen; the emitter must not warn at 10.
    this.events.setMaxListeners(0);
    scheduler.on('event', (e: WorkbenchEvent) => this.emit(e));
    scheduler.on('error-log', (e: unknown) =>
      process.stderr.write(`deepbern: ${e instanceof Error ? e.message : String(e)}\n`),
    );
    this.lab = new ApproxLabRunner(
      store,
      backend.name,
      (e) => this.emit(e),
      ownership,
      () => scheduler.capacity,
    );
  }

  static async start(opts: WorkbenchServiceOptions): Promise<WorkbenchService> {
    // Detect the backend before sizing the pool: a native backend allows one training thread (DESIGN §2.4).
    const backend = await (opts.probeBackend ?? initBackend)(opts.backend);
    const store = await RunStore.open(opts.dbPath, { busyTimeoutMs: busyTimeoutFromEnv() });
    // What a crash left behind (half-written dataset files, upload folders) goes before anything new starts.
    const cleaned = cleanupLine(await cleanStaleFiles({ datasetsDir: datasetsDirFor(store.path) }));
    if (cleaned) process.stderr.write(`deepbern: ${cleaned}\n`);
    let executor: Executor;
    let ownership: Ownership;
    const log = (line: string) => process.stderr.write(`deepbern: ${line}\n`);
    try {
      ownership = await Ownership.start(store, {
        command: opts.command ?? COMMANDS[opts.transport],
        timings: opts.leases,
        log,
      });
    } catch (e) {
      await store.close();
      throw e;
    }
    try {
      executor = opts.executor
        ? await opts.executor(backend)
        : new LocalPoolExecutor({ workers: opts.workers, backend: backend.name });
    } catch (e) {
      await ownership.stop();
      await store.close();
      throw e;
    }
    const jobBackend = 'jobBackend' in opts ? opts.jobBackend : backend.name;
    const scheduler = new Scheduler(store, executor, { backend: jobBackend, ownership });
    const service = new WorkbenchService(
      store,
      ownership,
      scheduler,
      executor,
      backend,
      opts.grants ?? new FileGrants(),
      opts.transport,
    );
    service.jobBackend = jobBackend;
    service.settings = new SettingsFile(opts.settingsPath ?? settingsPathFor(opts.dbPath));
    if (opts.remoteExecutor) service.remoteFactory = opts.remoteExecutor;
    if (opts.remoteFromSettings === false) service.remoteFromSettings = false;
    if (opts.resumeOnStart) await service.resumeInterrupted();
    return service;
  }

  /**
   * Stores a planned sweep (all runs queued) without starting a service: `sweep run --redis` stores it before
   * Redis is asked anything, so an unreachable Redis leaves a resumable sweep rather than nothing.
   */
  static async storeSweep(dbPath: string, plan: SweepPlan, text: string): Promise<string> {
    const store = await RunStore.open(dbPath, { busyTimeoutMs: busyTimeoutFromEnv() });
    try {
      await store.assertDatasetsAvailable(plan.runs.map((r) => r.spec.dataset));
      return (await createSweepFromPlan(store, plan, text)).sweepId;
    } finally {
      await store.close();
    }
  }

  /** Subscribe to every WorkbenchEvent; returns the unsubscribe function. */
  onEvent(cb: (e: WorkbenchEvent) => void): () => void {
    this.events.on('event', cb);
    return () => this.events.off('event', cb);
  }

  private emit(e: WorkbenchEvent): void {
    this.events.emit('event', e);
  }

  /**
   * What dead owners left (sweeps and standalone runs now `interrupted`) is queued again from its checkpoints.
   * A sweep a live process drives (a CLI `sweep run`, another app) is never taken over: it is skipped.
   */
  private async resumeInterrupted(): Promise<string[]> {
    await this.store.reapExpired();
    const resumed: string[] = [];
    for (const s of await this.store.listSweeps()) {
      if (s.status !== 'interrupted') continue;
      try {
        await this.scheduler.startSweep(s.id);
        resumed.push(s.id);
      } catch (e) {
        if (e instanceof OwnedError) {
          process.stderr.write(`deepbern: not resuming: ${e.message}\n`);
          continue;
        }
        // Nothing left to run: the crash came after its last run finished.
        if (e instanceof SweepError) await this.store.setSweepStatus(s.id, 'finished');
        else throw e;
      }
    }
    for (const r of (await this.store.listRuns({ status: 'interrupted', limit: 100_000 })).rows) {
      if (r.sweepId) continue;
      try {
        await this.scheduler.startRun(r.id);
        resumed.push(r.id);
      } catch (e) {
        if (!(e instanceof OwnedError)) throw e; // claimed by a live process meanwhile: it is not taken over
      }
    }
    return resumed;
  }

  /**
   * Stops what runs after its current batch (finished epochs and checkpoints stay), stops the pool, closes the
   * DB. A shutdown is a pause, not a user's cancel: what was running ends `interrupted` and this process's lease
   * ends, so the next start with resumeOnStart (or `sweep resume`) continues it from its checkpoints.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.scheduler.close();
      await this.remoteConnecting?.catch(() => undefined);
      await this.remote?.scheduler.close();
      await this.lab.idle().catch(() => undefined);
      await this.ownership.stop();
      await this.grants.releaseAll();
      await this.store.close();
      await closePlanners();
      this.events.removeAllListeners();
    })();
    return this.closing;
  }

  // ── system ────────────────────────────────────────────────────────────────────────────────────────────

  async 'system.info'(): Promise<SystemInfo> {
    return {
      version: VERSION,
      backend: { name: this.backend.name, tried: this.backend.tried.map((t) => ({ name: t.name, error: t.error })) },
      workers: {
        size: this.scheduler.capacity,
        busy: this.scheduler.busy,
        ...(this.executor.capacityReason ? { reason: this.executor.capacityReason } : {}),
      },
      dbPath: this.store.path,
      transport: this.transport,
    };
  }

  // ── datasets ──────────────────────────────────────────────────────────────────────────────────────────

  async 'datasets.list'(): Promise<DatasetInfo[]> {
    const builtin: DatasetInfo[] = BUILTIN_DATASETS.map((d) => ({ ...d }));
    const imported: DatasetInfo[] = (await this.store.listDatasets()).map((d) => ({
      id: d.id,
      title: d.title,
      kind: isOneOf(IMPORT_KINDS, d.kind) ? d.kind : 'csv',
      task: d.task ?? 'classification',
      inputDim: d.inputDim ?? 0,
      outputDim: d.outputDim ?? 0,
      ...(d.rows !== null ? { rows: d.rows } : {}),
      ...(d.sourcePath ? { description: `imported from ${userFileName(d.sourcePath)}` } : {}),
      createdAt: d.createdAt,
    }));
    return [...builtin, ...imported];
  }

  async 'datasets.import'(req: DatasetImportRequest): Promise<DatasetInfo> {
    if (req.uploadIds !== undefined) {
      // Web mode's IDX import: four uploads become one folder.
      if (req.kind !== 'idx')
        throw new ServiceError(
          'bad-request',
          'uploadIds is for kind idx (the four IDX files); other kinds upload one file',
        );
      if (req.path !== undefined || req.uploadId !== undefined)
        throw new ServiceError('bad-request', 'an import needs exactly one of path, uploadId or uploadIds');
      const uploads = req.uploadIds.map((id) => this.grants.resolve({ uploadId: id }).upload as Upload);
      const { dir, cleanup } = await assembleIdxDir(uploads);
      try {
        const info = await this.importFrom(
          req,
          dir,
          undefined,
          `uploaded IDX files ${uploads.map((u) => u.name).join(', ')}`,
        );
        for (const u of uploads) await this.grants.release(u.id);
        return info;
      } finally {
        await cleanup();
      }
    }
    const { path, upload } = this.grants.resolve(req);
    return this.importFrom(req, path, upload);
  }

  private async importFrom(
    req: DatasetImportRequest,
    path: string,
    upload: Upload | undefined,
    displayName = upload?.name,
  ): Promise<DatasetInfo> {
    const jobId = `i-${randomBytes(6).toString('hex')}`;
    let last = 0;
    const progress = (rows: number, fraction: number) =>
      this.emit({ type: 'dataset-import', jobId, rows, fraction, done: false });
    progress(0, 0);
    try {
      const info = await importDatasetFile(this.store, {
        kind: req.kind,
        path,
        rows: req.rows,
        labelColumn: req.labelColumn,
        task: req.task,
        title: req.title ?? (upload ? `${upload.name}` : undefined),
        ...(displayName ? { displayName } : {}),
        onProgress: (p) => {
          const now = Date.now();
          if (now - last < PROGRESS_EVERY_MS) return;
          last = now;
          progress(p.rows, p.fraction);
        },
      });
      this.emit({ type: 'dataset-import', jobId, rows: info.rows ?? 0, fraction: 1, done: true, datasetId: info.id });
      this.emit({ type: 'data-changed', what: 'datasets' });
      if (upload) await this.grants.release(upload.id); // converted: the raw upload is no longer needed
      return info;
    } catch (e) {
      this.emit({
        type: 'dataset-import',
        jobId,
        rows: 0,
        fraction: 0,
        done: true,
        error: e instanceof Error ? e.message : String(e),
      });
      throw e;
    }
  }

  async 'datasets.remove'(id: string): Promise<void> {
    if (BUILTIN_DATASETS.some((d) => d.id === id))
      throw new ServiceError('bad-request', `${id} is a built-in dataset and cannot be removed`);
    const rec = await this.store.removeDataset(id);
    if (rec.filePath) await rm(rec.filePath, { force: true });
    this.emit({ type: 'data-changed', what: 'datasets' });
  }

  // ── designs ───────────────────────────────────────────────────────────────────────────────────────────

  async 'designs.list'(): Promise<Design[]> {
    return designs.listDesigns(this.store.db);
  }

  async 'designs.save'(d: {
    id?: string;
    name: string;
    blocks: DesignBlock[];
    training: Partial<NetworkSpecInput>;
  }): Promise<Design> {
    const saved = await designs.saveDesign(this.store.db, { ...d, training: d.training as Record<string, unknown> });
    this.emit({ type: 'data-changed', what: 'designs' });
    return saved;
  }

  async 'designs.remove'(id: string): Promise<void> {
    await designs.removeDesign(this.store.db, id);
    this.emit({ type: 'data-changed', what: 'designs' });
  }

  // ── sweeps ────────────────────────────────────────────────────────────────────────────────────────────

  async 'sweeps.plan'(text: string): Promise<SweepPlanView> {
    const plan = await planSweepOffThread(text);
    return {
      name: plan.file.name,
      total: plan.total,
      sequential: plan.sequential === true,
      runs: plan.runs.map((r) => ({ index: r.index, params: r.params, label: activationLabel(r.spec) })),
    };
  }

  async 'sweeps.launch'(text: string): Promise<SweepSummary> {
    return this.launchPlan(await planSweepOffThread(text), text); // a bad file fails before Redis is asked anything
  }

  /** A sweep the caller already parsed and planned (the CLI checks its file before starting a service): stored and started. */
  async launchPlan(plan: SweepPlan, text: string): Promise<SweepSummary> {
    await this.store.assertDatasetsAvailable(plan.runs.map((r) => r.spec.dataset));
    // Where it runs is chosen now: connect first, so an unreachable Redis stores no sweep.
    const scheduler = await this.launchScheduler();
    const { sweepId } = await createSweepFromPlan(this.store, plan, text);
    this.sweepOn.set(sweepId, scheduler);
    await scheduler.startSweep(sweepId);
    return summary(await this.store.getSweep(sweepId));
  }

  // ── for the CLI (not in the contract: a terminal waits for its work; the app watches events) ────────────

  /** Stores a standalone run (`deepbern train`) and queues it on the local scheduler; returns its id. */
  async trainRun(spec: NetworkSpec, name?: string, opts: { start?: boolean } = {}): Promise<string> {
    await this.store.assertDatasetsAvailable([spec.dataset]);
    const runId = await this.store.createRun({ spec, name: name ?? activationLabel(spec), epochsTotal: spec.epochs });
    if (opts.start !== false) await this.scheduler.startRun(runId);
    return runId;
  }

  /** Queues a stored queued run (trainRun with start: false, once the caller listens). */
  startStoredRun(runId: string, opts: { threads?: RunThreads } = {}): Promise<void> {
    return this.scheduler.startRun(runId, opts);
  }

  /** Queues a stored run again from its last checkpoint (an interrupted or cancelled standalone run). */
  async resumeRun(runId: string, opts: { threads?: RunThreads } = {}): Promise<void> {
    await this.store.reapExpired();
    const run = await this.store.getRun(runId);
    if (run.status !== 'interrupted' && run.status !== 'cancelled' && run.status !== 'queued') {
      const owner = run.status === 'running' ? await this.store.liveOwnerOf('runs', runId) : null;
      throw new ServiceError(
        'conflict',
        owner
          ? `run ${runId} is being run by ${describeOwner(owner)}`
          : `run ${runId} is ${run.status}: only interrupted, cancelled or queued runs resume`,
      );
    }
    if (run.status !== 'queued') await this.store.setRunStatus(runId, 'queued');
    await this.scheduler.startRun(runId, opts);
  }

  /**
   * The full approximation lab in the foreground (`deepbern approx`): its fits are this process's runs, under its
   * lease and recorder like every run, and their run events reach this service's listeners.
   */
  approxLab(o: ApproxLabOptions, onFit?: (f: FitDone) => void): Promise<ApproxResults> {
    return runApproxLab(this.store, o, onFit, {}, { ownership: this.ownership, emit: (e) => this.emit(e) });
  }

  /** Resolves when the run has stopped executing here. */
  waitForRun(runId: string): Promise<void> {
    return this.scheduler.waitForRun(runId);
  }

  /** Resolves when none of the sweep's runs is queued or executing here any more. */
  waitForSweep(sweepId: string): Promise<void> {
    return this.schedulerOf(sweepId).waitForSweep(sweepId);
  }

  /** Parallel runs of the scheduler a sweep runs on (the CLI's start line). */
  capacityOf(sweepId: string): number {
    return this.schedulerOf(sweepId).capacity;
  }

  /** The local pool, or (Settings → "use remote workers") the scheduler over the remote executor. */
  private async launchScheduler(): Promise<Scheduler> {
    const { useRemote, redisUrl } = this.settings.value;
    if (!this.remoteFromSettings || !useRemote || !redisUrl) return this.scheduler;
    if (this.remote?.url === redisUrl) return this.remote.scheduler;
    this.remoteConnecting ??= (async () => {
      try {
        const executor = await this.remoteFactory(redisUrl, this.backend);
        const scheduler = new Scheduler(this.store, executor, { backend: this.jobBackend, ownership: this.ownership });
        scheduler.on('event', (e: WorkbenchEvent) => this.emit(e));
        scheduler.on('error-log', (e: unknown) =>
          process.stderr.write(`deepbern: remote scheduler: ${e instanceof Error ? e.message : String(e)}\n`),
        );
        const old = this.remote;
        this.remote = { url: redisUrl, scheduler, executor };
        // A changed URL: the old connection's runs finish where they are; it closes when they are done.
        if (old)
          void old.scheduler
            .idle()
            .then(() => old.scheduler.close())
            .catch(() => undefined);
        return scheduler;
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        throw new ServiceError(
          'conflict',
          `remote workers are on (Settings) but ${msg}. Start Redis, fix the URL, or turn remote workers off.`,
        );
      } finally {
        this.remoteConnecting = null;
      }
    })();
    return this.remoteConnecting;
  }

  private schedulerOf(sweepId: string | null): Scheduler {
    return (sweepId && this.sweepOn.get(sweepId)) || this.scheduler;
  }

  async 'sweeps.list'(): Promise<SweepSummary[]> {
    return (await this.store.listSweeps()).map(summary);
  }

  'sweeps.insights'(id: string): Promise<SweepInsights> {
    return sweepInsights(this.store, id);
  }

  async 'sweeps.get'(id: string): Promise<SweepSummary & { fileText: string }> {
    const s = await this.store.getSweep(id);
    return { ...summary(s), fileText: s.fileText ?? '' };
  }

  async 'sweeps.cancel'(id: string): Promise<void> {
    await this.store.reapExpired();
    const s = await this.store.getSweep(id);
    if (s.status === 'finished') throw new ServiceError('conflict', `sweep ${id} (${s.name}) is already finished`);
    // Another live process drives it: its status says cancelled, and that owner stops its runs within a heartbeat.
    await this.schedulerOf(id).cancelSweep(id);
  }

  async 'sweeps.resume'(id: string): Promise<void> {
    await this.store.getSweep(id); // unknown id → not-found before Redis is asked anything
    const scheduler = await this.launchScheduler();
    await scheduler.startSweep(id); // "nothing to resume" is a SweepError → bad-request
    this.sweepOn.set(id, scheduler);
  }

  // ── runs ──────────────────────────────────────────────────────────────────────────────────────────────

  async 'runs.list'(q: ListRunsQuery): Promise<{ rows: RunSummary[]; total: number }> {
    return this.store.listRuns({ ...q, status: q.status as RunStatus | undefined });
  }

  async 'runs.get'(id: string): Promise<RunDetail> {
    return this.store.getRun(id);
  }

  async 'runs.cancel'(id: string): Promise<void> {
    await this.store.reapExpired();
    const run = await this.store.getRun(id);
    if (!CANCELLABLE.includes(run.status))
      throw new ServiceError(
        'conflict',
        `run ${id} is ${run.status}: only queued, running or interrupted runs can be cancelled`,
      );
    const scheduler = [this.scheduler, this.remote?.scheduler].find((s) => s?.has(id));
    if (scheduler) return scheduler.cancelRun(id);
    if (run.status === 'running') {
      // Another live process trains it: ask its owner, who stops it after the current batch.
      await this.store.requestCancel(id);
      return;
    }
    // Queued by another process (or left queued or interrupted by one that is gone): cancel it in the store.
    await this.store.finishRun(id, 'cancelled');
    this.emit({ type: 'run-status', runId: id, status: 'cancelled' });
  }

  async 'runs.getMany'(ids: string[]): Promise<{ runs: RunDetail[]; missing: string[] }> {
    return this.store.getRuns(ids);
  }

  async 'store.space'(): Promise<{ fileBytes: number; freeBytes: number; incremental: boolean }> {
    return this.store.space();
  }

  async 'store.compact'(): Promise<{ freedBytes: number }> {
    return this.store.compact();
  }

  async 'runs.delete'(
    ids: string[],
  ): Promise<{ deleted: number; freedBytes: number; reclaim?: 'done' | 'background' | 'on-request' }> {
    await this.store.reapExpired(); // a run whose owner died is interrupted, and deletable
    const { rows } = await this.store.listRuns({ status: ACTIVE, limit: 1_000_000 });
    const busy = rows.filter((r) => ids.includes(r.id));
    if (busy.length)
      throw new ServiceError(
        'conflict',
        `run${busy.length > 1 ? 's' : ''} ${busy.map((r) => r.id).join(', ')} ${busy.length > 1 ? 'are' : 'is'} still ${busy[0]!.status}: cancel before deleting`,
      );
    for (const id of ids) await this.store.getRun(id); // an unknown id is a 404 and nothing is deleted
    const r = await this.store.deleteRuns(ids, { vacuum: 'background' });
    this.emit({ type: 'data-changed', what: 'runs' });
    return { deleted: r.deleted, freedBytes: r.freedBytes, ...(r.reclaim ? { reclaim: r.reclaim } : {}) };
  }

  async 'runs.setTags'(id: string, tags: string[]): Promise<void> {
    await this.store.setTags(id, tags);
  }

  // ── metrics ───────────────────────────────────────────────────────────────────────────────────────────

  async 'metrics.series'(
    runIds: string[],
    metric: EpochMetric,
    maxPoints: number,
  ): Promise<Record<string, SeriesBucket[]>> {
    return this.store.epochSeriesBucketed(runIds, epochMetric(metric), maxPoints);
  }

  async 'metrics.layerGrid'(runId: string, metric: LayerMetric): Promise<LayerGrid> {
    return this.store.layerGrid(runId, layerMetric(metric));
  }

  async 'metrics.layerProfile'(
    runIds: string[],
    metric: LayerMetric,
    epoch?: number,
  ): Promise<Record<string, { layer: number; value: number }[]>> {
    return this.store.layerProfile(runIds, layerMetric(metric), epoch);
  }

  async 'metrics.exportCsv'(runIds: string[]): Promise<string> {
    return runsToCsv(this.store, runIds);
  }

  async 'runs.exportModel'(id: string): Promise<string> {
    const run = await this.store.getRun(id); // not-found names the id
    const state = await this.store.loadModel(id);
    if (!state)
      throw new ServiceError(
        'conflict',
        `run ${id} has no trained model: it is ${run.status}${run.status === 'finished' ? '' : ' (a model is stored when a run finishes)'}`,
      );
    const { exportModelJson } = await import('../../workers/engine/export.js'); // tfjs loads only when needed
    return JSON.stringify(exportModelJson(state), null, 2);
  }

  // ── paper pack (src-main/report/) ─────────────────────────────────────────────────────────────────────

  async 'paper.figures'(sweepId: string): Promise<PaperFigures> {
    return buildPaperFigures(this.store, sweepId);
  }

  async 'paper.certificate'(runId: string): Promise<GradientCertificate> {
    return buildCertificate(this.store, runId);
  }

  async 'paper.approx'(tag?: string): Promise<ApproxResults> {
    return loadApproxResults(this.store, tag);
  }

  async 'paper.reportHtml'(
    sweepId: string,
    deadReading?: DeadReading,
    group?: { by: string[]; band: BandMode } | null,
  ): Promise<string> {
    return (await buildPaperReport(this.store, sweepId, { dead: deadReading, group })).html;
  }

  async 'paper.examples'(): Promise<PaperExample[]> {
    return listPaperExamples();
  }

  async 'paper.approxRun'(req: ApproxLabRequest): Promise<ApproxLabJob> {
    const bad = (req.targets ?? []).filter((t) => !findTargetFunction(t));
    if (bad.length)
      throw new ServiceError(
        'bad-request',
        `unknown target function ${bad.join(', ')}; one of ${TARGET_FUNCTIONS.map((t) => t.id).join(', ')}`,
      );
    return this.lab.start(req);
  }

  // ── saved views ───────────────────────────────────────────────────────────────────────────────────────

  async 'views.list'(): Promise<SavedView[]> {
    const rows = await this.store.db.all<{ name: string; screen: string; state_json: string; updated_at: number }>(
      'SELECT * FROM saved_views ORDER BY updated_at DESC, name',
    );
    return rows.map((r) => ({
      name: r.name,
      screen: 'compare',
      state: JSON.parse(r.state_json) as Record<string, unknown>,
      updatedAt: new Date(r.updated_at).toISOString(),
    }));
  }

  async 'views.save'(v: { name: string; screen: 'compare'; state: Record<string, unknown> }): Promise<SavedView> {
    const name = v.name.trim();
    const text = JSON.stringify(v.state);
    if (text.length > 200_000)
      throw new ServiceError('bad-request', `view "${name}" is too large to save (${text.length} characters of state)`);
    const now = Date.now();
    await this.store.db.run(
      'INSERT INTO saved_views (name, screen, state_json, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET screen = excluded.screen, state_json = excluded.state_json, updated_at = excluded.updated_at',
      [name, v.screen, text, now],
    );
    return { name, screen: v.screen, state: v.state, updatedAt: new Date(now).toISOString() };
  }

  async 'views.remove'(name: string): Promise<void> {
    const r = await this.store.db.run('DELETE FROM saved_views WHERE name = ?', [name]);
    if (r.changes === 0) throw new ServiceError('not-found', `no saved view named "${name}"`);
  }

  // ── settings and remote workers ───────────────────────────────────────────────────────────────────────

  async 'settings.get'(): Promise<AppSettings> {
    return this.settings.view();
  }

  async 'settings.set'(patch: SettingsPatch): Promise<AppSettings> {
    return this.settings.set(patch);
  }

  async 'remote.workers'(): Promise<RemoteStatus> {
    return remoteStatus(this.settings.value.redisUrl);
  }
}

/** Stores made before uploads kept their own names hold the server's temp path: show only what is the user's. */
function userFileName(p: string): string {
  const m = /deepbern-(?:uploads|idx)-[^/\\]*[/\\](?:[0-9a-f]{16}-)?(.*)$/.exec(p);
  return m ? `an upload (${m[1] || 'file'})` : p;
}

function summary(s: SweepRecord): SweepSummary {
  return {
    id: s.id,
    name: s.name,
    status: s.status,
    createdAt: s.createdAt,
    counts: s.counts,
    total: s.total,
    metric: s.config.metric,
    epochs: s.epochs,
    startedAt: s.startedAt,
  };
}

function epochMetric(m: string): EpochMetric {
  if (!(EPOCH_METRICS as readonly string[]).includes(m))
    throw new ServiceError('bad-request', `unknown epoch metric "${m}"; one of ${EPOCH_METRICS.join(', ')}`);
  return m as EpochMetric;
}

function layerMetric(m: string): LayerMetric {
  if (!(LAYER_METRICS as readonly string[]).includes(m))
    throw new ServiceError('bad-request', `unknown layer metric "${m}"; one of ${LAYER_METRICS.join(', ')}`);
  return m as LayerMetric;
}

/** $DEEPBERN_BUSY_TIMEOUT_MS: how long one statement waits for another program's lock before backing off (tests). */
function busyTimeoutFromEnv(): number | undefined {
  const v = process.env.DEEPBERN_BUSY_TIMEOUT_MS;
  return v && /^\d+$/.test(v) ? Number(v) : undefined;
}
