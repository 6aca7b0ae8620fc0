// The one typed API contract. The service in src-main implements it; the Electron IPC bridge and the
// HTTP+WebSocket server are thin adapters; the renderer calls it through one client and never knows which.
// Every method's arguments are validated against API_ARGS by the adapters before the service sees them.
import { z } from 'zod';
import {
  EPOCH_METRICS,
  LAYER_METRICS,
  RUN_STATUSES,
  type EpochMetric,
  type LayerMetric,
  type RunStatus,
  type SweepStatus,
} from './metrics.js';
import type { BatchProgress, RunStartInfo } from './run-events.js';
import type { NetworkSpec, NetworkSpecInput } from './spec.js';
import type { ParamlessActivation } from './activations.js';
import {
  IMPORT_KINDS,
  TASK_KINDS,
  type BoundsMode,
  type DatasetKind,
  type Goal,
  type ImportKind,
  type TaskKind,
} from './vocab.js';
import { BAND_MODES, GROUP_FIELDS, type BandMode } from './groups.js';
import {
  DEAD_READINGS,
  type ApproxResults,
  type DeadReading,
  type GradientCertificate,
  type PaperFigures,
} from './paper.js';

export type BackendName = 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';

export interface SystemInfo {
  version: string;
  backend: { name: BackendName; tried: { name: string; error: string }[] };
  workers: { size: number; busy: number; reason?: string };
  dbPath: string;
  /** `cli`: a `deepbern` command drives the service in its own process (never seen by the renderer). */
  transport: 'electron' | 'web' | 'cli';
}

export interface DatasetInfo {
  id: string;
  title: string;
  kind: DatasetKind;
  task: TaskKind;
  inputDim: number;
  outputDim: number;
  rows?: number;
  description?: string;
  createdAt?: string;
}

export interface DatasetImportRequest {
  /** `idx`: an MNIST-style folder of four IDX files (a path picked as a folder, or four upload ids). */
  kind: ImportKind;
  /** A path the user chose in the app (Electron file dialog), or an upload id from `POST /upload` (web mode). */
  path?: string;
  uploadId?: string;
  /** `idx` in web mode: the four uploaded IDX files (train/t10k images/labels, optionally .gz). */
  uploadIds?: string[];
  title?: string;
  rows?: number;
  labelColumn?: string | number;
  task?: TaskKind;
}

/** A design as drawn in the designer: an ordered stack of blocks; `repeat` groups make deep nets one block. */
export type DesignBlock =
  | { kind: 'dense'; width: number }
  | { kind: 'batchnorm' }
  | { kind: 'bernstein'; degree: number; eps: number; bounds: [number, number]; boundsMode: BoundsMode }
  | { kind: 'leaky_relu'; alpha: number }
  /** relu, selu, gelu… every fixed activation without parameters (shared/activations.ts). */
  | { kind: ParamlessActivation }
  | { kind: 'residual' }
  | { kind: 'repeat'; times: number; blocks: DesignBlock[] };

export interface Design {
  id: string;
  name: string;
  blocks: DesignBlock[];
  /** Training settings not drawn as blocks (dataset, optimiser, lr, batch size, epochs, seed…). */
  training: Partial<NetworkSpecInput>;
  createdAt: string;
  updatedAt: string;
}

export interface RunSummary {
  id: string;
  name: string;
  sweepId: string | null;
  status: RunStatus;
  dataset: string;
  label: string;
  depth: number;
  width: number;
  activation: string;
  degree: number | null;
  eps: number | null;
  lr: number;
  batchSize: number;
  backend: string | null;
  paramCount: number | null;
  epochsTotal: number;
  epochsDone: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  tags: string[];
  final: { train_loss: number | null; test_loss: number | null; test_acc: number | null };
  /** `approx`: a fit of the approximation lab (steps, not epochs), kept out of the training runs list. */
  kind?: 'training' | 'approx';
  seed?: number;
}

export interface RunDetail extends RunSummary {
  spec: NetworkSpec;
}

export interface ListRunsQuery {
  status?: RunStatus;
  sweepId?: string;
  search?: string;
  /** Default: every kind. The Runs screen lists `training` runs and the approximation fits apart. */
  kind?: 'training' | 'approx' | 'all';
  orderBy?: string;
  desc?: boolean;
  limit?: number;
  offset?: number;
}

export interface SweepSummary {
  id: string;
  name: string;
  status: SweepStatus;
  createdAt: string;
  counts: Partial<Record<RunStatus, number>>;
  total: number;
  metric: { name: EpochMetric; goal: Goal };
  /** Epochs stored / planned over all runs, and still to train (queued + running runs). */
  epochs?: { done: number; total: number; remaining: number };
  /** When the sweep's first run started (null before). */
  startedAt?: string | null;
}

/** What a sweep has learnt so far: best-so-far per run index, and which parameters matter (optuna-dashboard style). */
export interface SweepInsights {
  sweepId: string;
  metric: { name: EpochMetric; goal: Goal };
  /** One point per run in plan order; `value` is the run's last stored metric, `best` the best up to it. */
  history: {
    index: number;
    runId: string;
    name: string;
    status: RunStatus;
    value: number | null;
    best: number | null;
  }[];
  importance: {
    /** Finished (or pruned) runs the model was fitted to. */
    runs: number;
    /** Share of the metric's explained variation per swept parameter (sums to 1), most important first. */
    params: { param: string; importance: number }[];
    /** Why nothing could be computed, when nothing could. */
    reason?: string;
    method: string;
  };
}

export interface SweepPlanView {
  name: string;
  total: number;
  /** bayes: `runs` holds the first run only; the rest are proposed as runs finish. */
  sequential?: boolean;
  runs: { index: number; params: Record<string, unknown>; label: string }[];
}

/** One bucket of a series: never more buckets than the chart has pixels. */
export interface SeriesBucket {
  epoch: number; // the bucket's last epoch
  min: number;
  max: number;
  last: number;
}

export interface LayerGrid {
  runId: string;
  metric: LayerMetric;
  layers: number[];
  epochs: number[];
  /** values[layerIndex][epochIndex]; null where missing. */
  values: (number | null)[][];
}

export type WorkbenchEvent =
  | ({ type: 'run-start'; runId: string } & RunStartInfo)
  | ({ type: 'run-progress'; runId: string; epochs: number } & BatchProgress)
  | { type: 'run-epoch'; runId: string; epoch: number; metrics: Partial<Record<EpochMetric, number>> }
  | { type: 'run-status'; runId: string; status: RunStatus; error?: string }
  | { type: 'sweep-status'; sweepId: string; status: SweepSummary['status'] }
  | {
      type: 'dataset-import';
      jobId: string;
      rows: number;
      fraction: number;
      done: boolean;
      error?: string;
      datasetId?: string;
    }
  | { type: 'workers'; size: number; busy: number }
  /** Stored data changed outside a run's own events (saved designs, datasets, deleted runs): lists refetch. */
  | { type: 'data-changed'; what: 'designs' | 'datasets' | 'runs' | 'sweeps' }
  | {
      type: 'approx-progress';
      jobId: string;
      done: number;
      total: number;
      finished: boolean;
      tag?: string;
      error?: string;
      last?: { target: string; family: 'bernstein' | 'relu'; degree: number | null; depth: number; maxErr: number };
    };

/** A paper example sweep file shipped in examples/paper/ (the Paper screen's "Reproduce"). */
export interface PaperExample {
  /** File name, e.g. `higgs-laptop.yaml`. */
  file: string;
  /** The sweep's `name:`. */
  name: string;
  /** The file's leading comment, in one paragraph. */
  description: string;
  text: string;
}

/** A small approximation-rate lab run started from the app (defaults: docs/paper.md). */
export interface ApproxLabRequest {
  targets?: string[];
  depths?: number[];
  degrees?: number[];
  width?: number;
  steps?: number;
  relu?: boolean;
  /** Batch norm in the Bernstein nets: affine or none (non-affine is not offered; docs/paper.md). */
  bn?: 'affine' | 'none';
  /** Weights the verdict scores: the validation-selected report point, or the final fit. */
  select?: 'validation' | 'final';
}

export interface ApproxLabJob {
  jobId: string;
  /** Fits to do (Bernstein + matched ReLU). */
  total: number;
}

/** App settings as the renderer sees them: the Redis password never leaves the main process. */
export interface AppSettings {
  /** The Redis URL with its password replaced by `***`; null when none is set. */
  redisUrl: string | null;
  redisPasswordSet: boolean;
  /** Sweeps launched from the app run on remote workers (BullMQ on Redis) instead of the local pool. */
  useRemote: boolean;
}

export interface SettingsPatch {
  /** A new URL; null clears it. The redacted form (with `***`) keeps the stored password. */
  redisUrl?: string | null;
  useRemote?: boolean;
}

export interface RemoteWorkerView {
  id: string;
  host: string;
  pid: number;
  backend: string;
  concurrency: number;
  busy: number;
  runs: string[];
  version: string;
  startedAt: number;
  /** Last heartbeat (ms since epoch). */
  seenAt: number;
}

export interface RemoteStatus {
  redisUrl: string | null;
  /** False when no URL is set or Redis did not answer. */
  reachable: boolean;
  /** Why Redis could not be reached (unreachable host, wrong password, TLS mismatch…). */
  error?: string;
  workers: RemoteWorkerView[];
  checkedAt: string;
}

/** A named screen state (Compare: runs, grouping, chart settings), reopened from the list or its link. */
export interface SavedView {
  name: string;
  screen: 'compare';
  state: Record<string, unknown>;
  updatedAt: string;
}

export interface WorkbenchApi {
  'system.info'(): Promise<SystemInfo>;
  'datasets.list'(): Promise<DatasetInfo[]>;
  /** Starts an import; progress arrives as `dataset-import` events; resolves when done with the dataset. */
  'datasets.import'(req: DatasetImportRequest): Promise<DatasetInfo>;
  'datasets.remove'(id: string): Promise<void>;
  'designs.list'(): Promise<Design[]>;
  'designs.save'(design: {
    id?: string;
    name: string;
    blocks: DesignBlock[];
    training: Partial<NetworkSpecInput>;
  }): Promise<Design>;
  'designs.remove'(id: string): Promise<void>;
  /** Parse and expand a sweep file (YAML/JSON text); nothing runs. Errors name the line and field. */
  'sweeps.plan'(text: string): Promise<SweepPlanView>;
  'sweeps.launch'(text: string): Promise<SweepSummary>;
  'sweeps.list'(): Promise<SweepSummary[]>;
  'sweeps.get'(id: string): Promise<SweepSummary & { fileText: string }>;
  'sweeps.cancel'(id: string): Promise<void>;
  'sweeps.resume'(id: string): Promise<void>;
  /** Best-so-far curve and parameter importance for the sweep's metric. */
  'sweeps.insights'(id: string): Promise<SweepInsights>;
  'runs.list'(q: ListRunsQuery): Promise<{ rows: RunSummary[]; total: number }>;
  'runs.get'(id: string): Promise<RunDetail>;
  'runs.cancel'(id: string): Promise<void>;
  /**
   * Deletes in small steps (the app stays responsive). `freedBytes`: space the runs took; `reclaim` says how it
   * reaches the disk: in small background steps, or (older database files) on request with `store.compact`.
   */
  'runs.delete'(
    ids: string[],
  ): Promise<{ deleted: number; freedBytes: number; reclaim?: 'done' | 'background' | 'on-request' }>;
  /** Many runs in one call (Compare, Paper): unknown ids are listed in `missing`, not an error. */
  'runs.getMany'(ids: string[]): Promise<{ runs: RunDetail[]; missing: string[] }>;
  /** The database file's size and the free space inside it. */
  'store.space'(): Promise<{ fileBytes: number; freeBytes: number; incremental: boolean }>;
  /** On request: rewrite the file without its free space (blocks other calls while it runs). */
  'store.compact'(): Promise<{ freedBytes: number }>;
  'runs.setTags'(id: string, tags: string[]): Promise<void>;
  'metrics.series'(runIds: string[], metric: EpochMetric, maxPoints: number): Promise<Record<string, SeriesBucket[]>>;
  'metrics.layerGrid'(runId: string, metric: LayerMetric): Promise<LayerGrid>;
  /** One value per layer at an epoch (default: each run's last), e.g. min |σ'| vs layer with δ̄. */
  'metrics.layerProfile'(
    runIds: string[],
    metric: LayerMetric,
    epoch?: number,
  ): Promise<Record<string, { layer: number; value: number }[]>>;
  'metrics.exportCsv'(runIds: string[]): Promise<string>;
  /** A finished run's trained model as the model file's JSON text (docs/model-format.md), as `export-model` writes it. */
  'runs.exportModel'(id: string): Promise<string>;
  /** The paper's figure data for a sweep: one series per activation label (docs/paper.md). */
  'paper.figures'(sweepId: string): Promise<PaperFigures>;
  /** A Bernstein run's gradient certificate: proven floor vs observed min |σ'| per layer and epoch. */
  'paper.certificate'(runId: string): Promise<GradientCertificate>;
  /** The approximation-rate lab's stored results: one lab by its tag (`lab:…`), else the latest. */
  'paper.approx'(tag?: string): Promise<ApproxResults>;
  /** The sweep's self-contained HTML report (figures as SVG, tables, certificates), as `deepbern report` writes it. */
  /** `group`: seeds grouped into mean + band (omitted: automatic, when the sweep varies the seed; null: none). */
  'paper.reportHtml'(
    sweepId: string,
    deadReading?: DeadReading,
    group?: { by: string[]; band: BandMode } | null,
  ): Promise<string>;
  /** The example sweep files of examples/paper/ (launch one with sweeps.launch). */
  'paper.examples'(): Promise<PaperExample[]>;
  /** Starts a small approximation lab in the background; `approx-progress` events follow; one lab at a time. */
  'paper.approxRun'(req: ApproxLabRequest): Promise<ApproxLabJob>;
  'views.list'(): Promise<SavedView[]>;
  /** Saves (or replaces) the view of that name. */
  'views.save'(view: { name: string; screen: 'compare'; state: Record<string, unknown> }): Promise<SavedView>;
  'views.remove'(name: string): Promise<void>;
  'settings.get'(): Promise<AppSettings>;
  'settings.set'(patch: SettingsPatch): Promise<AppSettings>;
  /** Workers connected to the configured Redis (heartbeats); `reachable: false` with the reason when it is down. */
  'remote.workers'(): Promise<RemoteStatus>;
}

export type ApiMethod = keyof WorkbenchApi;

const id = z.string().min(1).max(200);
const ids = z.array(id).min(1).max(10_000);
const epochMetric = z.enum(EPOCH_METRICS, {
  error: (i) => `unknown epoch metric ${JSON.stringify(i.input)}; one of ${EPOCH_METRICS.join(', ')}`,
});
const layerMetric = z.enum(LAYER_METRICS, {
  error: (i) => `unknown layer metric ${JSON.stringify(i.input)}; one of ${LAYER_METRICS.join(', ')}`,
});
/** A value the transport only checks for shape: the service validates its fields with messages that name them
 * (design blocks: parseBlocks; training settings: the spec schema when a run is made). */
const objectCheckedByService = <T>() =>
  z.custom<T>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), { message: 'expected an object' });

/** Each method's argument schema: its output must be exactly the method's parameter list (checked below). */
type ArgSchemas = { [M in ApiMethod]: z.ZodType<Parameters<WorkbenchApi[M]>> };

/** Runtime argument schemas, one tuple per method: the adapters reject anything else with a 400. */
export const API_ARGS = {
  'system.info': z.tuple([]),
  'datasets.list': z.tuple([]),
  'datasets.import': z.tuple([
    z
      .object({
        kind: z.enum(IMPORT_KINDS),
        path: z.string().min(1).max(4096).optional(),
        uploadId: z.string().min(1).max(200).optional(),
        uploadIds: z.array(z.string().min(1).max(200)).min(1).max(8).optional(),
        title: z.string().max(200).optional(),
        rows: z.number().int().min(10).optional(),
        labelColumn: z.union([z.string().max(200), z.number().int().min(0)]).optional(),
        task: z.enum(TASK_KINDS).optional(),
      })
      .strict(),
  ]),
  'datasets.remove': z.tuple([id]),
  'designs.list': z.tuple([]),
  'designs.save': z.tuple([
    z
      .object({
        id: id.optional(),
        name: z.string().min(1).max(200),
        blocks: z.array(objectCheckedByService<DesignBlock>()).max(1000),
        training: objectCheckedByService<Partial<NetworkSpecInput>>(),
      })
      .strict(),
  ]),
  'designs.remove': z.tuple([id]),
  'sweeps.plan': z.tuple([z.string().max(1_000_000)]),
  'sweeps.launch': z.tuple([z.string().max(1_000_000)]),
  'sweeps.list': z.tuple([]),
  'sweeps.get': z.tuple([id]),
  'sweeps.cancel': z.tuple([id]),
  'sweeps.resume': z.tuple([id]),
  'sweeps.insights': z.tuple([id]),
  'runs.list': z.tuple([
    z
      .object({
        status: z.enum(RUN_STATUSES).optional(),
        sweepId: id.optional(),
        search: z.string().max(200).optional(),
        kind: z.enum(['training', 'approx', 'all']).optional(),
        orderBy: z.string().max(64).optional(),
        desc: z.boolean().optional(),
        limit: z.number().int().min(1).max(10_000).optional(),
        offset: z.number().int().min(0).optional(),
      })
      .strict(),
  ]),
  'runs.get': z.tuple([id]),
  'runs.cancel': z.tuple([id]),
  'runs.delete': z.tuple([ids]),
  'runs.getMany': z.tuple([z.array(id).min(1).max(1000)]),
  'store.space': z.tuple([]),
  'store.compact': z.tuple([]),
  'runs.setTags': z.tuple([id, z.array(z.string().min(1).max(64)).max(50)]),
  'metrics.series': z.tuple([ids, epochMetric, z.number().int().min(2).max(10_000)]),
  'metrics.layerGrid': z.tuple([id, layerMetric]),
  'metrics.layerProfile': z.tuple([ids, layerMetric, z.number().int().min(1).optional()]),
  'metrics.exportCsv': z.tuple([ids]),
  'runs.exportModel': z.tuple([id]),
  'paper.figures': z.tuple([id]),
  'paper.certificate': z.tuple([id]),
  'paper.approx': z.tuple([z.string().min(1).max(200).optional()]),
  'paper.reportHtml': z.tuple([
    id,
    z.enum(DEAD_READINGS, { error: `the dead reading must be one of ${DEAD_READINGS.join(', ')}` }).optional(),
    z
      .object({
        by: z
          .array(
            z.string().refine((f) => GROUP_FIELDS.includes(f), {
              error: `group by: each field must be one of ${GROUP_FIELDS.join(', ')}`,
            }),
          )
          .max(GROUP_FIELDS.length),
        band: z.enum(BAND_MODES, { error: `the band must be one of ${BAND_MODES.join(', ')}` }),
      })
      .strict()
      .nullable()
      .optional(),
  ]),
  'paper.examples': z.tuple([]),
  'paper.approxRun': z.tuple([
    z
      .object({
        targets: z.array(z.string().min(1).max(64)).min(1).max(10).optional(),
        depths: z.array(z.number().int().min(1).max(20)).min(1).max(20).optional(),
        degrees: z.array(z.number().int().min(1).max(30)).min(1).max(10).optional(),
        width: z.number().int().min(1).max(256).optional(),
        steps: z.number().int().min(10).max(100_000).optional(),
        relu: z.boolean().optional(),
        bn: z.enum(['affine', 'none'], { error: 'bn must be affine or none' }).optional(),
        select: z.enum(['validation', 'final'], { error: 'select must be validation or final' }).optional(),
      })
      .strict(),
  ]),
  'views.list': z.tuple([]),
  'views.save': z.tuple([
    z
      .object({
        name: z.string().trim().min(1).max(120),
        screen: z.literal('compare'),
        state: z.record(z.string(), z.unknown()),
      })
      .strict(),
  ]),
  'views.remove': z.tuple([z.string().min(1).max(120)]),
  'settings.get': z.tuple([]),
  'settings.set': z.tuple([
    z
      .object({
        redisUrl: z.union([z.string().max(2048), z.null()]).optional(),
        useRemote: z.boolean().optional(),
      })
      .strict(),
  ]),
  'remote.workers': z.tuple([]),
} satisfies ArgSchemas;

/** Same<A, B>: true only when A and B are the same type (not merely assignable: a field one side lacks counts). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** The methods whose schema's parsed output differs from their parameter list; must stay empty. */
type Disagreeing = {
  [M in ApiMethod]: Same<z.output<(typeof API_ARGS)[M]>, Parameters<WorkbenchApi[M]>> extends true ? never : M;
}[ApiMethod];
type MustBeNone<T extends never> = T;
// A compile error here ("'…' does not satisfy the constraint 'never'") names the method whose API_ARGS entry
// disagrees with its WorkbenchApi signature.
export type ApiArgsAgree = MustBeNone<Disagreeing>;

export const API_METHODS = Object.keys(API_ARGS) as ApiMethod[];

/** The error shape both transports carry: a message for the user, and which kind of failure it was. */
export interface ApiErrorBody {
  error: string;
  /**
   * `unauthorized`: no or a wrong session token (HTTP 401); `forbidden`: a request from another origin or host
   * (HTTP 403). Both are web-mode only; a client cannot fix them by changing its arguments.
   */
  kind: 'bad-request' | 'unauthorized' | 'forbidden' | 'not-found' | 'conflict' | 'internal';
}
