// Approximation-rate lab, the orchestration half: every (target, depth, degree) Bernstein fit and its
// parameter-matched ReLU fit, each stored as a tagged run (so the app lists and charts them), and the results
// read back from the store by tag.
import type { ApproxPoint, ApproxResults, ApproxVerdict } from '../../shared/paper.js';
import type { RunStore } from '../store/run-store.js';
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
  /** Fit parameter-matched ReLU nets too (default true). */
  relu: boolean;
  backend?: string;
}

export const APPROX_DEFAULTS: ApproxLabOptions = {
  targets: ['fn:smooth', 'fn:osc', 'fn:kink'],
  depths: [1, 2, 3, 4, 5, 6],
  degrees: [3, 5, 9],
  width: 8,
  steps: 2000,
  lr: 1e-2,
  lrFinal: 1e-4,
  gridPoints: 256,
  reports: 5,
  eps: 0.01,
  bounds: [-3, 3],
  seed: 0,
  relu: true,
};

const SCHEDULE = 'Adam, full batch, lr held for the first 25% of steps, then decayed geometrically';

export interface FitDone {
  index: number;
  total: number;
  point: ApproxPoint;
}

/** Runs the lab in this thread; returns its tag (`lab:<id>`) and results. */
export async function runApproxLab(store: RunStore, o: ApproxLabOptions, onFit?: (f: FitDone) => void): Promise<ApproxResults> {
  // tfjs loads only when the lab really runs (the report half must not pull it into every CLI command).
  const { initBackend } = await import('../../workers/engine/backend.js');
  const { pickOps } = await import('../../workers/engine/kernels/index.js');
  const { fitTarget, fitSpec, matchedReluWidth, mlpParamCount } = await import('../../workers/approx/fit.js');
  const backend = await initBackend((o.backend ?? 'auto') as Parameters<typeof initBackend>[0]);
  const ops = pickOps(backend.name);
  const labTag = `lab:${randomBytes(4).toString('hex')}`;
  type Job = { target: string; activation: 'bernstein' | 'relu'; depth: number; width: number; degree: number; matched: number | null };
  const jobs: Job[] = [];
  for (const target of o.targets) {
    for (const depth of o.depths) {
      for (const degree of o.degrees) {
        jobs.push({ target, activation: 'bernstein', depth, width: o.width, degree, matched: null });
        if (o.relu) {
          const p = mlpParamCount({ activation: 'bernstein', depth, width: o.width, degree });
          jobs.push({ target, activation: 'relu', depth, width: matchedReluWidth(depth, p), degree, matched: degree });
        }
      }
    }
  }
  const points: ApproxPoint[] = [];
  for (const [i, j] of jobs.entries()) {
    const fo = { target: j.target, activation: j.activation, depth: j.depth, width: j.width, degree: j.degree, eps: o.eps, bounds: o.bounds, gridPoints: o.gridPoints, steps: o.steps, lr: o.lr, lrFinal: o.lrFinal, reports: o.reports, seed: o.seed };
    const spec = fitSpec(fo);
    const tags = [
      APPROX_TAG,
      labTag,
      `target:${j.target}`,
      `family:${j.activation}`,
      ...(j.matched !== null ? [`matched-degree:${j.matched}`] : []),
      `steps:${o.steps}`,
      `lr:${o.lr}->${o.lrFinal} geometric`,
    ];
    const name = `approx ${j.target} ${j.activation === 'bernstein' ? `Bern n=${j.degree}` : `ReLU w=${j.width} (≈ n=${j.degree} params)`} L=${j.depth}`;
    const runId = await store.createRun({ spec, name, epochsTotal: o.reports, tags });
    try {
      let started = false;
      const r = await fitTarget({ ...fo, ops }, async (rep) => {
        if (!started) {
          started = true;
          await store.markRunning(runId, backend.name, mlpParamCount({ activation: j.activation, depth: j.depth, width: j.width, degree: j.degree }));
        }
        await store.appendEpoch(runId, { epoch: rep.index, metrics: rep.metrics, layers: rep.layers });
      });
      await store.saveModel(runId, r.state);
      const status = Number.isFinite(r.maxErr) ? 'finished' : 'diverged';
      await store.finishRun(runId, status, status === 'diverged' ? 'loss became non-finite' : undefined);
      const point: ApproxPoint = {
        runId,
        target: j.target,
        family: j.activation,
        degree: j.activation === 'bernstein' ? j.degree : null,
        matchedDegree: j.matched,
        depth: j.depth,
        width: j.width,
        paramCount: r.paramCount,
        maxErr: r.maxErr,
        bestMaxErr: r.bestMaxErr,
        rmse: r.rmse,
        finalTrainMse: r.finalTrainMse,
        steps: o.steps,
        seconds: r.seconds,
      };
      points.push(point);
      onFit?.({ index: i + 1, total: jobs.length, point });
    } catch (e) {
      await store.finishRun(runId, 'failed', e instanceof Error ? e.message : String(e));
      throw e;
    }
  }
  return results(labTag, points, o);
}

function results(tag: string, points: ApproxPoint[], o: Pick<ApproxLabOptions, 'steps' | 'lr' | 'lrFinal' | 'gridPoints' | 'width'>): ApproxResults {
  return {
    tag,
    points,
    verdicts: verdicts(points),
    settings: { steps: o.steps, lr: o.lr, lrFinal: o.lrFinal, schedule: SCHEDULE, gridPoints: o.gridPoints, testPoints: Math.min(200_001, Math.max(2001, 4 * o.gridPoints + 1)), width: o.width },
  };
}

/** Least-squares slope of ln(err) against depth. */
function logSlope(pts: { depth: number; err: number }[]): number {
  const xs = pts.map((p) => p.depth), ys = pts.map((p) => Math.log(p.err));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length, my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0, den = 0;
  xs.forEach((x, i) => {
    num += (x - mx) * (ys[i]! - my);
    den += (x - mx) ** 2;
  });
  return den === 0 ? 0 : num / den;
}

/** Which limit the measured Bernstein curve shows, per target and degree (needs ≥ 2 depths). */
export function verdicts(points: ApproxPoint[]): ApproxVerdict[] {
  const out: ApproxVerdict[] = [];
  const keys = new Set(points.filter((p) => p.family === 'bernstein').map((p) => `${p.target}|${p.degree}`));
  for (const key of keys) {
    const [target, d] = key.split('|');
    const n = Number(d);
    const pts = points
      .filter((p) => p.family === 'bernstein' && p.target === target && p.degree === n && Number.isFinite(p.bestMaxErr) && p.bestMaxErr > 0)
      .map((p) => ({ depth: p.depth, err: p.bestMaxErr }))
      .sort((a, b) => a.depth - b.depth);
    if (pts.length < 2) continue;
    const measured = logSlope(pts);
    const theoretical = -Math.log(n);
    const best = Math.min(...pts.map((p) => p.err));
    let limitedBy: ApproxVerdict['limitedBy'];
    if (best < 1e-5) limitedBy = 'float32 precision';
    else if (measured <= 0.5 * theoretical) limitedBy = 'theoretical rate';
    else limitedBy = 'optimisation';
    const perLayer = Math.exp(measured);
    const text =
      limitedBy === 'optimisation'
        ? `${target}, n=${n}: error changes ×${perLayer.toPrecision(3)} per added layer, the n^(−L) rate predicts ×${(1 / n).toPrecision(3)}: OPTIMISATION limits (the trained nets are far from the best net of their depth), not the theoretical rate.`
        : limitedBy === 'theoretical rate'
          ? `${target}, n=${n}: error changes ×${perLayer.toPrecision(3)} per added layer, at least half the n^(−L) rate's log-slope (×${(1 / n).toPrecision(3)}): the measured curve follows the theoretical rate.`
          : `${target}, n=${n}: best error ${best.toExponential(2)} reaches float32 precision: the arithmetic limits before the rate.`;
    out.push({ target: target!, degree: n, measuredSlope: measured, theoreticalSlope: theoretical, limitedBy, text });
  }
  return out;
}

function tagValue(tags: string[], prefix: string): string | undefined {
  return tags.find((t) => t.startsWith(prefix))?.slice(prefix.length);
}

/** The lab's results as stored: `tag` (`lab:<id>`), or the most recent lab when omitted. */
export async function loadApproxResults(store: RunStore, tag?: string): Promise<ApproxResults> {
  const all = (await store.listRuns({ search: tag ?? APPROX_TAG, limit: 100_000, orderBy: 'created_at', desc: true })).rows.filter((r) => r.tags.includes(APPROX_TAG));
  const labTag = tag ?? all.map((r) => r.tags.find((t) => t.startsWith('lab:'))).find((t) => t !== undefined);
  const runs = all.filter((r) => labTag !== undefined && r.tags.includes(labTag)).reverse();
  const points: ApproxPoint[] = [];
  let steps = 0, lr = 0, lrFinal = 0, grid = 0, width = 0;
  for (const r of runs) {
    if (r.epochsDone === 0) continue;
    const [err, time, lrs] = await store.epochSeries(r.id, ['max_abs_err', 'epoch_time_s', 'lr']);
    const errs = err!.values.filter(Number.isFinite);
    const detail = await store.getRun(r.id);
    steps = Number(tagValue(r.tags, 'steps:') ?? 0);
    const lrTag = tagValue(r.tags, 'lr:')?.split(' ')[0]?.split('->');
    lr = Number(lrTag?.[0] ?? r.lr);
    lrFinal = Number(lrTag?.[1] ?? lrs!.values[lrs!.values.length - 1]);
    grid = detail.spec.rows ?? 0;
    if (r.activation === 'bernstein') width = r.width;
    const matched = tagValue(r.tags, 'matched-degree:');
    points.push({
      runId: r.id,
      target: r.dataset,
      family: r.activation === 'bernstein' ? 'bernstein' : 'relu',
      degree: r.activation === 'bernstein' ? r.degree : null,
      matchedDegree: matched !== undefined ? Number(matched) : null,
      depth: r.depth,
      width: r.width,
      paramCount: r.paramCount ?? 0,
      maxErr: err!.values[err!.values.length - 1] ?? Number.NaN,
      bestMaxErr: errs.length ? Math.min(...errs) : Number.NaN,
      rmse: Math.sqrt(r.final.test_loss ?? Number.NaN),
      finalTrainMse: r.final.train_loss ?? Number.NaN,
      steps,
      seconds: time!.values[time!.values.length - 1] ?? Number.NaN,
    });
  }
  return results(labTag ?? '', points, { steps, lr, lrFinal, gridPoints: grid, width });
}
