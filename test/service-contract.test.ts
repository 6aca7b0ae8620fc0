// The contract, end to end over BOTH adapters: the same calls through HTTP+WS and through the IPC seam reach
// one real service (real SQLite file, real worker pool) and give the same results, errors and events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkbenchEvent } from '../shared/api.js';
import { httpHarness, ipcHarness, rejection, TINY_SWEEP, type Harness } from './service-harness.js';

describe.each([
  ['http', httpHarness],
  ['ipc', ipcHarness],
] as const)('contract over %s', (name, make) => {
  let h: Harness;
  beforeAll(async () => {
    h = await make();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('system.info reports backend, pool and transport', async () => {
    const info = await h.call('system.info');
    expect(info.backend.name).toBe('wasm');
    expect(info.workers).toMatchObject({ size: 2, busy: 0 });
    expect(info.transport).toBe(name === 'http' ? 'web' : 'electron');
    expect(info.dbPath).toBe(h.service.store.path);
  });

  it('lists runs (empty store) and the built-in datasets', async () => {
    expect(await h.call('runs.list', {})).toEqual({ rows: [], total: 0 });
    const ds = await h.call('datasets.list');
    expect(ds.map((d) => d.id)).toEqual(expect.arrayContaining(['mnist', 'synthetic-higgs']));
  });

  it('plans a sweep without running anything, and names the line of a bad field', async () => {
    const plan = await h.call('sweeps.plan', TINY_SWEEP);
    expect(plan).toMatchObject({ name: 'tiny', total: 2 });
    expect(plan.runs.map((r) => r.label)).toEqual(['Bern_{9,0.01}[-5,5]', 'ReLU']);
    expect((await h.call('runs.list', {})).total).toBe(0);
    const e = await rejection(h.call('sweeps.plan', 'name: x\nparameters:\n  depht:\n    values: [1]\n'));
    expect(e.body.kind).toBe('bad-request');
    expect(e.body.error).toMatch(/^line [34]: parameters\.depht: unknown parameter/);
    if (name === 'http') expect(e.status).toBe(400);
  });

  it('saves, lists, updates and removes designs', async () => {
    const blocks = [
      {
        kind: 'repeat' as const,
        times: 2,
        blocks: [
          { kind: 'dense' as const, width: 8 },
          { kind: 'batchnorm' as const },
          {
            kind: 'bernstein' as const,
            degree: 5,
            eps: 0.01,
            bounds: [-5, 5] as [number, number],
            boundsMode: 'fixed' as const,
          },
        ],
      },
    ];
    const saved = await h.call('designs.save', {
      name: 'stack',
      blocks,
      training: { dataset: 'synthetic-higgs', epochs: 2 },
    });
    expect(saved).toMatchObject({ name: 'stack', blocks, training: { dataset: 'synthetic-higgs', epochs: 2 } });
    const renamed = await h.call('designs.save', { id: saved.id, name: 'stack 2', blocks, training: {} });
    expect(renamed.id).toBe(saved.id);
    expect((await h.call('designs.list')).map((d) => d.name)).toEqual(['stack 2']);
    const bad = await rejection(h.raw('designs.save', [{ name: 'x', blocks: [{ kind: 'conv2d' }], training: {} }]));
    expect(bad.body).toMatchObject({ kind: 'bad-request' });
    expect(bad.body.error).toMatch(/blocks\.0\.kind/);
    await h.call('designs.remove', saved.id);
    expect(await h.call('designs.list')).toEqual([]);
    expect((await rejection(h.call('designs.remove', saved.id))).body.kind).toBe('not-found');
  });

  it('maps errors to kinds: unknown run → not-found, bad args → bad-request with the zod reason, unknown method → not-found', async () => {
    const nf = await rejection(h.call('runs.get', 'r-nope'));
    expect(nf.body).toEqual({ error: 'no run with id r-nope', kind: 'not-found' });
    const bad = await rejection(h.raw('runs.list', [{ limit: 0 }]));
    expect(bad.body.kind).toBe('bad-request');
    expect(bad.body.error).toMatch(/runs\.list: invalid arguments: argument 0\.limit: .*>=1/);
    const extra = await rejection(h.raw('runs.list', [{ limit: 5, evil: true }]));
    expect(extra.body.error).toMatch(/unknown field: evil/);
    const wrongArity = await rejection(h.raw('runs.get', []));
    expect(wrongArity.body.kind).toBe('bad-request');
    const unknown = await rejection(h.raw('fs.readFile', ['/etc/passwd']));
    expect(unknown.body.kind).toBe('not-found');
    const metric = await rejection(h.call('metrics.series', ['r1'], 'not_a_metric' as never, 10));
    expect(metric.body).toMatchObject({ kind: 'bad-request' });
    if (name === 'http') expect([nf.status, bad.status, unknown.status]).toEqual([404, 400, 404]);
  });

  it('refuses to import a file nobody chose or uploaded', async () => {
    const e = await rejection(h.call('datasets.import', { kind: 'csv', path: '/etc/passwd' }));
    expect(e.body.kind).toBe('bad-request');
    expect(e.body.error).toMatch(/only files you picked or uploaded can be imported/);
    const u = await rejection(h.call('datasets.import', { kind: 'csv', uploadId: 'u-0000' }));
    expect(u.body.kind).toBe('not-found');
  });

  it('launches a 2-run sweep; run-epoch and run-status events arrive until both runs finish', async () => {
    const sweep = await h.call('sweeps.launch', TINY_SWEEP);
    expect(sweep).toMatchObject({ name: 'tiny', total: 2, metric: { name: 'test_loss', goal: 'minimize' } });
    const { rows } = await h.call('runs.list', { sweepId: sweep.id });
    expect(rows).toHaveLength(2);
    const ids = rows.map((r) => r.id).sort();
    const finished = (id: string) => (e: WorkbenchEvent) =>
      e.type === 'run-status' && e.runId === id && e.status === 'finished';
    for (const id of ids) await h.waitForEvent(finished(id), 110_000);
    await h.waitForEvent((e) => e.type === 'sweep-status' && e.sweepId === sweep.id && e.status === 'finished');
    for (const id of ids) {
      const epochs = h.events.filter(
        (e): e is Extract<WorkbenchEvent, { type: 'run-epoch' }> => e.type === 'run-epoch' && e.runId === id,
      );
      expect(epochs.map((e) => e.epoch)).toEqual([1, 2]);
      expect(epochs[1]!.metrics.test_loss).toBeGreaterThan(0);
      const statuses = h.events
        .filter((e) => e.type === 'run-status' && e.runId === id)
        .map((e) => (e as { status: string }).status);
      expect(statuses).toEqual(['running', 'finished']);
    }
    expect(h.events.some((e) => e.type === 'workers' && e.busy > 0)).toBe(true);

    // What the screens then read: the table, the curves, the per-layer chart, the CSV.
    const after = await h.call('runs.list', { sweepId: sweep.id, orderBy: 'createdAt' });
    expect(after.rows.map((r) => [r.status, r.epochsDone])).toEqual([
      ['finished', 2],
      ['finished', 2],
    ]);
    const series = await h.call('metrics.series', ids, 'test_loss', 100);
    for (const id of ids) expect(series[id]!.map((b) => b.epoch)).toEqual([1, 2]);
    const bern = after.rows.find((r) => r.activation === 'bernstein')!;
    const grid = await h.call('metrics.layerGrid', bern.id, 'dead_ratio');
    expect(grid.layers).toEqual([1, 2]);
    expect(grid.epochs).toEqual([1, 2]);
    const profile = await h.call('metrics.layerProfile', [bern.id], 'min_dsigma');
    expect(profile[bern.id]!.map((p) => p.layer)).toEqual([1, 2]);
    const csv = await h.call('metrics.exportCsv', [bern.id]);
    expect(csv.split('\n')[0]).toBe('run_id,epoch,layer,metric,value,run_name,label');
    // each row names its run and label (quoted: labels hold commas)
    const q = (t: string) => (/[",]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t);
    expect(bern.label).toContain(',');
    expect(csv).toContain(`${bern.id},2,,test_loss,`);
    expect(
      csv
        .split('\n')
        .filter((l) => l.startsWith(`${bern.id},`))
        .every((l) => l.endsWith(`,${q(bern.name)},${q(bern.label)}`)),
    ).toBe(true);
    // The drawer's model download: the model file (docs/model-format.md) of a finished run; unknown → not-found.
    const model = JSON.parse(await h.call('runs.exportModel', bern.id)) as {
      format: string;
      inputDim: number;
      layers: { type: string }[];
    };
    expect(model.format).toBe('deepbern-model');
    expect(model.layers.some((l) => l.type === 'bernstein')).toBe(true);
    expect((await rejection(h.call('runs.exportModel', 'r-nope'))).body.kind).toBe('not-found');
    const got = await h.call('sweeps.get', sweep.id);
    expect(got).toMatchObject({ status: 'finished', counts: { finished: 2 }, fileText: TINY_SWEEP });

    // Finished runs cannot be cancelled; they can be tagged and deleted.
    expect((await rejection(h.call('runs.cancel', bern.id))).body.kind).toBe('conflict');
    expect((await rejection(h.call('sweeps.cancel', sweep.id))).body.kind).toBe('conflict');
    await h.call('runs.setTags', bern.id, ['keep', 'paper']);
    expect((await h.call('runs.get', bern.id)).tags).toEqual(['keep', 'paper']);
    // No model before a run finishes: a conflict that says why (the drawer disables its button meanwhile).
    const untrained = await h.service.store.createRun({
      spec: (await h.call('runs.get', bern.id)).spec,
      name: 'never trained',
      epochsTotal: 2,
    });
    const noModel = await rejection(h.call('runs.exportModel', untrained));
    expect(noModel.body.kind).toBe('conflict');
    expect(noModel.body.error).toMatch(/has no trained model: it is queued/);
    await h.call('runs.cancel', untrained);
    await h.call('runs.delete', [untrained]);
    expect(await h.call('runs.delete', [bern.id])).toMatchObject({ deleted: 1 });
    expect((await h.call('runs.list', {})).total).toBe(1);
  });
});
