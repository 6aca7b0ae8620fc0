// Line charts rendered to inline SVG strings with ECharts' server-side renderer (no DOM, no external URLs).
// Log axes cannot show zeros or negatives: values ≤ 0 are drawn at `floor` and the caption says so.
import { createRequire } from 'node:module';
import type * as echarts from 'echarts';
import type { GroupedSeries } from '../../shared/groups.js';
import type { FigureSeries, ReferenceLine } from '../../shared/paper.js';
import { formatNumber } from '../../shared/format.js';

/** ECharts is loaded on the first chart, not at import: as ESM it is ~600 modules (≈1 s of startup for every
 *  `deepbern` command that never draws one); its CommonJS build is one file with the same API. */
let echartsLib: typeof echarts | undefined;
const loadEcharts = (): typeof echarts => (echartsLib ??= createRequire(import.meta.url)('echarts') as typeof echarts);

export interface LineChartOptions {
  title: string;
  xName: string;
  yName: string;
  /** One line per series; a grouped series (shared/groups.ts) also gets its band, shaded in its colour. */
  series: (FigureSeries | GroupedSeries)[];
  logY?: boolean;
  /** Log axes: where values ≤ 0 are drawn (callers state it in the caption). */
  floor?: number;
  /** Dashed horizontal lines (δ̄ per label). */
  refs?: ReferenceLine[];
  /** Extra dashed curves (e.g. a theoretical slope), drawn without markers. */
  dashed?: FigureSeries[];
  xLog?: boolean;
  xInteger?: boolean;
  width?: number;
  height?: number;
}

// Distinct colours: Bernstein labels get the blues/greens, baselines warm colours, so families read at a glance.
const BERN = ['#1f4e9c', '#2f80ed', '#00a3a3', '#2e7d32', '#6a5acd', '#0b6e4f', '#4a90a4', '#7cb342'];
const BASE = ['#d62728', '#ff7f0e', '#8c564b', '#e377c2', '#bcbd22', '#9467bd', '#7f7f7f', '#ad494a'];

export interface ChartResult {
  svg: string;
  /** How many plotted points were at or below zero and drawn at the floor. */
  clamped: number;
}

export function lineChart(o: LineChartOptions): ChartResult {
  const width = o.width ?? 880;
  const height = o.height ?? (o.logY ? 480 : 400);
  const floor = o.floor ?? 1e-12;
  let clamped = 0;
  const y = (v: number | null): number | null => {
    if (v === null || !Number.isFinite(v)) return null;
    if (o.logY && v <= floor) {
      clamped++;
      return floor;
    }
    return v;
  };
  /** A band edge: like y() but not counted as a clamped point (the caption counts the lines' points). */
  const edge = (v: number | null): number | null =>
    v === null || !Number.isFinite(v) ? null : o.logY && v <= floor ? floor : v;
  let bi = 0,
    oi = 0;
  const colors = o.series.map((s) => (s.bernstein ? BERN[bi++ % BERN.length]! : BASE[oi++ % BASE.length]!));
  const series: echarts.SeriesOption[] = o.series.map((s, i) => ({
    type: 'line',
    name: s.label,
    showSymbol: s.points.length <= 60,
    symbolSize: 4,
    connectNulls: false,
    lineStyle: { width: s.bernstein ? 2.2 : 1.4 },
    itemStyle: { color: colors[i] },
    data: s.points.map(([x, v]) => [x, y(v)]),
  }));
  const legendNames = o.series.map((s) => s.label);
  // A group's band: its lower edge (invisible) with the width of the band stacked on it and shaded. Points where
  // the band is unknown are gaps. Band values at or below a log axis's floor sit on the floor, like the lines.
  o.series.forEach((s, i) => {
    const band = 'band' in s ? s.band : undefined;
    if (!band) return;
    const lo = band.lo.map(edge);
    const hi = band.hi.map(edge);
    const stack = `band-${i}`;
    const common = {
      type: 'line' as const,
      stack,
      showSymbol: false,
      silent: true,
      connectNulls: false,
      lineStyle: { opacity: 0, width: 0 },
      z: 1,
    };
    series.push({ ...common, name: `${s.label} ·band-lo`, data: s.points.map(([x], k) => [x, lo[k] ?? null]) });
    series.push({
      ...common,
      name: `${s.label} ·band`,
      areaStyle: { color: colors[i], opacity: 0.18 },
      data: s.points.map(([x], k) => [
        x,
        lo[k] !== null && hi[k] !== null && lo[k] !== undefined && hi[k] !== undefined
          ? Math.max(0, hi[k]! - lo[k]!)
          : null,
      ]),
    });
  });
  for (const d of o.dashed ?? []) {
    series.push({
      type: 'line',
      name: d.label,
      showSymbol: false,
      lineStyle: { type: 'dashed', width: 1.2 },
      itemStyle: { color: '#555' },
      data: d.points.map(([x, v]) => [x, y(v)]),
    });
  }
  const refNames: string[] = [];
  for (const d of o.dashed ?? []) refNames.push(d.label);
  (o.refs ?? []).forEach((r, i) => {
    refNames.push(`δ̄ ${r.label} = ${r.value.toPrecision(3)}`);
    const xs = o.series.flatMap((s) => s.points.map((p) => p[0]));
    const lo = Math.min(...xs),
      hi = Math.max(...xs);
    series.push({
      type: 'line',
      name: `δ̄ ${r.label} = ${formatNumber(r.value)}`,
      showSymbol: false,
      lineStyle: { type: 'dashed', width: 1.5 },
      itemStyle: { color: ['#000', '#444', '#777', '#999'][i % 4] },
      data: Number.isFinite(lo)
        ? [
            [lo, r.value],
            [hi, r.value],
          ]
        : [],
    });
  });
  // Log axes span whole decades around the data (ECharts' own log extent pads to absurd ranges like 1e±10).
  let yRange: { min?: number; max?: number } = {};
  if (o.logY) {
    // (a band's stacked width is not a value on the axis: its edges are)
    const edges = o.series.flatMap((s) => ('band' in s && s.band ? [...s.band.lo, ...s.band.hi].map(edge) : []));
    const vals = [
      ...series
        .filter((s) => !String(s.name).endsWith(' ·band'))
        .flatMap((s) => ((s as { data: [number, number | null][] }).data ?? []).map((p) => p[1])),
      ...edges,
    ].filter((v): v is number => v !== null && v > 0);
    if (vals.length)
      yRange = {
        min: 10 ** Math.floor(Math.log10(Math.min(...vals))),
        max: 10 ** Math.ceil(Math.log10(Math.max(...vals)) + 1e-9),
      };
  }
  const chart = loadEcharts().init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({
      animation: false,
      title: { text: o.title, left: 8, top: 4, textStyle: { fontSize: 13 } },
      legend: {
        type: 'plain',
        right: 8,
        top: 28,
        orient: 'vertical',
        textStyle: { fontSize: 10 },
        itemHeight: 8,
        data: [...legendNames, ...refNames],
      },
      grid: { left: 70, right: 230, top: 40, bottom: 48 },
      xAxis: {
        type: o.xLog ? 'log' : 'value',
        name: o.xName,
        nameLocation: 'middle',
        nameGap: 28,
        minInterval: o.xInteger ? 1 : undefined,
        scale: true,
      },
      yAxis: {
        type: o.logY ? 'log' : 'value',
        name: o.yName,
        nameLocation: 'middle',
        nameGap: 54,
        axisLabel: {
          formatter: (v: number) =>
            (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4) || v === 0
              ? String(Number(v.toPrecision(3)))
              : v.toExponential(0),
        },
        scale: !o.logY,
        // A tick at every decade, so a reader can place δ̄ and the data against labelled powers of ten.
        ...(o.logY ? { interval: 1, minorTick: { show: true }, splitLine: { show: true } } : {}),
        ...yRange,
      },
      series,
    });
    return { svg: chart.renderToSVGString(), clamped };
  } finally {
    chart.dispose();
  }
}
