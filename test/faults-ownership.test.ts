// Ownership faults (issue 13, "Run and sweep ownership"): a killed `train` leaves an interrupted run (not one
// `running` forever) that can be cancelled, deleted and resumed; a live owner's sweep is never taken over (a
// second `sweep resume` names the owner and exits 4, or waits with --wait; `serve` leaves it alone); a write
// lock held longer than the busy timeout does not fail a run; exit codes say what happened.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, cliAsync, tempDir } from './support/cli.js';
import { query } from './support/sqlite-query.js';
import { sleep, until, useFastLeases } from './support/wait.js';
import { WorkbenchService } from '../src-main/service/workbench-service.js';

const tmp = tempDir('deepbern-owners-');
afterAll(() => tmp.cleanup());
const LEASE_ENV = useFastLeases();

const epochsStored = async (db: string) =>
  (await query<{ n: number }>(db, "SELECT count(*) AS n FROM epoch_metrics WHERE metric = 'train_loss'"))[0]!.n;

function slowSweep(name: string, epochs = 40): string {
  const file = join(tmp.dir, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}\ndataset: synthetic-higgs\nrows: 1600\nbase: {depth: 3, width: 16, epochs: ${epochs}, batchSize: 32}\nparameters:\n  activation: {values: [relu, selu]}\n`,
  );
  return file;
}

describe('run and sweep ownership', () => {
  it('a SIGKILLed `train` is interrupted once its lease expires; cancel, delete and resume work', async () => {
    const db = join(tmp.dir, 'train.db');
    const trainArgs = [
      'train',
      '--rows',
      '1600',
      '--depth',
      '3',
      '--width',
      '16',
      '--activation',
      'relu',
      '--epochs',
      '200',
      '--batch-size',
      '32',
      '--db',
      db,
    ];
    const a = cliAsync(trainArgs, { env: LEASE_ENV });
    await until('an epoch', async () => (await epochsStored(db)) >= 1);
    a.child.kill('SIGKILL');
    await a.done;
    const [run] = await query<{ id: string; status: string; owner_id: string | null }>(
      db,
      'SELECT id, status, owner_id FROM runs',
    );
    expect(run!.status).toBe('running'); // what the kill left; nobody has looked yet
    // The owner row's lease runs out; any writer then sees the run as interrupted.
    await sleep(1700);
    const listed = JSON.parse(cli(['runs', '--db', db, '--json']).stdout);
    expect(listed.runs[0]).toMatchObject({ id: run!.id, status: 'interrupted' });
    expect(listed.runs[0].error).toMatch(/pid \d+ on .* stopped without finishing it/);

    // resume: continues from its checkpoint and finishes (a short run: lower the goal by editing nothing — it has 200 epochs, so cancel it mid-way)
    const resumed = cliAsync(['resume', run!.id, '--db', db], { env: LEASE_ENV });
    const done = (await query<{ epochs_done: number }>(db, 'SELECT epochs_done FROM runs'))[0]!.epochs_done;
    await until(
      'a resumed epoch',
      async () => (await query<{ epochs_done: number }>(db, 'SELECT epochs_done FROM runs'))[0]!.epochs_done > done,
    );
    const svc = await WorkbenchService.start({ dbPath: db, transport: 'web', workers: 1, backend: 'wasm' });
    try {
      // Another live process trains it: delete refuses, cancel asks the owner, who stops it.
      await expect(svc['runs.delete']([run!.id])).rejects.toThrow(/still running/);
      await svc['runs.cancel'](run!.id);
      const r = await resumed.done;
      expect(r.code, r.stderr).toBe(130);
      expect((await svc['runs.get'](run!.id)).status).toBe('cancelled');
      expect((await svc['runs.get'](run!.id)).epochsDone).toBeGreaterThan(done);
    } finally {
      await svc.close();
    }

    // A second killed train: its interrupted run is cancelled, then deleted, from another process.
    const b = cliAsync(trainArgs, { env: LEASE_ENV });
    await until(
      'an epoch of the second run',
      async () =>
        (
          await query<{ n: number }>(db, "SELECT count(*) n FROM runs WHERE epochs_done >= 1 AND status = 'running'")
        )[0]!.n === 1,
    );
    b.child.kill('SIGKILL');
    await b.done;
    const second = (await query<{ id: string }>(db, "SELECT id FROM runs WHERE status = 'running'"))[0]!.id;
    await sleep(1700);
    const svc2 = await WorkbenchService.start({ dbPath: db, transport: 'web', workers: 1, backend: 'wasm' });
    try {
      expect((await svc2['runs.get'](second)).status).toBe('interrupted');
      await svc2['runs.cancel'](second);
      expect((await svc2['runs.get'](second)).status).toBe('cancelled');
      expect(await svc2['runs.delete']([second])).toMatchObject({ deleted: 1 });
    } finally {
      await svc2.close();
    }
  }, 240_000);

  it('two `sweep resume` at once: the second names the owner and exits 4; --wait waits and takes over when the owner dies', async () => {
    const db = join(tmp.dir, 'two.db');
    const file = slowSweep('two', 400);
    const first = cliAsync(['sweep', 'run', file, '--workers', '2', '--db', db], { env: LEASE_ENV });
    await until('an epoch', async () => (await epochsStored(db)) >= 1);
    const sweepId = (await query<{ id: string }>(db, 'SELECT id FROM sweeps'))[0]!.id;
    const second = cli(['sweep', 'resume', sweepId, '--workers', '1', '--db', db], { env: LEASE_ENV });
    expect(second.code, second.stderr).toBe(4);
    expect(second.stderr).toMatch(
      new RegExp(`sweep ${sweepId} \\(two\\) is being run by pid ${first.child.pid} on .*deepbern sweep run|deepbern`),
    );
    expect(second.stderr).toContain(`pid ${first.child.pid}`);
    // Nothing was cancelled or taken over by the refused process.
    expect(await query(db, "SELECT id FROM runs WHERE status IN ('cancelled', 'interrupted')")).toEqual([]);
    expect((await query<{ status: string }>(db, 'SELECT status FROM sweeps'))[0]!.status).toBe('running');

    const waiter = cliAsync(['sweep', 'resume', sweepId, '--wait', '--workers', '2', '--db', db], { env: LEASE_ENV });
    let waiterErr = '';
    waiter.child.stderr?.on('data', (d: Buffer) => (waiterErr += d.toString()));
    await until('the waiter to wait', async () => /waiting \(--wait\)/.test(waiterErr));
    await sleep(1000);
    expect(waiter.child.exitCode).toBe(null); // still waiting
    expect(await query(db, "SELECT id FROM runs WHERE status IN ('cancelled', 'interrupted')")).toEqual([]);
    first.child.kill('SIGKILL');
    await first.done;
    // The waiter takes over once the owner is gone; let it run a little, then stop it with Ctrl-C.
    const before = await epochsStored(db);
    await until('the waiter trains', async () => (await epochsStored(db)) > before);
    waiter.child.kill('SIGINT');
    const w = await waiter.done;
    expect(w.stderr).toMatch(/waiting \(--wait\)/);
    expect(w.code, w.stderr).toBe(130);
    const runs = await query<{ status: string }>(db, 'SELECT status FROM runs');
    expect(runs.every((r) => r.status === 'cancelled' || r.status === 'finished')).toBe(true);
    expect(await query(db, 'SELECT id FROM runs WHERE owner_id IS NOT NULL')).toEqual([]);
  }, 240_000);

  it('`serve` started while a CLI sweep runs does not take it over; the CLI finishes with exit 0', async () => {
    const db = join(tmp.dir, 'serve.db');
    const file = slowSweep('served', 8);
    const run = cliAsync(['sweep', 'run', file, '--workers', '2', '--db', db], { env: LEASE_ENV });
    await until('an epoch', async () => (await epochsStored(db)) >= 1);
    const server = cliAsync(['serve', '--no-open', '--port', '0', '--workers', '2', '--db', db], { env: LEASE_ENV });
    try {
      const r = await run.done;
      expect(r.code, r.stderr).toBe(0);
      expect(await query(db, 'SELECT status, epochs_done FROM runs')).toEqual([
        { status: 'finished', epochs_done: 8 },
        { status: 'finished', epochs_done: 8 },
      ]);
      expect((await query<{ status: string }>(db, 'SELECT status FROM sweeps'))[0]!.status).toBe('finished');
    } finally {
      server.child.kill('SIGTERM');
      await server.done;
    }
  }, 240_000);

  it('a write lock held longer than the busy timeout does not fail the run', async () => {
    const db = join(tmp.dir, 'busy.db');
    const env = {
      ...LEASE_ENV,
      DEEPBERN_LEASE_MS: '10000',
      DEEPBERN_HEARTBEAT_MS: '500',
      DEEPBERN_BUSY_TIMEOUT_MS: '100',
    };
    const t = cliAsync(
      [
        'train',
        '--rows',
        '800',
        '--depth',
        '2',
        '--width',
        '8',
        '--activation',
        'relu',
        '--epochs',
        '8',
        '--batch-size',
        '32',
        '--db',
        db,
      ],
      { env },
    );
    await until('an epoch', async () => (await epochsStored(db)) >= 1);
    // Another program takes the write lock for 2.5 s: 25× the run's busy timeout.
    const other = new sqlite3.Database(db);
    await new Promise<void>((ok, fail) => other.exec('BEGIN IMMEDIATE', (e) => (e ? fail(e) : ok())));
    await sleep(2500);
    await new Promise<void>((ok, fail) => other.exec('COMMIT', (e) => (e ? fail(e) : ok())));
    await new Promise<void>((ok) => other.close(() => ok()));
    const r = await t.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/locked by another program; waiting/);
    expect(await query(db, 'SELECT status, epochs_done FROM runs')).toEqual([{ status: 'finished', epochs_done: 8 }]);
  }, 180_000);

  it('exit codes: a diverged run exits 3', () => {
    const db = join(tmp.dir, 'codes.db');
    const r = cli([
      'train',
      '--dataset',
      'fn:smooth',
      '--rows',
      '200',
      '--depth',
      '2',
      '--width',
      '8',
      '--activation',
      'selu',
      '--optimizer',
      'sgd',
      '--lr',
      '10',
      '--epochs',
      '30',
      '--db',
      db,
    ]);
    expect(r.stderr).toMatch(/diverged/);
    expect(r.code).toBe(3);
  }, 120_000);
});
