// Chart data helpers: EMA smoothing (W&B-style, debiased) and aligning bucketed series on one x axis.
import type { SeriesBucket } from '../../shared/api.js';

/** Debiased exponential moving average; weight 0 = raw, 0.99 = very smooth. Nulls pass through. */
export function ema(ys: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return ys.slice();
  const out: (number | null)[] = [];
  let last = 0;
  let n = 0;
  for (const y of ys) {
    if (y === null || !Number.isFinite(y)) {
      out.push(null);
      continue;
    }
    last = last * weight + (1 - weight) * y;
    n++;
    out.push(last / (1 - weight ** n));
  }
  return out;
}

/** Align several runs' buckets on the union of their epochs: [xs, ys per run] with nulls where missing. */
export function alignSeries(
  byRun: Record<string, SeriesBucket[]>,
  runIds: string[],
): { x: number[]; ys: (number | null)[][]; mins: (number | null)[][]; maxs: (number | null)[][]; bucketed: boolean } {
  const xs = new Set<number>();
  for (const id of runIds) for (const b of byRun[id] ?? []) xs.add(b.epoch);
  const x = [...xs].sort((a, b) => a - b);
  const pos = new Map(x.map((v, i) => [v, i]));
  const fin = (v: number) => (Number.isFinite(v) ? v : null);
  const rows = (pick: (b: SeriesBucket) => number) =>
    runIds.map((id) => {
      const row: (number | null)[] = new Array(x.length).fill(null);
      for (const b of byRun[id] ?? []) row[pos.get(b.epoch)!] = fin(pick(b));
      return row;
    });
  // A bucket spanning several epochs has min < max: the chart then shades the spread (W&B-style min/max band).
  const bucketed = runIds.some((id) => (byRun[id] ?? []).some((b) => b.min !== b.max));
  return { x, ys: rows((b) => b.last), mins: rows((b) => b.min), maxs: rows((b) => b.max), bucketed };
}

/** Indices a log axis cannot show (0, negatives, below its floor): charts draw them on the floor, marked. */
export function belowLogFloor(ys: (number | null)[], floor: number): number[] {
  const out: number[] = [];
  ys.forEach((y, i) => {
    if (y !== null && Number.isFinite(y) && y < floor) out.push(i);
  });
  return out;
}

/** For a log axis: non-positive values become null (uPlot cannot draw them). */
export function positiveOnly(ys: (number | null)[]): (number | null)[] {
  return ys.map((y) => (y !== null && y > 0 ? y : null));
}

/** CSV text → download as a file in the browser. */
export function downloadText(name: string, text: string, type = 'text/plain'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  downloadUrl(name, url);
  setTimeout(() => URL.revokeObjectURL(url), 5000);
}

export function downloadUrl(name: string, url: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
}
