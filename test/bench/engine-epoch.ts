// Time per epoch of the reference engine on a HIGGS-shaped synthetic set (DESIGN §2.3).
// Usage: npx tsx test/bench/engine-epoch.ts [rows=20000] [depth=50] [width=100] [activation=bernstein] [backend=wasm]
import seedrandom from 'seedrandom';
import { parseSpec, activationLabel } from '../../shared/spec.js';
import type { Dataset } from '../../workers/data/types.js';
import { initBackend, type BackendPref } from '../../workers/engine/backend.js';
import { trainRun } from '../../workers/engine/train.js';

const [rows = '20000', depth = '50', width = '100', activation = 'bernstein', backend = 'wasm'] = process.argv.slice(2);
const n = Number(rows),
  dim = 28;
const rng = seedrandom('bench');
const x = new Float32Array(n * dim).map(() => rng() * 2 - 1);
const y = new Float32Array(n).map((_, i) => (x[i * dim] * x[i * dim + 1] + x[i * dim + 2] > 0 ? 1 : 0));
const ds: Dataset = {
  id: 'bench',
  task: 'classification',
  inputDim: dim,
  outputDim: 2,
  xTrain: x,
  yTrain: y,
  nTrain: n,
  xTest: x.subarray(0, 1000 * dim),
  yTest: y.subarray(0, 1000),
  nTest: 1000,
  standardization: { mean: new Float32Array(dim), std: new Float32Array(dim).fill(1) },
  source: 'bench',
};
const spec = parseSpec({
  dataset: 'bench',
  depth: Number(depth),
  width: Number(width),
  activation,
  degree: 9,
  eps: 0.01,
  bounds: [-5, 5],
  batchSize: 256,
  epochs: 1,
});
const info = await initBackend(backend as BackendPref);
const t0 = performance.now();
let steps = 0;
const res = await trainRun(spec, ds, {
  onStart: (p) =>
    console.log(`${activationLabel(spec)} ${width}×${depth}, ${p} params, backend ${info.name}, ${n} rows`),
  onBatch: (b) => {
    steps = b.batch;
    console.log(
      `  batch ${b.batch}/${b.batches} loss ${b.loss.toFixed(4)} ${(b.batch / ((performance.now() - t0) / 1000)).toFixed(2)} steps/s`,
    );
  },
  onEpoch: (r) => console.log(`epoch ${r.epoch}: ${JSON.stringify(r.metrics)}`),
});
console.log(res.status, `${((performance.now() - t0) / 1000).toFixed(1)} s total, last progress at batch ${steps}`);
