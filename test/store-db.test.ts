import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Db } from '../src-main/store/db.js';
import { StoreError } from '../src-main/store/errors.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deepbern-db-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function storeError(p: Promise<unknown>): Promise<StoreError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(StoreError);
  return e as StoreError;
}

describe('Db connection', () => {
  it('creates missing folders and sets WAL, foreign keys, synchronous NORMAL, busy timeout', async () => {
    const db = await Db.open(join(dir, 'a', 'b', 'x.db'), { busyTimeoutMs: 1234 });
    expect(await db.get('PRAGMA journal_mode')).toEqual({ journal_mode: 'wal' });
    expect(await db.get('PRAGMA foreign_keys')).toEqual({ foreign_keys: 1 });
    expect(await db.get('PRAGMA synchronous')).toEqual({ synchronous: 1 });
    expect(await db.get('PRAGMA busy_timeout')).toEqual({ timeout: 1234 });
    await db.close();
  });

  it('refuses a file that is not SQLite and leaves it byte-for-byte unchanged', async () => {
    for (const [name, content] of [
      ['notes.db', 'hello, this is definitely not a database\n'.repeat(50)],
      ['short.db', 'SQLite'],
    ] as const) {
      const path = join(dir, name);
      await writeFile(path, content);
      const before = await readFile(path);
      const e = await storeError(Db.open(path));
      expect(e.message).toBe(`${path} is not a SQLite database`);
      expect(e.code).toBe('not_sqlite');
      expect(await readFile(path)).toEqual(before);
      await storeError(Db.open(path, { readOnly: true }));
      expect(await readFile(path)).toEqual(before);
    }
  });

  it('accepts an empty file', async () => {
    const path = join(dir, 'empty.db');
    await writeFile(path, '');
    const db = await Db.open(path);
    await db.exec('CREATE TABLE t (x)');
    await db.close();
    expect((await readFile(path)).subarray(0, 15).toString()).toBe('SQLite format 3');
  });

  it('says clearly when the location cannot be used', async () => {
    const blocker = join(dir, 'file');
    await writeFile(blocker, 'x');
    const e = await storeError(Db.open(join(blocker, 'sub', 'x.db')));
    expect(e.code).toBe('cannot_open');
    expect(e.message).toContain(join(blocker, 'sub', 'x.db'));
    const missing = await storeError(Db.open(join(dir, 'nope.db'), { readOnly: true }));
    expect(missing.message).toBe(`no database at ${join(dir, 'nope.db')}`);
  });

  it('a read-only connection refuses writes', async () => {
    const path = join(dir, 'ro.db');
    const w = await Db.open(path);
    await w.exec('CREATE TABLE t (x)');
    const r = await Db.open(path, { readOnly: true });
    expect((await storeError(r.run('INSERT INTO t VALUES (1)'))).code).toBe('read_only');
    await r.close();
    await w.close();
  });
});

describe('Db transactions', () => {
  it('serialises concurrent transactions: each commits or rolls back whole', async () => {
    const db = await Db.open(join(dir, 'tx.db'));
    await db.exec('CREATE TABLE t (tx INTEGER, part INTEGER)');
    const tick = () => new Promise((r) => setTimeout(r, Math.random() * 3));
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        db.transaction(async () => {
          await db.run('INSERT INTO t VALUES (?, 1)', [i]);
          await tick();
          if (i % 3 === 0) throw new Error(`tx ${i} fails`);
          await db.run('INSERT INTO t VALUES (?, 2)', [i]);
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(10);
    const rows = await db.all<{ tx: number; n: number }>('SELECT tx, count(*) AS n FROM t GROUP BY tx ORDER BY tx');
    const expected = Array.from({ length: 30 }, (_, i) => i).filter((i) => i % 3 !== 0);
    expect(rows).toEqual(expected.map((tx) => ({ tx, n: 2 })));
    await db.close();
  });

  it('a statement from outside never lands in (or is rolled back with) another caller’s transaction', async () => {
    const db = await Db.open(join(dir, 'tx2.db'));
    await db.exec('CREATE TABLE t (x)');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let begun!: () => void;
    const inside = new Promise<void>((r) => (begun = r));
    const tx = db.transaction(async () => {
      await db.run('INSERT INTO t VALUES (1)');
      begun();
      await gate;
      throw new Error('rollback');
    });
    await inside; // the transaction is open on the connection now
    const outside = db.run('INSERT INTO t VALUES (2)');
    await new Promise((r) => setTimeout(r, 20));
    release();
    await expect(tx).rejects.toThrow('rollback');
    await outside;
    expect(await db.all('SELECT x FROM t')).toEqual([{ x: 2 }]);
    await db.close();
  });

  it('nested transactions are savepoints that can fail alone', async () => {
    const db = await Db.open(join(dir, 'nest.db'));
    await db.exec('CREATE TABLE t (x)');
    await db.transaction(async () => {
      await db.run('INSERT INTO t VALUES (1)');
      await expect(
        db.transaction(async () => {
          await db.run('INSERT INTO t VALUES (2)');
          throw new Error('inner');
        }),
      ).rejects.toThrow('inner');
      await db.transaction(() => db.run('INSERT INTO t VALUES (3)'));
    });
    expect(await db.all('SELECT x FROM t ORDER BY x')).toEqual([{ x: 1 }, { x: 3 }]);
    await db.close();
  });
});
