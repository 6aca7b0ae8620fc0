// Versioned schema migrations, tracked in PRAGMA user_version. Each migration runs in its own transaction
// together with the version bump, so a crash leaves the database at the previous version, never between.
// Policy (docs/db-schema.md): append new migrations, never edit a released one.
import type { Db } from './db.js';
import { StoreError } from './errors.js';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

const V1 = `
CREATE TABLE sweeps (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  config_json TEXT NOT NULL,
  file_text   TEXT,
  status      TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE runs (
  id               TEXT PRIMARY KEY,
  name             TEXT NOT NULL,
  sweep_id         TEXT REFERENCES sweeps(id) ON DELETE SET NULL,
  spec_json        TEXT NOT NULL,
  status           TEXT NOT NULL,
  seed             INTEGER NOT NULL,
  dataset          TEXT NOT NULL,
  activation       TEXT NOT NULL,
  activation_label TEXT NOT NULL,
  depth            INTEGER NOT NULL,
  width            INTEGER NOT NULL,
  degree           INTEGER,
  eps              REAL,
  lr               REAL NOT NULL,
  batch_size       INTEGER NOT NULL,
  batch_norm       INTEGER NOT NULL,
  residual         INTEGER NOT NULL,
  backend          TEXT,
  param_count      INTEGER,
  epochs_total     INTEGER NOT NULL,
  epochs_done      INTEGER NOT NULL DEFAULT 0,
  created_at       INTEGER NOT NULL,
  started_at       INTEGER,
  finished_at      INTEGER,
  error            TEXT,
  tags_json        TEXT NOT NULL DEFAULT '[]',
  final_train_loss REAL,
  final_test_loss  REAL,
  final_test_acc   REAL
) STRICT;
CREATE INDEX runs_by_created ON runs(created_at);
CREATE INDEX runs_by_status ON runs(status, created_at);
CREATE INDEX runs_by_sweep ON runs(sweep_id, created_at) WHERE sweep_id IS NOT NULL;

CREATE TABLE epoch_metrics (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  metric TEXT NOT NULL,
  epoch  INTEGER NOT NULL,
  value  REAL,
  PRIMARY KEY (run_id, metric, epoch)
) WITHOUT ROWID, STRICT;

CREATE TABLE layer_metrics (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  metric TEXT NOT NULL,
  layer  INTEGER NOT NULL,
  epoch  INTEGER NOT NULL,
  value  REAL,
  PRIMARY KEY (run_id, metric, layer, epoch)
) WITHOUT ROWID, STRICT;

CREATE TABLE checkpoints (
  run_id     TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  epoch      INTEGER NOT NULL,
  state      BLOB NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE models (
  run_id     TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  state      BLOB NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE datasets (
  id          TEXT PRIMARY KEY,
  kind        TEXT NOT NULL,
  title       TEXT NOT NULL,
  source_path TEXT,
  file_path   TEXT,
  rows        INTEGER,
  input_dim   INTEGER,
  output_dim  INTEGER,
  task        TEXT,
  meta_json   TEXT NOT NULL DEFAULT '{}',
  created_at  INTEGER NOT NULL
) STRICT;
`;

// v2: designs saved from the designer (src-main/service/designs.ts is their only reader and writer).
const V2 = `
CREATE TABLE designs (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  blocks_json   TEXT NOT NULL,
  training_json TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX designs_by_updated ON designs(updated_at);
`;

// v3 (scale and run kinds): approximation-lab fits are their own kind, kept out of the training runs list;
// indexes that serve each sortable list order (with the name/id tie-breaks) and the per-kind filter; a
// trigram full-text index for search (substrings, as LIKE '%…%' matched, without scanning the table).
const V3 = `
ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'training';
UPDATE runs SET kind = 'approx' WHERE tags_json LIKE '%"approx-lab"%';
CREATE INDEX runs_by_kind ON runs(kind, created_at, name, id);
CREATE INDEX runs_by_created_name ON runs(created_at, name, id);
CREATE INDEX runs_by_sweep_stats ON runs(sweep_id, status, epochs_done, epochs_total, started_at) WHERE sweep_id IS NOT NULL;
CREATE INDEX runs_by_final_test_acc ON runs(kind, final_test_acc, name, id);
CREATE INDEX runs_by_final_test_loss ON runs(kind, final_test_loss, name, id);
CREATE INDEX runs_by_final_train_loss ON runs(kind, final_train_loss, name, id);
CREATE VIRTUAL TABLE runs_fts USING fts5(id, name, activation_label, dataset, tags_json, content='runs', content_rowid='rowid', tokenize='trigram');
INSERT INTO runs_fts(runs_fts) VALUES ('rebuild');
CREATE TRIGGER runs_fts_insert AFTER INSERT ON runs BEGIN
  INSERT INTO runs_fts(rowid, id, name, activation_label, dataset, tags_json) VALUES (new.rowid, new.id, new.name, new.activation_label, new.dataset, new.tags_json);
END;
CREATE TRIGGER runs_fts_delete AFTER DELETE ON runs BEGIN
  INSERT INTO runs_fts(runs_fts, rowid, id, name, activation_label, dataset, tags_json) VALUES ('delete', old.rowid, old.id, old.name, old.activation_label, old.dataset, old.tags_json);
END;
CREATE TABLE saved_views (
  name       TEXT PRIMARY KEY,
  screen     TEXT NOT NULL,
  state_json TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE TRIGGER runs_fts_update AFTER UPDATE OF id, name, activation_label, dataset, tags_json ON runs BEGIN
  INSERT INTO runs_fts(runs_fts, rowid, id, name, activation_label, dataset, tags_json) VALUES ('delete', old.rowid, old.id, old.name, old.activation_label, old.dataset, old.tags_json);
  INSERT INTO runs_fts(rowid, id, name, activation_label, dataset, tags_json) VALUES (new.rowid, new.id, new.name, new.activation_label, new.dataset, new.tags_json);
END;
`;

// v4: leases (leases.ts). Owners are the processes driving runs and sweeps; a running run or sweep points at
// its owner; another process asks an owner to cancel a run with cancel_requested.
const V4_LEASES = `
CREATE TABLE owners (
  id           TEXT PRIMARY KEY,
  pid          INTEGER NOT NULL,
  host         TEXT NOT NULL,
  command      TEXT NOT NULL,
  started_at   INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL
) STRICT;
ALTER TABLE runs ADD COLUMN owner_id TEXT;
ALTER TABLE runs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sweeps ADD COLUMN owner_id TEXT;
CREATE INDEX runs_by_owner ON runs(owner_id) WHERE owner_id IS NOT NULL;
`;

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: 'runs, metrics, checkpoints, models, sweeps, datasets', sql: V1 },
  { version: 2, description: 'designs', sql: V2 },
  { version: 3, description: 'run kinds, list-order indexes, full-text run search, saved views', sql: V3 },
  { version: 4, description: 'leases: run and sweep owners', sql: V4_LEASES },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export async function schemaVersion(db: Db): Promise<number> {
  const row = await db.get<{ user_version: number }>('PRAGMA user_version');
  return row?.user_version ?? 0;
}

/** Tables every workbench store has had since version 1. */
const CORE_TABLES = ['runs', 'sweeps', 'epoch_metrics'];

/**
 * Refuses a non-empty SQLite database that is not a workbench store (another app's file given as --db): it is
 * never migrated or switched to WAL. Reads only. An empty database (a new file) is fine.
 */
export async function assertWorkbenchDb(db: Db): Promise<void> {
  const objects = await db.all<{ type: string; name: string }>(
    "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name",
  );
  if (objects.length === 0) return;
  const tables = objects.filter((o) => o.type === 'table').map((o) => o.name);
  if ((await schemaVersion(db)) >= 1 && CORE_TABLES.every((t) => tables.includes(t))) return;
  const shown = tables.slice(0, 5).join(', ') + (tables.length > 5 ? ', …' : '');
  throw new StoreError(
    `${db.path} is a SQLite database but not a DeepBern Workbench store (${tables.length ? `it holds table${tables.length === 1 ? '' : 's'} ${shown}` : 'it holds other schema objects'}); ` +
      'it was left unchanged: pass --db with a workbench database or a new file',
    'not_workbench',
  );
}

/** Refuses a database written by a newer app; reads only, so the file stays as it was. */
export async function assertNotNewer(db: Db, known = SCHEMA_VERSION): Promise<number> {
  const v = await schemaVersion(db);
  if (v > known) {
    throw new StoreError(
      `the database ${db.path} has schema version ${v}, newer than this version of DeepBern Workbench knows (${known}); ` +
        'update the app, or open a different database',
      'too_new',
    );
  }
  return v;
}

/** Brings the database up to the newest version. Returns the versions applied (empty when current). */
export async function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const known = migrations.length ? migrations[migrations.length - 1]!.version : 0;
  const applied: number[] = [];
  for (const m of migrations) {
    const done = await db.transaction(async () => {
      // Re-read inside the write lock: another process may have migrated meanwhile.
      const v = await assertNotNewer(db, known);
      if (v >= m.version) return false;
      if (v !== m.version - 1)
        throw new StoreError(`cannot migrate ${db.path} from version ${v} to ${m.version}`, 'sqlite');
      await db.exec(m.sql);
      await db.exec(`PRAGMA user_version = ${m.version}`);
      return true;
    });
    if (done) applied.push(m.version);
  }
  return applied;
}
