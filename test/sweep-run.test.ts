// Sweeps on a real Piscina pool with a real SQLite file: every epoch lands once; cancel, divergence,
// early termination; and a SIGKILLed sweep process resumes with nothing lost or duplicated.
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import sqlite3 from 'sqlite3';
import type { WorkbenchEvent } from '../shared/api.js';
import { RunStore } from '../src-main/store/run-store.js';
import { LocalPoolExecutor } from '../src-main/scheduler/local-pool.js';
import { createSweepFromText, Scheduler } from '../src-main/scheduler/scheduler.js';
import { cli, cliAsync, tempDir } from './support/cli.js';

const tmp = tempDir('deepbern-sweep-');
afterAll(() => tmp.cleanup());

const tiny = (extra: string) => `name: t
dataset: synthetic-higgs
rows: 400
base: {depth: 2, width: 8, epochs: 2, batchSize: 64}
${extra}`;

async function withScheduler<T>(
  db: string,
  workers: number,
  fn: (s: Scheduler, store: RunStore, events: WorkbenchEvent[]) => Promise<T>,
): Promise<T> {
  const store = await RunStore.open(db);
  const scheduler = new Scheduler(store, new LocalPoolExecutor({ workers }));
  const events: WorkbenchEvent[] = [];
  scheduler.on('event', (e: WorkbenchEvent) => events.push(e));
  try {
    return await fn(scheduler, store, events);
  } finally {
    await scheduler.close();
    await store.close();
  }
}

function query<T>(db: string, sql: string): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const d = new sqlite3.Database(db, sqlite3.OPEN_READONLY, (openError) => {
      if (openError) reject(openError);
    });
    d.all(sql, (e, rows) => {
      d.close();
      if (e) reject(e);
      else resolve(rows as T[]);
    });
  });
}

describe('sweep scheduler on a worker pool', () => {
  it("splits the pool's cores between the runs it starts (docs/threads.md), or gives each the sweep file's threads", async () => {
    const threadsOf = (events: WorkbenchEvent[]) =>
      events.filter((e) => e.type === 'run-start').map((e) => (e as { threads?: number }).threads);
    const sweep = async (file: string): Promise<(number | undefined)[]> =>
      withScheduler(
        join(tmp.dir, `threads-${Math.random().toString(36).slice(2)}.db`),
        2,
        async (scheduler, store, events) => {
          const { sweepId } = await createSweepFromText(store, file);
          await scheduler.startSweep(sweepId);
          await scheduler.waitForSweep(sweepId);
          expect((await store.listRuns({ sweepId })).rows.every((r) => r.status === 'finished')).toBe(true);
          return threadsOf(events);
        },
      );
    const one = 'parameters:\n  activation: {value: bernstein}\n';
    expect(await sweep(tiny(`threads: auto\n${one}`))).toEqual([2]); // one run on 2 cores: both
    expect(await sweep(tiny('threads: auto\nparameters:\n  activation: {values: [bernstein, relu]}\n'))).toEqual([
      1, 1,
    ]); // two runs: one each
    expect(await sweep(tiny(`threads: 2\n${one}`))).toEqual([2]);
    expect(await sweep(tiny(one))).toEqual([1]); // DEFAULT_RUN_THREADS
    const store = await RunStore.open(join(tmp.dir, 'bad-threads.db'));
    await expect(createSweepFromText(store, tiny(`threads: 0\n${one}`))).rejects.toThrow(
      /threads must be auto or an integer from 1 to 64/,
    );
    await store.close();
  });

  it('a 2-worker pool runs 4 runs; every epoch of every run lands exactly once', async () => {
    const db = join(tmp.dir, 'four.db');
    await withScheduler(db, 2, async (scheduler, store, events) => {
      const { sweepId, runIds } = await createSweepFromText(
        store,
        tiny('parameters:\n  activation: {values: [bernstein, relu]}\n  width: {values: [4, 8]}\n'),
      );
      expect(runIds).toHaveLength(4);
      await scheduler.startSweep(sweepId);
      await scheduler.waitForSweep(sweepId);
      const runs = (await store.listRuns({ sweepId })).rows;
      expect(runs.map((r) => r.status)).toEqual(['finished', 'finished', 'finished', 'finished']);
      expect((await store.getSweep(sweepId)).status).toBe('finished');
      // live progress reaches listeners as run-progress events with the run's epoch count
      const progress = events.filter((e) => e.type === 'run-progress');
      expect(progress.length).toBeGreaterThan(0);
      expect(progress[0]).toMatchObject({ type: 'run-progress', epochs: 2, batches: expect.any(Number) });
      // both workers were busy at once
      expect(Math.max(...events.filter((e) => e.type === 'workers').map((e) => (e as { busy: number }).busy))).toBe(2);
    });
    const rows = await query<{ run_id: string; epoch: number; n: number }>(
      db,
      "SELECT run_id, epoch, COUNT(*) n FROM epoch_metrics WHERE metric = 'train_loss' GROUP BY run_id, epoch",
    );
    expect(rows).toHaveLength(8);
    const layers = await query<{ n: number }>(db, "SELECT COUNT(*) n FROM layer_metrics WHERE metric = 'dead_ratio'");
    expect(layers[0].n).toBe(4 * 2 * 2); // runs × epochs × layers
  });

  it('divergence marks the run diverged and the sweep goes on; cancel stops a running run', async () => {
    const db = join(tmp.dir, 'div.db');
    await withScheduler(db, 1, async (scheduler, store) => {
      const text = `name: d
dataset: fn:smooth
rows: 200
base: {depth: 2, width: 8, epochs: 30, batchSize: 32, activation: selu, optimizer: sgd}
parameters:
  lr: {values: [10, 0.01]}
`;
      const { sweepId, runIds } = await createSweepFromText(store, text);
      await scheduler.startSweep(sweepId);
      // cancel the second (healthy, 30-epoch) run once it has stored an epoch
      const second = runIds[1];
      const deadline = Date.now() + 120_000;
      while ((await store.getRun(second)).epochsDone < 1 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      await scheduler.cancelRun(second);
      await scheduler.waitForSweep(sweepId);
      const [a, b] = await Promise.all(runIds.map((id) => store.getRun(id)));
      expect(a.status).toBe('diverged');
      expect(a.error).toMatch(/loss became/);
      expect(b.status).toBe('cancelled');
      expect(b.epochsDone).toBeGreaterThanOrEqual(1);
      expect(b.epochsDone).toBeLessThan(30);
      // the cancelled run's finished epochs are kept, and it resumes from its checkpoint
      expect((await store.loadCheckpoint(second))?.epoch).toBe(b.epochsDone);
      // Issue 15 #5: one run cancelled by hand does not make the sweep "cancelled": every other run reached its
      // end; the counts say which did not finish.
      const sweep = await store.getSweep(sweepId);
      expect(sweep.status).toBe('finished');
      expect(sweep.counts).toMatchObject({ diverged: 1, cancelled: 1 });
      // Issue 15 #7: the sweep reports epochs stored / planned and what is left to train (nothing: no run waits).
      expect(sweep.epochs).toEqual({ done: a.epochsDone + b.epochsDone, total: 60, remaining: 0 });
      expect(sweep.startedAt).not.toBeNull();
    });
  });

  it('median early termination stops a clearly bad run', async () => {
    const db = join(tmp.dir, 'median.db');
    await withScheduler(db, 1, async (scheduler, store) => {
      const text = tiny(`base: {depth: 2, width: 8, epochs: 4, batchSize: 32, activation: relu}
parameters:
  lr: {values: [0.01, 0.02, 0.015, 0.0000001]}
metric: {name: train_loss, goal: minimize}
early_terminate: {type: median, min_epochs: 1, warmup_runs: 2}
`).replace('base: {depth: 2, width: 8, epochs: 2, batchSize: 64}\n', '');
      const { sweepId, runIds } = await createSweepFromText(store, text);
      await scheduler.startSweep(sweepId);
      await scheduler.waitForSweep(sweepId);
      const bad = await store.getRun(runIds[3]);
      expect(bad.status).toBe('pruned');
      expect(bad.epochsDone).toBeLessThan(4);
      expect((await store.getRun(runIds[0])).status).toBe('finished');
    });
  });
});

describe('plan order', () => {
  it('runs created in the same millisecond still list (and so run) in plan order', async () => {
    const store = await RunStore.open(join(tmp.dir, 'order.db'));
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
    try {
      const { sweepId } = await createSweepFromText(
        store,
        tiny('parameters:\n  width: {values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]}\n  activation: {value: relu}\n'),
      );
      const rows = (await store.listRuns({ sweepId, orderBy: 'created_at' })).rows;
      expect(new Set(rows.map((r) => r.createdAt)).size).toBe(1);
      expect(rows.map((r) => r.width)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    } finally {
      vi.useRealTimers();
      await store.close();
    }
  });
});

describe('crash and resume', () => {
  it('a SIGKILLed sweep resumes: every run completes, finished epochs unchanged, one row per (run, epoch)', async () => {
    const db = join(tmp.dir, 'crash.db');
    const file = join(tmp.dir, 'crash.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      file,
      tiny('parameters:\n  activation: {values: [bernstein, relu]}\n')
        .replace('epochs: 2', 'epochs: 6')
        .replace('rows: 400', 'rows: 1500'),
    );
    const child = cliAsync(['sweep', 'run', file, '--workers', '2', '--db', db]);
    // kill once some epochs are stored (but the sweep is not done)
    const deadline = Date.now() + 120_000;
    let stored = 0;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 150));
      try {
        stored = (await query<{ n: number }>(db, "SELECT COUNT(*) n FROM epoch_metrics WHERE metric = 'train_loss'"))[0]
          .n;
      } catch {
        stored = 0; // the DB may not exist yet
      }
      if (stored >= 2) break;
    }
    child.child.kill('SIGKILL');
    await child.done;
    expect(stored).toBeGreaterThanOrEqual(2);
    const before = await query<{ run_id: string; epoch: number; metric: string; value: number }>(
      db,
      'SELECT run_id, epoch, metric, value FROM epoch_metrics ORDER BY run_id, epoch, metric',
    );
    const sweepId = (await query<{ id: string }>(db, 'SELECT id FROM sweeps'))[0].id;
    expect(before.length).toBeGreaterThan(0);

    const r = cli(['sweep', 'resume', sweepId, '--workers', '2', '--db', db]);
    expect(r.stderr).toMatch(/finished: 2 finished/);
    expect(r.code).toBe(0);

    const runs = await query<{ status: string; epochs_done: number }>(db, 'SELECT status, epochs_done FROM runs');
    expect(runs).toEqual([
      { status: 'finished', epochs_done: 6 },
      { status: 'finished', epochs_done: 6 },
    ]);
    const after = await query<{ run_id: string; epoch: number; metric: string; value: number }>(
      db,
      'SELECT run_id, epoch, metric, value FROM epoch_metrics ORDER BY run_id, epoch, metric',
    );
    const key = (x: { run_id: string; epoch: number; metric: string }) => `${x.run_id}/${x.epoch}/${x.metric}`;
    const afterMap = new Map(after.map((x) => [key(x), x.value]));
    for (const b of before) expect(afterMap.get(key(b))).toBe(b.value); // finished epochs unchanged
    const perEpoch = await query<{ n: number }>(db, "SELECT COUNT(*) n FROM epoch_metrics WHERE metric = 'train_loss'");
    expect(perEpoch[0].n).toBe(12); // exactly one row per (run, epoch)
    expect(await query(db, 'PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    // resuming a finished sweep is refused and changes nothing
    const again = cli(['sweep', 'resume', sweepId, '--db', db]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/nothing to resume/);
  });
});
