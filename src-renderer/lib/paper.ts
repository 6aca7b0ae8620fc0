// Paper screen helpers: the figures' series (shared/paper.ts) → aligned uPlot series with one colour per
// activation label across every figure (Bernstein labels cool, baselines warm), δ̄ reference lines dashed, and
// zeros on log axes drawn at a stated floor (a log axis cannot show 0).
import type { GroupedSeries } from '../../shared/groups.js';
import type { ApproxCell, ApproxPoint, FigureSeries, FinalRow, ReferenceLine } from '../../shared/paper.js';

export interface PlotSeries {
  label: string;
  color: string;
  values: (number | null)[];
  dash?: number[];
  width?: number;
  /** A group's spread (min–max or ±1 sd), shaded behind its mean line. */
  band?: { lo: (number | null)[]; hi: (number | null)[] };
}

export interface PlotData {
  x: number[];
  series: PlotSeries[];
  /** How many points were 0 (or below the floor) and are drawn at the floor. */
  clamped: number;
}

const BERN = [
  '#1f5fd6',
  '#15a3b8',
  '#2a9d3a',
  '#6a4fd0',
  '#0b7a75',
  '#5b8ff0',
  '#7aa83a',
  '#9b6fd8',
  '#2f7fb0',
  '#47b39d',
];
const BASE = [
  '#d62728',
  '#e8600c',
  '#b8860b',
  '#8c564b',
  '#d45fb0',
  '#6b6b6b',
  '#f0a020',
  '#9c1f5e',
  '#c0392b',
  '#e377c2',
];

export interface LabelStyle {
  label: string;
  color: string;
  bernstein: boolean;
}

/** One colour per label, stable across figures: Bernstein labels from a cool palette, the others warm. */
export function labelStyles(series: { label: string; bernstein: boolean }[]): LabelStyle[] {
  const seen = new Map<string, boolean>();
  for (const s of series) if (!seen.has(s.label)) seen.set(s.label, s.bernstein);
  let b = 0;
  let o = 0;
  const out: LabelStyle[] = [];
  const sorted = [...seen.entries()].sort((a, z) => Number(z[1]) - Number(a[1]));
  for (const [label, bern] of sorted)
    out.push({ label, bernstein: bern, color: bern ? BERN[b++ % BERN.length] : BASE[o++ % BASE.length] });
  return out;
}

export interface PlotOptions {
  colors: Map<string, string>;
  hidden?: Set<string>;
  refs?: ReferenceLine[];
  /** Log axis: values ≤ 0 are drawn at this floor (counted in `clamped`). */
  logFloor?: number;
}

/** Aligns figure series on the union of their x values (a grouped series brings its band along). */
export function toPlot(series: (FigureSeries | GroupedSeries)[], o: PlotOptions): PlotData {
  const shown = series.filter((s) => !o.hidden?.has(s.label));
  const xs = new Set<number>();
  for (const s of shown) for (const [x] of s.points) xs.add(x);
  const x = [...xs].sort((a, b) => a - b);
  const pos = new Map(x.map((v, i) => [v, i]));
  let clamped = 0;
  const out: PlotSeries[] = shown.map((s) => {
    const values: (number | null)[] = new Array(x.length).fill(null);
    for (const [px, py] of s.points) {
      let v = py !== null && Number.isFinite(py) ? py : null;
      if (v !== null && o.logFloor !== undefined && v < o.logFloor) {
        v = o.logFloor;
        clamped++;
      }
      values[pos.get(px)!] = v;
    }
    const band = 'band' in s ? s.band : undefined;
    let aligned: PlotSeries['band'];
    if (band) {
      // Band edges at 0 on a log axis sit on the same floor as the line's zeros (not counted again).
      const at = (v: number | null | undefined) =>
        v === null || v === undefined || !Number.isFinite(v)
          ? null
          : o.logFloor !== undefined && v < o.logFloor
            ? o.logFloor
            : v;
      aligned = { lo: new Array(x.length).fill(null), hi: new Array(x.length).fill(null) };
      s.points.forEach(([px], k) => {
        aligned!.lo[pos.get(px)!] = at(band.lo[k]);
        aligned!.hi[pos.get(px)!] = at(band.hi[k]);
      });
    }
    return {
      label: s.label,
      color: o.colors.get(s.label) ?? '#6b6b6b',
      values,
      width: s.bernstein ? 2 : 1.5,
      ...(aligned ? { band: aligned } : {}),
    };
  });
  if (x.length) {
    for (const r of o.refs ?? []) {
      if (o.hidden?.has(r.label)) continue;
      out.push({
        label: `δ̄ ${r.label}`,
        color: o.colors.get(r.label) ?? '#1f5fd6',
        values: x.map(() => r.value),
        dash: [6, 4],
        width: 1.2,
      });
    }
  }
  return { x, series: out, clamped };
}

/** Final table rows grouped by label (Bernstein first), depth ascending; `first` marks each group's first row. */
export function groupFinalRows(rows: FinalRow[], order: string[]): (FinalRow & { first: boolean; span: number })[] {
  const rank = new Map(order.map((l, i) => [l, i]));
  const sorted = [...rows].sort(
    (a, b) =>
      (rank.get(a.label) ?? 999) - (rank.get(b.label) ?? 999) || a.label.localeCompare(b.label) || a.depth - b.depth,
  );
  return sorted.map((r, i) => {
    const first = i === 0 || sorted[i - 1].label !== r.label;
    const span = first ? sorted.filter((x) => x.label === r.label).length : 0;
    return { ...r, first, span };
  });
}

// ── approximation lab ──────────────────────────────────────────────────────────────────────────────────────

export interface ApproxPanel {
  target: string;
  x: number[];
  series: PlotSeries[];
}

/** Which test error a panel plots: the checkpoint the verdict uses, the final fit, or the validation-selected one. */
export type ApproxErrChoice = 'verdict' | 'final' | 'selected';

export function approxErr(p: ApproxPoint, which: ApproxErrChoice): number | null {
  const v = which === 'verdict' ? p.verdictErr : which === 'final' ? p.final.maxErr : p.selected?.maxErr;
  return v !== undefined && v !== null && Number.isFinite(v) && v > 0 ? v : null;
}

/**
 * One panel per target: max test error vs depth per Bernstein degree (solid), the parameter-matched ReLU per
 * degree (dashed, warm colour), the architecture's floor E_{n^L} (dash-dot, upper bound; a gap where it is below
 * float64 precision) and the n^(−L) reference slope through each degree's first point (dotted).
 */
export function approxPanels(
  points: ApproxPoint[],
  cells: ApproxCell[] = [],
  which: ApproxErrChoice = 'verdict',
): ApproxPanel[] {
  const targets = [...new Set(points.map((p) => p.target))];
  const degrees = [
    ...new Set(points.map((p) => p.degree ?? p.matchedDegree).filter((d): d is number => d !== null)),
  ].sort((a, b) => a - b);
  return targets.map((target) => {
    const pts = points.filter((p) => p.target === target);
    const x = [...new Set(pts.map((p) => p.depth))].sort((a, b) => a - b);
    const series: PlotSeries[] = [];
    degrees.forEach((n, i) => {
      const color = BERN[i % BERN.length];
      const bern = x.map((d) => {
        const p = pts.find((q) => q.family === 'bernstein' && q.degree === n && q.depth === d);
        return p ? approxErr(p, which) : null;
      });
      if (bern.some((v) => v !== null)) {
        series.push({ label: `Bern n=${n}`, color, values: bern, width: 2 });
        const floor = x.map((d) => {
          const c = cells.find((q) => q.target === target && q.degree === n && q.depth === d);
          return c && !c.floor.belowPrecision && Number.isFinite(c.floor.upper) && c.floor.upper > 0
            ? c.floor.upper
            : null;
        });
        if (cells.some((c) => c.target === target && c.degree === n))
          series.push({ label: `floor E_{n^L}, n=${n}`, color, values: floor, dash: [10, 3, 2, 3], width: 1.2 });
        const i0 = bern.findIndex((v) => v !== null);
        const e0 = bern[i0] as number;
        series.push({
          label: `n^(−L) slope, n=${n}`,
          color,
          values: x.map((d) => e0 * n ** -(d - x[i0])),
          dash: [2, 3],
          width: 1,
        });
      }
      const relu = x.map((d) => {
        const p = pts.find((q) => q.family === 'relu' && q.matchedDegree === n && q.depth === d);
        return p ? approxErr(p, which) : null;
      });
      if (relu.some((v) => v !== null))
        series.push({
          label: `ReLU ≈ params of n=${n}`,
          color: BASE[i % BASE.length],
          values: relu,
          dash: [7, 4],
          width: 1.6,
        });
    });
    return { target, x, series };
  });
}
