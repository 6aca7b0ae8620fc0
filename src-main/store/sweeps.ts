// Sweeps: the parsed sweep file, its text as the user wrote it, and a status. Runs point at their sweep.
import type { SweepSummary } from '../../shared/api.js';
import { SWEEP_STATUSES, type RunStatus } from '../../shared/metrics.js';
import type { SweepFile } from '../../shared/sweep.js';
import type { Queryable } from './db.js';
import { StoreError } from './errors.js';
import { newId } from './ids.js';

export type SweepStatus = SweepSummary['status'];
export { SWEEP_STATUSES };

export interface SweepRecord {
  id: string;
  name: string;
  config: SweepFile;
  fileText: string | null;
  status: SweepStatus;
  createdAt: string;
  updatedAt: string;
  /** Runs of the sweep per status, and in all. */
  counts: Partial<Record<RunStatus, number>>;
  total: number;
  /** Epochs stored, planned, and still to train (queued and running runs); when the first run started. */
  epochs: { done: number; total: number; remaining: number };
  startedAt: string | null;
}

interface SweepRow {
  id: string;
  name: string;
  config_json: string;
  file_text: string | null;
  status: string;
  created_at: number;
  updated_at: number;
  counts_json: string | null;
  epochs_json: string | null;
}

const SELECT = 'SELECT s.* FROM sweeps s';

/** Per sweep and status: run counts, epochs stored / planned / left, first start. One pass, grouped. */
const RUN_STATS = `SELECT sweep_id, status, count(*) AS n, sum(epochs_done) AS done, sum(epochs_total) AS total,
  sum(CASE WHEN status IN ('queued', 'running') THEN max(0, epochs_total - epochs_done) ELSE 0 END) AS remaining, min(started_at) AS started
  FROM runs WHERE sweep_id IS NOT NULL`;
interface StatRow {
  sweep_id: string;
  status: string;
  n: number;
  done: number;
  total: number;
  remaining: number;
  started: number | null;
}

function withStats(row: SweepRow, stats: StatRow[]): SweepRow {
  const counts: Record<string, number> = {};
  const ep = { done: 0, total: 0, remaining: 0, started: null as number | null };
  for (const st of stats) {
    counts[st.status] = st.n;
    ep.done += st.done ?? 0;
    ep.total += st.total ?? 0;
    ep.remaining += st.remaining ?? 0;
    if (st.started !== null && (ep.started === null || st.started < ep.started)) ep.started = st.started;
  }
  return { ...row, counts_json: JSON.stringify(counts), epochs_json: JSON.stringify(ep) };
}

function toRecord(r: SweepRow): SweepRecord {
  const counts = JSON.parse(r.counts_json ?? '{}') as Partial<Record<RunStatus, number>>;
  const ep = JSON.parse(r.epochs_json ?? '{}') as {
    done?: number;
    total?: number;
    remaining?: number;
    started?: number | null;
  };
  return {
    id: r.id,
    name: r.name,
    config: JSON.parse(r.config_json) as SweepFile,
    fileText: r.file_text,
    status: r.status as SweepStatus,
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
    counts,
    total: Object.values(counts).reduce((a, b) => a + (b ?? 0), 0),
    epochs: { done: ep.done ?? 0, total: ep.total ?? 0, remaining: ep.remaining ?? 0 },
    startedAt: typeof ep.started === 'number' ? new Date(ep.started).toISOString() : null,
  };
}

export async function createSweep(
  q: Queryable,
  input: { name: string; config: SweepFile; fileText?: string; status?: SweepStatus },
): Promise<string> {
  const status = checkStatus(input.status ?? 'queued');
  const now = Date.now();
  const id = newId('s');
  await q.run(
    'INSERT INTO sweeps (id, name, config_json, file_text, status, created_at, updated_at) VALUES (?,?,?,?,?,?,?)',
    [id, input.name, JSON.stringify(input.config), input.fileText ?? null, status, now, now],
  );
  return id;
}

export async function getSweep(q: Queryable, id: string): Promise<SweepRecord> {
  const row = await q.get<SweepRow>(`${SELECT} WHERE s.id = ?`, [id]);
  if (!row) throw new StoreError(`no sweep with id ${id}`, 'not_found');
  return toRecord(withStats(row, await q.all<StatRow>(`${RUN_STATS} AND sweep_id = ? GROUP BY status`, [id])));
}

export async function listSweeps(q: Queryable): Promise<SweepRecord[]> {
  const rows = await q.all<SweepRow>(`${SELECT} ORDER BY s.created_at DESC, s.id`);
  const by = new Map<string, StatRow[]>();
  for (const st of await q.all<StatRow>(`${RUN_STATS} GROUP BY sweep_id, status`)) {
    const list = by.get(st.sweep_id) ?? [];
    list.push(st);
    by.set(st.sweep_id, list);
  }
  return rows.map((r) => toRecord(withStats(r, by.get(r.id) ?? [])));
}

export async function setSweepStatus(q: Queryable, id: string, status: SweepStatus): Promise<void> {
  const r = await q.run('UPDATE sweeps SET status = ?, updated_at = ? WHERE id = ?', [
    checkStatus(status),
    Date.now(),
    id,
  ]);
  if (r.changes === 0) throw new StoreError(`no sweep with id ${id}`, 'not_found');
}

function checkStatus(s: string): SweepStatus {
  if (!(SWEEP_STATUSES as readonly string[]).includes(s)) {
    throw new StoreError(`sweep status must be one of ${SWEEP_STATUSES.join(', ')} (got "${s}")`, 'invalid');
  }
  return s as SweepStatus;
}
