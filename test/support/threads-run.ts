// The data-parallel suites' shared fixtures (engine-threads, engine-threads-sharded): a small HIGGS-shaped
// dataset per row count, a small Bernstein batch-norm spec, one run on N threads with its checkpoints, and the
// largest relative difference between two checkpoints.
import { expect } from 'vitest';
import type { EpochReport } from '../../shared/metrics.js';
import { parseSpec, type NetworkSpecInput } from '../../shared/spec.js';
import { loadDataset } from '../../workers/data/registry.js';
import type { Dataset } from '../../workers/data/types.js';
import { fastOps } from '../../workers/engine/kernels/index.js';
import { loadState } from '../../workers/engine/state.js';
import { trainRun, type ThreadsInfo, type TrainResult } from '../../workers/engine/train.js';

export interface ThreadsTrained {
  result: TrainResult;
  epochs: EpochReport[];
  info: ThreadsInfo;
  /** The checkpoint after every epoch. */
  checkpoints: Uint8Array[];
}

const datasets = new Map<number, Dataset>();

/** synthetic-higgs with `rows` rows (20 % test, seed 0), loaded once per row count. */
export async function threadsData(rows: number): Promise<Dataset> {
  if (!datasets.has(rows))
    datasets.set(rows, await loadDataset({ id: 'synthetic-higgs', rows, testFraction: 0.2, seed: 0 }));
  return datasets.get(rows) as Dataset;
}

/** Depth 3 × width 8 Bernstein with batch norm, Adam, 2 epochs of batch 32 on 400 rows, unless overridden. */
export function threadsSpec(over: Partial<NetworkSpecInput> = {}) {
  return parseSpec({
    dataset: 'synthetic-higgs',
    rows: 400,
    depth: 3,
    width: 8,
    epochs: 2,
    batchSize: 32,
    activation: 'bernstein',
    optimizer: 'adam',
    lr: 0.01,
    batchNorm: true,
    evalBatch: 64,
    ...over,
  });
}

/** One run of threadsSpec(over) with the fast ops on `threads` threads; it must finish. */
export async function trainOnThreads(
  threads: number,
  over: Partial<NetworkSpecInput> = {},
  resumeFrom?: Uint8Array,
): Promise<ThreadsTrained> {
  const epochs: EpochReport[] = [];
  const checkpoints: Uint8Array[] = [];
  let info: ThreadsInfo = { threads: 0 };
  const s = threadsSpec(over);
  const result = await trainRun(s, await threadsData(s.rows as number), {
    ops: fastOps,
    threads,
    resumeFrom,
    onStart: (_p, t) => void (info = t),
    onEpoch: (r, c) => {
      epochs.push(r);
      checkpoints.push(c);
    },
  });
  expect(result.status, result.error).toBe('finished');
  return { result, epochs, info, checkpoints };
}

/** Largest |a − b| / max(1, |a|) over the tensors of two checkpoints whose names match, and where. */
export function maxRelDiff(a: Uint8Array, b: Uint8Array, match: RegExp = /./): { diff: number; name: string } {
  const ta = loadState(a).tensors,
    tb = loadState(b).tensors;
  expect(tb.map((t) => t.name)).toEqual(ta.map((t) => t.name));
  let diff = 0,
    name = '';
  ta.forEach((t, i) => {
    if (!match.test(t.name)) return;
    for (let j = 0; j < t.data.length; j++) {
      const d = Math.abs(t.data[j] - tb[i].data[j]) / Math.max(1, Math.abs(t.data[j]));
      if (d > diff) [diff, name] = [d, t.name];
    }
  });
  return { diff, name };
}
