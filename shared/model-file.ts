// Reading an exported model file (docs/model-format.md) back: validate it fully, then evaluate rows in float64.
// This is how `deepbern predict --model model.json` works without the DB or tfjs, and what the bad-input corpus
// checks: a malformed file gets one clear error naming where it is wrong.
import { z } from 'zod';
import { bernsteinValue } from './theory.js';
import { FIXED_ACTIVATIONS, fixedActivation, type FixedActivation } from './activations.js';
import { TASK_KINDS } from './vocab.js';
import { nothingFor } from './exhaustive.js';

/** Fixed activations whose layer record carries fields of its own; every other one is written as `{ type }`. */
const OWN_LAYER_FORMAT = ['leaky_relu', 'selu', 'gelu'] as const;
type PlainLayerActivation = Exclude<FixedActivation, (typeof OWN_LAYER_FORMAT)[number]>;
export const PLAIN_LAYER_ACTIVATIONS = FIXED_ACTIVATIONS.filter(
  (k): k is PlainLayerActivation => !(OWN_LAYER_FORMAT as readonly string[]).includes(k),
);
const LAYER_TYPES = [
  'dense',
  'batchnorm',
  'bernstein',
  ...FIXED_ACTIVATIONS,
  'residual_begin',
  'residual_end',
  'softmax',
];

const finite = z
  .number({ error: 'must be a finite number' })
  .refine(Number.isFinite, { error: 'must be a finite number' });
const vec = z.array(finite, { error: 'must be an array of numbers' });

const Layer = z.discriminatedUnion(
  'type',
  [
    z.object({
      type: z.literal('dense'),
      inputDim: z.number().int().min(1),
      outputDim: z.number().int().min(1),
      weights: z.array(vec),
      bias: vec,
    }),
    z.object({
      type: z.literal('batchnorm'),
      runningMean: vec,
      runningVar: z.array(finite.refine((v) => v >= 0, { error: 'variance must be ≥ 0' })),
      gamma: vec,
      beta: vec,
      eps: finite,
    }),
    z.object({
      type: z.literal('bernstein'),
      degree: z.number().int().min(1),
      l: vec,
      u: vec,
      coefficients: z.array(vec),
    }),
    ...PLAIN_LAYER_ACTIVATIONS.map((type) => z.object({ type: z.literal(type) })),
    z.object({ type: z.literal('leaky_relu'), alpha: finite }),
    z.object({ type: z.literal('selu'), alpha: finite, scale: finite }),
    z.object({ type: z.literal('gelu'), form: z.literal('erf') }),
    z.object({ type: z.literal('residual_begin') }),
    z.object({ type: z.literal('residual_end') }),
    z.object({ type: z.literal('softmax') }),
  ],
  { error: `layer type must be one of ${LAYER_TYPES.join(', ')}` },
);

const ModelFile = z.object({
  format: z.literal('deepbern-model', { error: 'format must be "deepbern-model" (is this a DeepBern model export?)' }),
  version: z.literal(1, { error: 'version must be 1 (a newer export? update DeepBern Workbench)' }),
  task: z.enum(TASK_KINDS),
  inputDim: z.number().int().min(1),
  outputDim: z.number().int().min(1),
  standardization: z.object({ mean: vec, std: z.array(finite.refine((v) => v > 0, { error: 'std must be > 0' })) }),
  layers: z.array(Layer).min(1, { error: 'layers must not be empty' }),
});
export type ModelFile = z.infer<typeof ModelFile>;
export type ModelLayer = z.infer<typeof Layer>;

export class ModelFileError extends Error {
  override name = 'ModelFileError';
}

/** Parse and validate a model file's text; shapes are checked layer by layer so evaluation cannot go wrong. */
export function parseModelFile(text: string, source = 'model file'): ModelFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ModelFileError(`${source} is not JSON: ${(e as Error).message}`);
  }
  const r = ModelFile.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ModelFileError(`${source}: ${i.path.join('.') || '(top level)'}: ${i.message}`);
  }
  const m = r.data;
  const fail = (where: string, msg: string): never => {
    throw new ModelFileError(`${source}: ${where}: ${msg}`);
  };
  if (m.standardization.mean.length !== m.inputDim || m.standardization.std.length !== m.inputDim)
    fail('standardization', `needs ${m.inputDim} means and stds`);
  let width = m.inputDim;
  let open = 0;
  const skips: number[] = [];
  m.layers.forEach((layer, i) => {
    const at = `layers.${i} (${layer.type})`;
    switch (layer.type) {
      case 'dense':
        if (layer.inputDim !== width) fail(at, `inputDim ${layer.inputDim} does not match the incoming width ${width}`);
        if (layer.weights.length !== layer.inputDim || layer.weights.some((row) => row.length !== layer.outputDim))
          fail(at, `weights must be ${layer.inputDim}×${layer.outputDim}`);
        if (layer.bias.length !== layer.outputDim) fail(at, `bias must have ${layer.outputDim} entries`);
        width = layer.outputDim;
        break;
      case 'batchnorm':
        for (const k of ['runningMean', 'runningVar', 'gamma', 'beta'] as const)
          if (layer[k].length !== width) fail(at, `${k} must have ${width} entries`);
        break;
      case 'bernstein':
        if (layer.l.length !== width || layer.u.length !== width) fail(at, `l and u must have ${width} entries`);
        if (layer.l.some((l, j) => !(l < layer.u[j]))) fail(at, 'every unit needs l < u');
        if (layer.coefficients.length !== width || layer.coefficients.some((c) => c.length !== layer.degree + 1))
          fail(at, `coefficients must be ${width}×${layer.degree + 1}`);
        break;
      case 'residual_begin':
        open++;
        skips.push(width);
        break;
      case 'residual_end':
        if (open-- === 0) fail(at, 'residual_end without residual_begin');
        if (skips.pop() !== width) fail(at, 'a skip must join vectors of the same width');
        break;
      case 'softmax':
        if (i !== m.layers.length - 1) fail(at, 'softmax must be the last layer');
        break;
      default:
        nothingFor<FixedActivation>(layer.type); // elementwise: the width passes through
    }
  });
  if (open !== 0) fail('layers', 'a residual_begin is never closed');
  if (width !== m.outputDim) fail('layers', `the last width is ${width}, outputDim says ${m.outputDim}`);
  return m;
}

const NO_PARAMS = { alpha: 0 };

/** Outputs for one raw (unstandardised) row, in float64. */
export function evaluateModel(m: ModelFile, raw: ArrayLike<number>): number[] {
  let v = Array.from({ length: m.inputDim }, (_, j) => (raw[j] - m.standardization.mean[j]) / m.standardization.std[j]);
  const saved: number[][] = [];
  for (const layer of m.layers) {
    switch (layer.type) {
      case 'dense':
        v = layer.bias.map((b, o) => v.reduce((s, x, i) => s + x * layer.weights[i][o], b));
        break;
      case 'batchnorm':
        v = v.map(
          (x, j) =>
            ((x - layer.runningMean[j]) / Math.sqrt(layer.runningVar[j] + layer.eps)) * layer.gamma[j] + layer.beta[j],
        );
        break;
      case 'bernstein':
        v = v.map((x, j) => bernsteinValue(layer.coefficients[j], layer.l[j], layer.u[j], x));
        break;
      case 'leaky_relu':
        v = v.map((x) => (x > 0 ? x : layer.alpha * x));
        break;
      case 'selu':
        v = v.map((x) => layer.scale * (x > 0 ? x : layer.alpha * Math.expm1(x)));
        break;
      case 'gelu':
        v = v.map((x) => fixedActivation('gelu').f(x, NO_PARAMS));
        break;
      case 'residual_begin':
        saved.push(v);
        break;
      case 'residual_end': {
        const s = saved.pop() as number[];
        v = v.map((x, j) => x + s[j]);
        break;
      }
      case 'softmax': {
        const mx = Math.max(...v);
        const e = v.map((x) => Math.exp(x - mx));
        const total = e.reduce((a, b) => a + b, 0);
        v = e.map((x) => x / total);
        break;
      }
      default: {
        // A parameter-less activation: its float64 σ from the table (a non-activation type here fails to compile).
        const a = fixedActivation(layer.type);
        v = v.map((x) => a.f(x, NO_PARAMS));
      }
    }
  }
  return v;
}
