// Grouping runs W&B-style: runs that agree on the chosen parameters (default: every parameter but the seed)
// form one group, drawn as the mean with a min–max or ±1 sd band.
import type { RunDetail } from '../../shared/api.js';
import { PARAM_FIELDS, paramValue } from './compare.js';

export type BandMode = 'minmax' | 'sd';
export const GROUP_FIELDS: readonly string[] = PARAM_FIELDS;
export const DEFAULT_GROUP_BY: readonly string[] = PARAM_FIELDS.filter((f) => f !== 'seed');

export interface RunGroup {
  key: string;
  label: string;
  runIds: string[];
  /** Seeds in the group (for the legend). */
  seeds: number[];
}

/** Groups in first-seen order; a label names what sets the group apart from the others. */
export function groupRuns(runs: RunDetail[], by: readonly string[], label: (r: RunDetail) => string): RunGroup[] {
  const groups = new Map<string, { runs: RunDetail[] }>();
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
      .filter((f) => !['activation', 'degree', 'eps', 'bounds'].includes(f) && new Set(same.map((o) => paramValue(o.runs[0]!, f))).size > 1)
      .map((f) => `${f} ${paramValue(first, f)}`);
    const name = [label(first), ...parts].join(' · ');
    return { key, label: `${name} (${g.runs.length} run${g.runs.length === 1 ? '' : 's'})`, runIds: g.runs.map((r) => r.id), seeds: g.runs.map((r) => r.spec.seed) };
  });
}

/** Mean and band per x over the members that have a value there (nulls where none has). */
export function aggregate(rows: (number | null)[][], mode: BandMode): { mean: (number | null)[]; lo: (number | null)[]; hi: (number | null)[]; n: number[] } {
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
