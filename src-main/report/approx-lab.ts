// Approximation-rate lab, the orchestration half: every (target, depth, degree) Bernstein fit and its
// parameter-matched ReLU fit, each stored as a tagged run of kind `approx` (so the app lists and charts them)
// through the same RunRecorder as every training run (leased, stored, reported alike), and the results read
// back from the store by tag.
//
// Order per fit (what test/approx-lab.test.ts checks): train on the train grid, measuring the validation grid
// at each report point → the selected checkpoint is fixed → the sealed test grid is read once, scoring the
// final and the selected weights → the last report point is stored with the test numbers, the rest as tags.
// Verdicts (which family won, what limits the Bernstein fit) are computed from those stored test numbers.
import type {
  ApproxBatchNorm,
  ApproxCell,
  ApproxCheckpoint,
  ApproxFloor,
  ApproxLimit,
  ApproxPoint,
  ApproxResults,
  ApproxSelect,
  ApproxVerdict,
} from '../../shared/paper.js';
import { findTargetFunction, TARGET_FUNCTIONS, testGridSize, validationGrid } from '../../shared/approx-targets.js';
import { FloorCache, floorText } from '../../shared/approx-floor.js';
import type { EpochReport } from '../../shared/metrics.js';
import { SPEC_FIELDS } from '../../shared/spec.js';
import type { SealedTestGrid } from '../../workers/data/target-functions.js';
import type { FitOptions, FitOutcome, FitReport } from '../../workers/approx/fit.js';
import type { ApproxFitJob } from '../../workers/approx/pool-fit.js';
import type { Grid } from '../../shared/approx-targets.js';

type FitJobOptions = Omit<FitOptions, 'ops'>;
import type { WorkbenchEvent } from '../../shared/api.js';
import type { RunStore } from '../store/run-store.js';
import { Ownership } from '../scheduler/ownership.js';
import { RunRecorder } from '../scheduler/run-recorder.js';
import { randomBytes } from 'node:crypto';

export const APPROX_TAG = 'approx-lab';

export interface ApproxLabOptions {
  targets: string[];
  depths: number[];
  degrees: number[];
  width: number;
  steps: number;
  lr: number;
  lrFinal: number;
  gridPoints: number;
  reports: number;
  eps: number;
  bounds: [number, number];
  seed: number;
  /** Batch norm in the Bernstein nets: affine (PyTorch's default) or none; never non-affine (see fit.ts). */
  bn: 'affine' | 'none';
  /** Which weights the verdict scores: the validation-selected report point (default) or the final fit. */
  select: ApproxSelect;
  /** Fit parameter-matched ReLU nets too (default true). */
  relu: boolean;
  backend?: string;
  /** Worker threads to train on (one fit per thread at a time); 0 or undefined: this thread. */
  workers?: number;
}

export const APPROX_DEFAULTS: ApproxLabOptions = {
  targets: ['fn:smooth', 'fn:sinexp', 'fn:osc', 'fn:kink'],
  depths: [1, 2, 3, 4, 5, 6],
  degrees: [3, 5, 9],
  width: 8,
  steps: 2000,
  lr: 1e-2,
  lrFinal: 1e-4,
  gridPoints: 256,
  reports: 10,
  eps: 0.01,
  bounds: [-3, 3],
  seed: 0,
  bn: 'affine',
  select: 'validation',
  relu: true,
};

const SCHEDULE = 'Adam, full batch, lr held for the first 25% of steps, then decayed geometrically';
export const FLOOR_METHOD =
  'E_N(f) for N = n^L, bracketed by the Chebyshev interpolant at N+1 first-kind Chebyshev points (upper; near-best within 1 + Λ_N, Λ_N ≤ 1 + (2/π)ln(N+1)) and max(upper/(1+Λ_N), de la Vallée Poussin) (lower); N > 1024 computed at 1024 (upper bound only)';
/** Below this a float32 network's max error is arithmetic noise, not a limit of training or architecture. */
const FLOAT32_LEVEL = 1e-5;
/**
 * Measured within this factor of the floor's upper bound (the near-best Chebyshev polynomial's error): the floor
 * limits — no polynomial we can exhibit of the net's degree does clearly better. Above it, one does.
 */
export const FLOOR_FACTOR = 1.25;
/** Two errors within this ratio are a tie. */
const TIE = 1.1;

export interface FitDone {
  index: number;
  total: number;
  point: ApproxPoint;
}

/** Test-only seams: watch (or replace) the sealed test grid a fit gets. */
export interface ApproxLabHooks {
  testGrid?: (target: string, rows: number, onRead: (g: SealedTestGrid) => void) => SealedTestGrid;
  /** Called on every test-grid read, with the 1-based fit index. */
  onTestRead?: (fit: number, g: SealedTestGrid) => void;
  /** Called after each report point of a fit has been handled (before any test read of that fit). */
  onReport?: (fit: number, reportIndex: number) => void;
}

/** How the lab's fits are recorded: under whose lease, and where their run events go. */
export interface LabRecording {
  /** The lease the fits are driven under (the service's); default: the lab holds its own while it runs. */
  ownership?: Ownership;
  /** The fits' run-status, run-start and run-epoch events (the service forwards them to the app). */
  emit?: (e: WorkbenchEvent) => void;
}

/** Whether this build's engine has affine batch norm (the spec field `bnAffine`). */
export function engineHasAffineBn(): boolean {
  return (SPEC_FIELDS as readonly string[]).includes('bnAffine');
}

/** Checks lab options; throws a readable Error (the CLI and the service wrap it). */
export function checkApproxOptions(o: ApproxLabOptions): void {
  for (const t of o.targets) {
    if (!findTargetFunction(t))
      throw new Error(`unknown target function ${t}; one of ${TARGET_FUNCTIONS.map((x) => x.id).join(', ')}`);
  }
  if (o.bn !== 'affine' && o.bn !== 'none')
    throw new Error(
      `bn must be affine or none (got ${String(o.bn)}); non-affine batch norm makes every first-layer unit ±x̂ on a 1-D input`,
    );
  if (o.bn === 'affine' && !engineHasAffineBn())
    throw new Error(
      "bn: affine needs the engine's affine batch norm (spec field bnAffine), which this build lacks; use bn: none",
    );
  if (o.select !== 'validation' && o.select !== 'final')
    throw new Error(`select must be validation or final (got ${String(o.select)})`);
  if (!Number.isInteger(o.reports) || o.reports < 1)
    throw new Error(`reports must be an integer ≥ 1 (got ${o.reports})`);
  if (!Number.isInteger(o.steps) || o.steps < o.reports)
    throw new Error(`steps must be an integer ≥ reports (${o.reports}) (got ${o.steps})`);
}

/** Runs the lab in this thread; returns its tag (`lab:<id>`) and results. */
export async function runApproxLab(
  store: RunStore,
  o: ApproxLabOptions,
  onFit?: (f: FitDone) => void,
  hooks: ApproxLabHooks = {},
  recording: LabRecording = {},
): Promise<ApproxResults> {
  checkApproxOptions(o);
  // tfjs loads only when the lab really runs (the report half must not pull it into every CLI command).
  const { initBackend } = await import('../../workers/engine/backend.js');
  const { pickOps } = await import('../../workers/engine/kernels/index.js');
  const { fitTarget, fitSpec, matchedReluWidth, mlpParamCount, scoreOnTestGrid, checkpointState } =
    await import('../../workers/approx/fit.js');
  const { ApproxFitPool } = await import('./approx-pool.js');
  const { labGrids, SealedTestGrid } = await import('../../workers/data/target-functions.js');
  const backend = await initBackend((o.backend ?? 'auto') as Parameters<typeof initBackend>[0]);
  const ops = pickOps(backend.name);
  const labTag = `lab:${randomBytes(4).toString('hex')}`;
  type Job = {
    target: string;
    activation: 'bernstein' | 'relu';
    depth: number;
    width: number;
    degree: number;
    matched: number | null;
  };
  const jobs: Job[] = [];
  for (const target of o.targets) {
    for (const depth of o.depths) {
      for (const degree of o.degrees) {
        jobs.push({ target, activation: 'bernstein', depth, width: o.width, degree, matched: null });
        if (o.relu) {
          const p = mlpParamCount({
            activation: 'bernstein',
            depth,
            width: o.width,
            degree,
            bnAffine: o.bn === 'affine',
          });
          jobs.push({ target, activation: 'relu', depth, width: matchedReluWidth(depth, p), degree, matched: degree });
        }
      }
    }
  }
  // Fail before any run is stored if a spec cannot be built (e.g. affine BN on an engine without it).
  for (const j of jobs)
    fitSpec({
      ...j,
      eps: o.eps,
      bounds: o.bounds,
      bn: o.bn,
      gridPoints: o.gridPoints,
      steps: o.steps,
      lr: o.lr,
      lrFinal: o.lrFinal,
      reports: o.reports,
      seed: o.seed,
    });
  const points: ApproxPoint[] = [];
  let valPoints = 0,
    done = 0;
  // Trains one fit on the train and validation grids only: in this thread, or on the pool (o.workers > 0).
  const train = async (
    fo: FitJobOptions,
    grids: { train: Grid; validation: Grid },
    onReport: (r: FitReport) => Promise<void>,
  ): Promise<FitOutcome> => {
    if (!pool) return fitTarget({ ...fo, ops }, grids, onReport);
    return pool.fit({ options: fo, backend: (o.backend ?? 'auto') as ApproxFitJob['backend'], ...grids }, onReport);
  };
  const runOne = async (i: number): Promise<void> => {
    const j = jobs[i]!;
    const fitNo = i + 1;
    const fo = {
      target: j.target,
      activation: j.activation,
      depth: j.depth,
      width: j.width,
      degree: j.degree,
      eps: o.eps,
      bounds: o.bounds,
      bn: o.bn,
      gridPoints: o.gridPoints,
      steps: o.steps,
      lr: o.lr,
      lrFinal: o.lrFinal,
      reports: o.reports,
      seed: o.seed,
    };
    const spec = fitSpec(fo);
    const bn: ApproxBatchNorm = j.activation === 'bernstein' ? o.bn : 'none';
    const tags = [
      APPROX_TAG,
      labTag,
      `target:${j.target}`,
      `family:${j.activation}`,
      ...(j.matched !== null ? [`matched-degree:${j.matched}`] : []),
      `steps:${o.steps}`,
      `lr:${o.lr}->${o.lrFinal} geometric`,
      `bn:${bn}`,
      `select:${o.select}`,
    ];
    const name = `approx ${j.target} ${j.activation === 'bernstein' ? `Bern n=${j.degree}` : `ReLU w=${j.width} (≈ n=${j.degree} params)`} L=${j.depth}`;
    const onRead = (g: SealedTestGrid) => hooks.onTestRead?.(fitNo, g);
    const grids = labGrids(j.target, o.gridPoints, onRead);
    const test = hooks.testGrid ? hooks.testGrid(j.target, o.gridPoints, onRead) : grids.test;
    if (!(test instanceof SealedTestGrid)) throw new Error('the test grid must be a SealedTestGrid');
    valPoints = grids.validation.x.length;
    const runId = await store.createRun({ spec, name, epochsTotal: o.reports, tags });
    const rec = new RunRecorder(store, runId, spec, emit, { owner: own.id, write: (w, fn) => own.write(w, fn) });
    try {
      await rec.begin(); // claimed under this process's lease: no other process's reaper takes it for abandoned
      let started = false;
      let held: EpochReport | null = null;
      // The fit sees the train and validation grids only.
      const fit = await train(fo, { train: grids.train, validation: grids.validation }, async (rep) => {
        if (!started) {
          started = true;
          const paramCount = mlpParamCount({
            activation: j.activation,
            depth: j.depth,
            width: j.width,
            degree: j.degree,
            bnAffine: bn === 'affine',
          });
          await rec.started({
            backend: backend.name,
            paramCount,
            dataSource: `${j.target} on a ${o.gridPoints}-point grid`,
          });
        }
        const report: EpochReport = { epoch: rep.index, metrics: rep.metrics, layers: rep.layers };
        // The last report point waits for the test numbers (scored after training).
        if (rep.index === o.reports) held = report;
        else await rec.epoch(report);
        hooks.onReport?.(fitNo, rep.index);
      });
      const [finalScore, selScore] = scoreOnTestGrid(fit, ops, [fit.final, fit.selected], test);
      const heldReport = held as EpochReport | null;
      if (heldReport)
        await rec.epoch({
          ...heldReport,
          metrics: { ...heldReport.metrics, max_abs_err: finalScore!.maxErr, test_loss: finalScore!.rmse ** 2 },
        });
      const verdictCk = o.select === 'validation' ? fit.selected : fit.final;
      await rec.model(checkpointState(fit, verdictCk));
      await rec.tags([
        ...tags,
        `selected:${fit.selected.index}`,
        `test-selected:${selScore!.maxErr}|${selScore!.rmse}`,
        `test-final:${finalScore!.maxErr}|${finalScore!.rmse}`,
        `val:${fit.selected.valMaxErr}|${fit.final.valMaxErr}`,
        ...(fit.selected.clippedFrac !== undefined
          ? [`clipped:${fit.selected.clippedFrac}|${fit.final.clippedFrac ?? ''}`]
          : []),
        `model:${o.select === 'validation' ? 'selected' : 'final'}`,
      ]);
      const status = Number.isFinite(finalScore!.maxErr) && heldReport ? 'finished' : 'diverged';
      await rec.finish(status, status === 'diverged' ? 'loss became non-finite' : undefined);
      const final: ApproxCheckpoint = {
        index: fit.final.index,
        valMaxErr: fit.final.valMaxErr,
        maxErr: finalScore!.maxErr,
        rmse: finalScore!.rmse,
      };
      const selected: ApproxCheckpoint = {
        index: fit.selected.index,
        valMaxErr: fit.selected.valMaxErr,
        maxErr: selScore!.maxErr,
        rmse: selScore!.rmse,
      };
      const point: ApproxPoint = {
        runId,
        target: j.target,
        family: j.activation,
        degree: j.activation === 'bernstein' ? j.degree : null,
        matchedDegree: j.matched,
        depth: j.depth,
        width: j.width,
        paramCount: fit.paramCount,
        bn,
        final,
        selected,
        verdictErr: o.select === 'validation' ? selected.maxErr : final.maxErr,
        clippedFrac: (o.select === 'validation' ? fit.selected.clippedFrac : fit.final.clippedFrac) ?? null,
        finalTrainMse: fit.finalTrainMse,
        steps: o.steps,
        seconds: fit.seconds,
      };
      points[i] = point;
      // Progress in plan order, whichever parallel fit finished first.
      while (points[done] !== undefined) {
        done++;
        onFit?.({ index: done, total: jobs.length, point: points[done - 1]! });
      }
    } catch (e) {
      await rec.fail(e);
      throw e;
    }
  };
  const emit = recording.emit ?? (() => undefined);
  const own = recording.ownership ?? (await Ownership.start(store, { command: 'deepbern approx' }));
  let pool: InstanceType<typeof ApproxFitPool> | null = null;
  try {
    pool = o.workers && o.workers > 0 ? new ApproxFitPool(o.workers) : null;
    // As many fits at once as the pool has threads; after a failure no new fit starts, the running ones finish.
    let next = 0,
      failed = false;
    const lane = async () => {
      while (!failed && next < jobs.length) {
        const i = next++;
        try {
          await runOne(i);
        } catch (e) {
          failed = true;
          throw e;
        }
      }
    };
    const lanes = await Promise.allSettled(
      Array.from({ length: pool ? Math.min(pool.capacity, jobs.length) : 1 }, lane),
    );
    const bad = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
    if (bad) throw bad.reason;
  } finally {
    await pool?.close();
    if (!recording.ownership) await own.stop();
  }
  return results(labTag, points, { ...o, valPoints, legacy: false, bnSetting: o.bn });
}

type ResultSettings = Pick<
  ApproxLabOptions,
  'steps' | 'lr' | 'lrFinal' | 'gridPoints' | 'width' | 'reports' | 'select'
> & {
  valPoints: number;
  legacy: boolean;
  bnSetting: ApproxBatchNorm | 'mixed';
};

const floors = new FloorCache();

function floorFor(target: string, degree: number, depth: number): ApproxFloor {
  const t = findTargetFunction(target);
  const N = degree ** depth;
  if (!t)
    return {
      degree: N,
      computedDegree: 0,
      upper: Number.NaN,
      lower: null,
      belowPrecision: false,
      capped: false,
      text: `unknown target ${target}`,
    };
  const p = floors.get(target, t.f, N);
  return { ...p, text: floorText(p) };
}

function results(tag: string, points: ApproxPoint[], s: ResultSettings): ApproxResults {
  const cells = approxCells(points);
  const ids = [...new Set(points.map((p) => p.target))];
  return {
    tag,
    points,
    cells,
    verdicts: verdicts(points, cells),
    targets: ids.map((id) => {
      const t = findTargetFunction(id);
      return { id, title: t?.title ?? id, formula: t?.formula ?? '?', smooth: t?.smooth ?? false };
    }),
    legacy: s.legacy,
    settings: {
      steps: s.steps,
      lr: s.lr,
      lrFinal: s.lrFinal,
      schedule: SCHEDULE,
      gridPoints: s.gridPoints,
      valPoints: s.valPoints,
      testPoints: testGridSize(s.gridPoints),
      width: s.width,
      reports: s.reports,
      bn: s.bnSetting,
      select: s.select,
      floorMethod: FLOOR_METHOD,
    },
  };
}

const e3 = (x: number | null) => (x === null || !Number.isFinite(x) ? String(x) : x.toPrecision(3));
const fin = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);

/** Per (target, depth, degree): who won, the Bernstein floor, and whether optimisation or the floor limits it. */
export function approxCells(points: ApproxPoint[]): ApproxCell[] {
  const out: ApproxCell[] = [];
  const bern = points
    .filter((p) => p.family === 'bernstein')
    .sort((a, b) => a.target.localeCompare(b.target) || a.degree! - b.degree! || a.depth - b.depth);
  for (const b of bern) {
    const n = b.degree!;
    const relu = points.find(
      (p) => p.family === 'relu' && p.target === b.target && p.depth === b.depth && p.matchedDegree === n,
    );
    const eb = fin(b.verdictErr) ? b.verdictErr : null;
    const er = relu && fin(relu.verdictErr) ? relu.verdictErr : null;
    let winner: ApproxCell['winner'] = 'none';
    if (eb !== null && er !== null)
      winner = Math.max(eb, er) <= TIE * Math.min(eb, er) ? 'tie' : eb < er ? 'bernstein' : 'relu';
    else if (eb !== null) winner = 'bernstein';
    else if (er !== null) winner = 'relu';
    const floor = floorFor(b.target, n, b.depth);
    let limitedBy: ApproxLimit;
    let why: string;
    if (eb === null) {
      limitedBy = 'diverged';
      why = 'the fit diverged';
    } else if (floor.lower !== null && eb < floor.lower) {
      // Only possible where pre-activations are clamped (the net is then piecewise polynomial).
      limitedBy = 'undetermined';
      why = `max error ${e3(eb)} beats the best degree-${floor.degree} polynomial (${floor.text}), so the net is not a polynomial there (clamped pre-activations make it piecewise polynomial): the floor does not bind and cannot tell what limits it`;
    } else if (!floor.capped && !floor.belowPrecision && eb <= FLOOR_FACTOR * floor.upper) {
      limitedBy = 'architecture floor';
      why = `max error ${e3(eb)} is within ×${FLOOR_FACTOR} of the near-best degree-${floor.degree} polynomial's (${floor.text}): the ARCHITECTURE'S FLOOR limits it (more depth or degree needed, not more training)`;
    } else if (eb < FLOAT32_LEVEL) {
      limitedBy = 'float32 precision';
      why = `max error ${e3(eb)} is at float32 arithmetic level`;
    } else if (floor.capped && !floor.belowPrecision && eb <= FLOOR_FACTOR * floor.upper) {
      limitedBy = 'undetermined';
      why = `max error ${e3(eb)}; the floor is only bounded above (${floor.text}), so it cannot tell optimisation from the floor`;
    } else {
      limitedBy = 'optimisation';
      const gap = floor.belowPrecision
        ? 'far above a floor below float64 precision'
        : `×${e3(eb / floor.upper)} above the floor (${floor.text})`;
      const shallower = bern.find((q) => q.target === b.target && q.degree === n && q.depth === b.depth - 1);
      const worse =
        shallower && fin(shallower.verdictErr) && TIE * shallower.verdictErr < eb
          ? `; depth ${shallower.depth} did better (${e3(shallower.verdictErr)}) although depth ${b.depth} can represent every depth-${shallower.depth} net`
          : '';
      why = `max error ${e3(eb)} is ${gap}: OPTIMISATION limits it (training does not reach what a degree-${floor.degree} polynomial can do; the width-${b.width} net reaches only some of those polynomials)${worse}`;
    }
    if (fin(b.clippedFrac) && b.clippedFrac > 0) {
      why += `; ${(100 * b.clippedFrac).toPrecision(2)} % of pre-activations were clamped to [l,u], making the net piecewise polynomial, so the floor is indicative there`;
    }
    const won =
      winner === 'none'
        ? 'no finite error'
        : er === null
          ? `Bernstein ${e3(eb)} (no ReLU fit)`
          : winner === 'tie'
            ? `tie: Bernstein ${e3(eb)} vs ReLU ${e3(er)}`
            : winner === 'bernstein'
              ? `Bernstein won: ${e3(eb)} vs ReLU ${e3(er)}`
              : `ReLU won: ${e3(er)} vs Bernstein ${e3(eb)}`;
    out.push({
      target: b.target,
      depth: b.depth,
      degree: n,
      bern: eb,
      relu: er,
      winner,
      floor,
      limitedBy,
      text: `${b.target} L=${b.depth} n=${n}: ${won}. Bernstein: ${why}.`,
    });
  }
  return out;
}

/** Least-squares slope of ln(err) against depth. */
function logSlope(pts: { depth: number; err: number }[]): number {
  const xs = pts.map((p) => p.depth),
    ys = pts.map((p) => Math.log(p.err));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length,
    my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0,
    den = 0;
  xs.forEach((x, i) => {
    num += (x - mx) * (ys[i]! - my);
    den += (x - mx) ** 2;
  });
  return den === 0 ? 0 : num / den;
}

/** Per target and degree (needs ≥ 2 depths): the measured slope beside n^(−L), and what limits the fits. */
export function verdicts(points: ApproxPoint[], cells: ApproxCell[] = approxCells(points)): ApproxVerdict[] {
  const out: ApproxVerdict[] = [];
  const keys = new Set(points.filter((p) => p.family === 'bernstein').map((p) => `${p.target}|${p.degree}`));
  for (const key of keys) {
    const [target, d] = key.split('|');
    const n = Number(d);
    const pts = points
      .filter(
        (p) =>
          p.family === 'bernstein' && p.target === target && p.degree === n && fin(p.verdictErr) && p.verdictErr > 0,
      )
      .map((p) => ({ depth: p.depth, err: p.verdictErr }))
      .sort((a, b) => a.depth - b.depth);
    if (pts.length < 2) continue;
    const measured = logSlope(pts);
    const mine = cells.filter((c) => c.target === target && c.degree === n).sort((a, b) => a.depth - b.depth);
    const limits = [...new Set(mine.map((c) => c.limitedBy))];
    const limitedBy = limits.length === 1 ? limits[0]! : 'mixed';
    const byLimit = limits
      .map(
        (l) =>
          `${l} at L=${mine
            .filter((c) => c.limitedBy === l)
            .map((c) => c.depth)
            .join(',')}`,
      )
      .join('; ');
    const wins = (w: ApproxCell['winner']) => mine.filter((c) => c.winner === w).map((c) => c.depth);
    const winText = [
      ['Bernstein', wins('bernstein')],
      ['ReLU', wins('relu')],
      ['tie', wins('tie')],
    ]
      .filter(([, ds]) => (ds as number[]).length)
      .map(([w, ds]) => `${w as string} at L=${(ds as number[]).join(',')}`)
      .join(', ');
    const text = `${target}, n=${n}: error ×${Math.exp(measured).toPrecision(3)} per added layer (the n^(−L) rate: ×${(1 / n).toPrecision(3)}). Limited by ${byLimit}. Winner: ${winText || 'none'}.`;
    out.push({ target: target!, degree: n, measuredSlope: measured, theoreticalSlope: -Math.log(n), limitedBy, text });
  }
  return out;
}

function tagValue(tags: string[], prefix: string): string | undefined {
  return tags.find((t) => t.startsWith(prefix))?.slice(prefix.length);
}
const pair = (v: string | undefined): [number, number] => {
  const [a, b] = (v ?? '').split('|');
  return [a === undefined || a === '' ? Number.NaN : Number(a), b === undefined || b === '' ? Number.NaN : Number(b)];
};

/** The lab's results as stored: `tag` (`lab:<id>`), or the most recent lab when omitted. */
export async function loadApproxResults(store: RunStore, tag?: string): Promise<ApproxResults> {
  const all = (
    await store.listRuns({ search: tag ?? APPROX_TAG, limit: 100_000, orderBy: 'created_at', desc: true })
  ).rows.filter((r) => r.tags.includes(APPROX_TAG));
  const labTag = tag ?? all.map((r) => r.tags.find((t) => t.startsWith('lab:'))).find((t) => t !== undefined);
  const runs = all.filter((r) => labTag !== undefined && r.tags.includes(labTag)).reverse();
  const points: ApproxPoint[] = [];
  let steps = 0,
    lr = 0,
    lrFinal = 0,
    grid = 0,
    width = 0,
    reports = 0,
    legacy = false;
  let select: ApproxSelect = 'validation';
  const bns = new Set<ApproxBatchNorm>();
  for (const r of runs) {
    if (r.epochsDone === 0) continue;
    const [err, time, lrs, val, clipped] = await store.epochSeries(r.id, [
      'max_abs_err',
      'epoch_time_s',
      'lr',
      'val_max_err',
      'clipped_frac',
    ]);
    const detail = await store.getRun(r.id);
    steps = Number(tagValue(r.tags, 'steps:') ?? 0);
    const lrTag = tagValue(r.tags, 'lr:')?.split(' ')[0]?.split('->');
    lr = Number(lrTag?.[0] ?? r.lr);
    lrFinal = Number(lrTag?.[1] ?? lrs!.values[lrs!.values.length - 1]);
    grid = detail.spec.rows ?? 0;
    reports = Math.max(reports, r.epochsTotal);
    if (r.activation === 'bernstein') width = r.width;
    const matched = tagValue(r.tags, 'matched-degree:');
    const bern = r.activation === 'bernstein';
    const storedBn = tagValue(r.tags, 'bn:') as ApproxBatchNorm | undefined;
    // Labs from before the bn choice ran Bernstein nets with non-affine batch norm (the engine's only kind then).
    const bn: ApproxBatchNorm = !bern ? 'none' : (storedBn ?? (detail.spec.batchNorm ? 'non-affine' : 'none'));
    if (bern) bns.add(bn);
    const last = <T>(xs: T[]) => xs[xs.length - 1];
    const errs = err!.values;
    let final: ApproxCheckpoint, selected: ApproxCheckpoint | null;
    const isLegacy = val!.values.length === 0;
    if (isLegacy) {
      // Before validation selection: max_abs_err (test grid) at every report point; the old "best" chose on
      // the test grid, so only the final fit is reported.
      legacy = true;
      final = {
        index: errs.length,
        valMaxErr: Number.NaN,
        maxErr: last(errs) ?? Number.NaN,
        rmse: Math.sqrt(r.final.test_loss ?? Number.NaN),
      };
      selected = null;
    } else {
      const [selErr, selRmse] = pair(tagValue(r.tags, 'test-selected:'));
      const [finErr, finRmse] = pair(tagValue(r.tags, 'test-final:'));
      const selIndex = Number(tagValue(r.tags, 'selected:') ?? Number.NaN);
      const valAt = (epoch: number) => val!.values[val!.epochs.indexOf(epoch)] ?? Number.NaN;
      final = { index: r.epochsDone, valMaxErr: last(val!.values) ?? Number.NaN, maxErr: finErr, rmse: finRmse };
      selected = { index: selIndex, valMaxErr: valAt(selIndex), maxErr: selErr, rmse: selRmse };
      select = (tagValue(r.tags, 'select:') as ApproxSelect | undefined) ?? 'validation';
    }
    const useSel = select === 'validation' && selected !== null;
    const clipAt = (epoch: number) => clipped!.values[clipped!.epochs.indexOf(epoch)];
    const clip = bern ? clipAt(useSel ? selected!.index : final.index) : undefined;
    points.push({
      runId: r.id,
      target: r.dataset,
      family: bern ? 'bernstein' : 'relu',
      degree: bern ? r.degree : null,
      matchedDegree: matched !== undefined ? Number(matched) : null,
      depth: r.depth,
      width: r.width,
      paramCount: r.paramCount ?? 0,
      bn,
      final,
      selected,
      verdictErr: useSel ? selected!.maxErr : final.maxErr,
      clippedFrac: fin(clip) ? clip : null,
      finalTrainMse: r.final.train_loss ?? Number.NaN,
      steps,
      seconds: last(time!.values) ?? Number.NaN,
    });
  }
  if (legacy) select = 'final';
  const valPoints = grid ? validationGrid(grid, () => 0, []).x.length : 0;
  return results(labTag ?? '', points, {
    steps,
    lr,
    lrFinal,
    gridPoints: grid,
    width,
    reports,
    select,
    valPoints,
    legacy,
    bnSetting: bns.size === 1 ? [...bns][0]! : bns.size === 0 ? 'none' : 'mixed',
  });
}
