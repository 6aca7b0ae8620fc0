// The desktop app's claim on its database (src-main/electron/app-start.ts), as main.ts runs it, against real
// second processes: a `deepbern serve` holding the lock refuses the app (naming it); the app holding it refuses
// `serve` (naming the app); a failed start releases it; and a live CLI `sweep run` keeps its sweep while the app
// starts and resumes (the app takes no front-end lock from a CLI writer, and never takes a live owner's sweep).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { APP_COMMAND, DB_LOCKED_EXIT, lockAppDatabase, startLocked } from '../src-main/electron/app-start.js';
import { WorkbenchService } from '../src-main/service/workbench-service.js';
import { lockPathFor } from '../src-main/store/db-lock.js';
import { BIN, cliAsync, tempDir } from './support/cli.js';
import { query } from './support/sqlite-query.js';
import { until, useFastLeases } from './support/wait.js';

const tmp = tempDir('deepbern-app-start-');
afterAll(() => tmp.cleanup());
const LEASE_ENV = useFastLeases();

/** The service exactly as the app starts it (transport, command, resume), small. */
const appService = (dbPath: string) => () =>
  WorkbenchService.start({
    dbPath,
    transport: 'electron',
    command: APP_COMMAND,
    workers: 1,
    backend: 'wasm',
    resumeOnStart: true,
  });

describe('the desktop app and the lock beside its database', () => {
  it('a running `deepbern serve` holds the DB: the app is refused, naming it, and nothing is taken', async () => {
    const db = join(tmp.dir, 'served.db');
    const server = cliAsync(['serve', '--no-open', '--port', '0', '--workers', '1', '--backend', 'wasm', '--db', db], {
      env: LEASE_ENV,
    });
    let out = '';
    server.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await until('serve to print its URL', async () => out.includes('http'));
      const before = readFileSync(lockPathFor(db), 'utf8');
      const r = await lockAppDatabase(db);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.refusal.holder).toMatchObject({ pid: server.child.pid, host: hostname(), command: 'deepbern serve' });
      expect(r.refusal.message).toBe(
        `The database is already open in deepbern serve (pid ${server.child.pid} on ${hostname()}).`,
      );
      expect(r.refusal.detail).toContain(db);
      expect(r.refusal.exitCode).toBe(DB_LOCKED_EXIT);
      expect(readFileSync(lockPathFor(db), 'utf8')).toBe(before); // serve keeps it
    } finally {
      server.child.kill('SIGTERM');
      await server.done;
    }
    // Once serve stopped, the app gets it.
    const r = await lockAppDatabase(db);
    expect(r.ok).toBe(true);
    if (r.ok) await r.lock.release();
  }, 120_000);

  it('the app holds the DB: `deepbern serve` exits 4 naming the app; after the app closes, the lock is gone', async () => {
    const db = join(tmp.dir, 'app.db');
    const locked = await lockAppDatabase(db);
    if (!locked.ok) throw new Error(locked.refusal.message);
    const app = await startLocked(locked.lock, appService(db));
    try {
      expect(JSON.parse(readFileSync(lockPathFor(db), 'utf8'))).toMatchObject({
        pid: process.pid,
        command: APP_COMMAND,
      });
      const serve = spawnSync(process.execPath, [BIN, 'serve', '--no-open', '--port', '0', '--db', db], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(serve.status, serve.stderr).toBe(4);
      expect(serve.stderr).toContain(`is open in the desktop app (pid ${process.pid} on ${hostname()})`);
    } finally {
      await app.close();
    }
    expect(existsSync(lockPathFor(db))).toBe(false);
  }, 120_000);

  it('a start that fails releases the lock, so the next start is not refused by it', async () => {
    const db = join(tmp.dir, 'failed.db');
    const locked = await lockAppDatabase(db);
    if (!locked.ok) throw new Error(locked.refusal.message);
    const boom = new Error('the backend probe failed');
    await expect(startLocked(locked.lock, () => Promise.reject(boom))).rejects.toBe(boom);
    expect(existsSync(lockPathFor(db))).toBe(false);
  });

  it('a live CLI `sweep run` keeps its sweep while the app starts and resumes; the CLI finishes with exit 0', async () => {
    const db = join(tmp.dir, 'cli.db');
    const file = join(tmp.dir, 'cli.yaml');
    writeFileSync(
      file,
      'name: cli-owned\ndataset: synthetic-higgs\nrows: 1600\nbase: {depth: 3, width: 16, epochs: 8, batchSize: 32}\nparameters:\n  activation: {values: [relu, selu]}\n',
    );
    const run = cliAsync(['sweep', 'run', file, '--workers', '2', '--db', db], { env: LEASE_ENV });
    await until(
      'an epoch',
      async () =>
        (await query<{ n: number }>(db, "SELECT count(*) AS n FROM epoch_metrics WHERE metric = 'train_loss'"))[0]!.n >=
        1,
    );
    // A CLI writer takes no front-end lock: the app gets it, and its leases decide who drives what.
    const locked = await lockAppDatabase(db);
    if (!locked.ok) throw new Error(locked.refusal.message);
    const app = await startLocked(locked.lock, appService(db));
    const epochsInApp: string[] = [];
    app.service.onEvent((e) => {
      if (e.type === 'run-epoch') epochsInApp.push(e.runId);
    });
    try {
      const owner = async () =>
        (
          await query<{ pid: number; command: string }>(
            db,
            'SELECT o.pid, o.command FROM sweeps s JOIN owners o ON o.id = s.owner_id',
          )
        )[0];
      expect(await owner()).toMatchObject({ pid: run.child.pid });
      expect((await owner())!.command).not.toBe(APP_COMMAND);
      expect((await app.service['system.info']()).workers.busy).toBe(0);
      const r = await run.done;
      expect(r.code, r.stderr).toBe(0);
      expect(await query(db, 'SELECT status, epochs_done FROM runs ORDER BY id')).toEqual([
        { status: 'finished', epochs_done: 8 },
        { status: 'finished', epochs_done: 8 },
      ]);
      expect((await query<{ status: string }>(db, 'SELECT status FROM sweeps'))[0]!.status).toBe('finished');
      // The app trained none of it.
      expect(epochsInApp).toEqual([]);
    } finally {
      run.child.kill('SIGKILL');
      await app.close();
    }
  }, 240_000);
});
