// Tree-structured Parzen Estimator (Bergstra et al. 2011; Optuna's default sampler, univariate form): the
// finished trials are split into a "good" quantile and the rest; each parameter's next value is the candidate,
// drawn from the good trials' Parzen density l(x), that maximises l(x)/g(x). Pure and seeded: the proposal is a
// function of (random_seed, trial index, history) only, so a resumed sweep proposes the same next runs.
import type { ParamDef, ParamValue } from './sweep.js';
import type { Goal } from './vocab.js';

export type TrialState = 'complete' | 'pruned' | 'running';

/** One earlier trial as the sampler sees it. `value` is the sweep metric (last reported value for pruned runs). */
export interface TpeTrial {
  index: number;
  params: Record<string, ParamValue>;
  state: TrialState;
  value?: number;
  /** Epochs reported (pruned trials rank by how far they got). */
  epochs?: number;
}

export interface TpeOptions {
  seed: number;
  /** Index of the trial being proposed (0-based); part of the random stream. */
  index: number;
  goal: Goal;
  /** Trials drawn at random before the model is used (Optuna: 10). */
  startupTrials?: number;
  /** Candidates drawn from l(x) per parameter (Optuna: 24). */
  candidates?: number;
}

export const TPE_DEFAULT_STARTUP = 10;
const PRIOR_WEIGHT = 1;

/** mulberry32: tiny seeded PRNG so plans and proposals are reproducible in any runtime. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** mulberry32 over a mixed (seed, index) so each trial has its own reproducible stream. */
export function trialRng(seed: number, index: number): () => number {
  return mulberry32((Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) >>> 0);
}

/** Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7): enough for mixture weights. */
function erf(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}
const phi = (z: number) => 0.5 * (1 + erf(z / Math.SQRT2));

function gaussian(next: () => number): number {
  const u = Math.max(next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
}

/** Numeric parameter in its search coordinates (log for log_uniform; ±0.5 around the ints). */
interface NumericSpace {
  kind: 'numeric';
  low: number;
  high: number;
  log: boolean;
  int: boolean;
}
interface CategoricalSpace {
  kind: 'categorical';
  choices: ParamValue[];
}
interface ConstantSpace {
  kind: 'constant';
  value: ParamValue;
}
type Space = NumericSpace | CategoricalSpace | ConstantSpace;

function spaceOf(def: ParamDef): Space {
  if ('value' in def) return { kind: 'constant', value: def.value };
  if ('values' in def)
    return def.values.length === 1
      ? { kind: 'constant', value: def.values[0] }
      : { kind: 'categorical', choices: def.values };
  if (def.distribution === 'int')
    return { kind: 'numeric', low: def.min - 0.5, high: def.max + 0.5, log: false, int: true };
  if (def.distribution === 'log_uniform')
    return { kind: 'numeric', low: Math.log(def.min), high: Math.log(def.max), log: true, int: false };
  return { kind: 'numeric', low: def.min, high: def.max, log: false, int: false };
}

const same = (a: ParamValue, b: ParamValue) => a === b || JSON.stringify(a) === JSON.stringify(b);

/** The value a random (startup) trial takes: the same distributions `method: random` samples. */
function sampleUniform(space: Space, next: () => number): ParamValue {
  if (space.kind === 'constant') return space.value;
  if (space.kind === 'categorical')
    return space.choices[Math.min(space.choices.length - 1, Math.floor(next() * space.choices.length))];
  return fromCoord(space, space.low + next() * (space.high - space.low));
}

function fromCoord(space: NumericSpace, x: number): number {
  if (space.int) return Math.min(space.high - 0.5, Math.max(space.low + 0.5, Math.round(x)));
  const v = space.log ? Math.exp(x) : x;
  const lo = space.log ? Math.exp(space.low) : space.low;
  const hi = space.log ? Math.exp(space.high) : space.high;
  return Math.min(hi, Math.max(lo, v));
}

function toCoord(space: NumericSpace, v: ParamValue): number | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
  if (space.log) return v > 0 ? Math.log(v) : undefined;
  return v;
}

/** A mixture of truncated Gaussians on [low, high]: the observations plus a wide prior (Optuna's estimator). */
class ParzenEstimator {
  readonly mus: number[];
  readonly sigmas: number[];
  readonly weights: number[];

  constructor(
    private readonly space: NumericSpace,
    obs: number[],
    obsWeights: number[],
  ) {
    const { low, high } = space;
    const range = high - low;
    const prior = (low + high) / 2;
    const mus = [...obs, prior];
    const w = [...obsWeights, PRIOR_WEIGHT];
    // Bandwidth: the larger gap to a sorted neighbour (the bounds act as neighbours), clipped to
    // [range / min(100, 1 + n), range] ("magic clip"), the prior wide as the whole range.
    const order = mus.map((_, i) => i).sort((a, b) => mus[a] - mus[b]);
    const sigmas = new Array<number>(mus.length);
    order.forEach((i, r) => {
      const left = r === 0 ? low : mus[order[r - 1]];
      const right = r === order.length - 1 ? high : mus[order[r + 1]];
      sigmas[i] = Math.max(mus[i] - left, right - mus[i]);
    });
    const minSigma = range / Math.min(100, 1 + obs.length);
    for (let i = 0; i < sigmas.length; i++) sigmas[i] = Math.min(range, Math.max(minSigma, sigmas[i]));
    sigmas[mus.length - 1] = range;
    const total = w.reduce((a, b) => a + b, 0);
    this.mus = mus;
    this.sigmas = sigmas;
    this.weights = w.map((x) => x / total);
  }

  sample(next: () => number): number {
    let u = next();
    let k = 0;
    while (k < this.weights.length - 1 && u >= this.weights[k]) u -= this.weights[k++];
    const { low, high } = this.space;
    for (let tries = 0; tries < 64; tries++) {
      const x = this.mus[k] + this.sigmas[k] * gaussian(next);
      if (x >= low && x <= high) return x;
    }
    return Math.min(high, Math.max(low, this.mus[k]));
  }

  /** log density (continuous) or log mass of the integer cell (int parameters). */
  logDensity(x: number): number {
    const { low, high, int } = this.space;
    let p = 0;
    for (let i = 0; i < this.mus.length; i++) {
      const mu = this.mus[i];
      const s = this.sigmas[i];
      const z = phi((high - mu) / s) - phi((low - mu) / s);
      if (z <= 0) continue;
      const mass = int
        ? phi((Math.min(high, x + 0.5) - mu) / s) - phi((Math.max(low, x - 0.5) - mu) / s)
        : Math.exp(-0.5 * ((x - mu) / s) ** 2) / (s * Math.sqrt(2 * Math.PI));
      p += (this.weights[i] * mass) / z;
    }
    return Math.log(Math.max(p, 1e-300));
  }
}

/** Optuna's default split: the best ⌈0.1·n⌉ (at most 25) trials are "good". */
export function goodCount(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

/** Optuna's default weights: older trials fade in once there are more than 25 of a group. */
function ageWeights(n: number): number[] {
  if (n < 25) return new Array<number>(n).fill(1);
  const ramp = n - 25;
  return Array.from({ length: n }, (_, i) => (i < ramp ? 1 / n + ((1 - 1 / n) * i) / Math.max(1, ramp - 1) : 1));
}

/**
 * Split the history into good and bad: complete trials ranked by value, then pruned trials (furthest first);
 * running trials count as bad ("constant liar"), which steers in-flight proposals away from each other.
 */
export function splitTrials(history: readonly TpeTrial[], goal: Goal): { good: TpeTrial[]; bad: TpeTrial[] } {
  const sign = goal === 'minimize' ? 1 : -1;
  const finite = (t: TpeTrial) => t.value !== undefined && Number.isFinite(t.value);
  const complete = history
    .filter((t) => t.state === 'complete' && finite(t))
    .sort((a, b) => sign * (a.value! - b.value!) || a.index - b.index);
  const pruned = history
    .filter((t) => t.state === 'pruned' && finite(t))
    .sort((a, b) => (b.epochs ?? 0) - (a.epochs ?? 0) || sign * (a.value! - b.value!) || a.index - b.index);
  const running = history.filter(
    (t) => t.state === 'running' || ((t.state === 'complete' || t.state === 'pruned') && !finite(t)),
  );
  const ranked = [...complete, ...pruned];
  const nGood = goodCount(ranked.length + running.length);
  const good = ranked.slice(0, nGood);
  const bad = [...ranked.slice(nGood), ...running];
  const byIndex = (a: TpeTrial, b: TpeTrial) => a.index - b.index;
  return { good: good.sort(byIndex), bad: bad.sort(byIndex) };
}

function proposeNumeric(
  space: NumericSpace,
  name: string,
  good: TpeTrial[],
  bad: TpeTrial[],
  next: () => number,
  candidates: number,
): number {
  const coords = (ts: TpeTrial[]) =>
    ts.map((t) => toCoord(space, t.params[name])).filter((x): x is number => x !== undefined);
  const g = coords(good);
  const b = coords(bad);
  const l = new ParzenEstimator(space, g, ageWeights(g.length));
  const gg = new ParzenEstimator(space, b, ageWeights(b.length));
  let best = l.sample(next);
  let bestScore = -Infinity;
  for (let i = 0; i < candidates; i++) {
    const raw = l.sample(next);
    const x = space.int ? Math.round(raw) : raw;
    const score = l.logDensity(x) - gg.logDensity(x);
    if (score > bestScore) {
      bestScore = score;
      best = x;
    }
  }
  return fromCoord(space, best);
}

function proposeCategorical(
  space: CategoricalSpace,
  name: string,
  good: TpeTrial[],
  bad: TpeTrial[],
  next: () => number,
  candidates: number,
): ParamValue {
  const k = space.choices.length;
  const probs = (ts: TpeTrial[]) => {
    const w = new Array<number>(k).fill(PRIOR_WEIGHT / k);
    const age = ageWeights(ts.length);
    ts.forEach((t, i) => {
      const c = space.choices.findIndex((v) => same(v, t.params[name]));
      if (c >= 0) w[c] += age[i];
    });
    const total = w.reduce((a, b) => a + b, 0);
    return w.map((x) => x / total);
  };
  const pl = probs(good);
  const pg = probs(bad);
  let best = 0;
  let bestScore = -Infinity;
  for (let i = 0; i < candidates; i++) {
    let u = next();
    let c = 0;
    while (c < k - 1 && u >= pl[c]) u -= pl[c++];
    const score = Math.log(pl[c]) - Math.log(pg[c]);
    if (score > bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return space.choices[best];
}

/** The next trial's parameter values. Parameter order is the sweep file's; each has its own draws. */
export function proposeTpe(
  parameters: Record<string, ParamDef>,
  history: readonly TpeTrial[],
  opts: TpeOptions,
): Record<string, ParamValue> {
  const next = trialRng(opts.seed, opts.index);
  const startup = opts.startupTrials ?? TPE_DEFAULT_STARTUP;
  const candidates = opts.candidates ?? 24;
  const observed = history.filter(
    (t) => (t.state === 'complete' || t.state === 'pruned') && t.value !== undefined && Number.isFinite(t.value),
  );
  const out: Record<string, ParamValue> = {};
  const spaces = Object.entries(parameters).map(([name, def]) => [name, spaceOf(def)] as const);
  if (observed.length < startup) {
    for (const [name, space] of spaces) out[name] = sampleUniform(space, next);
    return out;
  }
  const { good, bad } = splitTrials(history, opts.goal);
  for (const [name, space] of spaces) {
    if (space.kind === 'constant') out[name] = space.value;
    else if (space.kind === 'categorical') out[name] = proposeCategorical(space, name, good, bad, next, candidates);
    else out[name] = proposeNumeric(space, name, good, bad, next, candidates);
  }
  return out;
}
