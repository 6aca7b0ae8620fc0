// Trained model out of the workbench: a self-describing JSON any program can evaluate (docs/model-format.md),
// and `predict` on raw rows inside the engine.
import * as tf from '@tensorflow/tfjs-core';
import { activationLabel, type InitScheme } from '../../shared/spec.js';
import { effectiveCoefficients } from '../../shared/theory.js';
import { BN_EPS, DeepBernModel } from './model.js';
import { SELU_ALPHA, SELU_SCALE } from '../../shared/activations.js';
import type { ModelLayer } from '../../shared/model-file.js';
import { referenceOps, type EngineOps } from './ops.js';
import { loadState, tensorMap, type NamedArray } from './state.js';
import type { TaskKind } from '../../shared/vocab.js';

export const MODEL_FORMAT = 'deepbern-model';
export const MODEL_FORMAT_VERSION = 1;

/** One layer record: the shape the reader (shared/model-file.ts) validates, so writer and reader cannot drift. */
export type LayerJson = ModelLayer;

export interface ModelJson {
  format: typeof MODEL_FORMAT;
  version: number;
  task: TaskKind;
  inputDim: number;
  outputDim: number;
  /** Apply to raw rows first: x ← (x − mean) / std, per feature. */
  standardization: { mean: number[]; std: number[] };
  /** Paper-style label of the activation, e.g. Bern_{9,0.01}[-5,5] (informational). */
  label: string;
  /** How the weights were initialised (docs/init.md) and whether batch norm was affine (informational). */
  init: InitScheme;
  bnAffine: boolean;
  epoch: number;
  paramCount: number;
  layers: LayerJson[];
}

function rows(a: NamedArray): number[][] {
  const [r, c] = a.shape;
  return Array.from({ length: r }, (_, i) => Array.from(a.data.subarray(i * c, (i + 1) * c)));
}

export function exportModelJson(stateBytes: Uint8Array): ModelJson {
  const state = loadState(stateBytes);
  const { spec, dims } = state;
  const t = tensorMap(state);
  const get = (name: string): NamedArray => {
    const a = t.get(name);
    if (!a) throw new Error(`checkpoint lacks ${name}`);
    return a;
  };
  const dense = (prefix: string): LayerJson => {
    const w = get(`${prefix}/w`);
    return {
      type: 'dense',
      inputDim: w.shape[0],
      outputDim: w.shape[1],
      weights: rows(w),
      bias: Array.from(get(`${prefix}/b`).data),
    };
  };
  const W = spec.width;
  const layers: LayerJson[] = [];
  for (let i = 1; i <= spec.depth; i++) {
    const inDim = i === 1 ? dims.inputDim : W;
    const skip = spec.residual && inDim === W;
    if (skip) layers.push({ type: 'residual_begin' });
    layers.push(dense(`L${i}`));
    if (spec.batchNorm) {
      layers.push({
        type: 'batchnorm',
        runningMean: Array.from(get(`L${i}/bn_mean`).data),
        runningVar: Array.from(get(`L${i}/bn_var`).data),
        // Non-affine batch norm is γ = 1, β = 0 (the file always carries both).
        gamma: spec.bnAffine ? Array.from(get(`L${i}/bn_gamma`).data) : Array(W).fill(1),
        beta: spec.bnAffine ? Array.from(get(`L${i}/bn_beta`).data) : Array(W).fill(0),
        eps: BN_EPS,
      });
    }
    switch (spec.activation) {
      case 'bernstein': {
        const a = get(`L${i}/a`).data,
          th = get(`L${i}/theta`).data,
          n = spec.degree;
        const adaptive = spec.boundsMode === 'adaptive';
        layers.push({
          type: 'bernstein',
          degree: n,
          l: adaptive ? Array.from(get(`L${i}/lo`).data) : Array(W).fill(spec.bounds[0]),
          u: adaptive ? Array.from(get(`L${i}/hi`).data) : Array(W).fill(spec.bounds[1]),
          coefficients: Array.from({ length: W }, (_, j) =>
            effectiveCoefficients(a[j], th.subarray(j * n, (j + 1) * n), spec.eps),
          ),
        });
        break;
      }
      case 'leaky_relu':
        layers.push({ type: 'leaky_relu', alpha: spec.alpha });
        break;
      case 'selu':
        layers.push({ type: 'selu', alpha: SELU_ALPHA, scale: SELU_SCALE });
        break;
      case 'gelu':
        layers.push({ type: 'gelu', form: 'erf' });
        break;
      default:
        // relu and any other parameter-less activation: `{ type }`, evaluated by the shared table's σ.
        layers.push({ type: spec.activation });
    }
    if (skip) layers.push({ type: 'residual_end' });
  }
  layers.push(dense('out'));
  if (dims.task === 'classification') layers.push({ type: 'softmax' });
  return {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    task: dims.task,
    inputDim: dims.inputDim,
    outputDim: dims.outputDim,
    standardization: state.standardization,
    label: activationLabel(spec),
    init: spec.init,
    bnAffine: spec.batchNorm && spec.bnAffine,
    epoch: state.epoch,
    paramCount: state.paramCount,
    layers,
  };
}

/** Rebuild the model of a checkpoint (eval use). The caller disposes it. */
export function modelFromState(stateBytes: Uint8Array, ops: EngineOps = referenceOps): DeepBernModel {
  const state = loadState(stateBytes);
  const model = new DeepBernModel(state.spec, state.dims, ops);
  try {
    model.importTensors(tensorMap(state));
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/**
 * Outputs for n raw (unstandardised) rows [n × inputDim]: class probabilities [n × C] or regression values
 * [n × 1], eval mode (running batch-norm statistics).
 */
export function predict(
  stateBytes: Uint8Array,
  rawRows: Float32Array,
  n: number,
  ops: EngineOps = referenceOps,
): Float32Array {
  const state = loadState(stateBytes);
  const { inputDim, task } = state.dims;
  if (rawRows.length !== n * inputDim)
    throw new Error(`predict: ${rawRows.length} values for ${n} rows × ${inputDim} features`);
  const { mean, std } = state.standardization;
  const x = new Float32Array(rawRows.length);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < inputDim; j++) x[i * inputDim + j] = (rawRows[i * inputDim + j] - mean[j]) / std[j];
  const model = modelFromState(stateBytes, ops);
  try {
    const out = tf.tidy(() => {
      const logits = model.forwardEval(tf.tensor2d(x, [n, inputDim]));
      return task === 'classification' ? tf.softmax(logits) : logits;
    });
    const data = Float32Array.from(out.dataSync() as Float32Array);
    out.dispose();
    return data;
  } finally {
    model.dispose();
  }
}
