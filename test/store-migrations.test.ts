import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Db } from '../src-main/store/db.js';
import { StoreError } from '../src-main/store/errors.js';
import { MIGRATIONS, migrate, SCHEMA_VERSION } from '../src-main/store/migrations.js';
import { RunStore } from '../src-main/store/run-store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deepbern-mig-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const V1_TABLES = ['checkpoints', 'datasets', 'epoch_metrics', 'layer_metrics', 'models', 'runs', 'sweeps'];
const tableNames = async (db: Db) =>
  (await db.all<{ name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")).map(
    (t) => t.name,
  );
const schema = (db: Db) => db.all<{ name: string; sql: string }>('SELECT name, sql FROM sqlite_schema ORDER BY name');

describe('migrations', () => {
  it('migrates an empty database step by step: v1 has every table; open() reaches the newest version', async () => {
    const db = await Db.open(join(dir, 'v1.db'));
    expect(await migrate(db, MIGRATIONS.slice(0, 1))).toEqual([1]);
    expect(await db.get('PRAGMA user_version')).toEqual({ user_version: 1 });
    expect(await tableNames(db)).toEqual(V1_TABLES);
    await db.close();

    const store = await RunStore.open(join(dir, 'w.db'));
    expect(await store.db.get('PRAGMA user_version')).toEqual({ user_version: SCHEMA_VERSION });
    expect(await tableNames(store.db)).toEqual(expect.arrayContaining(V1_TABLES));
    expect(await store.db.get('PRAGMA integrity_check')).toEqual({ integrity_check: 'ok' });
    expect(await store.db.all('PRAGMA foreign_key_check')).toEqual([]);
    await store.close();
  });

  it('reopening is a no-op', async () => {
    const path = join(dir, 'w.db');
    const first = await RunStore.open(path);
    const before = await schema(first.db);
    await first.close();
    const db = await Db.open(path);
    expect(await migrate(db)).toEqual([]);
    expect(await schema(db)).toEqual(before);
    expect(await db.get('PRAGMA user_version')).toEqual({ user_version: SCHEMA_VERSION });
    await db.close();
  });

  it('refuses a database from a newer version and leaves the file unchanged', async () => {
    const path = join(dir, 'future.db');
    const raw = await Db.open(path);
    await raw.exec(
      "CREATE TABLE future_stuff (x); INSERT INTO future_stuff VALUES ('keep'); PRAGMA user_version = 999; PRAGMA journal_mode = DELETE;",
    );
    await raw.close();
    const before = await readFile(path);
    for (const readOnly of [false, true]) {
      const e = await RunStore.open(path, { readOnly }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(StoreError);
      expect((e as StoreError).code).toBe('too_new');
      expect((e as StoreError).message).toMatch(
        new RegExp(`schema version 999, newer than this version of DeepBern Workbench knows \\(${SCHEMA_VERSION}\\)`),
      );
      expect(await readFile(path)).toEqual(before);
    }
  });

  it('a failing migration leaves the previous version and no partial schema', async () => {
    const path = join(dir, 'w.db');
    await (await RunStore.open(path)).close();
    const db = await Db.open(path);
    const broken = [
      ...MIGRATIONS,
      { version: SCHEMA_VERSION + 1, description: 'broken', sql: 'CREATE TABLE half (x); THIS IS NOT SQL;' },
    ];
    await expect(migrate(db, broken)).rejects.toThrow(StoreError);
    expect(await db.get('PRAGMA user_version')).toEqual({ user_version: SCHEMA_VERSION });
    expect(await db.get("SELECT name FROM sqlite_schema WHERE name = 'half'")).toBeUndefined();
    await db.close();
  });

  it('a read-only open of an unmigrated database asks for a read-write open first', async () => {
    const path = join(dir, 'old.db');
    // A store at the first schema version (a non-workbench file would be refused outright: not_workbench).
    const raw = await Db.open(path);
    await raw.exec(`${MIGRATIONS[0]!.sql}; PRAGMA user_version = 1;`);
    await raw.close();
    await expect(RunStore.open(path, { readOnly: true })).rejects.toMatchObject({ code: 'needs_migration' });
  });
});
