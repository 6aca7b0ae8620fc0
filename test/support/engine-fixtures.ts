// Small hand-made datasets and specs for the engine tests (fast on 2 cores).
import seedrandom from 'seedrandom';
import { parseSpec, type NetworkSpec, type NetworkSpecInput } from '../../shared/spec.js';
import type { Dataset } from '../../workers/data/types.js';

/** Two Gaussian-ish classes split by the sign of x0 + x1 − x2: linearly separable, so loss must fall fast. */
export function easyClassification(nTrain = 256, nTest = 64, dim = 4, seed = 'easy'): Dataset {
  const rng = seedrandom(seed);
  const make = (n: number) => {
    const x = new Float32Array(n * dim);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < dim; j++) x[i * dim + j] = rng() * 2 - 1;
      y[i] = x[i * dim] + x[i * dim + 1] - x[i * dim + 2] > 0 ? 1 : 0;
    }
    return { x, y };
  };
  const tr = make(nTrain),
    te = make(nTest);
  return {
    id: 'hand-easy',
    task: 'classification',
    inputDim: dim,
    outputDim: 2,
    xTrain: tr.x,
    yTrain: tr.y,
    nTrain,
    xTest: te.x,
    yTest: te.y,
    nTest,
    standardization: { mean: new Float32Array(dim).fill(0.5), std: new Float32Array(dim).fill(2) },
    source: 'hand-made (test)',
  };
}

export function smallRegression(nTrain = 128, nTest = 32, seed = 'reg'): Dataset {
  const rng = seedrandom(seed);
  const make = (n: number) => {
    const x = new Float32Array(n * 2);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      x[2 * i] = rng() * 2 - 1;
      x[2 * i + 1] = rng() * 2 - 1;
      y[i] = Math.sin(2 * x[2 * i]) + 0.5 * x[2 * i + 1];
    }
    return { x, y };
  };
  const tr = make(nTrain),
    te = make(nTest);
  return {
    id: 'hand-reg',
    task: 'regression',
    inputDim: 2,
    outputDim: 1,
    xTrain: tr.x,
    yTrain: tr.y,
    nTrain,
    xTest: te.x,
    yTest: te.y,
    nTest,
    standardization: { mean: new Float32Array([0.1, -0.2]), std: new Float32Array([1.5, 0.5]) },
    source: 'hand-made (test)',
  };
}

export function tinySpec(over: Partial<NetworkSpecInput> = {}): NetworkSpec {
  return parseSpec({
    dataset: 'hand-easy',
    depth: 3,
    width: 8,
    activation: 'bernstein',
    degree: 5,
    batchSize: 32,
    epochs: 2,
    lr: 0.01,
    evalBatch: 64,
    seed: 7,
    ...over,
  });
}
