// The run store: every run, its per-epoch and per-layer metrics, its latest checkpoint and final model, plus
// sweeps and imported datasets. The main process is the only writer; others may open it read-only.
import type { LayerGrid, ListRunsQuery, RunDetail, RunSummary, SeriesBucket } from '../../shared/api.js';
import {
  EPOCH_METRICS,
  LAYER_METRICS,
  RUN_STATUSES,
  type EpochMetric,
  type EpochReport,
  type LayerMetric,
  type RunStatus,
} from '../../shared/metrics.js';
import { activationLabel, parseSpec, type NetworkSpec } from '../../shared/spec.js';
import type { SweepFile } from '../../shared/sweep.js';
import { insertRows } from './batch.js';
import * as datasets from './datasets.js';
import { Db, type SqlValue } from './db.js';
import { StoreError } from './errors.js';
import type { LeaseTimings, OwnerInfo } from './leases.js';
import { newId } from './ids.js';
import { assertNotNewer, assertWorkbenchDb, migrate, SCHEMA_VERSION, schemaVersion } from './migrations.js';
import {
  NOT_NULL_ORDER,
  SUMMARY_COLUMNS,
  orderColumn,
  specColumns,
  toDetail,
  toSummary,
  type RunRow,
} from './run-rows.js';
import * as series from './series.js';
import { DEFAULT_VACUUM_POLICY, diskBytes, freePages, reclaim, type VacuumPolicy } from './space.js';
import * as sweeps from './sweeps.js';
import * as leases from './leases.js';
import { BUILTIN_DATASETS, DatasetError } from '../../workers/data/registry.js';

/** Tag of the approximation lab's fits (src-main/report/approx-lab.ts): such runs are of kind `approx`. */
export const APPROX_RUN_TAG = 'approx-lab';

export type { DatasetRecord, NewDataset } from './datasets.js';
export type { EpochSeries, LayerMetricPoint } from './series.js';
export type { SweepRecord, SweepStatus } from './sweeps.js';
export { StoreError } from './errors.js';
export { OwnedError, describeOwner, leaseTimings, type LeaseTimings, type OwnerInfo } from './leases.js';

export interface RunStoreOptions {
  readOnly?: boolean;
  busyTimeoutMs?: number;
  vacuum?: Partial<VacuumPolicy>;
}

export interface CreateRunInput {
  spec: NetworkSpec;
  name?: string;
  sweepId?: string | null;
  epochsTotal: number;
  tags?: string[];
}

/**
 * The contract's query (search: words matched, all of them, case-insensitive, against id, name, label,
 * dataset and tags; orderBy: a whitelisted RunSummary field or runs column, default created_at; limit default
 * 100), plus several statuses at once for internal callers.
 */
export interface ListRunsOptions extends Omit<ListRunsQuery, 'status'> {
  status?: RunStatus | readonly RunStatus[];
}

export interface DeleteRunsResult {
  deleted: number;
  /** Bytes the database (file + WAL) shrank by; 0 when it was not worth a VACUUM. */
  freedBytes: number;
  vacuumed: boolean;
  /** How the freed pages reach the disk: already (`done`), in small background steps, or on request (compact). */
  reclaim?: 'done' | 'background' | 'on-request';
}

const FINAL_COLUMNS: Partial<Record<EpochMetric, string>> = {
  train_loss: 'final_train_loss',
  test_loss: 'final_test_loss',
  test_acc: 'final_test_acc',
};
/** The summary columns, qualified: a search page may read them through a join with its scratch table of hits. */
const QUALIFIED_SUMMARY = SUMMARY_COLUMNS.split(',')
  .map((c) => `runs.${c.trim()}`)
  .join(', ');
const TERMINAL: readonly RunStatus[] = ['finished', 'failed', 'cancelled', 'diverged', 'pruned', 'interrupted'];
const MAX_LIST = 1_000_000;

export class RunStore {
  private readonly vacuumPolicy: VacuumPolicy;

  private constructor(
    /** The connection, for callers that need a query the store does not offer (read-only use, please). */
    readonly db: Db,
    opts: RunStoreOptions,
  ) {
    this.vacuumPolicy = { ...DEFAULT_VACUUM_POLICY, ...opts.vacuum };
  }

  /** Opens (creating folders and file when writable) and migrates to the current schema. */
  static async open(path: string, opts: RunStoreOptions = {}): Promise<RunStore> {
    const db = await Db.open(path, {
      readOnly: opts.readOnly,
      busyTimeoutMs: opts.busyTimeoutMs,
      verify: async (d) => {
        await assertNotNewer(d); // a newer app's store may look foreign: say "too new" first
        await assertWorkbenchDb(d);
      },
    });
    try {
      if (opts.readOnly) {
        const v = await schemaVersion(db);
        if (v !== SCHEMA_VERSION) {
          throw new StoreError(
            `the database ${db.path} is at schema version ${v}, not ${SCHEMA_VERSION}; open it once read-write to migrate`,
            'needs_migration',
          );
        }
      } else {
        // A new file gives deleted runs' space back in small steps (incremental vacuum) instead of a VACUUM
        // that rewrites the whole file and blocks every call. Only settable before the first table exists.
        if ((await schemaVersion(db)) === 0 && !(await db.get('SELECT 1 FROM sqlite_master LIMIT 1')))
          await db.exec('PRAGMA auto_vacuum = INCREMENTAL; VACUUM;'); // empty: instant
        await migrate(db);
      }
    } catch (e) {
      await db.close();
      throw e;
    }
    return new RunStore(db, opts);
  }

  get path(): string {
    return this.db.path;
  }

  async close(): Promise<void> {
    this.closingFlag = true;
    await this.reclaiming;
    return this.db.close();
  }

  /** Runs `fn` as one transaction; store calls made inside it join it (e.g. many appendEpoch → one commit). */
  writeBatch<T>(fn: () => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  // ── runs ────────────────────────────────────────────────────────────────────────────────────────────

  async createRun(input: CreateRunInput): Promise<string> {
    const spec = parseSpec(input.spec); // the stored spec is always complete and valid
    const label = activationLabel(spec);
    if (!Number.isInteger(input.epochsTotal) || input.epochsTotal < 1) {
      throw new StoreError(`epochsTotal must be a positive integer (got ${input.epochsTotal})`, 'invalid');
    }
    const cols = {
      name: input.name ?? label,
      sweep_id: input.sweepId ?? null,
      spec_json: JSON.stringify(spec),
      status: 'queued',
      ...specColumns(spec, label),
      epochs_total: input.epochsTotal,
      created_at: Date.now(),
      tags_json: JSON.stringify(cleanTags(input.tags ?? [])),
      kind: (input.tags ?? []).includes(APPROX_RUN_TAG) ? 'approx' : 'training',
    };
    const names = Object.keys(cols);
    for (let attempt = 0; ; attempt++) {
      const id = newId('r');
      try {
        await this.db.run(`INSERT INTO runs (id, ${names.join(', ')}) VALUES (?${', ?'.repeat(names.length)})`, [
          id,
          ...(Object.values(cols) as SqlValue[]),
        ]);
        return id;
      } catch (e) {
        if (!(e instanceof StoreError) || e.sqlite !== 'SQLITE_CONSTRAINT') throw e;
        if (cols.sweep_id !== null && !(await this.db.get('SELECT 1 FROM sweeps WHERE id = ?', [cols.sweep_id]))) {
          throw new StoreError(`no sweep with id ${cols.sweep_id}`, 'not_found');
        }
        if (attempt >= 5) throw e; // not an id collision after all
      }
    }
  }

  async getRun(id: string): Promise<RunDetail> {
    const row = await this.db.get<RunRow & { spec_json: string }>('SELECT * FROM runs WHERE id = ?', [id]);
    if (!row) throw notFound(id);
    return (await this.asReaped([toDetail(row)]))[0]!;
  }

  /** Many runs in one query, in the order asked; ids not in the store are returned in `missing`. */
  async getRuns(ids: readonly string[]): Promise<{ runs: RunDetail[]; missing: string[] }> {
    const rows = await this.db.all<RunRow & { spec_json: string }>(
      'SELECT * FROM runs WHERE id IN (SELECT value FROM json_each(?))',
      [JSON.stringify(ids)],
    );
    const by = new Map((await this.asReaped(rows.map(toDetail))).map((r) => [r.id, r]));
    return { runs: ids.flatMap((id) => by.get(id) ?? []), missing: ids.filter((id) => !by.has(id)) };
  }

  async listRuns(opts: ListRunsOptions = {}): Promise<{ rows: RunSummary[]; total: number }> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (opts.status !== undefined) {
      const statuses = (typeof opts.status === 'string' ? [opts.status] : [...opts.status]).map(checkStatus);
      where.push(`status IN (${statuses.map(() => '?').join(',')})`);
      params.push(...statuses);
    }
    if (opts.sweepId !== undefined) {
      where.push('sweep_id = ?');
      params.push(opts.sweepId);
    }
    if (opts.kind !== undefined && opts.kind !== 'all') {
      if (opts.kind !== 'training' && opts.kind !== 'approx')
        throw new StoreError(`kind must be training, approx or all (got "${String(opts.kind)}")`, 'invalid');
      where.push('kind = ?');
      params.push(opts.kind);
    }
    const kindFilters = where.length - (opts.status !== undefined ? 1 : 0) - (opts.sweepId !== undefined ? 1 : 0);
    const phrases: string[] = [];
    for (const word of (opts.search ?? '').split(/\s+/).filter(Boolean)) {
      // The trigram index finds substrings of 3+ characters (case-insensitively) without reading the table;
      // shorter words are matched with LIKE on the rows the other conditions leave.
      if ([...word].length >= 3) phrases.push(`"${word.replace(/"/g, '""')}"`);
      else {
        const like = `%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        where.push(
          `(${['id', 'name', 'activation_label', 'dataset', 'tags_json'].map((c) => `${c} LIKE ? ESCAPE '\\'`).join(' OR ')})`,
        );
        params.push(like, like, like, like, like);
      }
    }
    const col = orderColumn(opts.orderBy);
    const dir = opts.desc ? 'DESC' : 'ASC';
    const limit = opts.limit ?? 100;
    const offset = opts.offset ?? 0;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST)
      throw new StoreError(`limit must be an integer in 1..${MAX_LIST} (got ${limit})`, 'invalid');
    if (!Number.isInteger(offset) || offset < 0)
      throw new StoreError(`offset must be a non-negative integer (got ${offset})`, 'invalid');
    return this.db.transaction(async () => {
      // Search: the full-text match is evaluated ONCE per call, into a scratch table of matching rowids (its
      // primary key), which the page and the total then probe. Before, every statement repeated the match
      // (page, total, the NULLs split), and the total probed a rebuilt list for each of the kind index's
      // entries: ~120 ms at 50k runs. Read-only connections (query_only) cannot fill a scratch table: they
      // keep the match in each statement, with the same results.
      let source = 'runs';
      let hits = -1;
      const filters = [...where];
      const fparams = [...params];
      if (phrases.length > 0) {
        const match = phrases.join(' AND ');
        if (this.db.readOnly) {
          filters.push('rowid IN (SELECT rowid FROM runs_fts WHERE runs_fts MATCH ?)');
          fparams.push(match);
        } else {
          await this.db.exec(
            'CREATE TEMP TABLE IF NOT EXISTS run_search_hits (rid INTEGER PRIMARY KEY); DELETE FROM temp.run_search_hits;',
          );
          hits = (
            await this.db.run('INSERT INTO temp.run_search_hits SELECT rowid FROM runs_fts WHERE runs_fts MATCH ?', [
              match,
            ])
          ).changes;
          // Few hits: read just those rows and sort them (a lookup each). Many: walk the order's index and stop
          // after the page, probing the hits (a step each; the walk is about (offset+limit)·runs/hits long).
          const runs = (await this.db.get<{ n: number | null }>('SELECT max(rowid) AS n FROM runs'))!.n ?? 0;
          if (hits * hits * 8 <= (offset + limit) * runs)
            source = 'temp.run_search_hits AS hit CROSS JOIN runs ON runs.rowid = hit.rid';
          else filters.push('EXISTS (SELECT 1 FROM temp.run_search_hits WHERE rid = runs.rowid)');
        }
      }
      // NULLs (e.g. no test accuracy yet) sort last either way. Ties (runs a sweep created in one millisecond) fall
      // back to the name, which carries the plan index, so plan order holds; id makes pages never overlap.
      // The ORDER BY is exactly an index's order (no `col IS NULL` term, which made SQLite sort the whole table):
      // NULLs are the smallest values, so DESC already puts them last; ASC on a nullable column reads the
      // non-NULL range first, then the NULL rows.
      const order = `ORDER BY runs.${col} ${dir}, runs.name ${dir}, runs.id ${dir}`;
      const whereWith = (cond: string) => {
        const all = cond ? [...filters, cond] : filters;
        return all.length ? `WHERE ${all.join(' AND ')}` : '';
      };
      const count = async (cond = '') =>
        (await this.db.get<{ n: number }>(`SELECT count(*) AS n FROM ${source} ${whereWith(cond)}`, fparams))!.n;
      const page = (cond: string, lim: number, off: number) =>
        this.db.all<RunRow>(`SELECT ${QUALIFIED_SUMMARY} FROM ${source} ${whereWith(cond)} ${order} LIMIT ? OFFSET ?`, [
          ...fparams,
          lim,
          off,
        ]);
      let rows: RunRow[];
      if (dir === 'DESC' || NOT_NULL_ORDER.has(col)) rows = await page('', limit, offset);
      else {
        // The non-NULL range first; only a page that runs past its end needs to know where it ends.
        rows = await page(`runs.${col} IS NOT NULL`, limit, offset);
        if (rows.length < limit) {
          const nonNull = rows.length > 0 ? offset + rows.length : await count(`runs.${col} IS NOT NULL`);
          rows = [...rows, ...(await page(`runs.${col} IS NULL`, limit - rows.length, Math.max(0, offset - nonNull)))];
        }
      }
      let total: number;
      if (hits >= 0 && where.length === kindFilters) {
        // Search with at most a kind filter: the hits minus those of the other kinds (the approximation fits are
        // few, and their index range is all that is read), instead of a probe per run of this kind.
        total =
          opts.kind === undefined || opts.kind === 'all'
            ? hits
            : hits -
              (await this.db.get<{ n: number }>(
                'SELECT count(*) AS n FROM runs WHERE (kind < ? OR kind > ?) AND EXISTS (SELECT 1 FROM temp.run_search_hits WHERE rid = runs.rowid)',
                [opts.kind, opts.kind],
              ))!.n;
      } else if (phrases.length === 0 && where.length === 1 && opts.kind === 'training') {
        // The usual list (training runs, no other filter) counts as all runs minus the few fits: both counts read
        // narrow indexes instead of every entry of the wide kind index.
        total = (await this.db.get<{ n: number }>(
          `SELECT (SELECT count(*) FROM runs) - (SELECT count(*) FROM runs WHERE kind = 'approx') AS n`,
        ))!.n;
      } else if (hits >= 0 && source === 'runs') {
        // Many hits and other filters: count through the hits (a row each) rather than through the filters'
        // index, whose range can be every run (status finished), each probed and most read for the kind.
        total = (await this.db.get<{ n: number }>(
          `SELECT count(*) AS n FROM temp.run_search_hits AS hit CROSS JOIN runs ON runs.rowid = hit.rid WHERE ${where.join(' AND ')}`,
          params,
        ))!.n;
      } else total = await count();
      return { rows: await this.asReaped(rows.map(toSummary)), total };
    });
  }

  /**
   * A read-only open cannot reap, so it shows what reaping would store: a run or sweep whose owner is dead reads
   * as `interrupted`. A writable open reaped at open and returns rows unchanged.
   */
  private async asReaped<T extends { id: string; status: string }>(
    rows: T[],
    table: 'runs' | 'sweeps' = 'runs',
  ): Promise<T[]> {
    if (!this.db.readOnly || !rows.some((r) => r.status === 'running')) return rows;
    const dead = (await leases.orphanedIds(this.db))[table];
    return rows.map((r) => {
      const error = r.status === 'running' ? dead.get(r.id) : undefined;
      if (error === undefined) return r;
      return (
        'error' in r && table === 'runs' ? { ...r, status: 'interrupted', error } : { ...r, status: 'interrupted' }
      ) as T;
    });
  }

  /** Back to queued (resume) or a plain status change; terminal statuses go through finishRun. */
  async setRunStatus(id: string, status: RunStatus): Promise<void> {
    checkStatus(status);
    const sql =
      status === 'queued'
        ? 'UPDATE runs SET status = ?, finished_at = NULL, error = NULL WHERE id = ?'
        : status === 'running'
          ? 'UPDATE runs SET status = ?, started_at = coalesce(started_at, ?) WHERE id = ?'
          : 'UPDATE runs SET status = ?, finished_at = ? WHERE id = ?';
    const params = status === 'queued' ? [status, id] : [status, Date.now(), id];
    if ((await this.db.run(sql, params)).changes === 0) throw notFound(id);
  }

  async markRunning(id: string, backend: string, paramCount: number): Promise<void> {
    const r = await this.db.run(
      'UPDATE runs SET status = ?, backend = ?, param_count = ?, started_at = coalesce(started_at, ?), error = NULL WHERE id = ?',
      ['running', backend, paramCount, Date.now(), id],
    );
    if (r.changes === 0) throw notFound(id);
  }

  /**
   * A final status; the run's lease ends with it. With `owner`, only while that owner still holds the run:
   * false (nothing written) when another process took it over after this one's lease expired.
   */
  async finishRun(id: string, status: RunStatus, error?: string, owner?: string): Promise<boolean> {
    if (!TERMINAL.includes(checkStatus(status))) {
      throw new StoreError(`finishRun needs a final status (${TERMINAL.join(', ')}), got "${status}"`, 'invalid');
    }
    const guard = owner === undefined ? '' : ' AND (owner_id IS NULL OR owner_id = ?)';
    const r = await this.db.run(
      `UPDATE runs SET status = ?, finished_at = ?, error = ?, owner_id = NULL, cancel_requested = 0 WHERE id = ?${guard}`,
      [status, Date.now(), error ?? null, id, ...(owner === undefined ? [] : [owner])],
    );
    if (r.changes === 0) {
      await this.assertRun(id);
      return false;
    }
    return true;
  }

  // ── leases (leases.ts) ───────────────────────────────────────────────────────────────────────────────

  registerOwner(o: { id: string; command: string }, timings: LeaseTimings): Promise<void> {
    return leases.registerOwner(this.db, o, timings);
  }

  renewOwner(id: string, timings: LeaseTimings): Promise<boolean> {
    return leases.renewOwner(this.db, id, timings);
  }

  removeOwner(id: string): Promise<void> {
    return leases.removeOwner(this.db, id);
  }

  /** Running runs and sweeps whose owner is dead become `interrupted`; nothing on a read-only store. */
  async reapExpired(): Promise<{ runs: string[]; sweeps: string[] }> {
    if (this.db.readOnly) return { runs: [], sweeps: [] };
    return this.db.transaction(() => leases.reapExpired(this.db));
  }

  liveOwnerOf(table: 'runs' | 'sweeps', id: string): Promise<OwnerInfo | null> {
    return leases.liveOwnerOf(this.db, table, id);
  }

  /** Takes the run for `owner` and marks it running (OwnedError when a live process has it). */
  async claimRun(id: string, owner: string): Promise<void> {
    await this.db.transaction(async () => {
      await this.assertRun(id);
      await leases.claim(this.db, 'runs', id, owner, `run ${id}`);
      await this.setRunStatus(id, 'running');
    });
  }

  /** Takes the sweep for `owner` and marks it running (OwnedError when a live process has it). */
  async claimSweep(id: string, owner: string): Promise<void> {
    await this.db.transaction(async () => {
      const s = await this.getSweep(id);
      await leases.claim(this.db, 'sweeps', id, owner, `sweep ${id} (${s.name})`);
      await this.setSweepStatus(id, 'running');
    });
  }

  /** Sets the sweep's status and ends `owner`'s lease on it in one step. */
  async releaseSweep(id: string, owner: string, status?: sweeps.SweepStatus): Promise<void> {
    await this.db.transaction(async () => {
      if (status) await this.setSweepStatus(id, status);
      await leases.release(this.db, 'sweeps', id, owner);
    });
  }

  cancelRequests(owner: string): Promise<{ runs: string[]; sweeps: string[] }> {
    return leases.cancelRequests(this.db, owner);
  }

  requestCancel(runId: string): Promise<void> {
    return leases.requestCancel(this.db, runId);
  }

  async setTags(id: string, tags: readonly string[]): Promise<void> {
    const r = await this.db.run('UPDATE runs SET tags_json = ? WHERE id = ?', [JSON.stringify(cleanTags(tags)), id]);
    if (r.changes === 0) throw notFound(id);
  }

  /**
   * Stores one finished epoch in ONE transaction: its metrics, its layer metrics, epochs_done, the final-metric
   * columns and (when given) the checkpoint that replaces the previous one. A crash therefore never leaves an
   * epoch without its checkpoint or the reverse. Epochs only move forward: an epoch ≤ epochs_done is refused.
   */
  async appendEpoch(runId: string, report: EpochReport, checkpoint?: Uint8Array, owner?: string): Promise<void> {
    const { epoch } = report;
    if (!Number.isInteger(epoch) || epoch < 1)
      throw new StoreError(`epoch must be a positive integer (got ${epoch})`, 'invalid');
    const metricRows = Object.entries(report.metrics)
      .filter((e): e is [string, number] => e[1] !== undefined)
      .map(([metric, value]) => {
        if (!(EPOCH_METRICS as readonly string[]).includes(metric))
          throw new StoreError(`unknown epoch metric "${metric}"`, 'invalid');
        return [runId, metric, epoch, checkValue(value, metric)] as SqlValue[];
      });
    const seen = new Set<string>();
    const layerRows = report.layers.map(({ layer, metric, value }) => {
      if (!(LAYER_METRICS as readonly string[]).includes(metric))
        throw new StoreError(`unknown layer metric "${metric}"`, 'invalid');
      const key = `${metric}@${layer}`;
      if (seen.has(key)) throw new StoreError(`epoch ${epoch} reports ${metric} of layer ${layer} twice`, 'invalid');
      seen.add(key);
      return [runId, metric, layer, epoch, checkValue(value, metric)] as SqlValue[];
    });

    await this.db.transaction(async () => {
      const run = await this.db.get<{ epochs_done: number; depth: number; owner_id: string | null }>(
        'SELECT epochs_done, depth, owner_id FROM runs WHERE id = ?',
        [runId],
      );
      if (!run) throw notFound(runId);
      if (owner !== undefined && run.owner_id !== owner) {
        throw new StoreError(
          `run ${runId} is no longer owned by this process (its lease expired and another process took it over); epoch ${epoch} is not stored`,
          'owned',
        );
      }
      if (epoch <= run.epochs_done) {
        throw new StoreError(
          `run ${runId} already has epoch ${epoch} (epochs done: ${run.epochs_done}); an epoch is stored once`,
          'conflict',
        );
      }
      for (const { layer } of report.layers) {
        if (!Number.isInteger(layer) || layer < 1 || layer > run.depth) {
          throw new StoreError(`layer ${layer} is outside 1..${run.depth} (the run's depth)`, 'invalid');
        }
      }
      await insertRows(this.db, 'epoch_metrics', ['run_id', 'metric', 'epoch', 'value'], metricRows);
      await insertRows(this.db, 'layer_metrics', ['run_id', 'metric', 'layer', 'epoch', 'value'], layerRows);
      const sets = ['epochs_done = ?'];
      const params: SqlValue[] = [epoch];
      for (const [metric, column] of Object.entries(FINAL_COLUMNS)) {
        const v = report.metrics[metric as EpochMetric];
        if (v !== undefined) {
          sets.push(`${column} = ?`);
          params.push(Number.isNaN(v) ? null : v);
        }
      }
      await this.db.run(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`, [...params, runId]);
      if (checkpoint) {
        await this.db.run(
          `INSERT INTO checkpoints (run_id, epoch, state, created_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (run_id) DO UPDATE SET epoch = excluded.epoch, state = excluded.state, created_at = excluded.created_at`,
          [runId, epoch, checkpoint, Date.now()],
        );
      }
    });
  }

  /** The latest checkpoint, or null when the run has none yet. */
  async loadCheckpoint(runId: string): Promise<{ epoch: number; state: Uint8Array } | null> {
    const row = await this.db.get<{ epoch: number; state: Buffer }>(
      'SELECT epoch, state FROM checkpoints WHERE run_id = ?',
      [runId],
    );
    if (row) return { epoch: row.epoch, state: row.state };
    await this.assertRun(runId);
    return null;
  }

  async saveModel(runId: string, state: Uint8Array): Promise<void> {
    await this.assertRun(runId);
    await this.db.run(
      `INSERT INTO models (run_id, state, created_at) VALUES (?, ?, ?)
       ON CONFLICT (run_id) DO UPDATE SET state = excluded.state, created_at = excluded.created_at`,
      [runId, state, Date.now()],
    );
  }

  /** The final weights, or null when the run has none. */
  async loadModel(runId: string): Promise<Uint8Array | null> {
    const row = await this.db.get<{ state: Buffer }>('SELECT state FROM models WHERE run_id = ?', [runId]);
    if (row) return row.state;
    await this.assertRun(runId);
    return null;
  }

  /**
   * Deletes runs with everything they own (metrics, checkpoint, model: ON DELETE CASCADE), then VACUUMs when
   * enough pages are free ('auto', per the vacuum policy) so the disk space really comes back.
   */
  async deleteRuns(
    ids: readonly string[],
    opts: { vacuum?: 'auto' | 'always' | 'never' | 'background'; chunk?: number } = {},
  ): Promise<DeleteRunsResult> {
    const before = await diskBytes(this.path);
    const freeBefore = await freePages(this.db);
    // One run per transaction (by default): every other call waits for one run's rows at most, never the whole delete.
    const chunk = Math.max(1, opts.chunk ?? 1);
    let deleted = 0;
    for (let i = 0; i < ids.length; i += chunk) {
      const part = ids.slice(i, i + chunk);
      deleted += await this.db.transaction(
        async () =>
          (await this.db.run('DELETE FROM runs WHERE id IN (SELECT value FROM json_each(?))', [JSON.stringify(part)]))
            .changes,
      );
      await new Promise((r) => setImmediate(r));
    }
    const freeAfter = await freePages(this.db);
    const released = Math.max(0, freeAfter.free - freeBefore.free) * freeAfter.pageSize;
    const incremental = await this.incrementalVacuum();
    const mode = opts.vacuum ?? 'auto';
    if (deleted > 0 && mode === 'background' && incremental) {
      this.reclaiming = this.reclaimSteps().catch(() => undefined);
      return { deleted, freedBytes: released, vacuumed: false, reclaim: 'background' };
    }
    let vacuumed = false;
    if (deleted > 0 && incremental && mode !== 'never') {
      await this.reclaimSteps();
      vacuumed = true;
    } else if (deleted > 0 && (mode === 'always' || (mode === 'auto' && !incremental))) {
      // An older file without incremental vacuum: 'auto' keeps the historical VACUUM for the CLI; the app passes
      // 'background' and gets the space reported as reusable (Settings → Compact returns it to disk on request).
      vacuumed = await reclaim(this.db, mode === 'always' ? 'always' : 'auto', this.vacuumPolicy);
    }
    const after = await diskBytes(this.path);
    return {
      deleted,
      freedBytes: vacuumed ? Math.max(0, before - after) : released,
      vacuumed,
      reclaim: vacuumed ? 'done' : incremental ? 'background' : 'on-request',
    };
  }

  /** Background space reclaim in flight (close() waits for it). */
  private reclaiming: Promise<void> | null = null;
  private closingFlag = false;

  private async incrementalVacuum(): Promise<boolean> {
    const row = await this.db.get<{ auto_vacuum: number }>('PRAGMA auto_vacuum');
    return row?.auto_vacuum === 2;
  }

  /**
   * Returns free pages to the OS in small steps (about 1 MiB each), yielding between them so other calls run;
   * then folds the WAL back into the file.
   */
  private async reclaimSteps(pagesPerStep = 256): Promise<void> {
    for (;;) {
      if (this.closingFlag) return;
      const { free } = await freePages(this.db);
      if (free === 0) break;
      await this.db.exec(`PRAGMA incremental_vacuum(${pagesPerStep})`);
      await new Promise((r) => setTimeout(r, 5));
    }
    await this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  }

  /** Waits for a background reclaim to finish (tests, the benchmark). */
  async reclaimIdle(): Promise<void> {
    while (this.reclaiming) {
      const p = this.reclaiming;
      await p;
      if (this.reclaiming === p) this.reclaiming = null;
    }
  }

  /** Disk used, and bytes free inside the file (reused by new runs, or returned to disk by compact()). */
  async space(): Promise<{ fileBytes: number; freeBytes: number; incremental: boolean }> {
    const { free, pageSize } = await freePages(this.db);
    return {
      fileBytes: await diskBytes(this.path),
      freeBytes: free * pageSize,
      incremental: await this.incrementalVacuum(),
    };
  }

  /** On request: rewrites the file without its free pages (a full VACUUM, which blocks while it runs) and turns
   * on incremental vacuum, so later deletes give space back in the background. */
  async compact(): Promise<{ freedBytes: number }> {
    const before = await diskBytes(this.path);
    await this.db.exec('PRAGMA auto_vacuum = INCREMENTAL');
    await this.db.exec('VACUUM');
    await this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    return { freedBytes: Math.max(0, before - (await diskBytes(this.path))) };
  }

  // ── metrics ─────────────────────────────────────────────────────────────────────────────────────────

  epochSeries(runId: string, metrics: readonly EpochMetric[]): Promise<series.EpochSeries[]> {
    return series.epochSeries(this.db, runId, metrics);
  }

  /** Every epoch metric of a run, one entry per epoch (the CLI's show/export). */
  async epochMetrics(runId: string): Promise<{ epoch: number; metrics: Partial<Record<EpochMetric, number>> }[]> {
    await this.assertRun(runId);
    const rows = await this.db.all<{ epoch: number; metric: EpochMetric; value: number | null }>(
      'SELECT epoch, metric, value FROM epoch_metrics WHERE run_id = ? ORDER BY epoch, metric',
      [runId],
    );
    const out: { epoch: number; metrics: Partial<Record<EpochMetric, number>> }[] = [];
    for (const r of rows) {
      if (out[out.length - 1]?.epoch !== r.epoch) out.push({ epoch: r.epoch, metrics: {} });
      out[out.length - 1]!.metrics[r.metric] = r.value ?? Number.NaN;
    }
    return out;
  }

  /** The metric at the run's last stored epoch; null when missing or NaN. */
  async finalMetric(runId: string, metric: EpochMetric): Promise<number | null> {
    const row = await this.db.get<{ epochs_done: number; value: number | null }>(
      `SELECT r.epochs_done, m.value FROM runs r LEFT JOIN epoch_metrics m ON m.run_id = r.id AND m.metric = ? AND m.epoch = r.epochs_done WHERE r.id = ?`,
      [metric, runId],
    );
    if (!row) throw notFound(runId);
    return row.value;
  }

  /** The runs of a sweep in plan order with their spec, status and last value of `metric`. */
  sweepTrials(sweepId: string, metric: EpochMetric): Promise<series.SweepTrialRow[]> {
    return series.sweepTrials(this.db, sweepId, metric);
  }

  metricAtEpochByRun(sweepId: string, metric: EpochMetric, epoch: number): Promise<{ runId: string; value: number }[]> {
    return series.metricAtEpochByRun(this.db, sweepId, metric, epoch);
  }

  /** Per run, at most `maxPoints` buckets of {epoch (bucket's last), min, max, last}; see series.ts. */
  epochSeriesBucketed(
    runIds: readonly string[],
    metric: EpochMetric,
    maxPoints: number,
  ): Promise<Record<string, SeriesBucket[]>> {
    return series.epochSeriesBucketed(this.db, runIds, metric, maxPoints);
  }

  async layerMetrics(
    runId: string,
    filter: { epoch?: number; metric?: LayerMetric } = {},
  ): Promise<series.LayerMetricPoint[]> {
    const run = await this.db.get<{ depth: number }>('SELECT depth FROM runs WHERE id = ?', [runId]);
    if (!run) throw notFound(runId);
    return series.layerMetrics(this.db, runId, run.depth, filter, LAYER_METRICS);
  }

  layerGrid(runId: string, metric: LayerMetric): Promise<LayerGrid> {
    return series.layerGrid(this.db, runId, metric);
  }

  /** One value per layer at `epoch` (default: each run's last epoch). */
  layerProfile(
    runIds: readonly string[],
    metric: LayerMetric,
    epoch?: number,
  ): Promise<Record<string, { layer: number; value: number }[]>> {
    return series.layerProfile(this.db, runIds, metric, epoch);
  }

  /** The metric's finite values at `epoch` for the runs of a sweep, except `excludeRunId`. */
  metricAtEpoch(sweepId: string, metric: EpochMetric, epoch: number, excludeRunId?: string): Promise<number[]> {
    return series.metricAtEpoch(this.db, sweepId, metric, epoch, excludeRunId);
  }

  // ── sweeps ──────────────────────────────────────────────────────────────────────────────────────────

  createSweep(input: {
    name: string;
    config: SweepFile;
    fileText?: string;
    status?: sweeps.SweepStatus;
  }): Promise<string> {
    return sweeps.createSweep(this.db, input);
  }

  async getSweep(id: string): Promise<sweeps.SweepRecord> {
    return (await this.asReaped([await sweeps.getSweep(this.db, id)], 'sweeps'))[0]!;
  }

  async listSweeps(): Promise<sweeps.SweepRecord[]> {
    return this.asReaped(await sweeps.listSweeps(this.db), 'sweeps');
  }

  setSweepStatus(id: string, status: sweeps.SweepStatus): Promise<void> {
    return sweeps.setSweepStatus(this.db, id, status);
  }

  // ── datasets ────────────────────────────────────────────────────────────────────────────────────────

  addDataset(d: datasets.NewDataset): Promise<datasets.DatasetRecord> {
    return this.db.transaction(() => datasets.addDataset(this.db, d));
  }

  listDatasets(): Promise<datasets.DatasetRecord[]> {
    return datasets.listDatasets(this.db);
  }

  getDataset(id: string): Promise<datasets.DatasetRecord> {
    return datasets.getDataset(this.db, id);
  }

  /** Removes the record and returns it; deleting its file (filePath) is the caller's job. */
  removeDataset(id: string): Promise<datasets.DatasetRecord> {
    return this.db.transaction(() => datasets.removeDataset(this.db, id));
  }

  /** Imported dataset id → its converted file, for the trainer. */
  async datasetFiles(): Promise<Record<string, string>> {
    const rows = await this.db.all<{ id: string; file_path: string }>(
      'SELECT id, file_path FROM datasets WHERE file_path IS NOT NULL',
    );
    return Object.fromEntries(rows.map((r) => [r.id, r.file_path]));
  }

  /** Refuses a dataset id that is neither built in nor imported, before anything is written. */
  async assertDatasetsAvailable(ids: Iterable<string>): Promise<void> {
    const imported = await this.datasetFiles();
    for (const id of new Set(ids)) {
      if (BUILTIN_DATASETS.some((d) => d.id === id) || id in imported) continue;
      const hint =
        id === 'higgs' || id === 'susy'
          ? `${id} is not imported yet (deepbern datasets import ${id} ${id.toUpperCase()}.csv.gz)`
          : `unknown dataset "${id}"`;
      throw new DatasetError(
        `${hint}; available: ${[...BUILTIN_DATASETS.map((d) => d.id), ...Object.keys(imported)].join(', ')}`,
      );
    }
  }

  private async assertRun(id: string): Promise<void> {
    if (!(await this.db.get('SELECT 1 FROM runs WHERE id = ?', [id]))) throw notFound(id);
  }
}

function notFound(id: string): StoreError {
  return new StoreError(`no run with id ${id}`, 'not_found');
}

function checkStatus(s: string): RunStatus {
  if (!(RUN_STATUSES as readonly string[]).includes(s))
    throw new StoreError(`run status must be one of ${RUN_STATUSES.join(', ')} (got "${s}")`, 'invalid');
  return s as RunStatus;
}

function checkValue(v: unknown, metric: string): number {
  if (typeof v !== 'number') throw new StoreError(`${metric} must be a number (got ${typeof v})`, 'invalid');
  return v; // NaN and ±Infinity are legitimate (a diverging run); SQLite keeps ±Infinity and stores NaN as NULL
}

function cleanTags(tags: readonly string[]): string[] {
  return [...new Set(tags.map((t) => t.trim()).filter(Boolean))];
}
