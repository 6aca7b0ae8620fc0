// Metric reads for charts. Each query is shaped to walk the primary keys:
//   epoch_metrics (run_id, metric, epoch)         → one metric of a run over epochs is one contiguous range
//   layer_metrics (run_id, metric, layer, epoch)  → a metric over layer × epoch is one range; one epoch across
//                                                   layers is a point lookup per layer (`layer IN (…)`).
// Run-id lists travel as one JSON parameter (json_each) so 500 runs never hit the bound-parameter limit.
// SQLite stores NaN as NULL; NULL comes back as NaN (a diverged loss stays visible as a gap, not a zero).
import type { LayerGrid, SeriesBucket } from '../../shared/api.js';
import type { EpochMetric, LayerMetric } from '../../shared/metrics.js';
import type { Queryable } from './db.js';
import { StoreError } from './errors.js';

export interface EpochSeries {
  metric: EpochMetric;
  epochs: number[];
  values: number[];
}

export interface LayerMetricPoint {
  epoch: number;
  layer: number;
  metric: LayerMetric;
  value: number;
}

const num = (v: number | null): number => (v === null ? Number.NaN : v);

export async function epochSeries(
  q: Queryable,
  runId: string,
  metrics: readonly EpochMetric[],
): Promise<EpochSeries[]> {
  const rows = await q.all<{ metric: EpochMetric; epoch: number; value: number | null }>(
    `SELECT metric, epoch, value FROM epoch_metrics
     WHERE run_id = ? AND metric IN (SELECT value FROM json_each(?)) ORDER BY metric, epoch`,
    [runId, JSON.stringify(metrics)],
  );
  const out = new Map(metrics.map((m) => [m, { metric: m, epochs: [] as number[], values: [] as number[] }]));
  for (const r of rows) {
    const s = out.get(r.metric)!;
    s.epochs.push(r.epoch);
    s.values.push(num(r.value));
  }
  return [...out.values()];
}

/**
 * At most `maxPoints` buckets per run, computed in SQL. Bucket boundaries are shared by all runs (they split
 * the epoch span of the whole selection), so buckets line up across runs on one x axis. Each bucket keeps
 * min and max (spikes survive downsampling) and the value at its last epoch (the line a chart draws).
 */
export async function epochSeriesBucketed(
  q: Queryable,
  runIds: readonly string[],
  metric: EpochMetric,
  maxPoints: number,
): Promise<Record<string, SeriesBucket[]>> {
  if (!Number.isInteger(maxPoints) || maxPoints < 1)
    throw new StoreError(`maxPoints must be a positive integer (got ${maxPoints})`, 'invalid');
  const rows = await q.all<{
    run_id: string;
    epoch: number;
    min: number | null;
    max: number | null;
    last: number | null;
  }>(
    // MATERIALIZED: otherwise SQLite re-evaluates the span aggregate for every point (quadratic). `last` is a
    // primary-key lookup at the bucket's last epoch, cheaper than a window function over every point.
    `WITH pts AS MATERIALIZED (
       SELECT run_id, epoch, value FROM epoch_metrics
       WHERE run_id IN (SELECT value FROM json_each(?1)) AND metric = ?2
     ),
     span AS MATERIALIZED (SELECT min(epoch) AS lo, max(epoch) - min(epoch) + 1 AS n FROM pts),
     buckets AS (
       SELECT run_id, max(epoch) AS epoch, min(value) AS min, max(value) AS max
       FROM pts, span GROUP BY run_id, ((epoch - span.lo) * ?3) / span.n
     )
     SELECT b.run_id, b.epoch, b.min, b.max, m.value AS last
     FROM buckets b JOIN epoch_metrics m ON m.run_id = b.run_id AND m.metric = ?2 AND m.epoch = b.epoch
     ORDER BY b.run_id, b.epoch`,
    [JSON.stringify(runIds), metric, maxPoints],
  );
  const out: Record<string, SeriesBucket[]> = {};
  for (const id of runIds) out[id] = [];
  for (const r of rows) out[r.run_id]!.push({ epoch: r.epoch, min: num(r.min), max: num(r.max), last: num(r.last) });
  return out;
}

export async function layerMetrics(
  q: Queryable,
  runId: string,
  depth: number,
  filter: { epoch?: number; metric?: LayerMetric },
  allMetrics: readonly LayerMetric[],
): Promise<LayerMetricPoint[]> {
  const metrics = filter.metric ? [filter.metric] : allMetrics;
  const params: unknown[] = [runId, JSON.stringify(metrics)];
  let where = 'run_id = ? AND metric IN (SELECT value FROM json_each(?))';
  if (filter.epoch !== undefined) {
    // Listing the layers turns "one epoch across layers" into point lookups instead of a range scan.
    where += ' AND layer IN (SELECT value FROM json_each(?)) AND epoch = ?';
    params.push(JSON.stringify(range(1, depth)), filter.epoch);
  }
  const rows = await q.all<{ epoch: number; layer: number; metric: LayerMetric; value: number | null }>(
    `SELECT epoch, layer, metric, value FROM layer_metrics WHERE ${where} ORDER BY metric, layer, epoch`,
    params as (string | number)[],
  );
  return rows.map((r) => ({ ...r, value: num(r.value) }));
}

/** One metric over layer × epoch, as the heatmap wants it: values[layerIndex][epochIndex], null where missing. */
export async function layerGrid(q: Queryable, runId: string, metric: LayerMetric): Promise<LayerGrid> {
  const rows = await q.all<{ layer: number; epoch: number; value: number | null }>(
    'SELECT layer, epoch, value FROM layer_metrics WHERE run_id = ? AND metric = ? ORDER BY layer, epoch',
    [runId, metric],
  );
  const layers = [...new Set(rows.map((r) => r.layer))];
  const epochs = [...new Set(rows.map((r) => r.epoch))].sort((a, b) => a - b);
  const li = new Map(layers.map((l, i) => [l, i]));
  const ei = new Map(epochs.map((e, i) => [e, i]));
  const values = layers.map(() => epochs.map((): number | null => null));
  for (const r of rows) values[li.get(r.layer)!]![ei.get(r.epoch)!] = r.value;
  return { runId, metric, layers, epochs, values };
}

/** One value per layer at an epoch (default: each run's last stored epoch), per run. */
export async function layerProfile(
  q: Queryable,
  runIds: readonly string[],
  metric: LayerMetric,
  epoch?: number,
): Promise<Record<string, { layer: number; value: number }[]>> {
  const ids = JSON.stringify(runIds);
  const depth =
    (
      await q.get<{ d: number | null }>(
        'SELECT max(depth) AS d FROM runs WHERE id IN (SELECT value FROM json_each(?))',
        [ids],
      )
    )?.d ?? 0;
  const rows = await q.all<{ run_id: string; layer: number; value: number | null }>(
    `SELECT r.id AS run_id, m.layer, m.value
     FROM runs r, json_each(?4) l
     JOIN layer_metrics m ON m.run_id = r.id AND m.metric = ?2 AND m.layer = l.value AND m.epoch = coalesce(?3, r.epochs_done)
     WHERE r.id IN (SELECT value FROM json_each(?1)) ORDER BY r.id, m.layer`,
    [ids, metric, epoch ?? null, JSON.stringify(range(1, depth))],
  );
  const out: Record<string, { layer: number; value: number }[]> = {};
  for (const id of runIds) out[id] = [];
  for (const r of rows) out[r.run_id]!.push({ layer: r.layer, value: num(r.value) });
  return out;
}

/** The metric at one epoch for the runs of a sweep (early termination compares a run with its peers). */
export async function metricAtEpoch(
  q: Queryable,
  sweepId: string,
  metric: EpochMetric,
  epoch: number,
  excludeRunId?: string,
): Promise<number[]> {
  const rows = await q.all<{ value: number | null }>(
    `SELECT m.value FROM runs r JOIN epoch_metrics m ON m.run_id = r.id AND m.metric = ? AND m.epoch = ?
     WHERE r.sweep_id = ? AND r.id IS NOT ?`,
    [metric, epoch, sweepId, excludeRunId ?? null],
  );
  return rows.map((r) => num(r.value)).filter(Number.isFinite);
}

/** One row per run of a sweep, in plan order: what the bayes sampler and hyperband need to know of it. */
export interface SweepTrialRow {
  runId: string;
  status: string;
  epochsDone: number;
  spec: unknown;
  /** The metric at the run's last stored epoch (null when missing or NaN). */
  value: number | null;
}

export async function sweepTrials(q: Queryable, sweepId: string, metric: EpochMetric): Promise<SweepTrialRow[]> {
  const rows = await q.all<{
    id: string;
    status: string;
    epochs_done: number;
    spec_json: string;
    value: number | null;
  }>(
    `SELECT r.id, r.status, r.epochs_done, r.spec_json, m.value FROM runs r
     LEFT JOIN epoch_metrics m ON m.run_id = r.id AND m.metric = ? AND m.epoch = r.epochs_done
     WHERE r.sweep_id = ? ORDER BY r.created_at, r.name, r.id`,
    [metric, sweepId],
  );
  return rows.map((r) => ({
    runId: r.id,
    status: r.status,
    epochsDone: r.epochs_done,
    spec: JSON.parse(r.spec_json) as unknown,
    value: r.value === null ? null : num(r.value),
  }));
}

/** The metric at one epoch per run of a sweep, with the run ids (hyperband compares within a bracket). */
export async function metricAtEpochByRun(
  q: Queryable,
  sweepId: string,
  metric: EpochMetric,
  epoch: number,
): Promise<{ runId: string; value: number }[]> {
  const rows = await q.all<{ run_id: string; value: number | null }>(
    `SELECT r.id AS run_id, m.value FROM runs r JOIN epoch_metrics m ON m.run_id = r.id AND m.metric = ? AND m.epoch = ?
     WHERE r.sweep_id = ?`,
    [metric, epoch, sweepId],
  );
  return rows.map((r) => ({ runId: r.run_id, value: num(r.value) })).filter((r) => Number.isFinite(r.value));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
