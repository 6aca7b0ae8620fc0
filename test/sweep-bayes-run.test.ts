// `method: bayes` and hyperband on a real Piscina pool with a real SQLite file: proposals arrive as workers
// free up, the budget holds, and a sweep stopped mid-way resumes and proposes the same next runs.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NetworkSpec } from '../shared/spec.js';
import { parseSweepText } from '../shared/sweep.js';
import { RunStore } from '../src-main/store/run-store.js';
import { LocalPoolExecutor } from '../src-main/scheduler/local-pool.js';
import { createSweepFromText, Scheduler } from '../src-main/scheduler/scheduler.js';
import { paramsOfSpec } from '../src-main/scheduler/bayes.js';
import { sweepInsights } from '../src-main/report/sweep-insights.js';
import { cli, tempDir } from './support/cli.js';

const tmp = tempDir('deepbern-bayes-');
afterAll(() => tmp.cleanup());

const BAYES = `name: b
dataset: fn:smooth
rows: 200
method: bayes
run_cap: 5
random_seed: 7
metric: {name: test_loss, goal: minimize}
base: {depth: 1, width: 4, epochs: 1, batchSize: 50}
parameters:
  lr: {min: 0.0001, max: 0.1, distribution: log_uniform}
  degree: {min: 2, max: 6, distribution: int}
  variant: {values: [{activation: bernstein}, {activation: relu}]}
`;

async function withScheduler<T>(
  db: string,
  workers: number,
  fn: (s: Scheduler, store: RunStore) => Promise<T>,
): Promise<T> {
  const store = await RunStore.open(db);
  const scheduler = new Scheduler(store, new LocalPoolExecutor({ workers }));
  try {
    return await fn(scheduler, store);
  } finally {
    await scheduler.close();
    await store.close();
  }
}

async function proposals(store: RunStore, sweepId: string): Promise<unknown[]> {
  const file = parseSweepText(BAYES);
  const rows = await store.sweepTrials(sweepId, 'test_loss');
  return rows.map((r) => paramsOfSpec(file, r.spec as NetworkSpec));
}

describe('bayes sweeps on a worker pool', () => {
  it('creates one run up front, proposes the rest as workers free up, and stops at run_cap', async () => {
    await withScheduler(join(tmp.dir, 'b2.db'), 2, async (scheduler, store) => {
      const { sweepId, runIds } = await createSweepFromText(store, BAYES);
      expect(runIds).toHaveLength(1);
      await scheduler.startSweep(sweepId);
      await scheduler.waitForSweep(sweepId);
      const runs = (await store.listRuns({ sweepId })).rows;
      expect(runs).toHaveLength(5);
      expect(runs.every((r) => r.status === 'finished')).toBe(true);
      expect((await store.getSweep(sweepId)).status).toBe('finished');
      const ps = await proposals(store, sweepId);
      expect(new Set(ps.map((p) => JSON.stringify(p))).size).toBe(5);
      // Insights: best-so-far never gets worse; importance covers the swept parameters.
      const ins = await sweepInsights(store, sweepId);
      expect(ins.history).toHaveLength(5);
      const bests = ins.history.map((h) => h.best as number);
      for (let i = 1; i < bests.length; i++) expect(bests[i]).toBeLessThanOrEqual(bests[i - 1]);
      expect(bests[4]).toBe(Math.min(...ins.history.map((h) => h.value as number)));
      expect(ins.importance.runs).toBe(5);
      expect(ins.importance.params.map((p) => p.param).sort()).toEqual(expect.arrayContaining(['lr']));
      return sweepId;
    });
  });

  it('the CLI plans a bayes sweep as a budget and shows importance', () => {
    const file = join(tmp.dir, 'b.yaml');
    writeFileSync(file, BAYES);
    const plan = cli(['sweep', 'plan', file]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/method bayes: up to 5 runs/);
    const db = join(tmp.dir, 'b2.db');
    const list = JSON.parse(cli(['sweep', 'list', '--db', db, '--json']).stdout) as { id: string }[];
    const show = cli(['sweep', 'show', list[0].id, '--db', db, '--importance']);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/parameter importance for test_loss/);
    expect(show.stdout).toMatch(/lr/);
    const noCap = join(tmp.dir, 'nocap.yaml');
    writeFileSync(noCap, BAYES.replace('run_cap: 5\n', ''));
    const r = cli(['sweep', 'plan', noCap]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/method bayes needs run_cap/);
  });

  it('a sweep stopped mid-way resumes and proposes the same next runs as an uninterrupted one', async () => {
    const straight = await withScheduler(join(tmp.dir, 'straight.db'), 1, async (scheduler, store) => {
      const { sweepId } = await createSweepFromText(store, BAYES);
      await scheduler.startSweep(sweepId);
      await scheduler.waitForSweep(sweepId);
      return proposals(store, sweepId);
    });
    const db = join(tmp.dir, 'stopped.db');
    const sweepId = await withScheduler(db, 1, async (scheduler, store) => {
      const { sweepId } = await createSweepFromText(store, BAYES);
      const stopAfter = new Promise<void>((resolve) =>
        scheduler.on('event', (e: { type: string; status?: string }) => {
          if (e.type === 'run-status' && e.status === 'finished')
            void store.listRuns({ sweepId, status: 'finished' }).then((r) => r.total >= 2 && resolve());
        }),
      );
      await scheduler.startSweep(sweepId);
      await stopAfter;
      await scheduler.cancelSweep(sweepId);
      await scheduler.waitForSweep(sweepId);
      expect((await store.listRuns({ sweepId })).total).toBeLessThan(5);
      return sweepId;
    });
    const resumed = await withScheduler(db, 1, async (scheduler, store) => {
      await scheduler.startSweep(sweepId);
      await scheduler.waitForSweep(sweepId);
      expect((await store.getSweep(sweepId)).status).toBe('finished');
      return proposals(store, sweepId);
    });
    expect(resumed).toEqual(straight);
  });

  it('hyperband prunes runs at their bracket rungs and pruned runs keep their epochs and model', async () => {
    const text = `name: h
dataset: fn:smooth
rows: 200
base: {depth: 1, width: 4, epochs: 9, batchSize: 50, activation: relu}
metric: {name: train_loss, goal: minimize}
early_terminate: {type: hyperband, min_epochs: 1, eta: 3}
parameters:
  # Best first: later runs of a bracket arrive worse, so halving must prune some (one worker: a fixed order).
  lr: {values: [0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 0.0005, 0.0002, 0.0001]}
`;
    await withScheduler(join(tmp.dir, 'hb.db'), 1, async (scheduler, store) => {
      const { sweepId } = await createSweepFromText(store, text);
      await scheduler.startSweep(sweepId);
      await scheduler.waitForSweep(sweepId);
      const runs = (await store.listRuns({ sweepId, limit: 100, orderBy: 'created_at' })).rows;
      const pruned = runs.filter((r) => r.status === 'pruned');
      expect(pruned.length).toBeGreaterThan(0);
      // Brackets for min 1, max 9, eta 3 judge at epochs 1 and 3 (bracket 0) or 3 (bracket 1): never elsewhere.
      for (const r of pruned) {
        expect([1, 3]).toContain(r.epochsDone);
        expect(await store.loadModel(r.id)).not.toBeNull();
      }
    });
  });
});
