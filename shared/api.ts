// The one typed API contract. The service in src-main implements it; the Electron IPC bridge and the
// HTTP+WebSocket server are thin adapters; the renderer calls it through one client and never knows which.
// Every method's arguments are validated against API_ARGS by the adapters before the service sees them.
import { z } from 'zod';
import type { EpochMetric, LayerMetric, RunStatus } from './metrics.js';
import type { NetworkSpec, NetworkSpecInput } from './spec.js';
import type { ApproxResults, GradientCertificate, PaperFigures } from './paper.js';

export type BackendName = 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';

export interface SystemInfo {
  version: string;
  backend: { name: BackendName; tried: { name: string; error: string }[] };
  workers: { size: number; busy: number; reason?: string };
  dbPath: string;
  transport: 'electron' | 'web';
}

export interface DatasetInfo {
  id: string;
  title: string;
  kind: 'builtin' | 'higgs' | 'susy' | 'csv' | 'idx';
  task: 'classification' | 'regression';
  inputDim: number;
  outputDim: number;
  rows?: number;
  description?: string;
  createdAt?: string;
}

export interface DatasetImportRequest {
  kind: 'higgs' | 'susy' | 'csv';
  /** A path the user chose in the app (Electron file dialog), or an upload id from `POST /upload` (web mode). */
  path?: string;
  uploadId?: string;
  title?: string;
  rows?: number;
  labelColumn?: string | number;
  task?: 'classification' | 'regression';
}

/** A design as drawn in the designer: an ordered stack of blocks; `repeat` groups make deep nets one block. */
export type DesignBlock =
  | { kind: 'dense'; width: number }
  | { kind: 'batchnorm' }
  | { kind: 'bernstein'; degree: number; eps: number; bounds: [number, number]; boundsMode: 'fixed' | 'adaptive' }
  | { kind: 'relu' }
  | { kind: 'leaky_relu'; alpha: number }
  | { kind: 'selu' }
  | { kind: 'gelu' }
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
}

export interface RunDetail extends RunSummary {
  spec: NetworkSpec;
}

export interface ListRunsQuery {
  status?: RunStatus;
  sweepId?: string;
  search?: string;
  orderBy?: string;
  desc?: boolean;
  limit?: number;
  offset?: number;
}

export interface SweepSummary {
  id: string;
  name: string;
  status: 'queued' | 'running' | 'finished' | 'cancelled' | 'failed';
  createdAt: string;
  counts: Partial<Record<RunStatus, number>>;
  total: number;
  metric: { name: EpochMetric; goal: 'minimize' | 'maximize' };
}

export interface SweepPlanView {
  name: string;
  total: number;
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
  | { type: 'run-progress'; runId: string; epoch: number; epochs: number; batch: number; batches: number; loss: number }
  | { type: 'run-epoch'; runId: string; epoch: number; metrics: Partial<Record<EpochMetric, number>> }
  | { type: 'run-status'; runId: string; status: RunStatus; error?: string }
  | { type: 'sweep-status'; sweepId: string; status: SweepSummary['status'] }
  | { type: 'dataset-import'; jobId: string; rows: number; fraction: number; done: boolean; error?: string; datasetId?: string }
  | { type: 'workers'; size: number; busy: number };

export interface WorkbenchApi {
  'system.info'(): Promise<SystemInfo>;
  'datasets.list'(): Promise<DatasetInfo[]>;
  /** Starts an import; progress arrives as `dataset-import` events; resolves when done with the dataset. */
  'datasets.import'(req: DatasetImportRequest): Promise<DatasetInfo>;
  'datasets.remove'(id: string): Promise<void>;
  'designs.list'(): Promise<Design[]>;
  'designs.save'(design: { id?: string; name: string; blocks: DesignBlock[]; training: Partial<NetworkSpecInput> }): Promise<Design>;
  'designs.remove'(id: string): Promise<void>;
  /** Parse and expand a sweep file (YAML/JSON text); nothing runs. Errors name the line and field. */
  'sweeps.plan'(text: string): Promise<SweepPlanView>;
  'sweeps.launch'(text: string): Promise<SweepSummary>;
  'sweeps.list'(): Promise<SweepSummary[]>;
  'sweeps.get'(id: string): Promise<SweepSummary & { fileText: string }>;
  'sweeps.cancel'(id: string): Promise<void>;
  'sweeps.resume'(id: string): Promise<void>;
  'runs.list'(q: ListRunsQuery): Promise<{ rows: RunSummary[]; total: number }>;
  'runs.get'(id: string): Promise<RunDetail>;
  'runs.cancel'(id: string): Promise<void>;
  'runs.delete'(ids: string[]): Promise<{ deleted: number; freedBytes: number }>;
  'runs.setTags'(id: string, tags: string[]): Promise<void>;
  'metrics.series'(runIds: string[], metric: EpochMetric, maxPoints: number): Promise<Record<string, SeriesBucket[]>>;
  'metrics.layerGrid'(runId: string, metric: LayerMetric): Promise<LayerGrid>;
  /** One value per layer at an epoch (default: each run's last), e.g. min |σ'| vs layer with δ̄. */
  'metrics.layerProfile'(runIds: string[], metric: LayerMetric, epoch?: number): Promise<Record<string, { layer: number; value: number }[]>>;
  'metrics.exportCsv'(runIds: string[]): Promise<string>;
  /** The paper's figure data for a sweep: one series per activation label (docs/paper.md). */
  'paper.figures'(sweepId: string): Promise<PaperFigures>;
  /** A Bernstein run's gradient certificate: proven floor vs observed min |σ'| per layer and epoch. */
  'paper.certificate'(runId: string): Promise<GradientCertificate>;
  /** The approximation-rate lab's stored results: one lab by its tag (`lab:…`), else the latest. */
  'paper.approx'(tag?: string): Promise<ApproxResults>;
}

export type ApiMethod = keyof WorkbenchApi;

const id = z.string().min(1).max(200);
const ids = z.array(id).min(1).max(10_000);
const metricName = z.string().min(1).max(64);

/** Runtime argument schemas, one tuple per method: the adapters reject anything else with a 400. */
export const API_ARGS: Record<ApiMethod, z.ZodTuple> = {
  'system.info': z.tuple([]),
  'datasets.list': z.tuple([]),
  'datasets.import': z.tuple([
    z
      .object({
        kind: z.enum(['higgs', 'susy', 'csv']),
        path: z.string().min(1).max(4096).optional(),
        uploadId: z.string().min(1).max(200).optional(),
        title: z.string().max(200).optional(),
        rows: z.number().int().min(10).optional(),
        labelColumn: z.union([z.string().max(200), z.number().int().min(0)]).optional(),
        task: z.enum(['classification', 'regression']).optional(),
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
        blocks: z.array(z.unknown()).max(1000),
        training: z.record(z.string(), z.unknown()),
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
  'runs.list': z.tuple([
    z
      .object({
        status: z.string().max(32).optional(),
        sweepId: id.optional(),
        search: z.string().max(200).optional(),
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
  'runs.setTags': z.tuple([id, z.array(z.string().min(1).max(64)).max(50)]),
  'metrics.series': z.tuple([ids, metricName, z.number().int().min(2).max(10_000)]),
  'metrics.layerGrid': z.tuple([id, metricName]),
  'metrics.layerProfile': z.tuple([ids, metricName, z.number().int().min(1).optional()]),
  'metrics.exportCsv': z.tuple([ids]),
  'paper.figures': z.tuple([id]),
  'paper.certificate': z.tuple([id]),
  'paper.approx': z.tuple([z.string().min(1).max(200).optional()]),
};

export const API_METHODS = Object.keys(API_ARGS) as ApiMethod[];

/** The error shape both transports carry: a message for the user, and which kind of failure it was. */
export interface ApiErrorBody {
  error: string;
  kind: 'bad-request' | 'not-found' | 'conflict' | 'internal';
}
