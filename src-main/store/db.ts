// A small typed promise wrapper over ONE node-sqlite3 connection.
//
// node-sqlite3 runs the statements of concurrent async callers interleaved on the connection, so a
// BEGIN … COMMIT of one caller would swallow another caller's statements. Every operation therefore goes
// through a FIFO mutex; a transaction holds it for its whole body, and statements issued from inside the
// body (found via AsyncLocalStorage) run within it. Nested transactions become SAVEPOINTs.
import { AsyncLocalStorage } from 'node:async_hooks';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, open as openFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import sqlite3 from 'sqlite3';
import { StoreError, sqliteCode } from './errors.js';
import { Mutex } from './mutex.js';

/** What a statement may bind. Uint8Array is stored as a BLOB, booleans as 0/1, NaN as NULL (SQLite's rule). */
export type SqlValue = string | number | boolean | Uint8Array | null;
/** Positional (`?`) or named (`$name`, `:name` — the key includes the prefix) parameters. */
export type SqlParams = readonly SqlValue[] | { readonly [name: string]: SqlValue };

export interface RunResult {
  changes: number;
  lastID: number;
}

/** The statement surface shared by a connection and a transaction body. */
export interface Queryable {
  run(sql: string, params?: SqlParams): Promise<RunResult>;
  get<T>(sql: string, params?: SqlParams): Promise<T | undefined>;
  all<T>(sql: string, params?: SqlParams): Promise<T[]>;
  exec(sql: string): Promise<void>;
}

export interface DbOpenOptions {
  /** Open read-only (readers beside the single writer; WAL lets them read during its transactions). */
  readOnly?: boolean;
  /** How long a statement waits for another connection's lock before SQLITE_BUSY. Default 5000 ms. */
  busyTimeoutMs?: number;
  /**
   * Runs after the connection is open but before anything persistent changes (e.g. the switch to WAL):
   * the place to refuse a database (schema too new) and leave its file untouched. Throwing closes it.
   */
  verify?: (db: Db) => Promise<void>;
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');
/** Keep the -wal file from staying huge after a checkpoint blob burst (bytes). */
const JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024;

interface Frame {
  lock: Mutex;
  depth: number;
  open: boolean;
  parent: Frame | undefined;
}

export class Db implements Queryable {
  private readonly root: Frame = { lock: new Mutex(), depth: 0, open: true, parent: undefined };
  private readonly frames = new AsyncLocalStorage<Frame>();
  private closed = false;

  private constructor(
    private readonly conn: sqlite3.Database,
    readonly path: string,
    readonly readOnly: boolean,
  ) {}

  static async open(path: string, opts: DbOpenOptions = {}): Promise<Db> {
    const file = resolve(path);
    const readonly = opts.readOnly ?? false;
    await prepareLocation(file, readonly);
    const conn = readonly ? await connectReadOnly(file) : await connect(file, readonly);
    const db = new Db(conn, file, readonly);
    try {
      conn.configure('busyTimeout', opts.busyTimeoutMs ?? 5000);
      // Connection-level settings: they change nothing in the file.
      await db.exec('PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;');
      if (readonly) await db.exec('PRAGMA query_only = ON;');
      await opts.verify?.(db);
      if (!readonly) {
        // Persistent: WAL lets read-only connections read while the writer holds a transaction.
        await db.get('PRAGMA journal_mode = WAL');
        await db.exec(`PRAGMA journal_size_limit = ${JOURNAL_SIZE_LIMIT};`);
      }
    } catch (e) {
      await db.close().catch(() => undefined);
      throw e;
    }
    return db;
  }

  run(sql: string, params?: SqlParams): Promise<RunResult> {
    return this.exclusive(
      () =>
        new Promise<RunResult>((ok, fail) => {
          this.conn.run(sql, bindable(params), function (this: sqlite3.RunResult, err: Error | null) {
            if (err) fail(wrap(err, sql));
            else ok({ changes: this.changes, lastID: this.lastID });
          });
        }),
    );
  }

  get<T>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return this.exclusive(
      () =>
        new Promise<T | undefined>((ok, fail) => {
          this.conn.get<T>(sql, bindable(params), (err: Error | null, row: T | undefined) =>
            err ? fail(wrap(err, sql)) : ok(row),
          );
        }),
    );
  }

  all<T>(sql: string, params?: SqlParams): Promise<T[]> {
    return this.exclusive(
      () =>
        new Promise<T[]>((ok, fail) => {
          this.conn.all<T>(sql, bindable(params), (err: Error | null, rows: T[]) =>
            err ? fail(wrap(err, sql)) : ok(rows),
          );
        }),
    );
  }

  exec(sql: string): Promise<void> {
    return this.exclusive(() => this.rawExec(sql));
  }

  /**
   * Runs `fn` as one transaction (BEGIN IMMEDIATE on a writer, so it never fails half-way on a lock upgrade;
   * a plain BEGIN — a consistent snapshot — on a read-only connection). Commits when `fn` resolves, rolls
   * back and rethrows when it rejects. Other callers wait; calls made from inside `fn` join it; a nested
   * `transaction` is a SAVEPOINT that can fail alone.
   */
  transaction<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    const parent = this.current();
    this.assertOpen();
    return parent.lock.run(async () => {
      const frame: Frame = { lock: new Mutex(), depth: parent.depth + 1, open: true, parent };
      const top = frame.depth === 1;
      const savepoint = `sp_${frame.depth}`;
      await this.rawExec(top ? (this.readOnly ? 'BEGIN' : 'BEGIN IMMEDIATE') : `SAVEPOINT ${savepoint}`);
      let value: T;
      try {
        value = await this.frames.run(frame, () => fn(this));
        await drain(frame);
      } catch (e) {
        await drain(frame);
        frame.open = false;
        await this.rollback(top, savepoint);
        throw e;
      }
      frame.open = false;
      try {
        await this.rawExec(top ? 'COMMIT' : `RELEASE ${savepoint}`);
      } catch (e) {
        await this.rollback(top, savepoint);
        throw e;
      }
      return value;
    });
  }

  /** Waits for queued work, then closes. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.root.lock.run(async () => {
      if (this.closed) return;
      this.closed = true;
      await new Promise<void>((ok, fail) => this.conn.close((err) => (err ? fail(wrap(err, 'close')) : ok())));
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private async rollback(top: boolean, savepoint: string): Promise<void> {
    // SQLite may already have rolled back (e.g. after SQLITE_FULL); a failing ROLLBACK must not hide the cause.
    await this.rawExec(top ? 'ROLLBACK' : `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}`).catch(() => undefined);
  }

  private rawExec(sql: string): Promise<void> {
    return new Promise<void>((ok, fail) => this.conn.exec(sql, (err) => (err ? fail(wrap(err, sql)) : ok())));
  }

  /** The innermost still-open transaction of the calling async context, else the connection itself. */
  private current(): Frame {
    let f = this.frames.getStore();
    while (f && !f.open) f = f.parent;
    return f ?? this.root;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const frame = this.current();
    this.assertOpen();
    return frame.lock.run(() => {
      this.assertOpen();
      return fn();
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError(`the database ${this.path} is closed`, 'closed');
  }
}

/** Statements started inside a transaction body but not awaited still belong to it: let them finish. */
function drain(frame: Frame): Promise<void> {
  return frame.lock.run(async () => undefined);
}

function bindable(params: SqlParams | undefined): unknown[] | Record<string, unknown> {
  const conv = (v: SqlValue): unknown => {
    if (v instanceof Uint8Array && !Buffer.isBuffer(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    if (typeof v === 'boolean') return v ? 1 : 0;
    return v;
  };
  if (params === undefined) return [];
  if (Array.isArray(params)) return params.map(conv);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params as Record<string, SqlValue>)) out[k] = conv(v);
  return out;
}

function wrap(err: Error, sql: string): StoreError {
  const code = sqliteCode(err);
  const where = sql.length > 120 ? `${sql.slice(0, 117)}...` : sql;
  if (code === 'SQLITE_READONLY') {
    return new StoreError(`the database is read-only: ${err.message}`, 'read_only', { cause: err, sqlite: code });
  }
  if (code === 'SQLITE_FULL' || code === 'SQLITE_IOERR') {
    // Disk full, a file-size limit, or a failing device: say what the user can act on. SQLite rolls the
    // transaction back, so what was stored before stays intact.
    return new StoreError(
      `could not write the database (disk full, file size limit, or I/O error: ${err.message}); nothing from this write was stored`,
      'sqlite',
      { cause: err, sqlite: code },
    );
  }
  return new StoreError(`${err.message} (in: ${where.replace(/\s+/g, ' ').trim()})`, 'sqlite', {
    cause: err,
    sqlite: code,
  });
}

/**
 * Refuses, before SQLite touches anything, a path that holds something other than a SQLite database, and
 * turns unusable locations into readable errors. An empty file is fine (SQLite initialises it).
 */
async function prepareLocation(file: string, readonly: boolean): Promise<void> {
  const dir = dirname(file);
  if (!readonly) {
    try {
      await mkdir(dir, { recursive: true });
    } catch (e) {
      throw new StoreError(
        `cannot create the folder for the database ${file}: ${(e as Error).message}`,
        'cannot_open',
        { cause: e },
      );
    }
  }
  const info = await stat(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw new StoreError(`cannot open the database ${file}: ${e.message}`, 'cannot_open', { cause: e });
  });
  if (!info) {
    if (readonly) throw new StoreError(`no database at ${file}`, 'cannot_open');
  } else {
    if (!info.isFile()) throw new StoreError(`${file} is not a SQLite database (not a regular file)`, 'not_sqlite');
    if (info.size > 0) await checkHeader(file);
  }
  if (!readonly) {
    // WAL keeps -wal/-shm files beside the database, so the folder must be writable too.
    for (const target of info ? [file, dir] : [dir]) {
      try {
        await access(target, fsConstants.W_OK);
      } catch (e) {
        throw new StoreError(`cannot write the database ${file}: ${target} is not writable`, 'cannot_open', {
          cause: e,
        });
      }
    }
  }
}

async function checkHeader(file: string): Promise<void> {
  const fh = await openFile(file, 'r').catch((e: Error) => {
    throw new StoreError(`cannot read the database ${file}: ${e.message}`, 'cannot_open', { cause: e });
  });
  try {
    const buf = Buffer.alloc(SQLITE_HEADER.length);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    if (bytesRead < buf.length || !buf.equals(SQLITE_HEADER)) {
      throw new StoreError(`${file} is not a SQLite database`, 'not_sqlite');
    }
  } finally {
    await fh.close();
  }
}

/**
 * A read-only connection. A WAL database needs its -shm file to be read; when neither it can be created (a
 * read-only folder) nor is there one, SQLite refuses the first read with SQLITE_READONLY/CANTOPEN. Then the
 * file is opened `immutable`: no locks, no -shm, nothing written — what a read-only copy (a backup, a share,
 * another user's file) needs.
 */
async function connectReadOnly(file: string): Promise<sqlite3.Database> {
  const conn = await connect(file, true);
  const probe = await new Promise<Error | null>((ok) =>
    conn.get('SELECT count(*) FROM sqlite_master', (err: Error | null) => ok(err)),
  );
  if (!probe) return conn;
  await new Promise<void>((ok) => conn.close(() => ok()));
  const code = sqliteCode(probe);
  if (code !== 'SQLITE_READONLY' && code !== 'SQLITE_CANTOPEN') {
    throw new StoreError(`cannot open the database ${file}: ${probe.message}`, 'cannot_open', {
      cause: probe,
      sqlite: code,
    });
  }
  return connect(`${pathToFileURL(file).href}?immutable=1`, true, sqlite3.OPEN_URI);
}

function connect(file: string, readonly: boolean, extraFlags = 0): Promise<sqlite3.Database> {
  const mode = (readonly ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE) | extraFlags;
  return new Promise((ok, fail) => {
    const conn: sqlite3.Database = new sqlite3.Database(file, mode, (err) => {
      if (err)
        fail(
          new StoreError(`cannot open the database ${file}: ${err.message}`, 'cannot_open', {
            cause: err,
            sqlite: sqliteCode(err),
          }),
        );
      else ok(conn);
    });
  });
}
