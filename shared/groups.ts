// Grouping runs W&B-style: runs that agree on the chosen parameters (default: every parameter but the seed)
// form one group, drawn as the mean with a min–max or ±1 sd band. Pure: Compare and the Paper screen group
// RunDetails, the HTML reports group the paper figures' series with the same code.
import { formatNumber } from './format.js';
import type { FigureSeries } from './paper.js';

export const BAND_MODES = ['minmax', 'sd'] as const;
export type BandMode = (typeof BAND_MODES)[number];
export const BAND_LABEL: Record<BandMode, string> = { minmax: 'min–max', sd: '±1 sd' };

/** Spec fields runs are compared and grouped on, in display order. */
export const PARAM_FIELDS = [
  'dataset',
  'activation',
  'depth',
  'width',
  'degree',
  'eps',
  'bounds',
  'boundsMode',
  'alpha',
  'batchNorm',
  'bnAffine',
  'residual',
  'init',
  'optimizer',
  'lr',
  'batchSize',
  'epochs',
  'seed',
  'rows',
  'tau',
] as const;
export const GROUP_FIELDS: readonly string[] = PARAM_FIELDS;
export const DEFAULT_GROUP_BY: readonly string[] = PARAM_FIELDS.filter((f) => f !== 'seed');

/** What grouping needs of a run: its id, its spec (fields read by name) and its activation label. */
export interface Groupable {
  id: string;
  spec: object;
  label: string;
}

export function paramValue(r: { spec: object }, f: string): string {
  const v = (r.spec as Record<string, unknown>)[f];
  if (v === undefined || v === null) return '—';
  if (Array.isArray(v)) return `[${v.join(', ')}]`;
  if (typeof v === 'number') return formatNumber(v, 4);
  return String(v);
}

export interface RunGroup {
  key: string;
  label: string;
  runIds: string[];
  /** Seeds in the group (for the legend). */
  seeds: number[];
}

/** Groups in first-seen order; a label names what sets the group apart from the others. */
export function groupRuns<T extends { id: string; spec: object }>(
  runs: readonly T[],
  by: readonly string[],
  label: (r: T) => string,
): RunGroup[] {
  const groups = new Map<string, { runs: T[] }>();
  for (const r of runs) {
    const key = by.map((f) => `${f}=${paramValue(r, f)}`).join('|');
    const g = groups.get(key) ?? { runs: [] };
    g.runs.push(r);
    groups.set(key, g);
  }
  // Fields whose value differs between groups: they name the groups.
  const differing = by.filter((f) => new Set([...groups.values()].map((g) => paramValue(g.runs[0]!, f))).size > 1);
  return [...groups].map(([key, g]) => {
    const first = g.runs[0]!;
    // Name a group by its activation label, plus the other fields that tell apart groups of the same label
    // (batch norm that follows the activation's default does not need saying).
    const same = [...groups.values()].filter((o) => label(o.runs[0]!) === label(first));
    const parts = differing
      .filter(
        (f) =>
          !['activation', 'degree', 'eps', 'bounds'].includes(f) &&
          new Set(same.map((o) => paramValue(o.runs[0]!, f))).size > 1,
      )
      .map((f) => `${f} ${paramValue(first, f)}`);
    const name = [label(first), ...parts].join(' · ');
    const seeds = g.runs.map((r) => Number((r.spec as Record<string, unknown>).seed));
    return {
      key,
      label: `${name} (${g.runs.length} run${g.runs.length === 1 ? '' : 's'})`,
      runIds: g.runs.map((r) => r.id),
      seeds,
    };
  });
}

/** Mean and band per x over the members that have a value there (nulls where none has). */
export function aggregate(
  rows: (number | null)[][],
  mode: BandMode,
): { mean: (number | null)[]; lo: (number | null)[]; hi: (number | null)[]; n: number[] } {
  const len = Math.max(0, ...rows.map((r) => r.length));
  const mean: (number | null)[] = [];
  const lo: (number | null)[] = [];
  const hi: (number | null)[] = [];
  const n: number[] = [];
  for (let i = 0; i < len; i++) {
    const vs = rows.map((r) => r[i]).filter((v): v is number => v !== null && v !== undefined && Number.isFinite(v));
    n.push(vs.length);
    if (!vs.length) {
      mean.push(null);
      lo.push(null);
      hi.push(null);
      continue;
    }
    const m = vs.reduce((a, b) => a + b, 0) / vs.length;
    mean.push(m);
    if (mode === 'minmax') {
      lo.push(Math.min(...vs));
      hi.push(Math.max(...vs));
    } else {
      const sd = vs.length > 1 ? Math.sqrt(vs.reduce((a, b) => a + (b - m) ** 2, 0) / (vs.length - 1)) : 0;
      lo.push(m - sd);
      hi.push(m + sd);
    }
  }
  return { mean, lo, hi, n };
}

/** A figure series that stands for a group: its points are the mean; `band` the spread at the same x values. */
export interface GroupedSeries extends FigureSeries {
  /** Runs in the group (≥ 1). */
  runs: number;
  /** Lower and upper edge per point (present when the group has ≥ 2 runs). */
  band?: { lo: (number | null)[]; hi: (number | null)[] };
}

/**
 * The series of one figure, grouped: one series per group that has a member in the figure (label = the group's
 * label, points = the mean over its members at each x, band = min–max or ±1 sd). Members keep their own x values;
 * the group's x values are their union.
 */
export function groupSeries(
  series: readonly FigureSeries[],
  groups: readonly RunGroup[],
  mode: BandMode,
): GroupedSeries[] {
  const byRun = new Map(series.map((s) => [s.runId, s]));
  const out: GroupedSeries[] = [];
  for (const g of groups) {
    const members = g.runIds.map((id) => byRun.get(id)).filter((s): s is FigureSeries => !!s);
    if (!members.length) continue;
    const xs = [...new Set(members.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
    const pos = new Map(xs.map((x, i) => [x, i]));
    const rows = members.map((s) => {
      const row: (number | null)[] = new Array(xs.length).fill(null);
      for (const [x, y] of s.points) row[pos.get(x)!] = y;
      return row;
    });
    const agg = aggregate(rows, mode);
    out.push({
      label: g.label,
      runId: members[0]!.runId,
      bernstein: members[0]!.bernstein,
      points: xs.map((x, i) => [x, agg.mean[i]!]),
      runs: members.length,
      ...(members.length > 1 ? { band: { lo: agg.lo, hi: agg.hi } } : {}),
    });
  }
  return out;
}

/** Whether grouping by `by` merges any runs (e.g. the sweep varies the seed). */
export function groupingMerges(runs: readonly { id: string; spec: object }[], by: readonly string[]): boolean {
  return groupRuns(runs, by, () => '').length < runs.length;
}

/** How a figure groups its runs: by these fields with this band; null = one line per run. */
export interface GroupOption {
  by: readonly string[];
  band: BandMode;
}

/**
 * The grouping a paper figure / report uses: `undefined` = automatic (all parameters but the seed, min–max
 * band, when that merges runs — i.e. the sweep varies the seed), null = none, or the given fields and band.
 * Returns null when grouping would leave every run alone.
 */
export function resolveGrouping(
  runs: readonly Groupable[],
  opt: GroupOption | null | undefined,
): (GroupOption & { groups: RunGroup[] }) | null {
  if (opt === null || !runs.length) return null;
  const by = opt?.by ?? DEFAULT_GROUP_BY;
  const groups = groupRuns(runs, by, (r) => r.label);
  if (groups.length === runs.length) return null;
  return { by, band: opt?.band ?? 'minmax', groups };
}

/** Unknown field names in a group-by list (for a clear error). */
export function unknownGroupFields(by: readonly string[]): string[] {
  return by.filter((f) => !GROUP_FIELDS.includes(f));
}

/** A group's final metric: mean with its band (min–max or ±1 sd) over the group's finished runs. */
export interface GroupStat {
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

export interface GroupFinal {
  label: string;
  runIds: string[];
  seeds: number[];
  /** Runs that trained to the end (only they count: a run cancelled after 2 epochs is no result). */
  finished: number;
  testAcc: GroupStat | null;
  testLoss: GroupStat | null;
  trainLoss: GroupStat | null;
}

export function groupStat(values: readonly (number | null)[], band: BandMode): GroupStat | null {
  const vs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (!vs.length) return null;
  const a = aggregate(
    vs.map((v) => [v]),
    band,
  );
  return { mean: a.mean[0]!, lo: a.lo[0]!, hi: a.hi[0]!, n: vs.length };
}

/** Final metrics per group over its finished runs (the Paper screen's and the report's "across seeds" table). */
export function groupFinals(
  groups: readonly RunGroup[],
  rows: readonly {
    runId: string;
    status: string;
    testAcc: number | null;
    testLoss: number | null;
    trainLoss: number | null;
  }[],
  band: BandMode,
): GroupFinal[] {
  return groups.map((g) => {
    const done = rows.filter((r) => g.runIds.includes(r.runId) && r.status === 'finished');
    return {
      label: g.label,
      runIds: g.runIds,
      seeds: g.seeds,
      finished: done.length,
      testAcc: groupStat(
        done.map((r) => r.testAcc),
        band,
      ),
      testLoss: groupStat(
        done.map((r) => r.testLoss),
        band,
      ),
      trainLoss: groupStat(
        done.map((r) => r.trainLoss),
        band,
      ),
    };
  });
}
