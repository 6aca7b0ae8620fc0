// Importing a dataset file into the store: parse once into our binary dataset file beside the DB, register it.
import { mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { importUciDataset } from '../../workers/data/registry.js';
import type { RunStore } from '../store/run-store.js';
import type { DatasetInfo } from '../../shared/api.js';
import type { ImportKind, TaskKind } from '../../shared/vocab.js';

export interface ImportOptions {
  kind: ImportKind;
  path: string;
  rows?: number;
  labelColumn?: string | number;
  task?: TaskKind;
  title?: string;
  /** What the user calls the file (an upload's own name): shown and stored instead of `path`, a temp file. */
  displayName?: string;
  onProgress?(p: { rows: number; fraction: number }): void;
}

/** Imported dataset files live in `datasets/` beside the DB. */
export function datasetsDirFor(dbPath: string): string {
  return join(dirname(dbPath), 'datasets');
}

export async function importDatasetFile(store: RunStore, o: ImportOptions): Promise<DatasetInfo> {
  const dir = datasetsDirFor(store.path);
  mkdirSync(dir, { recursive: true });
  const id = `${o.kind}-${randomBytes(3).toString('hex')}`;
  const filePath = join(dir, `${id}.dbds`);
  const shown = o.displayName;
  // An upload's temp path (a hashed name in a server folder) never reaches what the user reads.
  const userText = (text: string) =>
    shown ? text.split(o.path).join(shown).split(basename(o.path)).join(shown) : text;
  let meta: Awaited<ReturnType<typeof importUciDataset>>;
  try {
    meta = await importUciDataset(o.kind, o.path, filePath, {
      id,
      rows: o.rows,
      labelColumn: o.labelColumn,
      task: o.task,
      onProgress: o.onProgress,
    });
  } catch (e) {
    if (e instanceof Error) e.message = userText(e.message);
    throw e;
  }
  if (shown && typeof meta.source === 'string') meta = { ...meta, source: userText(meta.source) };
  const info: DatasetInfo = {
    id,
    title: o.title ?? `${o.kind.toUpperCase()} (${meta.rows} rows)`,
    kind: o.kind,
    task: meta.task,
    inputDim: meta.inputDim,
    outputDim: meta.outputDim,
    rows: meta.rows,
  };
  await store.addDataset({ ...info, sourcePath: shown ?? o.path, filePath, meta });
  return info;
}

/** Refuse a spec whose dataset is neither built in nor imported, before anything is written. */
export function assertDatasetsAvailable(store: RunStore, ids: Iterable<string>): Promise<void> {
  return store.assertDatasetsAvailable(ids);
}
