// Synthetic HIGGS-shaped data (tests, demos, and runs without the 2.6 GB UCI file): 28 features in the
// UCI HIGGS column order — 21 "low-level" kinematics (lepton, missing energy, 4 jets: pT, η, φ, b-tag) and
// 7 "high-level" invariant masses computed from them — with a binary label drawn from a FIXED teacher.
//
// Teacher (ours): p(signal | features) = sigmoid(s), s = bumps on two masses (non-monotone: a linear model
// cannot follow them) + a fixed random tanh network of the low-level features (interactions) + a bias that
// keeps the classes near 50/50. The label is a Bernoulli draw from p, which is the label noise: the Bayes
// accuracy is ≈ 0.79, a good MLP reaches ~0.75–0.78, logistic regression ≈ 0.64 (test/data-synthetic.test.ts).
// The teacher's weights come from a constant seed, so every data seed samples the same problem; rows are
// generated one after another from the data seed, so n rows are a prefix of n+m rows with the same seed.
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { DatasetError } from './errors.js';
import { gaussian, makeRng, type Rng } from './rng.js';
import type { RawTable } from './types.js';

export const SYNTHETIC_HIGGS_FEATURES = 28;
export const SYNTHETIC_HIGGS_DEFAULT_ROWS = 20_000;
const LOW_LEVEL = 21;
const TEACHER_SEED = 2602_04264;
const TEACHER_HIDDEN = 12;

interface Particle {
  pt: number;
  eta: number;
  phi: number;
}

/** Invariant mass of massless particles (E = pT·cosh η, pz = pT·sinh η). */
function invariantMass(ps: Particle[]): number {
  let e = 0;
  let px = 0;
  let py = 0;
  let pz = 0;
  for (const p of ps) {
    e += p.pt * Math.cosh(p.eta);
    px += p.pt * Math.cos(p.phi);
    py += p.pt * Math.sin(p.phi);
    pz += p.pt * Math.sinh(p.eta);
  }
  return Math.sqrt(Math.max(0, e * e - px * px - py * py - pz * pz));
}

/** Positive, right-skewed transverse momentum around 1 (the UCI file's pT columns are scaled like this). */
const momentum = (rng: Rng) => Math.exp(0.45 * gaussian(rng) - 0.1);
const angle = (rng: Rng) => Math.PI * (2 * rng() - 1);
/** HIGGS b-tag columns take three values. */
const btag = (rng: Rng) => [0, 1.0865, 2.173][rng() < 0.55 ? 0 : rng() < 0.6 ? 1 : 2];

interface Teacher {
  w1: Float64Array; // [TEACHER_HIDDEN × LOW_LEVEL]
  b1: Float64Array;
  w2: Float64Array;
}

let teacherCache: Teacher | undefined;
function teacher(): Teacher {
  if (teacherCache) return teacherCache;
  const rng = makeRng(TEACHER_SEED, 'synthetic-higgs-teacher');
  const w1 = Float64Array.from(
    { length: TEACHER_HIDDEN * LOW_LEVEL },
    () => (1.6 * gaussian(rng)) / Math.sqrt(LOW_LEVEL),
  );
  const b1 = Float64Array.from({ length: TEACHER_HIDDEN }, () => 0.5 * gaussian(rng));
  const w2 = Float64Array.from({ length: TEACHER_HIDDEN }, () => (1.5 * gaussian(rng)) / Math.sqrt(TEACHER_HIDDEN));
  teacherCache = { w1, b1, w2 };
  return teacherCache;
}

/** Roughly centred inputs for the teacher net: log pT, η, φ, centred b-tag. */
const PT_COLUMNS = new Set([0, 3, 5, 9, 13, 17]);
const BTAG_COLUMNS = new Set([8, 12, 16, 20]);
function teacherInput(f: Float64Array, out: Float64Array): void {
  for (let j = 0; j < LOW_LEVEL; j++) {
    const v = f[j];
    // pT is log-normal: its log is symmetric; b-tags are centred on their mean.
    out[j] = PT_COLUMNS.has(j) ? Math.log(v) * 2 : BTAG_COLUMNS.has(j) ? v - 0.7 : v;
  }
}

// Weights of the teacher's parts, tuned so the Bayes rate is ≈ 0.79 and a linear model stays ≈ 0.64.
const [K_MBB, K_MWWBB, K_NET, K_ODD, K_BIAS] = [2.2, 1.8, 2.2, 0.6, -1.05];
const bump = (m: number, centre: number, width: number) => Math.exp(-(((m - centre) / width) ** 2));

/** Teacher logit for one row of 28 raw features (exported for the learnability test's Bayes rate). */
export function syntheticHiggsLogit(f: Float64Array): number {
  const t = teacher();
  const u = new Float64Array(LOW_LEVEL);
  teacherInput(f, u);
  let net = 0;
  let odd = 0;
  for (let h = 0; h < TEACHER_HIDDEN; h++) {
    let a = t.b1[h];
    for (let j = 0; j < LOW_LEVEL; j++) a += t.w1[h * LOW_LEVEL + j] * u[j];
    // tanh² is even: the teacher's interactions have no linear part for a linear model to pick up.
    const th = Math.tanh(a);
    net += t.w2[h] * (th * th - 0.5);
    odd += t.w2[h] * th;
  }
  return K_MBB * bump(f[25], 1.35, 0.35) + K_MWWBB * bump(f[27], 8.3, 1.5) + K_NET * net + K_ODD * odd + K_BIAS;
}

/** One row: 28 features into `f`, returns the label. */
function sampleRow(rng: Rng, f: Float64Array): number {
  const lep: Particle = { pt: momentum(rng), eta: 1.1 * gaussian(rng), phi: angle(rng) };
  const nu: Particle = { pt: momentum(rng), eta: 0, phi: angle(rng) }; // missing energy: transverse only
  const jets: Particle[] = [];
  const tags: number[] = [];
  for (let k = 0; k < 4; k++) {
    jets.push({ pt: momentum(rng), eta: 1.2 * gaussian(rng), phi: angle(rng) });
    tags.push(btag(rng));
  }
  jets.sort((a, b) => b.pt - a.pt); // UCI orders jets by pT
  f[0] = lep.pt;
  f[1] = lep.eta;
  f[2] = lep.phi;
  f[3] = nu.pt;
  f[4] = nu.phi;
  for (let k = 0; k < 4; k++) {
    f[5 + 4 * k] = jets[k].pt;
    f[6 + 4 * k] = jets[k].eta;
    f[7 + 4 * k] = jets[k].phi;
    f[8 + 4 * k] = tags[k];
  }
  const [j1, j2, j3, j4] = jets;
  // The seven UCI high-level columns: m_jj, m_jjj, m_lv, m_jlv, m_bb, m_wbb, m_wwbb (our particle choices).
  f[21] = invariantMass([j1, j2]);
  f[22] = invariantMass([j1, j2, j3]);
  f[23] = invariantMass([lep, nu]);
  f[24] = invariantMass([j3, lep, nu]);
  f[25] = invariantMass([j3, j4]);
  f[26] = invariantMass([j1, j2, j3, j4]);
  f[27] = invariantMass([j1, j2, j3, j4, lep, nu]);
  const p = 1 / (1 + Math.exp(-syntheticHiggsLogit(f)));
  return rng() < p ? 1 : 0;
}

/** Generate rows one by one (for the CSV writer, which must not hold 11M rows in memory). */
export function* syntheticHiggsRows(rows: number, seed: number): Generator<{ label: number; features: Float64Array }> {
  const rng = makeRng(seed, 'synthetic-higgs');
  const f = new Float64Array(SYNTHETIC_HIGGS_FEATURES);
  for (let r = 0; r < rows; r++) {
    const label = sampleRow(rng, f);
    yield { label, features: f };
  }
}

function checkRows(rows: number): void {
  if (!Number.isInteger(rows) || rows < 1) throw new DatasetError(`rows must be a positive integer (got ${rows})`);
}

/** All rows as a raw (unstandardised) table. */
export function syntheticHiggsTable(rows: number = SYNTHETIC_HIGGS_DEFAULT_ROWS, seed = 0): RawTable {
  checkRows(rows);
  const d = SYNTHETIC_HIGGS_FEATURES;
  const x = new Float32Array(rows * d);
  const y = new Float32Array(rows);
  let r = 0;
  for (const row of syntheticHiggsRows(rows, seed)) {
    x.set(row.features, r * d);
    y[r++] = row.label;
  }
  return { task: 'classification', inputDim: d, outputDim: 2, rows, x, y };
}

export interface SyntheticCsvOptions {
  rows: number;
  seed?: number;
  /** Write gzip (like the UCI download). */
  gzip?: boolean;
  /** 'susy' keeps the first 18 features, giving a SUSY-shaped file (label + 18 columns). */
  format?: 'higgs' | 'susy';
}

/**
 * Write synthetic rows in the UCI HIGGS (or SUSY) CSV format: no header, label first, values like
 * `1.000000000000000000e+00`. Written to a temp name and renamed, so a crash never leaves a partial file.
 */
export async function writeSyntheticHiggsCsv(path: string, opts: SyntheticCsvOptions): Promise<void> {
  checkRows(opts.rows);
  const cols = opts.format === 'susy' ? 18 : SYNTHETIC_HIGGS_FEATURES;
  const lines = function* () {
    let batch = '';
    let n = 0;
    for (const { label, features } of syntheticHiggsRows(opts.rows, opts.seed ?? 0)) {
      let line = label.toExponential(18);
      for (let j = 0; j < cols; j++) line += ',' + features[j].toExponential(18);
      batch += line + '\n';
      // Batches of lines: one stream write per row would dominate the time.
      if (++n % 1000 === 0) {
        yield batch;
        batch = '';
      }
    }
    if (batch) yield batch;
  };
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    const stages = opts.gzip ? [createGzip()] : [];
    await (pipeline as (...s: unknown[]) => Promise<void>)(Readable.from(lines()), ...stages, createWriteStream(tmp));
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
