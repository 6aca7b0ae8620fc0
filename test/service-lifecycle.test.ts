// The service's lifetime over a real store and pool: sweeps a crash left `running` (their owner is gone, so they
// are `interrupted`) are re-queued on start only when asked (resumeOnStart), and closing the service pauses what
// runs (it ends `interrupted`, not `cancelled`: nobody cancelled it) and releases the store.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WorkbenchEvent } from '../shared/api.js';
import { createSweepFromText } from '../src-main/scheduler/scheduler.js';
import { WorkbenchService } from '../src-main/service/workbench-service.js';
import { RunStore } from '../src-main/store/run-store.js';
import { TINY_SWEEP } from './service-harness.js';
import { query } from './support/sqlite-query.js';

let dir: string;
let db: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deepbern-life-'));
  db = join(dir, 'w.db');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What a crash mid-sweep leaves behind: the sweep `running`, one run `running` with no epochs, one queued. */
async function crashedSweep(): Promise<{ sweepId: string; runIds: string[] }> {
  const store = await RunStore.open(db);
  const made = await createSweepFromText(store, TINY_SWEEP);
  await store.setSweepStatus(made.sweepId, 'running');
  await store.setRunStatus(made.runIds[0]!, 'running');
  await store.close();
  return made;
}

function waitFor(events: WorkbenchEvent[], pred: (e: WorkbenchEvent) => boolean, ms = 110_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      if (events.some(pred)) resolve();
      else if (Date.now() - t0 > ms) reject(new Error(`timed out; events: ${JSON.stringify(events.slice(-5))}`));
      else setTimeout(tick, 50);
    };
    tick();
  });
}

describe('resume on start', () => {
  it('without resumeOnStart an interrupted sweep stays as it was, and nothing trains', async () => {
    const { sweepId, runIds } = await crashedSweep();
    const svc = await WorkbenchService.start({
      dbPath: db,
      transport: 'web',
      workers: 1,
      backend: 'wasm',
      resumeOnStart: false,
    });
    const events: WorkbenchEvent[] = [];
    svc.onEvent((e) => events.push(e));
    await new Promise((r) => setTimeout(r, 500));
    expect(events).toEqual([]);
    expect((await svc['system.info']()).workers.busy).toBe(0);
    // Its owner is gone (no lease): the running run and the sweep are interrupted, the queued run waits.
    expect((await svc['runs.list']({ sweepId })).rows.map((r) => r.status).sort()).toEqual(['interrupted', 'queued']);
    expect((await svc['sweeps.get'](sweepId)).status).toBe('interrupted');
    // …and the user can still resume it by hand.
    await svc['sweeps.resume'](sweepId);
    for (const id of runIds)
      await waitFor(events, (e) => e.type === 'run-status' && e.runId === id && e.status === 'finished');
    await svc.close();
  });

  it('with resumeOnStart the unfinished runs are queued again and the sweep finishes', async () => {
    const { sweepId, runIds } = await crashedSweep();
    const svc = await WorkbenchService.start({
      dbPath: db,
      transport: 'electron',
      workers: 2,
      backend: 'wasm',
      resumeOnStart: true,
    });
    const events: WorkbenchEvent[] = [];
    svc.onEvent((e) => events.push(e));
    await waitFor(events, (e) => e.type === 'sweep-status' && e.sweepId === sweepId && e.status === 'finished');
    const runs = (await svc['runs.list']({ sweepId })).rows;
    expect(runs.map((r) => [r.status, r.epochsDone])).toEqual([
      ['finished', 2],
      ['finished', 2],
    ]);
    expect(runs.map((r) => r.id).sort()).toEqual([...runIds].sort());
    expect((await svc['sweeps.get'](sweepId)).status).toBe('finished');
    await svc.close();
  });

  it('a sweep with nothing left to run is marked finished instead of failing the start', async () => {
    const store = await RunStore.open(db);
    const { sweepId, runIds } = await createSweepFromText(store, TINY_SWEEP);
    for (const id of runIds) await store.finishRun(id, 'finished');
    await store.setSweepStatus(sweepId, 'running');
    await store.close();
    const svc = await WorkbenchService.start({
      dbPath: db,
      transport: 'web',
      workers: 1,
      backend: 'wasm',
      resumeOnStart: true,
    });
    expect((await svc['sweeps.get'](sweepId)).status).toBe('finished');
    await svc.close();
  });
});

describe('close', () => {
  it('pauses running work (finished epochs stay, run and sweep are interrupted for the next start), then releases the store', async () => {
    const svc = await WorkbenchService.start({ dbPath: db, transport: 'web', workers: 1, backend: 'wasm' });
    const events: WorkbenchEvent[] = [];
    svc.onEvent((e) => events.push(e));
    const slow = TINY_SWEEP.replace('epochs: 2', 'epochs: 500');
    const sweep = await svc['sweeps.launch'](slow);
    await waitFor(events, (e) => e.type === 'run-epoch');
    await svc.close();
    await svc.close(); // idempotent
    const store = await RunStore.open(db);
    const runs = (await store.listRuns({ sweepId: sweep.id })).rows;
    expect(runs.map((r) => r.status)).toEqual(['interrupted', 'queued']); // one worker: the second never started
    expect(runs.some((r) => r.epochsDone >= 1)).toBe(true);
    expect((await store.getSweep(sweep.id)).status).toBe('interrupted');
    expect(await query(db, 'SELECT count(*) AS n FROM owners')).toEqual([{ n: 0 }]); // the lease ended with it
    await store.close();
    await expect(svc['runs.list']({})).rejects.toThrow();

    // The next start with resumeOnStart continues from the checkpoint instead of starting over.
    const done = runs.find((r) => r.epochsDone >= 1)!;
    const again = await WorkbenchService.start({
      dbPath: db,
      transport: 'web',
      workers: 1,
      backend: 'wasm',
      resumeOnStart: true,
    });
    const later: WorkbenchEvent[] = [];
    again.onEvent((e) => later.push(e));
    await waitFor(later, (e) => e.type === 'run-epoch' && e.runId === done.id);
    const first = later.find(
      (e): e is Extract<WorkbenchEvent, { type: 'run-epoch' }> => e.type === 'run-epoch' && e.runId === done.id,
    )!;
    expect(first.epoch).toBe(done.epochsDone + 1);
    await again['sweeps.cancel'](sweep.id); // a user's cancel: this one stays cancelled
    await again.close();
    const check = await RunStore.open(db);
    expect((await check.getSweep(sweep.id)).status).toBe('cancelled');
    await check.close();
  });
});
