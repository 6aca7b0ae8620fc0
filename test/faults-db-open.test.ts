// Opening databases safely: a SQLite file that is not a workbench store is refused and never changed (not
// migrated, journal mode untouched), by any command; read-only commands open the store read-only — they work
// on a read-only file (and folder) and change nothing (no migration, no WAL switch); names printed to the
// terminal have control characters stripped.
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunStore } from '../src-main/store/run-store.js';
import { BIN, cli, expectOneLineError, fileHash, tempDir } from './support/cli.js';

const tmp = tempDir('deepbern-faults-dbopen-');
const p = (name: string) => join(tmp.dir, name);

function sql(path: string, statements: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(path, (e) => {
      if (e) return reject(e);
      db.serialize(() => {
        for (const s of statements) db.exec(s); // exec: a statement string may hold several statements
      });
      db.close((err) => (err ? reject(err) : resolve()));
    });
  });
}

/** SQLite header bytes 18–19: 1 = rollback journal, 2 = WAL. */
const journalBytes = (path: string) => [...readFileSync(path).subarray(18, 20)];

let runId = '';
let sweepId = '';
const evilName = 'evil\x1b[2J\x1b]0;pwned\x07\u009b31m\u202eman';

beforeAll(async () => {
  const t = cli([
    'train',
    '--rows',
    '200',
    '--depth',
    '2',
    '--width',
    '4',
    '--activation',
    'relu',
    '--epochs',
    '1',
    '--name',
    evilName,
    '--db',
    p('wb.db'),
  ]);
  expect(t.code, t.stderr).toBe(0);
  runId = t.stdout.trim();
  const yaml = p('evil.yaml');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    yaml,
    'name: "sweep\\e[31m\\u202e\\x07x"\ndataset: synthetic-higgs\nrows: 200\nbase: {depth: 2, width: 4, epochs: 1, activation: relu}\n',
  );
  const s = cli(['sweep', 'run', yaml, '--workers', '1', '--db', p('wb.db')]);
  expect(s.code, s.stderr).toBe(0);
  sweepId = s.stdout.trim();
}, 180_000);

afterAll(() => tmp.cleanup());

describe('a SQLite file that is not a workbench DB', () => {
  const foreign = () => p('contacts.db');
  beforeAll(async () => {
    await sql(foreign(), [
      'PRAGMA journal_mode = DELETE',
      'CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT)',
      "INSERT INTO contacts (name) VALUES ('Ada')",
    ]);
  });

  const commands = (db: string): string[][] => [
    ['runs', '--db', db],
    ['show', 'rnope', '--db', db],
    ['export', 'rnope', '--db', db],
    ['sweep', 'list', '--db', db],
    ['sweep', 'show', 'snope', '--db', db],
    ['datasets', 'list', '--db', db],
    ['train', '--rows', '100', '--depth', '1', '--width', '2', '--activation', 'relu', '--epochs', '1', '--db', db],
  ];

  it.each(commands('DB').map((c) => [c.join(' '), c] as const))(
    '%s → refused (exit 2, one line), file unchanged',
    (_n, c) => {
      const before = fileHash(foreign());
      const r = cli(c.map((a) => (a === 'DB' ? foreign() : a)));
      expectOneLineError(
        r,
        /contacts\.db is a SQLite database but not a DeepBern Workbench store \(it holds table contacts\)/,
        2,
      );
      expect(fileHash(foreign())).toBe(before);
      expect(journalBytes(foreign())).toEqual([1, 1]);
    },
  );

  it('the store (app and serve) refuses it too', async () => {
    const before = fileHash(foreign());
    await expect(RunStore.open(foreign())).rejects.toMatchObject({ code: 'not_workbench' });
    expect(fileHash(foreign())).toBe(before);
  });
});

describe('read-only commands open the store read-only', () => {
  const readCommands = (db: string): string[][] => [
    ['runs', '--db', db],
    ['show', runId, '--db', db],
    ['export', runId, '--db', db],
    ['export-model', runId, '--db', db],
    ['sweep', 'list', '--db', db],
    ['sweep', 'show', sweepId, '--db', db],
    ['datasets', 'list', '--db', db],
  ];

  it('on an older schema: no migration (a clear error for the commands that need the schema), file unchanged', async () => {
    const old = p('old.db');
    // A version-1 store (the first schema) in rollback-journal mode.
    const { MIGRATIONS } = await import('../src-main/store/migrations.js');
    await sql(old, ['PRAGMA journal_mode = DELETE', MIGRATIONS[0]!.sql, 'PRAGMA user_version = 1']);
    const before = fileHash(old);
    for (const c of readCommands(old)) {
      const r = cli(c);
      expect(r.code, c.join(' ')).toBe(2);
      expect(r.stderr, c.join(' ')).toMatch(/schema version 1, not \d+; open it once read-write to migrate/);
      expect(fileHash(old), c.join(' ')).toBe(before);
    }
    expect(journalBytes(old)).toEqual([1, 1]);
  });

  it('on a rollback-journal store: the journal mode is not switched to WAL', async () => {
    const db = p('journal.db');
    const { copyFileSync } = await import('node:fs');
    copyFileSync(p('wb.db'), db);
    await sql(db, ['PRAGMA journal_mode = DELETE']);
    const before = fileHash(db);
    for (const c of readCommands(db)) {
      const r = cli(c);
      expect(r.code, `${c.join(' ')}: ${r.stderr}`).toBe(0);
    }
    expect(journalBytes(db)).toEqual([1, 1]);
    expect(fileHash(db)).toBe(before);
  });

  it('on a read-only file in a read-only folder: every read command works and the file is unchanged', async () => {
    const dir = p('ro');
    const { mkdirSync, copyFileSync } = await import('node:fs');
    mkdirSync(dir);
    const db = join(dir, 'wb.db');
    copyFileSync(p('wb.db'), db);
    chmodSync(db, 0o444);
    chmodSync(dir, 0o555);
    chmodSync(tmp.dir, 0o755);
    const before = fileHash(db);
    // root ignores file modes: run the CLI as nobody then, as a user without write access would.
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    try {
      for (const c of readCommands(db)) {
        const r = spawnSync(process.execPath, [BIN, ...c], {
          encoding: 'utf8',
          ...asUser,
          env: { ...process.env, HOME: dir },
        });
        expect(r.status, `${c.join(' ')}: ${r.stderr}`).toBe(0);
      }
      expect(fileHash(db)).toBe(before);
    } finally {
      chmodSync(dir, 0o755);
    }
  });

  it('a run whose owner died reads as interrupted from a read-only open (nothing written)', async () => {
    const db = p('orphan.db');
    const { copyFileSync } = await import('node:fs');
    copyFileSync(p('wb.db'), db);
    // As a SIGKILLed train leaves it: running, owned by a process that no longer exists, lease expired.
    await sql(db, [
      "INSERT INTO owners (id, pid, host, command, started_at, heartbeat_at, expires_at) VALUES ('odead', 999999, 'gone-host', 'train', 1, 1, 2)",
      `UPDATE runs SET status = 'running', owner_id = 'odead' WHERE id = '${runId}'`,
      `UPDATE sweeps SET status = 'running', owner_id = 'odead' WHERE id = '${sweepId}'`,
    ]);
    const before = fileHash(db);
    const listed = JSON.parse(cli(['runs', '--db', db, '--json']).stdout) as { runs: { id: string; status: string }[] };
    expect(listed.runs.find((r) => r.id === runId)?.status).toBe('interrupted');
    expect(cli(['show', runId, '--db', db]).stdout).toMatch(/interrupted/);
    expect(
      JSON.parse(cli(['sweep', 'list', '--db', db, '--json']).stdout).find((s: { id: string }) => s.id === sweepId)
        ?.status,
    ).toBe('interrupted');
    expect(fileHash(db)).toBe(before);
    // A writable open stores it.
    const store = await RunStore.open(db);
    try {
      expect((await store.reapExpired()).runs).toEqual([runId]);
    } finally {
      await store.close();
    }
  });

  it('a missing DB: listings are empty (nothing is created)', () => {
    const absent = p('nothing-here.db');
    expect(cli(['runs', '--db', absent, '--json']).stdout).toMatch(/"total": 0/);
    expect(JSON.parse(cli(['sweep', 'list', '--db', absent, '--json']).stdout)).toEqual([]);
    expect(cli(['datasets', 'list', '--db', absent]).stdout).toMatch(/synthetic-higgs/);
    expect(spawnSync('ls', [tmp.dir], { encoding: 'utf8' }).stdout).not.toMatch(/nothing-here/);
  });
});

describe('names printed to the terminal have control characters stripped', () => {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
  it.each([
    ['runs', () => ['runs', '--db', p('wb.db')]],
    ['show', () => ['show', runId, '--db', p('wb.db')]],
    ['sweep list', () => ['sweep', 'list', '--db', p('wb.db')]],
    ['sweep show', () => ['sweep', 'show', sweepId, '--db', p('wb.db')]],
    ['an error naming user input', () => ['show', 'r\x1b[31mnope\x07', '--db', p('wb.db')]],
  ] as const)('%s', (_n, args) => {
    const r = cli([...args()]);
    const out = r.stdout + r.stderr;
    expect(out).not.toMatch(CONTROL);
    expect(out).toMatch(/evil\[2J\]0;pwned31mman|sweep\[31mx|r\[31mnope/);
  });
});
