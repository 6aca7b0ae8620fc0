// One front end per database: the desktop app (packaged or dev), `deepbern serve` and `deepbern start` take an
// exclusive lock file beside the DB (`workbench.db.lock`) for their lifetime, so two of them never both
// auto-resume and serve one DB. Who drives each run and sweep is decided by leases (leases.ts) for every writer,
// front end or CLI; this lock only keeps a second front end from opening the same DB (docs/db-schema.md).
import { mkdir, open, readFile, unlink, utimes, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';

export interface DbLockHolder {
  pid: number;
  host: string;
  /** e.g. `the desktop app`, `deepbern serve`. */
  command: string;
  startedAt: number;
}

export class DbLockedError extends Error {
  override name = 'DbLockedError';
  /** Like a lease's OwnedError: the CLI exits 4. */
  readonly code = 'owned';
  constructor(
    message: string,
    readonly holder: DbLockHolder,
  ) {
    super(message);
  }
}

export interface DbLock {
  readonly path: string;
  /** Removes the lock file (when it is still ours). Idempotent. */
  release(): Promise<void>;
}

/** A holder on another host that has not touched the lock for this long is presumed dead. */
const STALE_MS = 60_000;
const TOUCH_MS = 10_000;

export function lockPathFor(dbPath: string): string {
  return `${dbPath}.lock`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(path: string): Promise<DbLockHolder | null> {
  try {
    const h = JSON.parse(await readFile(path, 'utf8')) as Partial<DbLockHolder>;
    return typeof h.pid === 'number' && typeof h.host === 'string'
      ? {
          pid: h.pid,
          host: h.host,
          command: String(h.command ?? 'another program'),
          startedAt: Number(h.startedAt ?? 0),
        }
      : null;
  } catch {
    return null; // half-written or unreadable: treated as stale
  }
}

async function isStale(path: string, h: DbLockHolder | null): Promise<boolean> {
  if (!h) {
    // A lock file being written right now is a few ms old: give its writer a moment.
    const st = await stat(path).catch(() => null);
    return !st || Date.now() - st.mtimeMs > 2_000;
  }
  if (h.host === hostname()) return h.pid !== process.pid && !alive(h.pid);
  const st = await stat(path).catch(() => null);
  return !st || Date.now() - st.mtimeMs > STALE_MS;
}

/**
 * Takes the front-end lock of `dbPath`, or throws DbLockedError naming who holds it ("… is open in the desktop
 * app (pid 123 on host)"). A lock left by a process that is gone is taken over. For the Electron shell and serve.
 */
export async function acquireFrontEndLock(dbPath: string, opts: { command: string }): Promise<DbLock> {
  const path = lockPathFor(resolve(dbPath));
  await mkdir(dirname(path), { recursive: true });
  const me: DbLockHolder = { pid: process.pid, host: hostname(), command: opts.command, startedAt: Date.now() };
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fh = await open(path, 'wx');
      try {
        await fh.writeFile(JSON.stringify(me));
      } finally {
        await fh.close();
      }
      return held(path, me);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = await readHolder(path);
    if (holder && holder.pid === me.pid && holder.host === me.host) return held(path, me); // this process already holds it
    if (!(await isStale(path, holder))) {
      const h = holder as DbLockHolder;
      throw new DbLockedError(
        `the database ${dbPath} is open in ${h.command} (pid ${h.pid} on ${h.host}); close it there first, or use another --db`,
        h,
      );
    }
    await unlink(path).catch(() => undefined); // stale: its owner is gone
  }
  throw new Error(`could not take the lock ${path} (it keeps changing hands)`);
}

function held(path: string, me: DbLockHolder): DbLock {
  // Keep the mtime fresh so a process on another host (a shared folder) can tell we are alive.
  const touch = setInterval(() => void utimes(path, new Date(), new Date()).catch(() => undefined), TOUCH_MS);
  touch.unref();
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      clearInterval(touch);
      const h = await readHolder(path);
      if (h && h.pid === me.pid && h.host === me.host) await unlink(path).catch(() => undefined);
    },
  };
}
