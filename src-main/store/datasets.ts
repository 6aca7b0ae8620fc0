// Imported datasets: where the converted file lives and what it holds. The files themselves live outside the
// database; removing a record returns it so the caller can delete its file.
import type { Queryable } from './db.js';
import { StoreError } from './errors.js';
import { newId } from './ids.js';
import type { TaskKind } from '../../shared/vocab.js';

export interface DatasetRecord {
  id: string;
  /** e.g. 'higgs', 'susy', 'csv' (free text: new importers need no migration). */
  kind: string;
  title: string;
  /** The file the user imported from, as given. */
  sourcePath: string | null;
  /** The converted file the trainer reads. */
  filePath: string | null;
  rows: number | null;
  inputDim: number | null;
  outputDim: number | null;
  task: TaskKind | null;
  meta: Record<string, unknown>;
  createdAt: string;
}

export type NewDataset = Omit<
  DatasetRecord,
  'id' | 'createdAt' | 'meta' | 'sourcePath' | 'filePath' | 'rows' | 'inputDim' | 'outputDim' | 'task'
> &
  Partial<Pick<DatasetRecord, 'id' | 'meta' | 'sourcePath' | 'filePath' | 'rows' | 'inputDim' | 'outputDim' | 'task'>>;

interface DatasetRow {
  id: string;
  kind: string;
  title: string;
  source_path: string | null;
  file_path: string | null;
  rows: number | null;
  input_dim: number | null;
  output_dim: number | null;
  task: string | null;
  meta_json: string;
  created_at: number;
}

function toRecord(r: DatasetRow): DatasetRecord {
  return {
    id: r.id,
    kind: r.kind,
    title: r.title,
    sourcePath: r.source_path,
    filePath: r.file_path,
    rows: r.rows,
    inputDim: r.input_dim,
    outputDim: r.output_dim,
    task: r.task as DatasetRecord['task'],
    meta: JSON.parse(r.meta_json) as Record<string, unknown>,
    createdAt: new Date(r.created_at).toISOString(),
  };
}

export async function addDataset(q: Queryable, d: NewDataset): Promise<DatasetRecord> {
  const id = d.id ?? newId('d');
  try {
    await q.run(
      `INSERT INTO datasets (id, kind, title, source_path, file_path, rows, input_dim, output_dim, task, meta_json, created_at)
       VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
      [
        id,
        d.kind,
        d.title,
        d.sourcePath ?? null,
        d.filePath ?? null,
        d.rows ?? null,
        d.inputDim ?? null,
        d.outputDim ?? null,
        d.task ?? null,
        JSON.stringify(d.meta ?? {}),
        Date.now(),
      ],
    );
  } catch (e) {
    if (e instanceof StoreError && e.sqlite === 'SQLITE_CONSTRAINT')
      throw new StoreError(`a dataset with id ${id} already exists`, 'conflict', { cause: e });
    throw e;
  }
  return getDataset(q, id);
}

export async function getDataset(q: Queryable, id: string): Promise<DatasetRecord> {
  const row = await q.get<DatasetRow>('SELECT * FROM datasets WHERE id = ?', [id]);
  if (!row) throw new StoreError(`no dataset with id ${id}`, 'not_found');
  return toRecord(row);
}

export async function listDatasets(q: Queryable): Promise<DatasetRecord[]> {
  return (await q.all<DatasetRow>('SELECT * FROM datasets ORDER BY created_at, id')).map(toRecord);
}

/** Deletes the record and returns it (its filePath is the caller's to delete). */
export async function removeDataset(q: Queryable, id: string): Promise<DatasetRecord> {
  const rec = await getDataset(q, id);
  await q.run('DELETE FROM datasets WHERE id = ?', [id]);
  return rec;
}
