// Sweeps on remote workers through a real redis-server (loopback, password) and real `deepbern worker`
// processes: a SIGKILLed worker's run resumes elsewhere with every epoch stored once and metrics equal to a
// local-pool run; bad Redis URLs fail with one clear line and leave the sweep resumable; cancel empties the queue.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import sqlite3 from 'sqlite3';
import { listRemoteWorkers } from '../workers/remote/registry.js';
import { BIN, cli, cliAsync, tempDir, type CliResult } from './support/cli.js';
import { freePort, startRedisServer } from './support/redis.js';

const tmp = tempDir('deepbern-remote-');
const PASSWORD = 'test-' + Math.random().toString(36).slice(2);
let redis: ChildProcess | null = null;
let port = 0;
let url = '';
const workers = new Set<ChildProcess>();

function exited(p: ChildProcess): Promise<void> {
  return p.exitCode !== null || p.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => p.once('exit', () => r()));
}

async function startRedis(): Promise<void> {
  ({ proc: redis, port } = await startRedisServer(tmp.dir, PASSWORD, async (p) => {
    port = p;
    url = `redis://:${PASSWORD}@127.0.0.1:${p}`;
    await redisCall('PING');
  }));
}

/** One command on a fresh connection (no retries: an error if redis-server is not up yet). */
async function redisCall(command: string, ...args: string[]): Promise<unknown> {
  const c = new Redis({
    host: '127.0.0.1',
    port,
    password: PASSWORD,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return await c.call(command, ...args);
  } finally {
    c.disconnect();
  }
}

/** A `deepbern worker` process; resolves once it says it is waiting for runs. */
async function startWorker(): Promise<{ proc: ChildProcess; log: () => string }> {
  const proc = spawn(
    process.execPath,
    [BIN, 'worker', '--redis', url, '--backend', 'wasm', '--lock-duration', '3000', '--stalled-interval', '1000'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  workers.add(proc);
  proc.once('exit', () => workers.delete(proc));
  let log = '';
  proc.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const deadline = Date.now() + 30_000;
  while (!/waiting for runs/.test(log)) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`worker did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, log: () => log };
}

async function stopWorkers(): Promise<void> {
  const all = [...workers];
  for (const w of all) w.kill('SIGTERM');
  await Promise.all(all.map(exited));
}

function query<T>(db: string, sql: string): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const d = new sqlite3.Database(db, sqlite3.OPEN_READONLY, (e) => e && reject(e));
    d.all(sql, (e, rows) => {
      d.close();
      if (e) reject(e);
      else resolve(rows as T[]);
    });
  });
}

const SWEEP = `name: rs
dataset: synthetic-higgs
rows: 1500
base: {depth: 2, width: 8, epochs: 4, batchSize: 32}
parameters:
  activation: {values: [bernstein, relu, selu]}
  lr: {values: [0.01, 0.003]}
`;
const sweepFile = join(tmp.dir, 'six.yaml');

type MetricRow = { name: string; epoch: number; metric: string; value: number };
const METRICS_SQL = `SELECT r.name, m.epoch, m.metric, m.value FROM epoch_metrics m JOIN runs r ON r.id = m.run_id
  WHERE m.metric NOT IN ('epoch_time_s', 'probe_time_s', 'dead_time_s') ORDER BY r.name, m.epoch, m.metric`;

beforeAll(async () => {
  writeFileSync(sweepFile, SWEEP);
  await startRedis();
});

afterAll(async () => {
  await stopWorkers();
  if (redis) {
    redis.kill('SIGTERM');
    await exited(redis);
    expect(redis.exitCode !== null || redis.signalCode !== null).toBe(true); // redis-server is stopped
  }
  tmp.cleanup();
});

describe('remote workers over Redis', () => {
  it('a wrong password or an unreachable Redis: one clear line, exit 2, nothing marked failed', async () => {
    const db = join(tmp.dir, 'bad.db');
    const wrong = cli([
      'sweep',
      'run',
      sweepFile,
      '--redis',
      `redis://:not-the-password@127.0.0.1:${port}`,
      '--db',
      db,
    ]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^deepbern: Redis at redis:\/\/127\.0\.0\.1:\d+ refused the password/),
    ]);
    expect(wrong.stderr).not.toContain('not-the-password');
    const sweepId = wrong.stdout.trim();
    const dead = await freePort();
    const unreachable = cli(['sweep', 'resume', sweepId, '--redis', `redis://:x@127.0.0.1:${dead}`, '--db', db]);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^deepbern: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+: connection refused/),
    ]);
    const noPassword = cli(['worker', '--redis', `redis://127.0.0.1:${port}`]);
    expect(noPassword.code).toBe(2);
    expect(noPassword.stderr).toMatch(/requires a password/);
    const list = cli(['worker', '--redis', url, '--list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^no workers connected to redis:\/\/:\*\*\*@127\.0\.0\.1:\d+/); // the password is never printed
    // the sweep is intact and resumable: its runs are queued, none failed
    const runs = await query<{ status: string }>(db, 'SELECT status FROM runs');
    expect(runs.map((r) => r.status)).toEqual(Array(6).fill('queued'));
  });

  it('two workers, one SIGKILLed mid-run: every run finishes, one row per (run, epoch), metrics equal a local run', async () => {
    const localDb = join(tmp.dir, 'local.db');
    const local = cli(['sweep', 'run', sweepFile, '--workers', '2', '--backend', 'wasm', '--db', localDb]);
    expect(local.code).toBe(0);

    const a = await startWorker();
    const b = await startWorker();
    const db = join(tmp.dir, 'remote.db');
    const sweep = cliAsync(['sweep', 'run', sweepFile, '--redis', url, '--backend', 'wasm', '--db', db]);
    // Kill worker A while it trains a run that has stored an epoch but not all (or, failing that, while busy).
    const aPid = a.proc.pid as number;
    let victim: string | null = null;
    let killedAfterEpochs = -1;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && victim === null) {
      await new Promise((r) => setTimeout(r, 40));
      const list = await listRemoteWorkers(url);
      const run = list.find((w) => w.pid === aPid)?.runs[0];
      if (!run) continue;
      const done =
        (
          await query<{ epochs_done: number }>(db, `SELECT epochs_done FROM runs WHERE id = '${run}'`).catch(() => [])
        )[0]?.epochs_done ?? 0;
      if (done >= 1 && done < 4) [victim, killedAfterEpochs] = [run, done];
      else if (done === 0 && Date.now() > deadline - 100_000) [victim, killedAfterEpochs] = [run, 0];
    }
    expect(victim).not.toBeNull();
    a.proc.kill('SIGKILL');
    const r: CliResult = await sweep.done;
    expect(r.stderr).toMatch(/finished: 6 finished/);
    expect(r.code).toBe(0);
    // the killed run was picked up again by worker B (BullMQ stalled-job detection) and resumed
    expect(b.log()).toMatch(new RegExp(`run ${victim} started \\(job \\S+, attempt 2\\)`));
    console.log(`killed worker A during run ${victim} after ${killedAfterEpochs} stored epoch(s); worker B resumed it`);

    const runs = await query<{ status: string; epochs_done: number }>(db, 'SELECT status, epochs_done FROM runs');
    expect(runs).toEqual(Array(6).fill({ status: 'finished', epochs_done: 4 }));
    const perEpoch = await query<{ n: number }>(
      db,
      'SELECT COUNT(*) n FROM epoch_metrics GROUP BY run_id, epoch, metric HAVING n > 1',
    );
    expect(perEpoch).toEqual([]);
    const epochs = await query<{ n: number }>(db, "SELECT COUNT(*) n FROM epoch_metrics WHERE metric = 'train_loss'");
    expect(epochs[0].n).toBe(24);
    expect(await query(db, 'PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);

    const mine = await query<MetricRow>(db, METRICS_SQL);
    const ref = await query<MetricRow>(localDb, METRICS_SQL);
    expect(mine.map((m) => `${m.name}/${m.epoch}/${m.metric}`)).toEqual(
      ref.map((m) => `${m.name}/${m.epoch}/${m.metric}`),
    );
    for (let i = 0; i < ref.length; i++)
      expect(
        Math.abs(mine[i].value - ref[i].value),
        `${ref[i].name} epoch ${ref[i].epoch} ${ref[i].metric}`,
      ).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(ref[i].value)));
    // the final models were stored too
    expect((await query<{ n: number }>(db, 'SELECT COUNT(*) n FROM models'))[0].n).toBe(6);
    // nothing left behind in the queue
    expect(await redisCall('LLEN', 'deepbern:runs:wait')).toBe(0);
    expect(await redisCall('LLEN', 'deepbern:runs:active')).toBe(0);
    await stopWorkers();
  });

  it("SIGKILL of a worker's run process: that run ends interrupted (one line, exit 5) and `sweep resume` finishes it", async () => {
    const w = await startWorker();
    const db = join(tmp.dir, 'child.db');
    const file = join(tmp.dir, 'child.yaml');
    writeFileSync(
      file,
      SWEEP.replace('epochs: 4', 'epochs: 12').replace('lr: {values: [0.01, 0.003]}', 'lr: {value: 0.01}'),
    );
    const sweep = cliAsync(['sweep', 'run', file, '--redis', url, '--backend', 'wasm', '--db', db]);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      const n = (
        await query<{ n: number }>(
          db,
          "SELECT COALESCE(MAX(epochs_done), 0) n FROM runs WHERE status = 'running'",
        ).catch(() => [{ n: 0 }])
      )[0].n;
      if (n >= 1) break;
    }
    const kids = spawnSync('pgrep', ['-P', String(w.proc.pid)], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')
      .filter(Boolean);
    expect(kids.length).toBeGreaterThan(0);
    for (const k of kids) process.kill(Number(k), 'SIGKILL');
    const r = await sweep.done;
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toMatch(
      /interrupted: the remote worker's run process died \(Unexpected exit code: null signal: SIGKILL\); `deepbern sweep resume` continues/,
    );
    expect(r.stderr).toMatch(/sweep \S+ interrupted: /);
    const statuses = (await query<{ status: string }>(db, 'SELECT status FROM runs')).map((x) => x.status);
    expect(statuses).toContain('interrupted');
    expect(statuses.filter((x) => x !== 'interrupted' && x !== 'finished')).toEqual([]);
    const sweepId = r.stdout.trim();
    const resumed = cli(['sweep', 'resume', sweepId, '--redis', url, '--backend', 'wasm', '--db', db]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(await query(db, 'SELECT status, epochs_done FROM runs')).toEqual(
      Array(3).fill({ status: 'finished', epochs_done: 12 }),
    );
    await stopWorkers();
  });

  it('a Redis restart without persistence: `sweep run --redis` ends with interrupted runs and one clear line, not a hang', async () => {
    await startWorker();
    const db = join(tmp.dir, 'restart.db');
    const file = join(tmp.dir, 'restart.yaml');
    writeFileSync(file, SWEEP.replace('epochs: 4', 'epochs: 200'));
    const sweep = cliAsync(['sweep', 'run', file, '--redis', url, '--backend', 'wasm', '--db', db]);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      const n = (
        await query<{ n: number }>(db, 'SELECT COALESCE(MAX(epochs_done), 0) n FROM runs').catch(() => [{ n: 0 }])
      )[0].n;
      if (n >= 1) break;
    }
    redis!.kill('SIGKILL');
    await exited(redis!);
    ({ proc: redis } = await startRedisServer(tmp.dir, PASSWORD, async () => void (await redisCall('PING')), port));
    const r = await sweep.done;
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toMatch(
      /Redis lost this run's job \(restarted without persistence\?\); `deepbern sweep resume` continues/,
    );
    const statuses = (await query<{ status: string }>(db, 'SELECT status FROM runs')).map((x) => x.status);
    expect(statuses).toContain('interrupted');
    expect(statuses.filter((x) => !['interrupted', 'queued', 'finished'].includes(x))).toEqual([]);
    expect((await query<{ status: string }>(db, 'SELECT status FROM sweeps'))[0].status).toBe('interrupted');
    await stopWorkers();
  }, 180_000);

  it('Ctrl-C of a remote sweep cancels its runs and removes their jobs; the worker goes idle', async () => {
    const w = await startWorker();
    const db = join(tmp.dir, 'cancel.db');
    const file = join(tmp.dir, 'long.yaml');
    writeFileSync(file, SWEEP.replace('epochs: 4', 'epochs: 200'));
    const sweep = cliAsync(['sweep', 'run', file, '--redis', url, '--backend', 'wasm', '--db', db]);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      const n = (
        await query<{ n: number }>(db, 'SELECT COALESCE(MAX(epochs_done), 0) n FROM runs').catch(() => [{ n: 0 }])
      )[0].n;
      if (n >= 1) break;
    }
    sweep.child.kill('SIGINT');
    const r = await sweep.done;
    expect(r.code).toBe(130);
    const runs = await query<{ status: string; epochs_done: number }>(db, 'SELECT status, epochs_done FROM runs');
    expect(runs.every((x) => x.status === 'cancelled')).toBe(true);
    expect(runs.some((x) => x.epochs_done >= 1 && x.epochs_done < 200)).toBe(true);
    expect(await redisCall('LLEN', 'deepbern:runs:wait')).toBe(0);
    // the running job aborted between batches: the worker is idle again within a few seconds
    let busy = 1;
    for (let i = 0; i < 50 && busy > 0; i++) {
      await new Promise((res) => setTimeout(res, 100));
      // this worker's record: a SIGKILLed worker of the previous test may still be listed until its heartbeat expires
      busy = (await listRemoteWorkers(url)).find((x) => x.pid === w.proc.pid)?.busy ?? -1; // -1: not listed at all (fails below)
    }
    expect(busy).toBe(0);
    expect(w.log()).toMatch(/run \S+ cancelled/);
    await stopWorkers();
  });

  it('wall time of the same 6-run sweep on 1 vs 2 workers', async () => {
    // Plumbing (one and two workers drain the same sweep), not a benchmark: small runs keep it short.
    const small = join(tmp.dir, 'six-small.yaml');
    writeFileSync(small, SWEEP.replace('rows: 1500', 'rows: 400').replace('epochs: 4', 'epochs: 2'));
    const times: Record<number, number> = {};
    for (const n of [1, 2]) {
      for (let i = 0; i < n; i++) await startWorker();
      const t0 = performance.now();
      const r = cli(['sweep', 'run', small, '--redis', url, '--backend', 'wasm', '--db', join(tmp.dir, `time${n}.db`)]);
      times[n] = (performance.now() - t0) / 1000;
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/finished: 6 finished/);
      await stopWorkers();
    }
    console.log(`6-run sweep wall time: 1 worker ${times[1].toFixed(1)} s, 2 workers ${times[2].toFixed(1)} s`);
  });
});
