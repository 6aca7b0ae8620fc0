// The sweep row of `npm run bench`: the same 8-run sweep (4 Bernstein + 4 ReLU, depth 16 × width 100, batch 256,
// HIGGS-shaped data) through our local pool as the app runs it, vs run as a PyTorch user would: one peer script
// after another with PyTorch's default threads. Runs/minute each and the ratio (issue #16 target ≥ 3×).
// Ours does more per run than the peer (real epochs over a dataset, a test evaluation per epoch, the SQLite
// store); the peer trains on one fixed random batch. Each peer process is timed whole, start-up included, as a
// user launching runs one after another waits for it; its in-loop steps/s is reported beside.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunStore } from '../../src-main/store/run-store.js';
import { LocalPoolExecutor } from '../../src-main/scheduler/local-pool.js';
import { createSweepFromText, Scheduler } from '../../src-main/scheduler/scheduler.js';
import { PEER_NETS, type NetSpec } from './nets.js';
import { runPeerTimed } from './peer.js';

export const SWEEP_ROWS = 20000;
export const SWEEP_EPOCHS = 2;
const TEST_FRACTION = 0.2;
const BATCH = 256;
const DEPTH = 16;

/** 4 seeds × {bernstein, relu}; batch norm (affine = False) and n = 9, ε = 0.01, [−5, 5] as the peer's net. */
const SWEEP = `name: bench-sweep-vs-torch
dataset: synthetic-higgs
rows: ${SWEEP_ROWS}
base: {depth: ${DEPTH}, width: 100, epochs: ${SWEEP_EPOCHS}, batchSize: ${BATCH}, lr: 0.001, testFraction: ${TEST_FRACTION}, batchNorm: true, degree: 9, eps: 0.01, bounds: [-5, 5], optimizer: adam}
parameters:
  activation: {values: [bernstein, relu]}
  seed: {values: [0, 1, 2, 3]}
`;

/** Optimiser steps per run: every epoch goes over the training split in batches (the last one partial). */
export const STEPS_PER_RUN = SWEEP_EPOCHS * Math.ceil((SWEEP_ROWS - Math.round(SWEEP_ROWS * TEST_FRACTION)) / BATCH);

export interface SweepVsTorch {
  runs: number;
  stepsPerRun: number;
  workers: number;
  ours: { seconds: number; runsPerMin: number };
  torch: { seconds: number; runsPerMin: number; stepsPerSec: { bern: number; relu: number } } | null;
  ratio: number | null;
  target: number;
  met: boolean | null;
}

async function timeOurs(): Promise<{ seconds: number; runs: number; workers: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'deepbern-bench-sweep-torch-'));
  const store = await RunStore.open(join(dir, 'bench.db'));
  const executor = new LocalPoolExecutor({ backend: 'wasm' }); // the app's default pool size
  const scheduler = new Scheduler(store, executor);
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
        `sweep row: ${bad.length} runs did not finish (${bad.map((r) => `${r.id} ${r.status} ${r.error ?? ''}`).join('; ')})`,
      );
    return { seconds, runs: runIds.length, workers: executor.capacity };
  } finally {
    await scheduler.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function peerSpec(act: NetSpec['act']): NetSpec {
  const base = PEER_NETS.find((n) => n.act === act && n.inputs === 28);
  if (!base) throw new Error(`no HIGGS ${act} peer net`);
  return { ...base, depth: DEPTH, batch: BATCH };
}

/** The whole row; `torch` false (or PyTorch missing) leaves the torch side null. */
export async function sweepVsTorch(torch: boolean, log: (s: string) => void): Promise<SweepVsTorch> {
  log(
    `sweep row: 8 runs (4 Bern n=9 + 4 ReLU, depth ${DEPTH} × 100, batch ${BATCH}, synthetic-higgs ${SWEEP_ROWS} rows, ` +
      `${SWEEP_EPOCHS} epochs = ${STEPS_PER_RUN} steps per run)`,
  );
  const ours = await timeOurs();
  const oursPerMin = (60 * ours.runs) / ours.seconds;
  log(`  ours (pool of ${ours.workers}): ${ours.seconds.toFixed(1)} s, ${oursPerMin.toFixed(2)} runs/min`);
  const row: SweepVsTorch = {
    runs: ours.runs,
    stepsPerRun: STEPS_PER_RUN,
    workers: ours.workers,
    ours: { seconds: ours.seconds, runsPerMin: oursPerMin },
    torch: null,
    ratio: null,
    target: 3,
    met: null,
  };
  if (!torch) return row;
  let seconds = 0;
  const rates: Record<NetSpec['act'], number[]> = { bern: [], relu: [] };
  for (const act of ['bern', 'relu'] as const) {
    for (let seed = 0; seed < ours.runs / 2; seed++) {
      const r = runPeerTimed(peerSpec(act), STEPS_PER_RUN, 0);
      seconds += r.seconds;
      rates[act].push(r.stepsPerSec);
    }
  }
  const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;
  const torchPerMin = (60 * ours.runs) / seconds;
  row.torch = { seconds, runsPerMin: torchPerMin, stepsPerSec: { bern: mean(rates.bern), relu: mean(rates.relu) } };
  row.ratio = oursPerMin / torchPerMin;
  row.met = row.ratio >= row.target;
  log(
    `  torch (one after another, default threads): ${seconds.toFixed(1)} s, ${torchPerMin.toFixed(2)} runs/min ` +
      `(in-loop ${row.torch.stepsPerSec.bern.toFixed(2)} steps/s Bern, ${row.torch.stepsPerSec.relu.toFixed(2)} ReLU)`,
  );
  log(`  ratio ${row.ratio.toFixed(2)} (target ≥ ${row.target}×: ${row.met ? 'met' : 'NOT met'})`);
  return row;
}
