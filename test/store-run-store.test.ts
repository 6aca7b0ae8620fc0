import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EpochReport, LayerMetricRow } from '../shared/metrics.js';
import { parseSpec, type NetworkSpecInput } from '../shared/spec.js';
import { RunStore, StoreError } from '../src-main/store/run-store.js';

let dir: string;
let store: RunStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deepbern-store-'));
  store = await RunStore.open(join(dir, 'wb.db'));
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const spec = (over: Partial<NetworkSpecInput> = {}) =>
  parseSpec({ dataset: 'synthetic-higgs', depth: 4, width: 8, activation: 'bernstein', ...over });

function report(epoch: number, depth = 4, loss = 1 / epoch): EpochReport {
  const layers: LayerMetricRow[] = [];
  for (let layer = 1; layer <= depth; layer++) {
    layers.push({ layer, metric: 'dead_ratio', value: layer / 100 + epoch / 1000 });
    layers.push({ layer, metric: 'min_dsigma', value: 0.01 * layer * epoch });
  }
  return { epoch, metrics: { train_loss: loss, test_loss: loss * 1.1, test_acc: 1 - loss / 2, lr: 1e-3 }, layers };
}

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

async function snapshot() {
  return {
    runs: await store.db.all('SELECT * FROM runs ORDER BY id'),
    epochs: await store.db.all('SELECT * FROM epoch_metrics ORDER BY run_id, metric, epoch'),
    layers: await store.db.all('SELECT * FROM layer_metrics ORDER BY run_id, metric, layer, epoch'),
    checkpoints: await store.db.all(
      'SELECT run_id, epoch, hex(state) AS state, created_at FROM checkpoints ORDER BY run_id',
    ),
  };
}

async function errorOf(p: Promise<unknown>): Promise<StoreError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(StoreError);
  return e as StoreError;
}

describe('RunStore runs', () => {
  it('round-trips a run with epochs, layer metrics, checkpoint and model', async () => {
    const id = await store.createRun({ spec: spec(), name: 'first', epochsTotal: 3, tags: ['a', ' a ', 'b'] });
    expect(id).toMatch(/^r[a-z2-9]{7}$/);
    await store.markRunning(id, 'wasm', 1234);
    for (let e = 1; e <= 3; e++) await store.appendEpoch(id, report(e), bytes(100, e));
    await store.finishRun(id, 'finished');
    await store.saveModel(id, bytes(50, 9));

    const run = await store.getRun(id);
    expect(run).toMatchObject({
      id,
      name: 'first',
      sweepId: null,
      status: 'finished',
      dataset: 'synthetic-higgs',
      label: 'Bern_{9,0.01}[-5,5]',
      depth: 4,
      width: 8,
      activation: 'bernstein',
      degree: 9,
      eps: 0.01,
      lr: 1e-3,
      batchSize: 256,
      backend: 'wasm',
      paramCount: 1234,
      epochsTotal: 3,
      epochsDone: 3,
      error: null,
      tags: ['a', 'b'],
    });
    expect(run.spec).toEqual(spec());
    expect(Date.parse(run.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(run.startedAt!));

    const [loss, acc] = await store.epochSeries(id, ['train_loss', 'test_acc']);
    expect(loss).toEqual({ metric: 'train_loss', epochs: [1, 2, 3], values: [1, 1 / 2, 1 / 3] });
    expect(acc!.values).toEqual([0.5, 0.75, 1 - 1 / 6]);
    expect(await store.epochMetrics(id)).toHaveLength(3);

    const atEpoch2 = await store.layerMetrics(id, { epoch: 2 });
    expect(atEpoch2).toHaveLength(8);
    expect(atEpoch2.every((r) => r.epoch === 2)).toBe(true);
    expect(atEpoch2.find((r) => r.metric === 'min_dsigma' && r.layer === 3)!.value).toBeCloseTo(0.06);
    const dead = await store.layerMetrics(id, { metric: 'dead_ratio' });
    expect(dead.map((r) => [r.layer, r.epoch])).toEqual(
      [1, 2, 3, 4].flatMap((l) => [
        [l, 1],
        [l, 2],
        [l, 3],
      ]),
    );
    expect(await store.layerMetrics(id)).toHaveLength(24);
    const grid = await store.layerGrid(id, 'dead_ratio');
    expect(grid.layers).toEqual([1, 2, 3, 4]);
    expect(grid.values[3]![2]).toBeCloseTo(0.043);
    expect((await store.layerProfile([id], 'min_dsigma'))[id]!.map((p) => p.layer)).toEqual([1, 2, 3, 4]);

    const cp = await store.loadCheckpoint(id);
    expect(cp!.epoch).toBe(3);
    expect(Array.from(cp!.state)).toEqual(Array.from(bytes(100, 3)));
    expect(Array.from((await store.loadModel(id))!)).toEqual(Array.from(bytes(50, 9)));
  });

  it('unknown ids are refused by name', async () => {
    const e = await errorOf(store.getRun('rnope'));
    expect(e.message).toBe('no run with id rnope');
    expect(e.code).toBe('not_found');
    await expect(store.appendEpoch('rnope', report(1))).rejects.toThrow('no run with id rnope');
    await expect(store.loadCheckpoint('rnope')).rejects.toThrow('no run with id rnope');
  });

  it('rejects a duplicate epoch and leaves the database unchanged', async () => {
    const id = await store.createRun({ spec: spec(), epochsTotal: 5 });
    await store.appendEpoch(id, report(1), bytes(10, 1));
    await store.appendEpoch(id, report(2), bytes(10, 2));
    const before = await snapshot();
    for (const epoch of [2, 1]) {
      const e = await errorOf(store.appendEpoch(id, report(epoch, 4, 42), bytes(10, 77)));
      expect(e.code).toBe('conflict');
      expect(e.message).toContain(`already has epoch ${epoch}`);
    }
    // A report that fails half-way (a layer beyond the depth) is rolled back whole.
    const bad = report(3);
    bad.layers.push({ layer: 99, metric: 'dead_ratio', value: 0 });
    await expect(store.appendEpoch(id, bad, bytes(10, 3))).rejects.toThrow(/layer 99 is outside 1\.\.4/);
    expect(await snapshot()).toEqual(before);
  });

  it('maintains the final-metric columns on append, NaN as null', async () => {
    const id = await store.createRun({ spec: spec(), epochsTotal: 3 });
    await store.appendEpoch(id, report(1));
    expect((await store.getRun(id)).final).toEqual({ train_loss: 1, test_loss: 1.1, test_acc: 0.5 });
    await store.appendEpoch(id, { epoch: 2, metrics: { train_loss: 0.25 }, layers: [] });
    expect((await store.getRun(id)).final).toEqual({ train_loss: 0.25, test_loss: 1.1, test_acc: 0.5 });
    await store.appendEpoch(id, {
      epoch: 3,
      metrics: { train_loss: Number.NaN, test_loss: Number.POSITIVE_INFINITY },
      layers: [],
    });
    const run = await store.getRun(id);
    expect(run.final).toEqual({ train_loss: null, test_loss: Number.POSITIVE_INFINITY, test_acc: 0.5 });
    expect(run.epochsDone).toBe(3);
    expect((await store.epochSeries(id, ['train_loss']))[0]!.values).toEqual([1, 0.25, Number.NaN]);
    expect(await store.finalMetric(id, 'test_acc')).toBeNull(); // not reported at epoch 3
  });

  it('lists runs with paging, sorting and filtering', async () => {
    const sweepId = await store.createSweep({ name: 'sw', config: { name: 'sw' } as never });
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const id = await store.createRun({
        spec: spec({ depth: 1 + i, activation: i % 2 ? 'relu' : 'bernstein' }),
        name: `run-${String(i).padStart(2, '0')}`,
        sweepId: i < 10 ? sweepId : null,
        epochsTotal: 2,
      });
      ids.push(id);
      if (i % 5 !== 0) await store.appendEpoch(id, { epoch: 1, metrics: { test_acc: i / 100 }, layers: [] });
    }
    await store.finishRun(ids[3]!, 'failed', 'boom');
    await store.setTags(ids[7]!, ['keeper']);

    const page1 = await store.listRuns({ orderBy: 'depth', limit: 10 });
    const page3 = await store.listRuns({ orderBy: 'depth', limit: 10, offset: 20 });
    expect(page1.total).toBe(25);
    expect(page1.rows.map((r) => r.depth)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(page3.rows.map((r) => r.depth)).toEqual([21, 22, 23, 24, 25]);

    const best = await store.listRuns({ orderBy: 'final_test_acc', desc: true, limit: 3 });
    expect(best.rows.map((r) => r.final.test_acc)).toEqual([0.24, 0.23, 0.22]);
    const nullsLast = await store.listRuns({ orderBy: 'finalTestAcc', limit: 25 });
    expect(nullsLast.rows.slice(-5).every((r) => r.final.test_acc === null)).toBe(true);

    expect((await store.listRuns({ sweepId, limit: 100 })).total).toBe(10);
    expect((await store.listRuns({ status: 'failed' })).rows.map((r) => r.id)).toEqual([ids[3]]);
    expect((await store.listRuns({ status: ['failed', 'queued'] })).total).toBe(25);
    expect((await store.listRuns({ search: 'keeper' })).rows.map((r) => r.id)).toEqual([ids[7]]);
    expect((await store.listRuns({ search: 'ReLU run-1', orderBy: 'name' })).rows.map((r) => r.name)).toEqual([
      'run-11',
      'run-13',
      'run-15',
      'run-17',
      'run-19',
    ]);
    expect((await store.listRuns({ search: '100%' })).total).toBe(0);
    await expect(store.listRuns({ orderBy: 'spec_json; DROP TABLE runs' })).rejects.toMatchObject({ code: 'invalid' });

    const sweep = await store.getSweep(sweepId);
    expect(sweep.total).toBe(10);
    expect(sweep.counts).toEqual({ queued: 9, failed: 1 });
  });

  it('a read-only reader keeps reading consistent data during a long write transaction (WAL)', async () => {
    const id = await store.createRun({ spec: spec(), epochsTotal: 100 });
    await store.appendEpoch(id, report(1));
    const reader = await RunStore.open(store.path, { readOnly: true });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const writing = store.writeBatch(async () => {
      for (let e = 2; e <= 40; e++) await store.appendEpoch(id, report(e));
      await gate; // the write transaction stays open while the reader reads
    });
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 5; i++) {
      const run = await reader.getRun(id);
      const [series] = await reader.epochSeries(id, ['train_loss']);
      expect(run.epochsDone).toBe(1);
      expect(series!.epochs).toEqual([1]);
    }
    await expect(reader.createRun({ spec: spec(), epochsTotal: 1 })).rejects.toMatchObject({ code: 'read_only' });
    release();
    await writing;
    expect((await reader.getRun(id)).epochsDone).toBe(40);
    expect((await reader.epochSeries(id, ['train_loss']))[0]!.epochs).toHaveLength(40);
    await reader.close();
  });

  it('deleteRuns removes every row, checkpoint and model, and shrinks the file', async () => {
    const keep = await store.createRun({ spec: spec(), epochsTotal: 1 });
    await store.appendEpoch(keep, report(1), bytes(1000, 1));
    const gone: string[] = [];
    for (let i = 0; i < 4; i++) {
      const id = await store.createRun({ spec: spec(), epochsTotal: 2 });
      await store.appendEpoch(id, report(1), bytes(1 << 20, i));
      await store.appendEpoch(id, report(2), bytes(1 << 20, i + 10));
      await store.saveModel(id, bytes(1 << 20, 7));
      gone.push(id);
    }
    await store.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const sizeBefore = (await stat(store.path)).size;
    expect(sizeBefore).toBeGreaterThan(8 << 20);

    const result = await store.deleteRuns([...gone, 'rmissing']);
    expect(result.deleted).toBe(4);
    expect(result.vacuumed).toBe(true);
    expect(result.freedBytes).toBeGreaterThan(7 << 20);
    const sizeAfter = (await stat(store.path)).size;
    expect(sizeAfter).toBeLessThan(1 << 20);
    for (const table of ['runs', 'epoch_metrics', 'layer_metrics', 'checkpoints', 'models']) {
      const left = await store.db.get<{ n: number }>(
        `SELECT count(*) AS n FROM ${table} WHERE run_id IN (SELECT value FROM json_each(?))`.replace(
          'run_id',
          table === 'runs' ? 'id' : 'run_id',
        ),
        [JSON.stringify(gone)],
      );
      expect(left!.n, table).toBe(0);
    }
    expect((await store.listRuns()).rows.map((r) => r.id)).toEqual([keep]);
    expect((await store.loadCheckpoint(keep))!.state).toHaveLength(1000);
    expect(await store.db.get('PRAGMA integrity_check')).toEqual({ integrity_check: 'ok' });
  });
});

describe('RunStore bucketed series', () => {
  it('never returns more than maxPoints per run, keeps min and max, last is the bucket’s last value', async () => {
    const a = await store.createRun({ spec: spec(), epochsTotal: 100 });
    const b = await store.createRun({ spec: spec(), epochsTotal: 60 });
    const valueA = (e: number) => (e === 37 ? 50 : e === 71 ? -3 : Math.sin(e));
    await store.writeBatch(async () => {
      for (let e = 1; e <= 100; e++)
        await store.appendEpoch(a, { epoch: e, metrics: { train_loss: valueA(e) }, layers: [] });
      for (let e = 1; e <= 60; e++) await store.appendEpoch(b, { epoch: e, metrics: { train_loss: e }, layers: [] });
    });
    for (const maxPoints of [1, 7, 10, 33, 99]) {
      const s = await store.epochSeriesBucketed([a, b, 'rnone'], 'train_loss', maxPoints);
      expect(s['rnone']).toEqual([]);
      for (const id of [a, b]) expect(s[id]!.length).toBeLessThanOrEqual(maxPoints);
      const sa = s[a]!;
      expect(Math.max(...sa.map((x) => x.max))).toBe(50);
      expect(Math.min(...sa.map((x) => x.min))).toBe(-3);
      expect(sa[sa.length - 1]).toMatchObject({ epoch: 100, last: Math.sin(100) });
      for (const bucket of sa) expect(bucket.last).toBe(valueA(bucket.epoch));
      expect(s[b]![s[b]!.length - 1]).toMatchObject({ epoch: 60, last: 60, max: 60 });
    }
    // Fewer epochs than points: every epoch is its own bucket.
    const all = await store.epochSeriesBucketed([b], 'train_loss', 500);
    expect(all[b]!.map((x) => [x.epoch, x.min, x.max, x.last])).toEqual(
      Array.from({ length: 60 }, (_, i) => [i + 1, i + 1, i + 1, i + 1]),
    );
    await expect(store.epochSeriesBucketed([a], 'train_loss', 0)).rejects.toMatchObject({ code: 'invalid' });
  });
});

describe('RunStore sweeps and datasets', () => {
  it('sweeps: create, get, list, status', async () => {
    const id = await store.createSweep({
      name: 'depth sweep',
      config: { name: 'depth sweep' } as never,
      fileText: 'name: depth sweep\n',
    });
    expect(id).toMatch(/^s[a-z2-9]{7}$/);
    await store.setSweepStatus(id, 'running');
    const s = await store.getSweep(id);
    expect(s).toMatchObject({ id, name: 'depth sweep', status: 'running', fileText: 'name: depth sweep\n', total: 0 });
    expect((await store.listSweeps()).map((x) => x.id)).toEqual([id]);
    await expect(store.setSweepStatus(id, 'bogus' as never)).rejects.toMatchObject({ code: 'invalid' });
    await expect(store.getSweep('snope')).rejects.toThrow('no sweep with id snope');
    await expect(store.createRun({ spec: spec(), sweepId: 'snope', epochsTotal: 1 })).rejects.toThrow(
      'no sweep with id snope',
    );
  });

  it('datasets: add, get, list, remove', async () => {
    const d = await store.addDataset({
      kind: 'higgs',
      title: 'HIGGS 20k',
      sourcePath: '/x/HIGGS.csv.gz',
      filePath: '/data/h.bin',
      rows: 20000,
      inputDim: 28,
      outputDim: 2,
      task: 'classification',
      meta: { split: 0.2 },
    });
    expect(d.id).toMatch(/^d[a-z2-9]{7}$/);
    expect(await store.getDataset(d.id)).toEqual(d);
    expect(await store.datasetFiles()).toEqual({ [d.id]: '/data/h.bin' });
    await expect(store.addDataset({ id: d.id, kind: 'csv', title: 'dup' })).rejects.toMatchObject({ code: 'conflict' });
    expect((await store.listDatasets()).map((x) => x.title)).toEqual(['HIGGS 20k']);
    expect(await store.removeDataset(d.id)).toEqual(d);
    expect(await store.listDatasets()).toEqual([]);
    await expect(store.getDataset(d.id)).rejects.toMatchObject({ code: 'not_found' });
  });
});
