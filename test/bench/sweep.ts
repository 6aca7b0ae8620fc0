// `npm run bench -- sweep`: the same 4 small runs on the local worker pool with 1 and with 2 workers; prints
// runs/min for each and the ratio (target ≥ 1.8 on 2 cores). Real scheduler, real SQLite file, real threads.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunStore } from '../../src-main/store/run-store.js';
import { LocalPoolExecutor } from '../../src-main/scheduler/local-pool.js';
import { createSweepFromText, Scheduler } from '../../src-main/scheduler/scheduler.js';

const SWEEP = `name: bench-sweep
dataset: synthetic-higgs
rows: 20000
base: {depth: 16, width: 100, epochs: 3, batchSize: 128, lr: 0.003}
parameters:
  activation: {values: [bernstein, relu]}
  seed: {values: [0, 1]}
`;

async function timeSweep(workers: number): Promise<{ seconds: number; runs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'deepbern-bench-sweep-'));
  const store = await RunStore.open(join(dir, 'bench.db'));
  const scheduler = new Scheduler(store, new LocalPoolExecutor({ workers, backend: 'wasm' }));
  try {
    const { sweepId, runIds } = await createSweepFromText(store, SWEEP);
    const t0 = performance.now();
    await scheduler.startSweep(sweepId);
    await scheduler.waitForSweep(sweepId);
    const seconds = (performance.now() - t0) / 1000;
    const runs = (await store.listRuns({ sweepId })).rows;
    const bad = runs.filter((r) => r.status !== 'finished');
    if (bad.length)
      throw new Error(
        `bench sweep: ${bad.length} runs did not finish (${bad.map((r) => `${r.id} ${r.status} ${r.error ?? ''}`).join('; ')})`,
      );
    return { seconds, runs: runIds.length };
  } finally {
    await scheduler.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function sweepBench(json: boolean): Promise<void> {
  const one = await timeSweep(1);
  const two = await timeSweep(2);
  const perMin = (r: { seconds: number; runs: number }) => (60 * r.runs) / r.seconds;
  const ratio = perMin(two) / perMin(one);
  const result = {
    suite: 'sweep',
    runs: one.runs,
    workers1: { seconds: one.seconds, runsPerMin: perMin(one) },
    workers2: { seconds: two.seconds, runsPerMin: perMin(two) },
    ratio,
    target: 1.8,
    met: ratio >= 1.8,
  };
  if (json) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return;
  }
  const line = (w: string, r: { seconds: number }, rpm: number) =>
    `${w.padEnd(10)} ${r.seconds.toFixed(1).padStart(7)} s   ${rpm.toFixed(2).padStart(6)} runs/min`;
  process.stdout.write(
    `sweep bench: ${one.runs} runs (synthetic-higgs 20000 rows, depth 16, width 100, 3 epochs; Bernstein and ReLU × 2 seeds)\n`,
  );
  process.stdout.write(line('1 worker', one, perMin(one)) + '\n');
  process.stdout.write(line('2 workers', two, perMin(two)) + '\n');
  process.stdout.write(`ratio ${ratio.toFixed(2)} (target ≥ 1.8: ${result.met ? 'met' : 'NOT met'})\n`);
}
