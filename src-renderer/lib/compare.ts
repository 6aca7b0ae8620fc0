// Compare screen helpers: metric titles (ours where DESIGN says so), parameter diff table, chart options.
import type { RunDetail, LayerGrid } from '../../shared/api.js';
import type { EpochMetric, LayerMetric } from '../../shared/metrics.js';
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

/** Spec fields shown in the parameter table, in order. */
export const PARAM_FIELDS = ['dataset', 'activation', 'depth', 'width', 'degree', 'eps', 'bounds', 'boundsMode', 'alpha', 'batchNorm', 'bnAffine', 'residual', 'init', 'optimizer', 'lr', 'batchSize', 'epochs', 'seed', 'rows', 'tau'] as const;

export function paramValue(r: RunDetail, f: string): string {
  const v = (r.spec as unknown as Record<string, unknown>)[f];
  if (v === undefined || v === null) return '—';
  if (Array.isArray(v)) return `[${v.join(', ')}]`;
  if (typeof v === 'number') return fmtNum(v, 4);
  return String(v);
}

/** Rows of the parameter table; with onlyDiff, only fields where the runs disagree. */
export function paramRows(runs: RunDetail[], onlyDiff: boolean): { field: string; values: string[]; differs: boolean }[] {
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
  return {
    animation: false,
    grid: { left: 52, right: 78, top: 12, bottom: 40 },
    tooltip: {
      position: 'top',
      formatter: (p: { value: [number, number, number | null] }) => {
        const [e, l, c] = p.value;
        const v = c === null ? '—' : fmtNum(log ? 10 ** c : c, 4);
        return `layer ${grid.layers[l]} · epoch ${grid.epochs[e]}<br/><b>${v}</b>`;
      },
    },
    xAxis: { type: 'category', data: grid.epochs, name: 'epoch', nameLocation: 'middle', nameGap: 26, axisLabel: { fontSize: 10 }, splitArea: { show: false } },
    yAxis: { type: 'category', data: grid.layers, name: 'layer', nameLocation: 'middle', nameGap: 36, axisLabel: { fontSize: 10 }, inverse: true },
    visualMap: {
      min: lo,
      max: hi,
      calculable: true,
      orient: 'vertical',
      right: 6,
      top: 'middle',
      itemHeight: 160,
      textStyle: { fontSize: 10 },
      formatter: (v: number) => (log ? `1e${v.toFixed(1)}` : fmtNum(v, 3)),
      inRange: { color: ['#0d0887', '#6a00a8', '#b12a90', '#e16462', '#fca636', '#f0f921'] },
    },
    series: [{ type: 'heatmap', data, progressive: 5000, emphasis: { itemStyle: { borderColor: '#000', borderWidth: 1 } } }],
  };
}

export interface ParRun {
  detail: RunDetail;
  color: string;
  finalValue: number | null;
}

/** Parallel coordinates from parameters to one final metric. */
export function parallelOption(runs: ParRun[], metric: string): Record<string, unknown> {
  const acts = [...new Set(runs.map((r) => r.detail.label))];
  const dims = [
    { name: 'activation', type: 'category', data: acts },
    { name: 'depth' },
    { name: 'width' },
    { name: 'degree n' },
    { name: 'ε' },
    { name: 'lr', type: 'log' },
    { name: 'batch' },
    { name: metric },
  ];
  return {
    animation: false,
    parallelAxis: dims.map((d, i) => ({ dim: i, scale: i === dims.length - 1, ...d, nameTextStyle: { fontSize: 11, color: '#454c59' }, axisLabel: { fontSize: 10, color: '#69717f' } })),
    parallel: { left: 60, right: 70, top: 36, bottom: 24 },
    tooltip: { trigger: 'item', formatter: (p: { seriesName: string }) => p.seriesName },
    series: runs.map((r) => ({
      type: 'parallel',
      name: `${r.detail.name} · ${r.detail.label}`,
      lineStyle: { color: r.color, width: 2, opacity: 0.85 },
      // Non-Bernstein runs have no n/ε: ECharts leaves '-' off the axis.
      data: [[r.detail.label, r.detail.depth, r.detail.width, r.detail.degree ?? '-', r.detail.eps ?? '-', r.detail.lr, r.detail.batchSize, r.finalValue ?? '-']],
    })),
  };
}
