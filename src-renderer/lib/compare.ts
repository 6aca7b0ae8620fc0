// Compare screen helpers: metric titles (ours where DESIGN says so), parameter diff table, chart options.
import type { RunDetail, LayerGrid } from '../../shared/api.js';
import type { EpochMetric, LayerMetric } from '../../shared/metrics.js';
import { PARAM_FIELDS, paramValue } from '../../shared/groups.js';
import { fmtNum } from './format.js';

export const EPOCH_TITLES: Record<EpochMetric, { title: string; ours?: boolean; log?: boolean }> = {
  train_loss: { title: 'train loss' },
  test_loss: { title: 'test loss' },
  train_acc: { title: 'train accuracy' },
  test_acc: { title: 'test accuracy' },
  mag1: { title: 'MAG: mean |∂loss/∂a₁| (first layer)', ours: true, log: true },
  dead_ratio: { title: 'dead-neuron ratio (network, eval batch, |σ′| < τ)', ours: true },
  dead_ratio_epoch: { title: 'dead-neuron ratio (network, epoch average of training batches)', ours: true },
  clipped_frac: { title: 'clipped pre-activations (outside [l,u])', ours: true },
  epoch_time_s: { title: 'time per epoch (s)' },
  probe_time_s: { title: 'probe time per epoch (s)' },
  dead_time_s: { title: 'epoch-average dead reading time per epoch (s)' },
  lr: { title: 'learning rate' },
  max_abs_err: { title: 'max |N − f| on the test grid (approximation lab)', log: true },
  val_max_err: { title: 'max |N − f| on the validation grid (approximation lab)', log: true },
};

export const LAYER_TITLES: Record<LayerMetric, { title: string; log?: boolean }> = {
  dead_ratio: { title: 'dead-neuron ratio (eval batch)' },
  dead_ratio_epoch: { title: 'dead-neuron ratio (epoch average)' },
  min_dsigma: { title: 'min |σ′| (inside [l,u])', log: true },
  learned_floor: { title: 'learned floor n/(u−l)·min Δc', log: true },
  clipped_frac: { title: 'clipped fraction' },
  grad_norm: { title: '‖∇W‖ per layer', log: true },
};

/** Spec fields shown in the parameter table, in order (shared with the grouping code). */
export { PARAM_FIELDS, paramValue } from '../../shared/groups.js';

/** Rows of the parameter table; with onlyDiff, only fields where the runs disagree. */
export function paramRows(
  runs: RunDetail[],
  onlyDiff: boolean,
): { field: string; values: string[]; differs: boolean }[] {
  return PARAM_FIELDS.map((field) => {
    const values = runs.map((r) => paramValue(r, field));
    return { field, values, differs: new Set(values).size > 1 };
  }).filter((r) => !onlyDiff || r.differs);
}

/** ECharts heatmap option: layer (y) × epoch (x); log10 colour scale for derivative-like metrics. */
export function heatmapOption(grid: LayerGrid, log: boolean): Record<string, unknown> {
  const data: [number, number, number | null][] = [];
  let lo = Infinity;
  let hi = -Infinity;
  grid.values.forEach((row, li) =>
    row.forEach((v, ei) => {
      if (v === null || !Number.isFinite(v)) return data.push([ei, li, null]);
      const c = log ? Math.log10(Math.max(v, 1e-12)) : v;
      lo = Math.min(lo, c);
      hi = Math.max(hi, c);
      data.push([ei, li, c]);
    }),
  );
  if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
  if (!log && grid.metric === 'dead_ratio') [lo, hi] = [0, Math.max(hi, 0.05)];
  if (lo === hi) hi = lo + 1;
  const barLabel = colourBarFormatter(lo, hi, log);
  // The colour bar's labels sit right of the bar: leave room for the longest so they never cover the map.
  const labelChars = Math.max(barLabel(lo).length, barLabel(hi).length, barLabel((lo + hi) / 2).length);
  return {
    animation: false,
    grid: { left: 52, right: 44 + Math.ceil(labelChars * 6.5), top: 12, bottom: 40 },
    tooltip: {
      position: 'top',
      formatter: (p: { value: [number, number, number | null] }) => {
        const [e, l, c] = p.value;
        const v = c === null ? '—' : fmtNum(log ? 10 ** c : c, 4);
        return `layer ${grid.layers[l]} · epoch ${grid.epochs[e]}<br/><b>${v}</b>`;
      },
    },
    xAxis: {
      type: 'category',
      data: grid.epochs,
      name: 'epoch',
      nameLocation: 'middle',
      nameGap: 26,
      axisLabel: { fontSize: 10 },
      splitArea: { show: false },
    },
    yAxis: {
      type: 'category',
      data: grid.layers,
      name: 'layer',
      nameLocation: 'middle',
      nameGap: 36,
      axisLabel: { fontSize: 10 },
      inverse: true,
    },
    visualMap: {
      min: lo,
      max: hi,
      calculable: true,
      orient: 'vertical',
      right: 6,
      top: 'middle',
      itemHeight: 160,
      textStyle: { fontSize: 10 },
      formatter: barLabel,
      inRange: { color: ['#0d0887', '#6a00a8', '#b12a90', '#e16462', '#fca636', '#f0f921'] },
    },
    series: [
      { type: 'heatmap', data, progressive: 5000, emphasis: { itemStyle: { borderColor: '#000', borderWidth: 1 } } },
    ],
  };
}

/**
 * Colour-bar labels that tell the two ends apart: on a log scale the value itself (10^c), with as many
 * significant digits as the range needs (a range inside one decade must not read "1e-0.0" at both ends).
 */
export function colourBarFormatter(lo: number, hi: number, log: boolean): (v: number) => string {
  const span = Math.abs(
    (log ? 10 ** hi - 10 ** lo : hi - lo) /
      Math.max(Math.abs(log ? 10 ** hi : hi), Math.abs(log ? 10 ** lo : lo), 1e-300),
  );
  const digits = Math.min(6, Math.max(2, 1 + Math.ceil(-Math.log10(Math.max(span, 1e-6)))));
  return (v: number) => fmtNum(log ? 10 ** v : v, digits);
}

export interface ParRun {
  detail: RunDetail;
  color: string;
  finalValue: number | null;
}

/** What a run has for a parameter: null where it has none (ReLU has no degree n or ε). */
function parValue(r: RunDetail, field: string): string | number | boolean | null {
  const v = (r.spec as unknown as Record<string, unknown>)[field];
  if (field === 'degree' || field === 'eps' || field === 'bounds' || field === 'boundsMode') {
    if (r.spec.activation !== 'bernstein') return null;
  }
  if (field === 'alpha' && r.spec.activation !== 'leaky_relu') return null;
  if (v === undefined || v === null) return null;
  if (Array.isArray(v)) return `[${v.join(', ')}]`;
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  return String(v);
}

const PAR_NAMES: Record<string, string> = {
  activation: 'activation',
  degree: 'degree n',
  eps: 'ε',
  batchSize: 'batch',
  batchNorm: 'batch norm',
  boundsMode: 'bounds mode',
};
/** Shown as "n/a" on an axis: the run has no such parameter (drawn apart from every real value). */
export const NOT_APPLICABLE = 'n/a';

/**
 * Parallel coordinates from parameters to one final metric: an axis for every parameter on which the runs
 * differ (activation always). A run without a value for a parameter sits at that axis's "n/a" tick, below the
 * real values, never at an interpolated height.
 */
export function parallelOption(runs: ParRun[], metric: string): Record<string, unknown> {
  const fields = PARAM_FIELDS.filter(
    (f) => f === 'activation' || new Set(runs.map((r) => JSON.stringify(parValue(r.detail, f)))).size > 1,
  );
  type Dim = { name: string; type?: 'category' | 'value' | 'log'; data?: string[] };
  const cols: { dim: Dim; value: (r: ParRun) => string | number }[] = fields.map((f) => {
    if (f === 'activation') {
      const acts = [...new Set(runs.map((r) => r.detail.label))];
      return { dim: { name: 'activation', type: 'category', data: acts }, value: (r) => r.detail.label };
    }
    const vals = runs.map((r) => parValue(r.detail, f));
    const numeric = vals.every((v) => v === null || typeof v === 'number');
    const missing = vals.some((v) => v === null);
    const name = PAR_NAMES[f] ?? f;
    if (numeric && !missing) {
      const positive = (vals as number[]).every((v) => v > 0);
      const spread = positive ? Math.max(...(vals as number[])) / Math.min(...(vals as number[])) : 1;
      return {
        dim: { name, ...(f === 'lr' || spread >= 100 ? { type: 'log' as const } : {}) },
        value: (r) => parValue(r.detail, f) as number,
      };
    }
    // Categories in value order, with "n/a" first (the bottom of the axis) when some run has no value.
    const present = [...new Set(vals.filter((v) => v !== null))].sort((a, b) =>
      typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b)),
    );
    const data = [
      ...(missing ? [NOT_APPLICABLE] : []),
      ...present.map((v) => (typeof v === 'number' ? fmtNum(v, 4) : String(v))),
    ];
    return {
      dim: { name, type: 'category', data },
      value: (r) => {
        const v = parValue(r.detail, f);
        return v === null ? NOT_APPLICABLE : typeof v === 'number' ? fmtNum(v, 4) : String(v);
      },
    };
  });
  cols.push({ dim: { name: metric }, value: (r) => r.finalValue ?? '-' });
  const metricMissing = runs.some((r) => r.finalValue === null);
  return {
    animation: false,
    parallelAxis: cols.map((c, i) => ({
      dim: i,
      scale: i === cols.length - 1,
      ...c.dim,
      nameTextStyle: { fontSize: 11, color: '#454c59' },
      axisLabel: {
        fontSize: 10,
        color: '#69717f',
        formatter: (v: string | number) =>
          v === NOT_APPLICABLE ? 'n/a' : typeof v === 'number' ? fmtNum(v, 3) : String(v),
      },
    })),
    parallel: { left: 60, right: 70, top: 36, bottom: 24 },
    tooltip: { trigger: 'item', formatter: (p: { seriesName: string }) => p.seriesName },
    series: runs.map((r) => ({
      type: 'parallel',
      name: `${r.detail.name} · ${r.detail.label}`,
      // A run without the final metric yet is drawn dashed and faint: its line ends in no value.
      lineStyle: {
        color: r.color,
        width: 2,
        opacity: r.finalValue === null ? 0.35 : 0.85,
        ...(r.finalValue === null ? { type: 'dashed' } : {}),
      },
      data: [cols.map((c) => c.value(r))],
    })),
    ...(metricMissing
      ? {
          title: {
            text: 'dashed: no final value yet',
            right: 8,
            top: 4,
            textStyle: { fontSize: 10, fontWeight: 'normal', color: '#69717f' },
          },
        }
      : {}),
  };
}
