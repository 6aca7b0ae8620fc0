// @vitest-environment happy-dom
// Issue 15 #7: a sweep's progress moves while runs are mid-epoch (epochs done / total with the running epochs'
// fractions) with an ETA; before launch the builder estimates epochs and time from recent runs' measured speed.
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import type { RunSummary, SweepSummary } from '../shared/api.js';
import RunsView from '../src-renderer/views/RunsView.vue';
import SweepView from '../src-renderer/views/SweepView.vue';
import { planEstimate, sweepProgress } from '../src-renderer/lib/eta.js';
import { store } from '../src-renderer/state/store.js';
import { DATASETS, installFakeApi } from './ui-support.js';

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};
const sweep = (over: Partial<SweepSummary> = {}): SweepSummary => ({
  id: 's1',
  name: 'four',
  status: 'running',
  createdAt: new Date().toISOString(),
  counts: { running: 2, queued: 2 },
  total: 4,
  metric: { name: 'test_loss', goal: 'minimize' },
  epochs: { done: 0, total: 8, remaining: 8 },
  startedAt: new Date(Date.now() - 30_000).toISOString(),
  ...over,
});
const run = (i: number): RunSummary => ({
  id: `r${i}`,
  name: `four-00${i}`,
  sweepId: 's1',
  status: 'running',
  dataset: 'synthetic-higgs',
  label: 'ReLU',
  depth: 2,
  width: 8,
  activation: 'relu',
  degree: null,
  eps: null,
  lr: 0.001,
  batchSize: 64,
  backend: 'wasm',
  paramCount: 100,
  epochsTotal: 2,
  epochsDone: 0,
  createdAt: new Date().toISOString(),
  startedAt: null,
  finishedAt: null,
  error: null,
  tags: [],
  final: { train_loss: null, test_loss: null, test_acc: null },
});

describe('sweep progress', () => {
  it('counts running epochs’ fractions and projects the pace so far', () => {
    const p = sweepProgress(sweep({ epochs: { done: 2, total: 8, remaining: 6 } }), 1, Date.parse(sweep().startedAt!));
    expect(p.done).toBe(3);
    expect(p.fraction).toBeCloseTo(3 / 8, 9);
    const at = sweepProgress(sweep({ epochs: { done: 2, total: 8, remaining: 6 } }), 1);
    expect(at.etaSeconds).toBeCloseTo((30 / 3) * 5, 0);
    expect(at.text).toMatch(/^3\/8 epochs · ETA 50s$/);
    expect(sweepProgress(sweep({ status: 'finished', epochs: { done: 8, total: 8, remaining: 0 } })).text).toBe(
      '8/8 epochs',
    );
    expect(
      planEstimate(
        [{ paramCount: 100, rows: 1000, epochs: 4 }],
        [{ paramCount: 100, rows: 1000, epochs: 2, seconds: 10 }],
        1,
      ),
    ).toBeCloseTo(20, 9);
  });

  it('the Runs screen’s sweep row moves off 0 while the first epochs are still running', async () => {
    const { emit } = installFakeApi({
      'runs.list': (() => ({ rows: [run(1), run(2)], total: 2 })) as never,
      'sweeps.list': (() => [sweep()]) as never,
    });
    const w = mount(RunsView, { attachTo: document.body });
    await until(
      () => w.find('[data-testid="sweep-progress"]').exists() && w.findAll('[data-testid="run-row"]').length === 2,
    );
    expect(w.find('[data-testid="sweep-progress"]').text()).toMatch(/^0\/8 epochs · ETA —/);
    emit({ type: 'run-progress', runId: 'r1', epoch: 1, epochs: 2, batch: 5, batches: 10, loss: 0.7 });
    emit({ type: 'run-progress', runId: 'r2', epoch: 1, epochs: 2, batch: 5, batches: 10, loss: 0.7 });
    await until(() => /^1\/8 epochs · ETA \d/.test(w.find('[data-testid="sweep-progress"]').text()));
    expect(w.find('[data-testid="sweep-row"] .bar > i').attributes('style')).toContain('width: 12.5%');
    w.unmount();
  });

  it('the Sweep builder estimates epochs and time before launch', async () => {
    store.datasets = DATASETS.slice();
    store.workers = { size: 2, busy: 0, reason: undefined };
    store.designerDraft = {
      name: 'Bern',
      blocks: [
        { kind: 'repeat', times: 3, blocks: [{ kind: 'dense', width: 8 }, { kind: 'relu' }] },
        { kind: 'dense', width: 2 },
      ],
      training: { dataset: 'synthetic-higgs', epochs: 2, rows: 500 },
    };
    const t0 = Date.now() - 60_000;
    installFakeApi({
      'sweeps.plan': (() => ({ name: 'x', total: 3, runs: [] })) as never,
      'runs.list': (() => ({
        rows: [
          {
            ...run(9),
            status: 'finished',
            epochsDone: 2,
            paramCount: 5000,
            startedAt: new Date(t0).toISOString(),
            finishedAt: new Date(t0 + 10_000).toISOString(),
          },
        ],
        total: 1,
      })) as never,
      'runs.get': (() => ({ ...run(9), spec: { rows: 1000 } })) as never,
    });
    const w = mount(SweepView, { attachTo: document.body });
    await until(() => /≈ /.test(w.find('[data-testid="sweep-estimate"]').text()));
    expect(w.find('[data-testid="sweep-estimate"]').text()).toMatch(
      /^\d[\d,]* epochs · ≈ .+ on 2 workers at the speed of your last 1 run$/,
    );
    w.unmount();
  });
});

describe('issue 15 #8: approximation fits are kept apart from training runs', () => {
  it('the Runs screen asks for training runs by default; the fits list shows steps, not epochs', async () => {
    const kinds: (string | undefined)[] = [];
    installFakeApi({
      'runs.list': ((q: { kind?: string }) => {
        kinds.push(q.kind);
        return q.kind === 'approx'
          ? {
              rows: [
                {
                  ...run(5),
                  status: 'finished',
                  kind: 'approx',
                  epochsDone: 5,
                  epochsTotal: 5,
                  tags: ['approx-lab', 'steps:2000'],
                },
              ],
              total: 1,
            }
          : { rows: [run(1)], total: 1 };
      }) as never,
      'sweeps.list': (() => []) as never,
    });
    const w = mount(RunsView, { attachTo: document.body });
    await until(() => w.findAll('[data-testid="run-row"]').length === 1);
    expect(kinds[0]).toBe('training');
    await w.find('[data-testid="runs-kind"]').setValue('approx');
    await until(() => kinds.includes('approx') && w.find('[data-testid="run-row"]').text().includes('steps'));
    expect(w.find('[data-testid="run-row"]').text()).toMatch(/2,000\/2,000 steps/);
    expect(w.find('[data-testid="run-row"]').text()).not.toMatch(/5\/5/);
    w.unmount();
  });
});

describe('issue 15 (scale): the sweeps list above the Runs table is virtualised', () => {
  it('3,125 sweeps render a window of rows, and scrolling moves the window', async () => {
    installFakeApi({
      'runs.list': (() => ({ rows: [], total: 0 })) as never,
      'sweeps.list': (() =>
        Array.from({ length: 3125 }, (_, i) =>
          sweep({ id: `s${i}`, name: `sweep-${i}`, status: 'finished' }),
        )) as never,
    });
    const w = mount(RunsView, { attachTo: document.body });
    await until(() => w.findAll('[data-testid="sweep-row"]').length > 0, 20_000);
    const rows = w.findAll('[data-testid="sweep-row"]');
    expect(rows.length).toBeLessThan(30);
    expect(rows[0]!.text()).toMatch(/^sweep-0/);
    const box = w.find('[data-testid="sweeps-list"]').element as HTMLElement;
    Object.defineProperty(box, 'scrollTop', { value: 42 * 1000, configurable: true }); // no layout in happy-dom
    box.dispatchEvent(new Event('scroll'));
    await until(() => w.findAll('[data-testid="sweep-row"]').some((r) => /^sweep-1000(?!\d)/.test(r.text())), 20_000);
    expect(w.findAll('[data-testid="sweep-row"]').length).toBeLessThan(30);
    w.unmount();
  });
});
