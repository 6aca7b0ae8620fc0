// `npm run bench -- dead`: the cost of the epoch-average dead reading (dead_ratio_epoch) inside the training
// step, as a share of the training epoch. Two measures per net (HIGGS-shaped data, width 100 × depth 50, one
// epoch of batch 256, the product trainer with pickOps on wasm):
//  - in-run: the reading's own wall time (dead_time_s, timed around each layer's count) / the epoch's time;
//  - A/B: epoch time with the reading on vs off (epochDeadReading: false), interleaved, median of N pairs.
// The in-run share is the precise one; the A/B difference is within the noise of a shared machine.
// `npm run bench -- dead [--json] [--only <label substring>]`.
import seedrandom from 'seedrandom';
import { activationLabel, parseSpec, type NetworkSpecInput } from '../../shared/spec.js';
import type { Dataset } from '../../workers/data/types.js';
import { initBackend } from '../../workers/engine/backend.js';
import { pickOps } from '../../workers/engine/kernels/index.js';
import { trainRun } from '../../workers/engine/train.js';

const NETS: Partial<NetworkSpecInput>[] = [
  { activation: 'relu', init: 'torch' },
  { activation: 'relu', init: 'he_normal' },
  { activation: 'relu', residual: true, init: 'torch' },
  { activation: 'bernstein', degree: 9, eps: 0.01, bounds: [-5, 5], init: 'torch', bnAffine: true },
  { activation: 'selu', batchNorm: true, init: 'torch', bnAffine: true },
];

function higgsLike(n: number, dim = 28): Dataset {
  const rng = seedrandom('dead-bench');
  const x = new Float32Array(n * dim).map(() => rng() * 2 - 1);
  const y = new Float32Array(n).map((_, i) => (x[i * dim] * x[i * dim + 1] + x[i * dim + 2] > 0 ? 1 : 0));
  return {
    id: 'bench',
    task: 'classification',
    inputDim: dim,
    outputDim: 2,
    xTrain: x,
    yTrain: y,
    nTrain: n,
    xTest: x.subarray(0, 256 * dim),
    yTest: y.subarray(0, 256),
    nTest: 256,
    standardization: { mean: new Float32Array(dim), std: new Float32Array(dim).fill(1) },
    source: 'bench',
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function deadReadingBench(
  json: boolean,
  only: string | null = null,
  pairs = 3,
  rows = 5120,
): Promise<void> {
  await initBackend('wasm');
  const ds = higgsLike(rows);
  const out: { net: string; epochS: number; deadS: number; inRunPct: number; abPct: number; deadRatioEpoch: number }[] =
    [];
  for (const over of NETS) {
    const spec = parseSpec({
      dataset: 'bench',
      depth: 50,
      width: 100,
      batchSize: 256,
      epochs: 1,
      evalBatch: 128,
      ...over,
    });
    if (only && !`${activationLabel(spec)} init=${spec.init}`.includes(only)) continue;
    const epoch = async (on: boolean) => {
      let m: Record<string, number | undefined> = {};
      await trainRun(spec, ds, { ops: pickOps(), epochDeadReading: on, onEpoch: (r) => void (m = r.metrics) });
      return m;
    };
    await epoch(true); // warm-up (kernel registration, XNNPACK operators)
    const shares: number[] = [],
      on: number[] = [],
      off: number[] = [];
    let dead = 0,
      deadS = 0;
    for (let i = 0; i < pairs; i++) {
      const a = await epoch(true);
      const b = await epoch(false);
      on.push(a.epoch_time_s!);
      off.push(b.epoch_time_s!);
      shares.push(a.dead_time_s! / a.epoch_time_s!);
      dead = a.dead_ratio_epoch!;
      deadS = a.dead_time_s!;
    }
    const row = {
      net: `${activationLabel(spec)} init=${spec.init}${spec.bnAffine ? ' affine' : ''}`,
      epochS: median(on),
      deadS,
      inRunPct: 100 * median(shares),
      abPct: 100 * (median(on) / median(off) - 1),
      deadRatioEpoch: dead,
    };
    out.push(row);
    if (!json)
      console.log(
        `${row.net.padEnd(32)} epoch ${row.epochS.toFixed(2)} s; reading ${row.deadS.toFixed(4)} s = ${row.inRunPct.toFixed(2)} % in-run; A/B on vs off ${row.abPct >= 0 ? '+' : ''}${row.abPct.toFixed(1)} %; dead_ratio_epoch ${row.deadRatioEpoch.toFixed(3)}`,
      );
  }
  if (json) console.log(JSON.stringify(out, null, 2));
}
