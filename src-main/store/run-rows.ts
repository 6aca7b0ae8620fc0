// The runs table as rows, and their mapping to the API contract's RunSummary / RunDetail.
import type { RunDetail, RunSummary } from '../../shared/api.js';
import type { RunStatus } from '../../shared/metrics.js';
import { withLegacyDefaults, type NetworkSpec } from '../../shared/spec.js';
import { StoreError } from './errors.js';

export interface RunRow {
  id: string;
  name: string;
  sweep_id: string | null;
  status: string;
  seed: number;
  dataset: string;
  activation: string;
  activation_label: string;
  depth: number;
  width: number;
  degree: number | null;
  eps: number | null;
  lr: number;
  batch_size: number;
  batch_norm: number;
  residual: number;
  backend: string | null;
  param_count: number | null;
  epochs_total: number;
  epochs_done: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  error: string | null;
  tags_json: string;
  final_train_loss: number | null;
  final_test_loss: number | null;
  final_test_acc: number | null;
  kind?: string;
}

/** Every column but spec_json: listing thousands of runs should not parse thousands of specs. */
export const SUMMARY_COLUMNS =
  'id, name, sweep_id, status, seed, dataset, activation, activation_label, depth, width, degree, eps, lr, ' +
  'batch_size, batch_norm, residual, backend, param_count, epochs_total, epochs_done, created_at, started_at, ' +
  'finished_at, error, tags_json, final_train_loss, final_test_loss, final_test_acc, kind';

/**
 * Sort keys the list accepts → column. Both the column name and the RunSummary field name are accepted;
 * anything else is refused (the key is spliced into SQL, so it must come from this table).
 */
const ORDERABLE: Record<string, string> = {};
for (const [field, column] of [
  ['id', 'id'],
  ['name', 'name'],
  ['status', 'status'],
  ['dataset', 'dataset'],
  ['label', 'activation_label'],
  ['activation', 'activation'],
  ['depth', 'depth'],
  ['width', 'width'],
  ['degree', 'degree'],
  ['eps', 'eps'],
  ['lr', 'lr'],
  ['batchSize', 'batch_size'],
  ['seed', 'seed'],
  ['backend', 'backend'],
  ['paramCount', 'param_count'],
  ['epochsTotal', 'epochs_total'],
  ['epochsDone', 'epochs_done'],
  ['createdAt', 'created_at'],
  ['startedAt', 'started_at'],
  ['finishedAt', 'finished_at'],
  ['finalTrainLoss', 'final_train_loss'],
  ['finalTestLoss', 'final_test_loss'],
  ['finalTestAcc', 'final_test_acc'],
] as const) {
  ORDERABLE[field] = column;
  ORDERABLE[column] = column;
  if (column.startsWith('final_')) ORDERABLE[`final.${column.slice(6)}`] = column;
}

/** Columns that are never NULL: their ORDER BY needs no "NULLs last" term, so an index serves it directly. */
export const NOT_NULL_ORDER = new Set([
  'id',
  'name',
  'status',
  'dataset',
  'activation_label',
  'activation',
  'depth',
  'width',
  'lr',
  'batch_size',
  'seed',
  'epochs_total',
  'epochs_done',
  'created_at',
]);

export function orderColumn(key: string | undefined): string {
  if (key === undefined) return 'created_at';
  const col = ORDERABLE[key];
  if (!col)
    throw new StoreError(`cannot sort runs by "${key}"; use one of ${Object.keys(ORDERABLE).join(', ')}`, 'invalid');
  return col;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function toSummary(r: RunRow): RunSummary {
  return {
    id: r.id,
    name: r.name,
    sweepId: r.sweep_id,
    status: r.status as RunStatus,
    dataset: r.dataset,
    label: r.activation_label,
    depth: r.depth,
    width: r.width,
    activation: r.activation,
    degree: r.degree,
    eps: r.eps,
    lr: r.lr,
    batchSize: r.batch_size,
    backend: r.backend,
    paramCount: r.param_count,
    epochsTotal: r.epochs_total,
    epochsDone: r.epochs_done,
    createdAt: iso(r.created_at)!,
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
    error: r.error,
    tags: JSON.parse(r.tags_json) as string[],
    final: { train_loss: r.final_train_loss, test_loss: r.final_test_loss, test_acc: r.final_test_acc },
    kind: r.kind === 'approx' ? 'approx' : 'training',
    seed: r.seed,
  };
}

export function toDetail(r: RunRow & { spec_json: string }): RunDetail {
  // Runs stored before init / bnAffine existed: show (and resume with) what they actually used.
  return { ...toSummary(r), spec: withLegacyDefaults(JSON.parse(r.spec_json) as NetworkSpec) };
}

/** The searchable/sortable copies of spec fields. degree/eps are Bernstein-only, NULL otherwise. */
export function specColumns(spec: NetworkSpec, label: string) {
  const bern = spec.activation === 'bernstein';
  return {
    seed: spec.seed,
    dataset: spec.dataset,
    activation: spec.activation,
    activation_label: label,
    depth: spec.depth,
    width: spec.width,
    degree: bern ? spec.degree : null,
    eps: bern ? spec.eps : null,
    lr: spec.lr,
    batch_size: spec.batchSize,
    batch_norm: spec.batchNorm ? 1 : 0,
    residual: spec.residual ? 1 : 0,
  };
}
