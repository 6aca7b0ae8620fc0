// The sweep builder's model: a design + dataset + axes → a sweep file (W&B-style YAML), and its live run count.
import { Document, isScalar, isSeq, parse, visit } from 'yaml';
import { ACTIVATIONS, type NetworkSpecInput } from '../../shared/spec.js';
import { parseSweepText, planSweep, SweepError, type ParamValue } from '../../shared/sweep.js';
import type { EpochMetric } from '../../shared/metrics.js';
import type { Goal } from '../../shared/vocab.js';

export interface Axis {
  field: string;
  mode: 'values' | 'range';
  /** values mode: comma list as typed, e.g. `2, 4, 8` or `bernstein, relu` or `[-5,5], [-3,3]`. */
  values: string;
  min: number;
  max: number;
  distribution: 'uniform' | 'log_uniform' | 'int';
}

export interface SweepDraft {
  name: string;
  dataset: string;
  rows?: number;
  base: Partial<NetworkSpecInput>;
  method: 'grid' | 'random' | 'bayes';
  axes: Axis[];
  seeds: number;
  runCap?: number;
  randomSeed: number;
  metric: { name: EpochMetric; goal: Goal };
  earlyTerminate: 'none' | 'median' | 'asha' | 'hyperband';
  /** With an activation axis, let batch norm follow each activation's default (default true). */
  activationDefaultsBn?: boolean;
}

/** Axis presets W&B/Optuna users reach for, with example values. */
export const AXIS_PRESETS: {
  field: string;
  label: string;
  values: string;
  min: number;
  max: number;
  distribution: Axis['distribution'];
}[] = [
  { field: 'depth', label: 'depth', values: '10, 25, 50', min: 5, max: 50, distribution: 'int' },
  { field: 'width', label: 'width', values: '50, 100', min: 16, max: 256, distribution: 'int' },
  { field: 'degree', label: 'degree n', values: '5, 9, 15', min: 3, max: 20, distribution: 'int' },
  { field: 'eps', label: 'ε', values: '0, 0.01, 0.1', min: 0.001, max: 0.1, distribution: 'log_uniform' },
  { field: 'bounds', label: 'bounds [l,u]', values: '[-5, 5], [-3, 3]', min: 0, max: 0, distribution: 'uniform' },
  { field: 'activation', label: 'activation', values: ACTIVATIONS.join(', '), min: 0, max: 0, distribution: 'uniform' },
  { field: 'batchNorm', label: 'batch norm', values: 'true, false', min: 0, max: 0, distribution: 'uniform' },
  { field: 'residual', label: 'residual', values: 'false, true', min: 0, max: 0, distribution: 'uniform' },
  { field: 'init', label: 'init', values: 'torch, he_normal', min: 0, max: 0, distribution: 'uniform' },
  { field: 'bnAffine', label: 'affine batch norm', values: 'false, true', min: 0, max: 0, distribution: 'uniform' },
  { field: 'alpha', label: 'LReLU α', values: '0.005, 0.01, 0.05', min: 0.001, max: 0.1, distribution: 'log_uniform' },
  { field: 'lr', label: 'learning rate', values: '0.001, 0.0003', min: 0.0001, max: 0.01, distribution: 'log_uniform' },
  { field: 'batchSize', label: 'batch size', values: '128, 256', min: 32, max: 512, distribution: 'int' },
  { field: 'epochs', label: 'epochs', values: '10, 20', min: 5, max: 50, distribution: 'int' },
  { field: 'optimizer', label: 'optimizer', values: 'adam, sgd', min: 0, max: 0, distribution: 'uniform' },
  { field: 'boundsMode', label: 'bounds mode', values: 'fixed, adaptive', min: 0, max: 0, distribution: 'uniform' },
  {
    field: 'tau',
    label: 'τ (dead threshold, ours)',
    values: '1e-6, 1e-4',
    min: 1e-8,
    max: 1e-3,
    distribution: 'log_uniform',
  },
];

export const CATEGORICAL = new Set([
  'bounds',
  'activation',
  'batchNorm',
  'bnAffine',
  'residual',
  'init',
  'optimizer',
  'boundsMode',
]);

export function newAxis(field: string): Axis {
  const p = AXIS_PRESETS.find((a) => a.field === field);
  return {
    field,
    mode: 'values',
    values: p?.values ?? '',
    min: p?.min ?? 0,
    max: p?.max ?? 1,
    distribution: p?.distribution ?? 'uniform',
  };
}

/** `2, 4, 8` → [2,4,8]; `[-5,5], [-3,3]` → [[-5,5],[-3,3]]; `relu, gelu` → ['relu','gelu']. */
export function parseValueList(text: string): ParamValue[] {
  const t = text.trim();
  if (!t) return [];
  const v: unknown = parse(`[${t}]`);
  if (!Array.isArray(v)) throw new Error('not a list');
  return v as ParamValue[];
}

/** The sweep file as a plain object (what the YAML says). Throws Error naming the axis on unparseable values. */
export function buildSweepObject(d: SweepDraft): Record<string, unknown> {
  const parameters: Record<string, unknown> = {};
  for (const a of d.axes) {
    if (!a.field) continue;
    if (a.mode === 'range' && d.method !== 'grid' && !CATEGORICAL.has(a.field)) {
      parameters[a.field] = { min: a.min, max: a.max, distribution: a.distribution };
    } else {
      let values: ParamValue[];
      try {
        values = parseValueList(a.values);
      } catch {
        throw new Error(`${a.field}: can't read the values — write a comma list, e.g. 2, 4, 8`);
      }
      if (!values.length) throw new Error(`${a.field}: list at least one value`);
      parameters[a.field] = { values };
    }
  }
  const base: Record<string, unknown> = { ...d.base };
  delete base.dataset;
  delete base.seed;
  for (const f of Object.keys(parameters)) delete base[f];
  // Sweeping the activation: batch norm follows each activation's default (on for Bernstein, off for the
  // plain baselines, DESIGN §1.3) unless batch norm is itself an axis.
  if ('activation' in parameters && !('batchNorm' in parameters) && d.activationDefaultsBn !== false)
    delete base.batchNorm;
  const obj: Record<string, unknown> = { name: d.name || 'sweep', dataset: d.dataset };
  if (d.rows) obj.rows = d.rows;
  obj.method = d.method;
  obj.metric = d.metric;
  obj.base = base;
  obj.parameters = parameters;
  obj.seeds = d.seeds;
  if (d.runCap) obj.run_cap = d.runCap;
  if (d.method !== 'grid') obj.random_seed = d.randomSeed;
  if (d.earlyTerminate !== 'none') obj.early_terminate = { type: d.earlyTerminate };
  return obj;
}

export function toYaml(obj: Record<string, unknown>): string {
  const doc = new Document(obj);
  // Lists of scalars (and bounds pairs) read best on one line: values: [2, 4, 8], bounds: [-5, 5].
  visit(doc, {
    Seq(_, node) {
      if (node.items.every((it) => isScalar(it) || (isSeq(it) && it.items.every(isScalar)))) node.flow = true;
    },
  });
  return doc.toString({ lineWidth: 120, flowCollectionPadding: false });
}

export interface LiveCount {
  ok: boolean;
  runs: number;
  total: number;
  error?: string;
  yaml: string;
}

/** Build, serialise and plan locally: the live run count and the first error, if any. */
export function liveCount(d: SweepDraft): LiveCount {
  let yaml = '';
  try {
    yaml = toYaml(buildSweepObject(d));
    const plan = planSweep(parseSweepText(yaml));
    // bayes: only the first run is known up front; the budget is what the count means.
    return { ok: true, runs: plan.sequential ? plan.total : plan.runs.length, total: plan.total, yaml };
  } catch (e) {
    const msg = e instanceof SweepError ? e.issues.slice(0, 3).join('\n') : e instanceof Error ? e.message : String(e);
    return { ok: false, runs: 0, total: 0, error: msg, yaml };
  }
}
