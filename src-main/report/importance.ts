// Parameter importance for a sweep: a random-forest regressor (ml-random-forest) fitted to the finished runs'
// swept parameters → metric, then permutation importance — how much the forest's error grows when one
// parameter's column is shuffled. Normalised to sum to 1, as optuna-dashboard shows them.
import { RandomForestRegression } from 'ml-random-forest';
import type { ParamValue } from '../../shared/sweep.js';
import { trialRng } from '../../shared/tpe.js';

export interface ImportanceRun {
  params: Record<string, ParamValue>;
  value: number;
}

export interface ParamImportance {
  param: string;
  /** Share of the explained error increase (0..1; all parameters sum to 1 when any matters). */
  importance: number;
}

export interface ImportanceResult {
  /** Runs the model was fitted to. */
  runs: number;
  params: ParamImportance[];
  /** Why nothing could be computed (too few runs, nothing varies). */
  reason?: string;
}

export const IMPORTANCE_MIN_RUNS = 4;

/** Column encoding: numbers as they are (log for positive ranges spanning ≥ 2 decades); others by category index. */
function encoder(values: ParamValue[]): (v: ParamValue) => number {
  if (values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    const nums = values as number[];
    const min = Math.min(...nums);
    const max = Math.max(...nums);
    const log = min > 0 && max / min >= 100;
    return (v) => (log ? Math.log(v as number) : (v as number));
  }
  const keys: string[] = [];
  for (const v of values) {
    const k = JSON.stringify(v);
    if (!keys.includes(k)) keys.push(k);
  }
  keys.sort();
  return (v) => keys.indexOf(JSON.stringify(v));
}

function mse(pred: number[], y: number[]): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (pred[i] - y[i]) ** 2;
  return s / y.length;
}

/** Importance of each parameter that takes more than one value among the runs. Deterministic for a seed. */
export function parameterImportance(
  runs: readonly ImportanceRun[],
  opts: { seed?: number; trees?: number; repeats?: number } = {},
): ImportanceResult {
  const ok = runs.filter((r) => Number.isFinite(r.value));
  const names = [...new Set(ok.flatMap((r) => Object.keys(r.params)))].filter((n) => {
    const distinct = new Set(ok.map((r) => JSON.stringify(r.params[n] ?? null)));
    return distinct.size > 1;
  });
  if (ok.length < IMPORTANCE_MIN_RUNS)
    return {
      runs: ok.length,
      params: [],
      reason: `needs at least ${IMPORTANCE_MIN_RUNS} finished runs with a metric (has ${ok.length})`,
    };
  if (names.length === 0)
    return { runs: ok.length, params: [], reason: 'no swept parameter takes more than one value' };
  const enc = names.map((n) => encoder(ok.map((r) => r.params[n] ?? null)));
  const X = ok.map((r) => names.map((n, j) => enc[j](r.params[n] ?? null)));
  const y = ok.map((r) => r.value);
  const seed = opts.seed ?? 0;
  const forest = new RandomForestRegression({
    seed: seed | 0 || 1,
    nEstimators: opts.trees ?? 64,
    // Every tree sees every parameter (there are few); the forest varies by bootstrap samples.
    maxFeatures: names.length,
    replacement: false,
    useSampleBagging: true,
    noOOB: true,
  });
  forest.train(X, y);
  const base = mse(forest.predict(X), y);
  const next = trialRng(seed, 7919);
  const repeats = opts.repeats ?? 5;
  const raw = names.map((_, j) => {
    let inc = 0;
    for (let r = 0; r < repeats; r++) {
      const col = X.map((row) => row[j]);
      for (let i = col.length - 1; i > 0; i--) {
        const k = Math.floor(next() * (i + 1));
        [col[i], col[k]] = [col[k], col[i]];
      }
      const Xp = X.map((row, i) => row.map((v, c) => (c === j ? col[i] : v)));
      inc += Math.max(0, mse(forest.predict(Xp), y) - base);
    }
    return inc / repeats;
  });
  const total = raw.reduce((a, b) => a + b, 0);
  const params = names
    .map((param, j) => ({ param, importance: total > 0 ? raw[j] / total : 0 }))
    .sort((a, b) => b.importance - a.importance || a.param.localeCompare(b.param));
  return { runs: ok.length, params };
}
