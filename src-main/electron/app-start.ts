// The desktop app's claim on its database, kept free of any `electron` import so it is tested under plain Node
// (test/electron-app-start.test.ts) against a real `deepbern serve` holding the lock. One front end per DB: the
// app takes the same lock file beside the DB as `serve` (store/db-lock.ts), before it opens the store or
// resumes anything, so two front ends never both auto-resume one DB. Electron's single-instance lock (in its
// user-data folder) only keeps one app per user; this one covers the dev app, a second user-data folder and
// `serve` too. CLI writers (`train`, `sweep run/resume`) take no front-end lock: their runs and sweeps are
// leased (store/leases.ts), and the app's resume skips whatever a live owner drives.
import { acquireFrontEndLock, DbLockedError, type DbLock, type DbLockHolder } from '../store/db-lock.js';

/** What the app is, as a second front end names it: "… is open in the desktop app (pid 123 on host)". */
export const APP_COMMAND = 'the desktop app';

/**
 * The app's exit code when another front end has its database (the CLI's `owned` exit code): the app said
 * why in a dialog, so `deepbern start` does not mistake it for Electron dying at launch.
 */
export const DB_LOCKED_EXIT = 4;

/** Why the app does not start, as the one dialog shows it. */
export interface AppRefusal {
  title: string;
  message: string;
  detail: string;
  exitCode: number;
  holder: DbLockHolder;
}

export type AppLock = { ok: true; lock: DbLock } | { ok: false; refusal: AppRefusal };

/** Takes the front-end lock of `dbPath` for the app, or says who holds it. Other errors (a read-only folder) throw. */
export async function lockAppDatabase(dbPath: string): Promise<AppLock> {
  try {
    return { ok: true, lock: await acquireFrontEndLock(dbPath, { command: APP_COMMAND }) };
  } catch (e) {
    if (!(e instanceof DbLockedError)) throw e;
    const h = e.holder;
    return {
      ok: false,
      refusal: {
        title: 'DeepBern Workbench cannot open its database',
        message: `The database is already open in ${h.command} (pid ${h.pid} on ${h.host}).`,
        detail:
          `${dbPath}\n\nOnly one front end (the app or deepbern serve) may drive a database at a time. ` +
          `Close it there first, or start the app on another database (deepbern start --db <file>).`,
        exitCode: DB_LOCKED_EXIT,
        holder: h,
      },
    };
  }
}

/** A started front end and how to stop it: the service first (its runs pause, the store closes), then the lock. */
export interface LockedService<S extends { close(): Promise<void> }> {
  service: S;
  close(): Promise<void>;
}

/**
 * Starts the service while holding `lock`. When the start fails the lock is released (and the error thrown),
 * so a relaunch is not refused by a process that never opened the store.
 */
export async function startLocked<S extends { close(): Promise<void> }>(
  lock: DbLock,
  start: () => Promise<S>,
): Promise<LockedService<S>> {
  let service: S;
  try {
    service = await start();
  } catch (e) {
    await lock.release();
    throw e;
  }
  return {
    service,
    close: () => service.close().finally(() => lock.release()),
  };
}
