// `npm run bench -- ui`: the workbench at scale, on stores generated in the app's own schema (issue 15).
//  A: R runs × E epochs × L layers of layer metrics (default 500 × 100 × 50, one layer metric = 2.5M rows);
//  B: N runs in S sweeps (default 50,000 / 3,125).
// Prints: runs-list pages (default order, sorts by final metrics both ways, search: a third of the runs match
// "Bern_{9", 16 match "sweep-1234-"), Compare's fetch of 50 runs
// (one batched call vs one call per run) and their curves, and a bulk delete of 20 % of A while another
// caller keeps asking for a page every 20 ms (its worst wait is what a user would feel), plus the disk freed.
// Flags: --runs N --sweeps S --curve-runs R --epochs E --layers L --json. Timings are medians of repeats on a
// shared machine: noisy, compare orders of magnitude.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSpec, activationLabel } from '../../shared/spec.js';
import { RunStore } from '../../src-main/store/run-store.js';
import { specColumns } from '../../src-main/store/run-rows.js';
import { insertRows } from '../../src-main/store/batch.js';
import { diskBytes } from '../../src-main/store/space.js';
import type { SqlValue } from '../../src-main/store/db.js';

interface Opts {
  runs: number;
  sweeps: number;
  curveRuns: number;
  epochs: number;
  layers: number;
  json: boolean;
}

function parse(argv: string[]): Opts {
  const o: Opts = { runs: 50_000, sweeps: 3_125, curveRuns: 500, epochs: 100, layers: 50, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const n = () => Number(argv[++i]);
    if (a === '--runs') o.runs = n();
    else if (a === '--sweeps') o.sweeps = n();
    else if (a === '--curve-runs') o.curveRuns = n();
    else if (a === '--epochs') o.epochs = n();
    else if (a === '--layers') o.layers = n();
    else if (a === '--json') o.json = true;
    else throw new Error(`unknown flag ${a}`);
  }
  return o;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))]!;
async function timeIt(fn: () => Promise<unknown>, repeats = 15): Promise<number> {
  await fn();
  const t: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

const SPECS = [
  parseSpec({
    dataset: 'synthetic-higgs',
    depth: 50,
    width: 100,
    activation: 'bernstein',
    degree: 9,
    eps: 0.01,
    bounds: [-5, 5],
  }),
  parseSpec({ dataset: 'synthetic-higgs', depth: 50, width: 100, activation: 'relu' }),
  parseSpec({ dataset: 'synthetic-higgs', depth: 20, width: 64, activation: 'selu', batchNorm: true }),
];

/** Runs straight into the table (createRun would parse 50,000 specs): the same columns createRun writes. */
export async function addRuns(store: RunStore, n: number, sweepIds: string[], epochs: number): Promise<string[]> {
  const t0 = Date.now() - n * 1000;
  const rows: SqlValue[][] = [];
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const spec = { ...SPECS[i % SPECS.length]!, seed: i % 5 };
    const label = activationLabel(spec);
    const cols = specColumns(spec, label);
    const id = `rb${String(i).padStart(7, '0')}`;
    ids.push(id);
    const acc = i % 11 === 0 ? null : 0.5 + ((i * 7919) % 1000) / 4000;
    rows.push([
      id,
      `${sweepIds.length ? `sweep-${i % sweepIds.length}` : 'bench'}-${String(i).padStart(5, '0')} ${label}`,
      sweepIds.length ? sweepIds[i % sweepIds.length]! : null,
      JSON.stringify(spec),
      'finished',
      cols.seed,
      cols.dataset,
      cols.activation,
      cols.activation_label,
      cols.depth,
      cols.width,
      cols.degree,
      cols.eps,
      cols.lr,
      cols.batch_size,
      cols.batch_norm,
      cols.residual,
      'wasm',
      12345,
      epochs,
      epochs,
      t0 + i * 1000,
      t0 + i * 1000,
      t0 + i * 1000 + 500,
      '[]',
      acc === null ? null : 1 - acc,
      acc === null ? null : 1.1 - acc,
      acc,
      'training',
    ]);
  }
  await store.writeBatch(() =>
    insertRows(
      store.db,
      'runs',
      [
        'id',
        'name',
        'sweep_id',
        'spec_json',
        'status',
        'seed',
        'dataset',
        'activation',
        'activation_label',
        'depth',
        'width',
        'degree',
        'eps',
        'lr',
        'batch_size',
        'batch_norm',
        'residual',
        'backend',
        'param_count',
        'epochs_total',
        'epochs_done',
        'created_at',
        'started_at',
        'finished_at',
        'tags_json',
        'final_train_loss',
        'final_test_loss',
        'final_test_acc',
        'kind',
      ],
      rows,
    ),
  );
  return ids;
}

async function addCurves(store: RunStore, ids: string[], epochs: number, layers: number): Promise<void> {
  for (const id of ids) {
    const ep: SqlValue[][] = [];
    const ly: SqlValue[][] = [];
    for (let e = 1; e <= epochs; e++) {
      for (const m of ['train_loss', 'test_loss', 'test_acc']) ep.push([id, m, e, 1 / e]);
      for (let l = 1; l <= layers; l++) ly.push([id, 'dead_ratio', l, e, ((l * e) % 7) / 10]);
    }
    await store.writeBatch(async () => {
      await insertRows(store.db, 'epoch_metrics', ['run_id', 'metric', 'epoch', 'value'], ep);
      await insertRows(store.db, 'layer_metrics', ['run_id', 'metric', 'layer', 'epoch', 'value'], ly);
      await store.db.run('INSERT INTO checkpoints (run_id, epoch, state, created_at) VALUES (?, ?, ?, ?)', [
        id,
        epochs,
        new Uint8Array(64 * 1024).fill(3),
        Date.now(),
      ]);
    });
  }
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(3));
  const dir = await mkdtemp(join(tmpdir(), 'deepbern-bench-ui-'));
  const out: Record<string, number | string> = {};
  const log = (k: string, v: number | string, unit = 'ms') => {
    out[k] = typeof v === 'number' ? Math.round(v * 100) / 100 : v;
    if (!o.json)
      console.log(
        `  ${k.padEnd(58)} ${typeof v === 'number' ? v.toFixed(v < 10 ? 2 : 0) : v} ${typeof v === 'number' ? unit : ''}`,
      );
  };
  try {
    // ── B: many runs in many sweeps: list pages and search ──
    if (!o.json)
      console.log(`store B: ${o.runs.toLocaleString('en-US')} runs in ${o.sweeps.toLocaleString('en-US')} sweeps`);
    const b = await RunStore.open(join(dir, 'b.db'));
    const sweepIds: string[] = [];
    await b.writeBatch(async () => {
      for (let s = 0; s < o.sweeps; s++)
        sweepIds.push(await b.createSweep({ name: `sweep-${s}`, config: { name: `sweep-${s}` } as never }));
    });
    const tb = performance.now();
    await addRuns(b, o.runs, sweepIds, 10);
    log('generate store B', performance.now() - tb);
    log(
      'runs page 1 (newest first)',
      await timeIt(() => b.listRuns({ kind: 'training', orderBy: 'createdAt', desc: true, limit: 100 })),
    );
    log(
      'runs page 200 (newest first)',
      await timeIt(() =>
        b.listRuns({ kind: 'training', orderBy: 'createdAt', desc: true, limit: 100, offset: 19_900 }),
      ),
    );
    log(
      'runs page 1 by test acc, best first',
      await timeIt(() => b.listRuns({ kind: 'training', orderBy: 'final.test_acc', desc: true, limit: 100 })),
    );
    log(
      'runs page 1 by test loss, lowest first (NULLs last)',
      await timeIt(() => b.listRuns({ kind: 'training', orderBy: 'final.test_loss', desc: false, limit: 100 })),
    );
    log(
      'search "Bern_{9" (full-text), page 1 + total',
      await timeIt(() => b.listRuns({ kind: 'training', search: 'Bern_{9', limit: 100 })),
    );
    log(
      'search "sweep-1234-" (full-text), page 1 + total',
      await timeIt(() => b.listRuns({ kind: 'training', search: 'sweep-1234-', limit: 100 })),
    );
    log(
      'search "Bern_{9", newest first',
      await timeIt(() =>
        b.listRuns({ kind: 'training', search: 'Bern_{9', orderBy: 'createdAt', desc: true, limit: 100 }),
      ),
    );
    log(
      'search "Bern_{9", by test loss, lowest first (NULLs last)',
      await timeIt(() => b.listRuns({ kind: 'training', search: 'Bern_{9', orderBy: 'final.test_loss', limit: 100 })),
    );
    log(
      'search "Bern sweep-12" (two words), page 1 + total',
      await timeIt(() => b.listRuns({ kind: 'training', search: 'Bern sweep-12', limit: 100 })),
    );
    log(
      'search "ReLU" + status finished, page 1 + total',
      await timeIt(() => b.listRuns({ kind: 'training', search: 'ReLU', status: 'finished', limit: 100 })),
    );
    log('sweeps list (all, with counts and epochs)', await timeIt(() => b.listSweeps(), 5));
    await b.close();

    // ── A: curves and layer rows; Compare; bulk delete ──
    const rowsA = o.curveRuns * o.epochs * o.layers;
    if (!o.json)
      console.log(
        `store A: ${o.curveRuns} runs × ${o.epochs} epochs × ${o.layers} layers = ${rowsA.toLocaleString('en-US')} layer rows`,
      );
    const a = await RunStore.open(join(dir, 'a.db'));
    const ta = performance.now();
    const ids = await addRuns(a, o.curveRuns, [], o.epochs);
    await addCurves(a, ids, o.epochs, o.layers);
    await a.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    log('generate store A', performance.now() - ta);
    const fifty = ids.slice(0, 50);
    log('Compare: 50 runs, one runs.getMany', await timeIt(() => a.getRuns(fifty)));
    log(
      'Compare: 50 runs, one runs.get each (before)',
      await timeIt(() => Promise.all(fifty.map((id) => a.getRun(id))), 5),
    );
    log(
      'Compare: train loss of 50 runs, 600 buckets',
      await timeIt(() => a.epochSeriesBucketed(fifty, 'train_loss', 600)),
    );
    log('layer × epoch heatmap of one run', await timeIt(() => a.layerGrid(ids[0]!, 'dead_ratio')));

    const before = await diskBytes(a.path);
    const victims = ids.filter((_, i) => i % 5 === 0);
    const waits: number[] = [];
    let stop = false;
    const probe = (async () => {
      while (!stop) {
        const t0 = performance.now();
        await a.listRuns({ limit: 100 });
        waits.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const t0 = performance.now();
    const res = await a.deleteRuns(victims, { vacuum: 'background' });
    const deleteMs = performance.now() - t0;
    await a.reclaimIdle();
    const reclaimMs = performance.now() - t0;
    stop = true;
    await probe;
    const after = await diskBytes(a.path);
    log(`delete 20 % (${victims.length} runs): call returns after`, deleteMs);
    log('  … space back on disk (background steps) after', reclaimMs);
    log('  … a page request meanwhile: worst wait', Math.max(...waits));
    log('  … a page request meanwhile: p95 wait', p95(waits));
    log('  … page requests answered during delete + reclaim', waits.length, '');
    log('  … freed (reported by the delete)', res.freedBytes / 2 ** 20, 'MiB');
    log('  … file + WAL before → after', `${(before / 2 ** 20).toFixed(1)} MiB → ${(after / 2 ** 20).toFixed(1)} MiB`);
    await a.close();
    if (o.json) console.log(JSON.stringify(out, null, 2));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function uiBench(): Promise<void> {
  return main();
}
