// The paper pack's data shapes (figures, gradient certificate, approximation lab) and the certificate check.
// Pure TS: src-main builds these from the store, the CLI renders them to HTML, the renderer charts them.
import type { PolyFloor } from './approx-floor.js';
import type { Groupable } from './groups.js';
import type { BoundsMode } from './vocab.js';

/** One curve: x (epoch or layer) → y; y null where the run has no value. */
export interface FigureSeries {
  /** Paper-style label, e.g. `Bern_{9,0.01}[-5,5]` (plus ` d20` / ` s1` when the sweep varies depth / seed). */
  label: string;
  runId: string;
  bernstein: boolean;
  points: [number, number | null][];
}

/** A horizontal reference line, e.g. δ̄ = n·ε/(u−l) of one Bernstein label. */
export interface ReferenceLine {
  label: string;
  value: number;
}

export interface DataSourceInfo {
  /** The runs' dataset id(s). */
  ids: string[];
  /** What the data really is, in one line (imported HIGGS, generated synthetic-higgs, MNIST…). */
  description: string;
  kind: 'imported-higgs' | 'synthetic-higgs' | 'mnist' | 'target-function' | 'other';
}

/**
 * The two dead-neuron readings (docs/metrics.md). `epoch`: per training mini-batch, units with |σ'| < τ on every
 * sample of the batch, averaged over the epoch's batches — the paper's figure 3 ("average dead neuron
 * percentage over the last epoch"). `eval`: |σ'| < τ on every sample of the fixed evaluation batch (eval mode);
 * it depends on how many rows that batch has (more rows, fewer units dead on all of them).
 */
export const DEAD_READINGS = ['epoch', 'eval'] as const;
export type DeadReading = (typeof DEAD_READINGS)[number];
export const DEAD_READING_METRIC = { epoch: 'dead_ratio_epoch', eval: 'dead_ratio' } as const satisfies Record<
  DeadReading,
  string
>;
export const DEAD_READING_LABEL: Record<DeadReading, string> = {
  epoch: 'epoch average over the training batches (the paper’s reading)',
  eval: 'fixed evaluation batch, eval mode (depends on evalBatch)',
};
/** The reading figures and reports show unless the user picks the other: the paper's, where runs have it. */
export function defaultDeadReading(available: readonly DeadReading[]): DeadReading {
  return available.includes('epoch') || available.length === 0 ? 'epoch' : 'eval';
}

export interface FinalRow {
  runId: string;
  label: string;
  /** Weight/bias initialisation the run used (docs/init.md). */
  init: string;
  depth: number;
  width: number;
  status: string;
  epochsDone: number;
  testAcc: number | null;
  testLoss: number | null;
  trainLoss: number | null;
  /** Network-wide dead ratio at the last epoch, per reading (null: the run has no such reading). */
  deadRatio: Record<DeadReading, number | null>;
  /** Dead ratio of the deepest layer at the last epoch, per reading. */
  deadLast: Record<DeadReading, number | null>;
  /** Whether the run's batch norm was affine (learnable γ/β; docs/init.md). */
  bnAffine?: boolean;
}

/**
 * The initialisation figure: dead ratio vs layer (last epoch) and final test accuracy per activation label,
 * one panel per init scheme (e.g. ReLU, ReLU_res and Bern at depth 50 under `torch` vs `he_normal`).
 * Present when the sweep varies `init`: some activation label runs under two or more schemes.
 */
export interface InitFigure {
  /** The schemes in the sweep, in plan order. */
  inits: string[];
  /** Per scheme: dead vs layer, one series per label (labels without the init suffix: colours match across panels). */
  panels: { init: string; deadVsLayer: Record<DeadReading, FigureSeries[]> }[];
  /** One row per run: label, init, final test accuracy and dead ratios. */
  rows: FinalRow[];
}

export interface PaperFigures {
  sweepId: string;
  sweepName: string;
  source: DataSourceInfo;
  mnist: boolean;
  /** The hidden layers figure 1 shows: first, middle, last (of the deepest run). */
  layersShown: number[];
  /** Figure 1: min |σ'| vs epoch, one panel per shown layer. */
  minDsigmaVsEpoch: { layer: number; series: FigureSeries[] }[];
  /** Figure 2: min |σ'| vs layer at each run's last epoch. */
  minDsigmaVsLayer: FigureSeries[];
  /** Which dead readings the sweep's runs have (runs from before the epoch average have only `eval`). */
  deadReadings: DeadReading[];
  /** Figure 3: dead-neuron ratio vs layer at each run's last epoch, per reading. */
  deadVsLayer: Record<DeadReading, FigureSeries[]>;
  /** Figure 4: MAG (mean |∂loss/∂a₁|) vs epoch. */
  mag1VsEpoch: FigureSeries[];
  /** Figure 5 (MNIST): network-wide dead ratio vs epoch, per reading. */
  deadVsEpoch: Record<DeadReading, FigureSeries[]>;
  /** The initialisation figure (null unless some activation label runs under two or more init schemes). */
  initFigure: InitFigure | null;
  /** δ̄ per Bernstein label with fixed bounds (adaptive bounds have per-unit [l,u]: no single line). */
  deltaBars: ReferenceLine[];
  finalTable: FinalRow[];
  certificates: CertificateSummary[];
  /** Widest hidden layer of the sweep (the dead ratio's resolution is 1/width). */
  maxWidth: number;
  /** Each run's spec and activation label (no depth/seed suffix): what grouping seeds reads (shared/groups.ts). */
  groupable?: Groupable[];
}

// ── gradient certificate ────────────────────────────────────────────────────────────────────────────────

/** Float tolerance of the check: a violation is observed < floor − (abs + rel·|floor|). */
export interface CertificateTolerance {
  abs: number;
  rel: number;
}
/**
 * The probes compute σ' and the floor in float32 from the same coefficients; the exact inequality
 * σ' ≥ n/(u−l)·min Δc holds because the degree-(n−1) basis sums to 1, so only rounding can break it.
 */
export const DEFAULT_CERT_TOLERANCE: CertificateTolerance = { abs: 1e-6, rel: 1e-3 };

export interface CertificateCell {
  layer: number;
  epoch: number;
  /** n/(u−l)·min_k(c_{k+1}−c_k) from the learned coefficients (min over units). */
  learnedFloor: number | null;
  /** Observed min |σ'(z)| over units × evaluation samples with z inside [l,u]. */
  minDsigma: number | null;
  /** Fraction of pre-activations outside [l,u] (the floor does not hold there: σ' = 0). */
  clippedFrac: number | null;
  /** Observed < learned floor beyond tolerance: the proof and the measurement disagree. */
  violation: boolean;
  /** Learned floor < δ̄ beyond tolerance (fixed bounds only): the ε re-parameterisation was broken. */
  floorBelowDeltaBar: boolean;
}

export interface GradientCertificate {
  runId: string;
  label: string;
  degree: number;
  eps: number;
  bounds: [number, number];
  boundsMode: BoundsMode;
  /** n·ε/(u−l) for fixed bounds; null for adaptive bounds (u−l is per unit and moves). */
  deltaBar: number | null;
  tolerance: CertificateTolerance;
  cells: CertificateCell[];
  /** Per layer at the last epoch (the table people read). */
  lastEpoch: number | null;
  violations: number;
  floorBelowDeltaBar: number;
  /** Cells where min |σ'| ≥ δ̄ (fixed bounds) — the paper's claim, beside the stricter learned-floor check. */
  aboveDeltaBar: number;
  /** Cells with both an observed minimum and a floor. */
  checked: number;
  /** Largest clipped fraction seen (where the floor does not apply). */
  maxClippedFrac: number | null;
  ok: boolean;
}

export interface CertificateSummary {
  runId: string;
  label: string;
  deltaBar: number | null;
  checked: number;
  violations: number;
  floorBelowDeltaBar: number;
  aboveDeltaBar: number;
  minObserved: number | null;
  minLearnedFloor: number | null;
  maxClippedFrac: number | null;
  ok: boolean;
}

/** Per (layer, epoch) values of the three layer metrics the certificate reads. */
export interface CertificateInput {
  runId: string;
  label: string;
  degree: number;
  eps: number;
  bounds: [number, number];
  boundsMode: BoundsMode;
  points: { layer: number; epoch: number; metric: 'learned_floor' | 'min_dsigma' | 'clipped_frac'; value: number }[];
}

const below = (x: number, floor: number, tol: CertificateTolerance) =>
  x < floor - (tol.abs + tol.rel * Math.abs(floor));

/** Checks observed min |σ'| against the floor proven from the learned coefficients, cell by cell. */
export function checkCertificate(
  input: CertificateInput,
  tol: CertificateTolerance = DEFAULT_CERT_TOLERANCE,
): GradientCertificate {
  const { degree: n, eps, bounds, boundsMode } = input;
  const deltaBar = boundsMode === 'fixed' ? (n * eps) / (bounds[1] - bounds[0]) : null;
  const byKey = new Map<string, CertificateCell>();
  for (const p of input.points) {
    const key = `${p.layer}:${p.epoch}`;
    let c = byKey.get(key);
    if (!c) {
      c = {
        layer: p.layer,
        epoch: p.epoch,
        learnedFloor: null,
        minDsigma: null,
        clippedFrac: null,
        violation: false,
        floorBelowDeltaBar: false,
      };
      byKey.set(key, c);
    }
    const v = Number.isFinite(p.value) ? p.value : null;
    if (p.metric === 'learned_floor') c.learnedFloor = v;
    else if (p.metric === 'min_dsigma') c.minDsigma = v;
    else c.clippedFrac = v;
  }
  const cells = [...byKey.values()].sort((a, b) => a.epoch - b.epoch || a.layer - b.layer);
  let violations = 0,
    floorBad = 0,
    above = 0,
    checked = 0;
  let maxClipped: number | null = null;
  for (const c of cells) {
    if (c.clippedFrac !== null) maxClipped = Math.max(maxClipped ?? 0, c.clippedFrac);
    if (c.minDsigma !== null && c.learnedFloor !== null) {
      checked++;
      c.violation = below(c.minDsigma, c.learnedFloor, tol);
      if (c.violation) violations++;
    }
    if (deltaBar !== null && c.learnedFloor !== null && below(c.learnedFloor, deltaBar, tol)) {
      c.floorBelowDeltaBar = true;
      floorBad++;
    }
    if (deltaBar !== null && c.minDsigma !== null && !below(c.minDsigma, deltaBar, tol)) above++;
  }
  const lastEpoch = cells.length ? cells[cells.length - 1]!.epoch : null;
  return {
    runId: input.runId,
    label: input.label,
    degree: n,
    eps,
    bounds,
    boundsMode,
    deltaBar,
    tolerance: tol,
    cells,
    lastEpoch,
    violations,
    floorBelowDeltaBar: floorBad,
    aboveDeltaBar: above,
    checked,
    maxClippedFrac: maxClipped,
    ok: violations === 0 && floorBad === 0,
  };
}

export function summarizeCertificate(c: GradientCertificate): CertificateSummary {
  const finiteMin = (xs: (number | null)[]) => {
    const f = xs.filter((x): x is number => x !== null);
    return f.length ? Math.min(...f) : null;
  };
  return {
    runId: c.runId,
    label: c.label,
    deltaBar: c.deltaBar,
    checked: c.checked,
    violations: c.violations,
    floorBelowDeltaBar: c.floorBelowDeltaBar,
    aboveDeltaBar: c.aboveDeltaBar,
    minObserved: finiteMin(c.cells.map((x) => x.minDsigma)),
    minLearnedFloor: finiteMin(c.cells.map((x) => x.learnedFloor)),
    maxClippedFrac: c.maxClippedFrac,
    ok: c.ok,
  };
}

// ── approximation-rate lab ──────────────────────────────────────────────────────────────────────────────

/** How the lab picks the weights its verdict scores: the validation-selected report point, or the final fit. */
export type ApproxSelect = 'validation' | 'final';
/** Batch norm in the lab's Bernstein nets; `non-affine` only appears on labs stored before the choice existed. */
export type ApproxBatchNorm = 'affine' | 'none' | 'non-affine';

/** The weights at one report point, scored on the test grid after training. */
export interface ApproxCheckpoint {
  /** 1-based report index (the stored epoch). */
  index: number;
  /** max |N − f| on the validation grid (what the selection compared). */
  valMaxErr: number;
  /** max |N − f| on the dense test grid (read once, after training). */
  maxErr: number;
  rmse: number;
}

export interface ApproxPoint {
  runId: string;
  target: string;
  /** 'bernstein' with its degree, or 'relu' (width matched to a Bernstein net's parameter count). */
  family: 'bernstein' | 'relu';
  degree: number | null;
  /** For ReLU: the Bernstein degree whose parameter count it matches. */
  matchedDegree: number | null;
  depth: number;
  width: number;
  paramCount: number;
  /** Bernstein nets: the batch norm used; ReLU nets: always 'none' (the paper's plain baseline). */
  bn: ApproxBatchNorm;
  /** The weights at the end of training. */
  final: ApproxCheckpoint;
  /** The report point with the smallest validation max error; null on labs stored before validation existed. */
  selected: ApproxCheckpoint | null;
  /** The test max error the verdict uses (selected or final, per the lab's `select`). */
  verdictErr: number;
  /** Fraction of Bernstein pre-activations outside [l,u] at the verdict's report point (the floor needs 0). */
  clippedFrac: number | null;
  finalTrainMse: number;
  steps: number;
  seconds: number;
}

/** A bracket on E_N(f), the best uniform error of a polynomial of degree N = n^L (shared/approx-floor.ts). */
export interface ApproxFloor extends PolyFloor {
  text: string;
}

export type ApproxLimit = 'optimisation' | 'architecture floor' | 'float32 precision' | 'diverged' | 'undetermined';

/** One (target, depth, degree): Bernstein vs its parameter-matched ReLU, and what limits the Bernstein fit. */
export interface ApproxCell {
  target: string;
  depth: number;
  degree: number;
  bern: number | null;
  relu: number | null;
  /** 'tie' when within 10 % of each other; 'none' when neither has a finite error. */
  winner: 'bernstein' | 'relu' | 'tie' | 'none';
  floor: ApproxFloor;
  limitedBy: ApproxLimit;
  /** The sentence the summary prints. */
  text: string;
}

export interface ApproxVerdict {
  target: string;
  degree: number;
  /** Fitted decay of ln(verdict error) per layer (negative = error falls with depth). */
  measuredSlope: number;
  /** −ln n: the n^(−L) rate's slope. */
  theoreticalSlope: number;
  /** What limits the Bernstein fits of this degree over the depths (the cells' limits; 'mixed' when they differ). */
  limitedBy: ApproxLimit | 'mixed';
  text: string;
}

export interface ApproxTargetInfo {
  id: string;
  title: string;
  formula: string;
  smooth: boolean;
}

export interface ApproxResults {
  /** Tag shared by the lab's stored runs. */
  tag: string;
  points: ApproxPoint[];
  cells: ApproxCell[];
  verdicts: ApproxVerdict[];
  targets: ApproxTargetInfo[];
  /** Stored before validation selection existed: its old "best" was picked on the test grid and is not shown. */
  legacy: boolean;
  settings: {
    steps: number;
    lr: number;
    lrFinal: number;
    schedule: string;
    gridPoints: number;
    valPoints: number;
    testPoints: number;
    width: number;
    reports: number;
    bn: ApproxBatchNorm | 'mixed';
    select: ApproxSelect;
    floorMethod: string;
  };
}
