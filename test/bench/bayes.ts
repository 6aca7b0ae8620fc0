// `npm run bench -- bayes`: TPE (method: bayes) against a full grid on a closed-form stand-in for the trainer
// with a known optimum, over (lr, eps, degree, depth). Prints best-so-far curves (mean over seeds) for bayes
// (1 and 4 proposals in flight), random search, and the grid in random order, and whether bayes came within
// 5 % of the grid's best in ≤ 1/3 of the grid's runs.
import type { ParamDef, ParamValue } from '../../shared/sweep.js';
import { proposeTpe, trialRng, type TpeTrial } from '../../shared/tpe.js';

const GRID = {
  lr: [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2],
  eps: [0, 0.001, 0.01, 0.1],
  degree: [3, 5, 9, 15],
  depth: [4, 8, 16, 32],
};
const SPACE: Record<string, ParamDef> = {
  lr: { min: 1e-4, max: 3e-2, distribution: 'log_uniform' },
  eps: { min: 0, max: 0.1, distribution: 'uniform' },
  degree: { min: 3, max: 15, distribution: 'int' },
  depth: { values: GRID.depth },
};

/** A test-loss-like bowl: best near lr 3e-3, eps 0.02, degree 9, depth 16; the floor is 0.05 (so 5 % is a tight margin). */
export function standIn(p: Record<string, ParamValue>): number {
  const lr = p.lr as number;
  const eps = p.eps as number;
  const degree = p.degree as number;
  const depth = p.depth as number;
  return (
    0.05 +
    0.06 * (Math.log10(lr) + 2.5) ** 2 +
    8 * (eps - 0.02) ** 2 +
    0.0015 * (degree - 9) ** 2 +
    0.01 * (Math.log2(depth) - 4) ** 2
  );
}

function gridPoints(): Record<string, ParamValue>[] {
  const out: Record<string, ParamValue>[] = [];
  for (const lr of GRID.lr)
    for (const eps of GRID.eps)
      for (const degree of GRID.degree) for (const depth of GRID.depth) out.push({ lr, eps, degree, depth });
  return out;
}

function bestSoFar(values: number[]): number[] {
  let b = Infinity;
  return values.map((v) => (b = Math.min(b, v)));
}

function bayesRun(seed: number, budget: number, inFlight: number): number[] {
  const history: TpeTrial[] = [];
  for (let i = 0; i < budget; i++) {
    const visible = history.map((t, j) =>
      j > i - inFlight ? { ...t, state: 'running' as const, value: undefined } : t,
    );
    const params = proposeTpe(SPACE, visible, { seed, index: i, goal: 'minimize' });
    history.push({ index: i, params, state: 'complete', value: standIn(params) });
  }
  return history.map((t) => t.value as number);
}

function randomRun(seed: number, budget: number): number[] {
  return Array.from({ length: budget }, (_, i) =>
    standIn(proposeTpe(SPACE, [], { seed: seed + 1000, index: i, goal: 'minimize' })),
  );
}

function shuffledGrid(seed: number): number[] {
  const pts = gridPoints().map(standIn);
  const next = trialRng(seed, 31337);
  for (let i = pts.length - 1; i > 0; i--) {
    const k = Math.floor(next() * (i + 1));
    [pts[i], pts[k]] = [pts[k], pts[i]];
  }
  return pts;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export function bayesBench(json: boolean, seeds = 8): void {
  const grid = gridPoints();
  const gridBest = Math.min(...grid.map(standIn));
  const budget = Math.floor(grid.length / 3);
  const checkpoints = [10, 16, 32, 64, budget].filter((c) => c <= budget);
  const curves: Record<string, number[][]> = {
    'bayes (1 in flight)': [],
    'bayes (4 in flight)': [],
    random: [],
    'grid (shuffled)': [],
  };
  for (let s = 0; s < seeds; s++) {
    curves['bayes (1 in flight)'].push(bestSoFar(bayesRun(s, budget, 1)));
    curves['bayes (4 in flight)'].push(bestSoFar(bayesRun(s, budget, 4)));
    curves.random.push(bestSoFar(randomRun(s, budget)));
    curves['grid (shuffled)'].push(bestSoFar(shuffledGrid(s)));
  }
  const at = (name: string, n: number) => mean(curves[name].map((c) => c[n - 1]));
  const within = (name: string) => {
    // First run count at which the mean best-so-far is within 5 % of the grid's best.
    for (let n = 1; n <= budget; n++) if (at(name, n) <= gridBest * 1.05) return n;
    return null;
  };
  const result = {
    grid: { runs: grid.length, best: gridBest },
    budget,
    seeds,
    checkpoints,
    curves: Object.fromEntries(Object.keys(curves).map((k) => [k, checkpoints.map((c) => at(k, c))])),
    runsToWithin5pct: Object.fromEntries(Object.keys(curves).map((k) => [k, within(k)])),
  };
  const ok = result.runsToWithin5pct['bayes (1 in flight)'] !== null;
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ ...result, target: 'bayes within 5% of the grid best in ≤ 1/3 of its runs', met: ok }, null, 2)}\n`,
    );
    return;
  }
  process.stdout.write(
    `stand-in objective over lr × eps × degree × depth; grid ${grid.length} runs, best ${gridBest.toFixed(4)}; budget ${budget} (1/3); mean of ${seeds} seeds\n`,
  );
  process.stdout.write(
    `best-so-far at run  ${checkpoints.map((c) => String(c).padStart(8)).join('')}   runs to ≤ 1.05 × grid best\n`,
  );
  for (const k of Object.keys(curves)) {
    const n = result.runsToWithin5pct[k];
    process.stdout.write(
      `${k.padEnd(20)}${result.curves[k].map((v) => v.toFixed(4).padStart(8)).join('')}   ${n === null ? `not within ${budget}` : n}\n`,
    );
  }
  process.stdout.write(`target (bayes within 5 % of the grid's best in ≤ ${budget} runs): ${ok ? 'met' : 'NOT met'}\n`);
}
