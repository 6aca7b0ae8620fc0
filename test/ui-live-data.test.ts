// @vitest-environment happy-dom
// Issue 15 #1 and #5 in the components: screens follow new data live (the Paper screen opened before any sweep
// fills in when one appears; a design saved later joins the Sweep builder's list), and "best" counts only runs
// that finished.
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import type { PaperFigures } from '../shared/paper.js';
import type { Design, SweepSummary } from '../shared/api.js';
import PaperView from '../src-renderer/views/PaperView.vue';
import SweepView from '../src-renderer/views/SweepView.vue';
import { flush, installFakeApi } from './ui-support.js';

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

const SWEEP: SweepSummary = {
  id: 's1',
  name: 'first-sweep',
  status: 'running',
  createdAt: new Date().toISOString(),
  counts: { running: 2 },
  total: 2,
  metric: { name: 'test_acc', goal: 'maximize' },
};
const row = (runId: string, status: 'finished' | 'cancelled', testAcc: number, epochsDone: number) => ({
  runId,
  label: 'ReLU',
  depth: 2,
  width: 8,
  status,
  epochsDone,
  testAcc,
  testLoss: 0.6,
  trainLoss: 0.6,
  init: 'he_normal',
  deadRatio: { epoch: 0, eval: 0 },
  deadLast: { epoch: 0, eval: 0 },
});
const figs = (rows: ReturnType<typeof row>[]): PaperFigures => ({
  sweepId: 's1',
  sweepName: 'first-sweep',
  source: { ids: ['synthetic-higgs'], description: 'synthetic', kind: 'synthetic-higgs' },
  mnist: false,
  layersShown: [1],
  minDsigmaVsEpoch: [{ layer: 1, series: [{ label: 'ReLU', runId: 'a', bernstein: false, points: [[1, 0.1]] }] }],
  minDsigmaVsLayer: [],
  deadReadings: ['epoch', 'eval'],
  deadVsLayer: { epoch: [], eval: [] },
  mag1VsEpoch: [],
  deadVsEpoch: { epoch: [], eval: [] },
  initFigure: null,
  deltaBars: [],
  finalTable: rows,
  certificates: [],
  maxWidth: 8,
});

describe('issue 15 #1: screens follow new data without a reload', () => {
  it('Paper figures: opened with no sweep it says so; the first sweep fills it in live, Report HTML enabled', async () => {
    let sweeps: SweepSummary[] = [];
    const { calls, emit } = installFakeApi({
      'sweeps.list': (() => sweeps) as never,
      'paper.figures': (() => figs([row('a', 'finished', 0.6, 2)])) as never,
    });
    const w = mount(PaperView, { attachTo: document.body, global: { stubs: { UPlotChart: true, RunDrawer: true } } });
    await until(() => w.find('[data-testid="paper-empty"]').exists());
    expect(w.find('[data-testid="paper-download"]').attributes('disabled')).toBeDefined();
    sweeps = [SWEEP];
    emit({ type: 'sweep-status', sweepId: 's1', status: 'running' });
    await until(() => w.find('[data-testid="paper-final-table"]').exists());
    expect(w.find('[data-testid="paper-empty"]').exists()).toBe(false);
    expect((w.find('[data-testid="paper-sweep"]').element as HTMLSelectElement).value).toBe('s1');
    expect(w.find('[data-testid="paper-download"]').attributes('disabled')).toBeUndefined();
    // one figures fetch for the chosen sweep, not one per hook
    expect(calls.filter((c) => c.method === 'paper.figures')).toHaveLength(1);
    w.unmount();
  });

  it('Sweep builder: a design saved after the screen opened appears in its design list', async () => {
    let list: Design[] = [];
    const { emit } = installFakeApi({
      'designs.list': (() => list) as never,
      'sweeps.plan': (() => ({ name: 'x', total: 1, runs: [] })) as never,
    });
    const w = mount(SweepView, { attachTo: document.body });
    await flush();
    const options = () => w.findAll('[data-testid="sweep-design"] option').map((o) => o.text());
    expect(options().some((t) => t.includes('saved later'))).toBe(false);
    list = [{ id: 'd1', name: 'saved later', blocks: [], training: {}, createdAt: '', updatedAt: '' }];
    emit({ type: 'data-changed', what: 'designs' });
    await until(() => options().some((t) => t.includes('saved later')));
    w.unmount();
  });
});

describe('issue 15 #5: "best" counts only finished runs and the screen says what did not finish', () => {
  it('a cancelled 2-epoch run with a higher accuracy is not marked best', async () => {
    installFakeApi({
      'sweeps.list': (() => [{ ...SWEEP, status: 'finished', counts: { finished: 1, cancelled: 1 } }]) as never,
      'paper.figures': (() => figs([row('fin', 'finished', 0.6, 10), row('can', 'cancelled', 0.9, 2)])) as never,
    });
    const w = mount(PaperView, { attachTo: document.body, global: { stubs: { UPlotChart: true, RunDrawer: true } } });
    await until(() => w.findAll('[data-testid="final-row"]').length === 2);
    const rows = w.findAll('[data-testid="final-row"]');
    const best = rows.map((r) => r.find('.best').exists());
    const fin = rows.findIndex((r) => r.text().includes('60.00%'));
    expect(best[fin]).toBe(true);
    expect(best[1 - fin]).toBe(false);
    expect(w.find('[data-testid="paper-unfinished"]').text()).toMatch(/1 cancelled/);
    w.unmount();
  });
});
