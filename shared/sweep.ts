// Sweep files (docs/sweep-file.md): W&B-style method/parameters/metric/early_terminate over NetworkSpec fields.
// Parsing keeps YAML positions so every error names the line and the field.
import { z } from 'zod';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { EPOCH_METRICS } from './metrics.js';
import { GOALS } from './vocab.js';
import { mulberry32, proposeTpe } from './tpe.js';
import { SPEC_FIELDS, parseSpec, SpecError, formatIssues, type NetworkSpec } from './spec.js';

/** Spec fields a sweep may vary (every NetworkSpec field), plus snake_case aliases W&B users type. */
export const SWEEPABLE_FIELDS = SPEC_FIELDS as (keyof NetworkSpec)[];
const ALIASES: Record<string, keyof NetworkSpec> = {
  batch_size: 'batchSize',
  batch_norm: 'batchNorm',
  bn_affine: 'bnAffine',
  bounds_mode: 'boundsMode',
  bounds_momentum: 'boundsMomentum',
  test_fraction: 'testFraction',
  eval_batch: 'evalBatch',
  learning_rate: 'lr',
};
export function canonicalField(name: string): keyof NetworkSpec | undefined {
  if ((SWEEPABLE_FIELDS as string[]).includes(name)) return name as keyof NetworkSpec;
  return ALIASES[name];
}

/** `bayes` proposes each next run from the finished ones (TPE, shared/tpe.ts); W&B's spelling. */
export const SWEEP_METHODS = ['grid', 'random', 'bayes'] as const;

/** A `variant` value is a mapping of spec fields applied together (e.g. {activation: relu, residual: true}). */
const Scalar = z.union([z.number(), z.string(), z.boolean(), z.array(z.number()), z.record(z.string(), z.unknown())]);
/** The parameter whose values are bundles of spec fields: lists of designs that are not a product grid. */
export const VARIANT_PARAM = 'variant';
export type ParamValue = z.infer<typeof Scalar>;

const ParamSchema = z.union(
  [
    z.object({ value: Scalar }).strict(),
    z.object({ values: z.array(Scalar).min(1, { error: 'values must list at least one value' }) }).strict(),
    z
      .object({
        min: z.number({ error: 'min must be a number' }),
        max: z.number({ error: 'max must be a number' }),
        distribution: z
          .enum(['uniform', 'log_uniform', 'int'], { error: 'distribution must be uniform, log_uniform or int' })
          .default('uniform'),
      })
      .strict()
      .refine((p) => p.min <= p.max, { error: 'min must be ≤ max' })
      .refine((p) => p.distribution !== 'log_uniform' || p.min > 0, { error: 'log_uniform needs min > 0' }),
  ],
  { error: 'a parameter is {value: v}, {values: [..]} or {min, max, distribution}' },
);
export type ParamDef = z.infer<typeof ParamSchema>;

/** Most threads one run trains on (docs/threads.md). */
export const MAX_RUN_THREADS = 64;
export type RunThreads = number | 'auto';
/**
 * Threads a run trains on when nobody chose (docs/threads.md). One until a quiet-machine measurement shows the
 * replicas ≥ 1.7× faster than one thread (on this shared machine they were not: issue #16); then 'auto' (the
 * cores the pool leaves free).
 */
export const DEFAULT_RUN_THREADS: RunThreads = 1;
const THREADS_ERROR = `threads must be auto or an integer from 1 to ${MAX_RUN_THREADS}`;

export const SweepFileSchema = z
  .object({
    name: z.string({ error: 'name must be a string' }).min(1, { error: 'name must not be empty' }),
    description: z.string().optional(),
    dataset: z.string({ error: 'dataset must be a dataset id' }).optional(),
    rows: z.number().int().positive().optional(),
    base: z.record(z.string(), z.unknown(), { error: 'base must be a mapping of network spec fields' }).default({}),
    method: z.enum(SWEEP_METHODS, { error: `method must be one of ${SWEEP_METHODS.join(', ')}` }).default('grid'),
    parameters: z
      .record(z.string(), ParamSchema, { error: 'parameters must be a mapping of field: {values|value|min/max}' })
      .default({}),
    seeds: z
      .union([z.number().int().min(1).max(1000), z.array(z.number().int().min(0)).min(1)], {
        error: 'seeds must be a count (1–1000) or a list of seeds',
      })
      .default(1),
    run_cap: z
      .number()
      .int({ error: 'run_cap must be an integer ≥ 1' })
      .min(1, { error: 'run_cap must be an integer ≥ 1' })
      .optional(),
    random_seed: z.number().int().default(0),
    /** Threads per run (docs/threads.md): auto splits the pool's free cores over the runs it starts; absent: DEFAULT_RUN_THREADS. */
    threads: z
      .union(
        [
          z.literal('auto'),
          z
            .number()
            .int({ error: THREADS_ERROR })
            .min(1, { error: THREADS_ERROR })
            .max(MAX_RUN_THREADS, { error: THREADS_ERROR }),
        ],
        { error: THREADS_ERROR },
      )
      .optional(),
    metric: z
      .object({
        name: z.enum(EPOCH_METRICS, { error: `metric.name must be one of ${EPOCH_METRICS.join(', ')}` }),
        goal: z.enum(GOALS, { error: `metric.goal must be ${GOALS.join(' or ')}` }),
      })
      .strict()
      .default({ name: 'test_loss', goal: 'minimize' }),
    early_terminate: z
      .discriminatedUnion(
        'type',
        [
          z
            .object({
              type: z.literal('median'),
              min_epochs: z.number().int().min(1).default(2),
              warmup_runs: z.number().int().min(1).default(3),
            })
            .strict(),
          z
            .object({
              type: z.literal('asha'),
              min_epochs: z.number().int().min(1).default(1),
              eta: z.number().min(2).default(3),
            })
            .strict(),
          z
            .object({
              type: z.literal('hyperband'),
              min_epochs: z.number().int().min(1).default(1),
              eta: z
                .number()
                .int({ error: 'eta must be an integer ≥ 2' })
                .min(2, { error: 'eta must be an integer ≥ 2' })
                .default(3),
              /** The most epochs a run trains; default: the runs' own `epochs`. */
              max_epochs: z.number().int().min(1).optional(),
            })
            .strict()
            .refine((r) => r.max_epochs === undefined || r.max_epochs > r.min_epochs, {
              error: 'hyperband needs max_epochs > min_epochs',
            }),
        ],
        { error: 'early_terminate.type must be median, asha or hyperband' },
      )
      .optional(),
  })
  .strict();
export type SweepFile = z.output<typeof SweepFileSchema>;

export const GRID_LIMIT_WITHOUT_CAP = 10_000;
/**
 * The most runs one sweep may create (docs/sweep-file.md). Every run is a row in the DB and a spec in memory
 * while planning, so a `run_cap` of a billion over a huge grid is refused from the count alone, before any
 * run is built.
 */
export const MAX_SWEEP_RUNS = 10_000;
/** yaml's guard against alias bombs ("billion laughs"): a document may expand at most this many aliases. */
const MAX_YAML_ALIASES = 1000;

export class SweepError extends Error {
  constructor(readonly issues: string[]) {
    super(issues.join('; '));
    this.name = 'SweepError';
  }
}

export interface PlannedRun {
  index: number;
  /** The values this run takes for the swept parameters (after aliasing), plus its seed. */
  params: Record<string, ParamValue>;
  spec: NetworkSpec;
}

export interface SweepPlan {
  file: SweepFile;
  runs: PlannedRun[];
  /** Grid size before run_cap (grid), the number sampled (random), or the run budget (bayes). */
  total: number;
  /** bayes: `runs` holds only the first trial; the rest are proposed as runs finish. */
  sequential?: boolean;
}

/** Parse YAML or JSON text into a validated sweep file; errors carry `line N: field: message`. */
export function parseSweepText(text: string): SweepFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length) {
    throw new SweepError(doc.errors.map((e) => `line ${lc.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`));
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (e) {
    // yaml throws a ReferenceError for an alias bomb or an alias to nothing: the file's fault, not ours.
    if (e instanceof ReferenceError || e instanceof RangeError)
      throw new SweepError([`the sweep file cannot be expanded: ${e.message.split('\n')[0]}`]);
    throw e;
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    throw new SweepError(['the sweep file must be a mapping (name:, base:, parameters:, …)']);
  const lineOf = (path: PropertyKey[]): string => {
    for (let p = path.length; p > 0; p--) {
      const node = doc.getIn(path.slice(0, p) as (string | number)[], true);
      if (isNode(node) && node.range) return `line ${lc.linePos(node.range[0]).line}: `;
    }
    return '';
  };
  const r = SweepFileSchema.safeParse(data);
  if (!r.success) {
    throw new SweepError(r.error.issues.map((i) => lineOf(i.path) + formatIssues(new z.ZodError([i]))[0]));
  }
  const file = r.data;
  const issues: string[] = [];
  for (const name of Object.keys(file.parameters)) {
    if (name === VARIANT_PARAM) {
      const def = file.parameters[name];
      const values = 'values' in def ? def.values : 'value' in def ? [def.value] : [];
      if (values.length === 0)
        issues.push(`${lineOf(['parameters', name])}parameters.variant: needs values, each a mapping of spec fields`);
      values.forEach((v, i) => {
        if (v === null || typeof v !== 'object' || Array.isArray(v))
          issues.push(
            `${lineOf(['parameters', name, 'values', i])}parameters.variant.values.${i}: must be a mapping of spec fields`,
          );
        else
          for (const k of Object.keys(v))
            if (!canonicalField(k))
              issues.push(
                `${lineOf(['parameters', name, 'values', i, k])}parameters.variant.values.${i}.${k}: unknown field; allowed: ${SWEEPABLE_FIELDS.join(', ')}`,
              );
      });
      continue;
    }
    if (!canonicalField(name))
      issues.push(
        `${lineOf(['parameters', name])}parameters.${name}: unknown parameter; allowed: ${SWEEPABLE_FIELDS.join(', ')}`,
      );
    if (file.method === 'grid' && !('value' in file.parameters[name]) && !('values' in file.parameters[name])) {
      issues.push(
        `${lineOf(['parameters', name])}parameters.${name}: a grid needs value or values (min/max ranges need method: random or bayes)`,
      );
    }
  }
  for (const name of Object.keys(file.base)) {
    if (!canonicalField(name))
      issues.push(`${lineOf(['base', name])}base.${name}: unknown field; allowed: ${SWEEPABLE_FIELDS.join(', ')}`);
  }
  if (file.method === 'random' && file.run_cap === undefined)
    issues.push('run_cap: method random needs run_cap (how many runs to sample)');
  if (file.method === 'bayes' && file.run_cap === undefined)
    issues.push('run_cap: method bayes needs run_cap (how many runs to propose)');
  if (issues.length) throw new SweepError(issues);
  return file;
}

function sample(def: ParamDef, next: () => number): ParamValue {
  if ('value' in def) return def.value;
  if ('values' in def) return def.values[Math.floor(next() * def.values.length)];
  const u = next();
  if (def.distribution === 'int') return Math.floor(def.min + u * (def.max - def.min + 1));
  if (def.distribution === 'log_uniform')
    return Math.exp(Math.log(def.min) + u * (Math.log(def.max) - Math.log(def.min)));
  return def.min + u * (def.max - def.min);
}

function seedList(seeds: SweepFile['seeds']): number[] {
  return typeof seeds === 'number' ? Array.from({ length: seeds }, (_, i) => i) : seeds;
}

/** The spec of one run: the file's dataset/rows, then base, then the variant bundle, then swept values. */
export function runSpec(file: SweepFile, params: Record<string, ParamValue>, seed: number): NetworkSpec {
  const base: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(file.base)) base[canonicalField(k) ?? k] = v;
  const variant: Record<string, unknown> = {};
  const swept: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    if (k === VARIANT_PARAM)
      for (const [vk, vv] of Object.entries(v as Record<string, unknown>)) variant[canonicalField(vk) ?? vk] = vv;
    else swept[canonicalField(k) ?? k] = v;
  }
  const input = { dataset: file.dataset, rows: file.rows, ...base, ...variant, ...swept, seed };
  if (input.dataset === undefined) delete input.dataset;
  if (input.rows === undefined) delete input.rows;
  return parseSpec(input);
}

/** The seed of a `bayes` trial: trials cycle through the file's seeds (one run per proposal). */
export function bayesSeed(file: SweepFile, index: number): number {
  const seeds = seedList(file.seeds);
  return seeds[index % seeds.length];
}

/** How many runs a sweep file expands to (and the grid size / number sampled), without building any. */
export function countSweepRuns(file: SweepFile): { runs: number; total: number } {
  const seeds = seedList(file.seeds).length;
  if (file.method === 'grid') {
    const total =
      Object.values(file.parameters).reduce((a, d) => a * ('value' in d ? 1 : 'values' in d ? d.values.length : 0), 1) *
      seeds;
    return { runs: Math.min(total, file.run_cap ?? Infinity), total };
  }
  const cap = file.run_cap ?? 0;
  // bayes proposes run_cap runs one after another; random samples run_cap points, each once per seed.
  return { runs: cap, total: file.method === 'bayes' ? cap : cap * seeds };
}

function countText(n: number): string {
  return n < 1e15 ? String(n) : n.toExponential(2);
}

function assertPlannable(file: SweepFile): { runs: number; total: number } {
  const count = countSweepRuns(file);
  if (file.method === 'grid' && count.total > GRID_LIMIT_WITHOUT_CAP && file.run_cap === undefined) {
    throw new SweepError([
      `the grid has ${countText(count.total)} runs (more than ${GRID_LIMIT_WITHOUT_CAP}): set run_cap or use method: random`,
    ]);
  }
  if (count.runs > MAX_SWEEP_RUNS) {
    throw new SweepError([
      `run_cap: the sweep would create ${countText(count.runs)} runs, more than the limit of ${MAX_SWEEP_RUNS} per sweep (lower run_cap or split the sweep)`,
    ]);
  }
  return count;
}

/** Expand a sweep file into validated run specs. Nothing runs; bad points are errors, not silent drops. */
export function planSweep(file: SweepFile): SweepPlan {
  const { total } = assertPlannable(file);
  if (file.method === 'bayes') {
    // Sequential: only the first trial is known before any run finishes; the scheduler proposes the rest
    // (src-main/scheduler/bayes.ts). `total` is the budget.
    const params = proposeTpe(file.parameters, [], { seed: file.random_seed, index: 0, goal: file.metric.goal });
    const seed = bayesSeed(file, 0);
    const canonical: Record<string, ParamValue> = {};
    for (const [k, v] of Object.entries(params)) canonical[k === VARIANT_PARAM ? k : (canonicalField(k) as string)] = v;
    try {
      return {
        file,
        runs: [{ index: 0, params: { ...canonical, seed }, spec: runSpec(file, params, seed) }],
        total: file.run_cap ?? 0,
        sequential: true,
      };
    } catch (e) {
      if (!(e instanceof SpecError)) throw e;
      throw new SweepError([`run 1 (${JSON.stringify(params)}): ${e.issues.join('; ')}`]);
    }
  }
  const names = Object.keys(file.parameters);
  const fields = names.map((n) => (n === VARIANT_PARAM ? n : (canonicalField(n) as string)));
  const seeds = seedList(file.seeds);
  const limit = Math.min(total, file.run_cap ?? Infinity);
  const lists = names.map((n) => {
    const d = file.parameters[n];
    return 'value' in d ? [d.value] : 'values' in d ? d.values : [];
  });
  // Points are produced one at a time (the grid by mixed-radix index), never all at once.
  const next = mulberry32(file.random_seed);
  const perSeed = file.method === 'grid' ? total / seeds.length : Infinity;
  const pointCount = Math.min(perSeed, Math.ceil(limit / seeds.length));
  const pointAt = (i: number): ParamValue[] => {
    if (file.method !== 'grid') return names.map((n) => sample(file.parameters[n], next));
    let rest = i;
    const pt: ParamValue[] = new Array(lists.length);
    for (let j = lists.length - 1; j >= 0; j--) {
      pt[j] = lists[j][rest % lists[j].length];
      rest = Math.floor(rest / lists[j].length);
    }
    return pt;
  };
  const runs: PlannedRun[] = [];
  const issues: string[] = [];
  outer: for (let i = 0; i < pointCount; i++) {
    const pt = pointAt(i);
    for (const seed of seeds) {
      if (runs.length >= limit) break outer;
      const params: Record<string, ParamValue> = {};
      fields.forEach((f, j) => (params[f] = pt[j]));
      try {
        runs.push({ index: runs.length, params: { ...params, seed }, spec: runSpec(file, params, seed) });
      } catch (e) {
        if (!(e instanceof SpecError)) throw e;
        issues.push(`run ${runs.length + issues.length + 1} (${JSON.stringify(params)}): ${e.issues.join('; ')}`);
        if (issues.length >= 5) break outer;
      }
    }
  }
  if (issues.length) throw new SweepError(issues);
  if (runs.length === 0) throw new SweepError(['the sweep expands to no runs']);
  return { file, runs, total };
}
