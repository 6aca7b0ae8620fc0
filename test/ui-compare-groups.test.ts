// @vitest-environment happy-dom
// Issue 15 (W&B list): seeds grouped into mean + band, legends that hide a run everywhere, per-chart log y
// with zeros marked, and Compare's state in the address / saved views.
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import type { RunDetail, SeriesBucket } from '../shared/api.js';
import { activationLabel, parseSpec } from '../shared/spec.js';
import CompareView from '../src-renderer/views/CompareView.vue';
import UPlotChart from '../src-renderer/components/UPlotChart.vue';
import { aggregate, DEFAULT_GROUP_BY, groupRuns } from '../src-renderer/lib/groups.js';
import { compareHash, parseCompareHash } from '../src-renderer/lib/viewState.js';
import { belowLogFloor } from '../src-renderer/lib/series.js';
import { labelParts } from '../src-renderer/lib/labelText.js';
import { store, view } from '../src-renderer/state/store.js';
import { installFakeApi } from './ui-support.js';

function run(id: string, spec: Record<string, unknown>): RunDetail {
  const s = parseSpec({ dataset: 'synthetic-higgs', depth: 2, width: 8, epochs: 3, ...spec });
  return {
    id,
    name: id,
    sweepId: 's',
    status: 'finished',
    dataset: s.dataset,
    label: activationLabel(s),
    depth: s.depth,
    width: s.width,
    activation: s.activation,
    degree: null,
    eps: null,
    lr: s.lr,
    batchSize: s.batchSize,
    backend: 'wasm',
    paramCount: 10,
    epochsTotal: 3,
    epochsDone: 3,
    createdAt: '',
    startedAt: null,
    finishedAt: null,
    error: null,
    tags: [],
    final: { train_loss: 0.5, test_loss: 0.6, test_acc: 0.7 },
    spec: s,
  };
}
// 2 designs × 2 seeds
const RUNS = [
  run('b0', { activation: 'bernstein', seed: 0 }),
  run('b1', { activation: 'bernstein', seed: 1 }),
  run('r0', { activation: 'relu', seed: 0 }),
  run('r1', { activation: 'relu', seed: 1 }),
];
const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('readable labels', () => {
  it('subscripts and real minus signs, also inside run names', () => {
    expect(labelParts('Bern_{9,0.01}[-5,5]')).toEqual([
      { text: 'Bern' },
      { text: '9,0.01', sub: true },
      { text: '[−5,5]' },
    ]);
    expect(labelParts('sweep-003 LReLU_0.01')).toEqual([
      { text: 'sweep-003 ' },
      { text: 'LReLU' },
      { text: '0.01', sub: true },
    ]);
    expect(labelParts('SELU_BN')).toEqual([{ text: 'SELU' }, { text: 'BN', sub: true }]);
    expect(labelParts('run-12 ReLU')).toEqual([{ text: 'run-12 ReLU' }]);
  });
});

/** The stubbed charts with their props (the .vue shim types no props). */
type Stubbed = { props(k: string): unknown };
const stubs = (w: { findAllComponents(c: unknown): unknown[] }) =>
  w.findAllComponents(UPlotChart) as unknown as Stubbed[];
describe('grouping', () => {
  it('default: everything but the seed; mean with a min–max or ±1 sd band', () => {
    const g = groupRuns(RUNS, DEFAULT_GROUP_BY, (r) => r.label);
    expect(g.map((x) => [x.runIds, x.seeds])).toEqual([
      [
        ['b0', 'b1'],
        [0, 1],
      ],
      [
        ['r0', 'r1'],
        [0, 1],
      ],
    ]);
    expect(g[1]!.label).toBe('ReLU (2 runs)');
    const mm = aggregate(
      [
        [1, 2, null],
        [3, null, null],
      ],
      'minmax',
    );
    expect(mm).toEqual({ mean: [2, 2, null], lo: [1, 2, null], hi: [3, 2, null], n: [2, 1, 0] });
    const sd = aggregate([[1], [3]], 'sd');
    expect(sd.lo[0]).toBeCloseTo(2 - Math.SQRT2, 12);
    expect(groupRuns(RUNS, [...DEFAULT_GROUP_BY, 'seed'], (r) => r.label)).toHaveLength(4);
  });

  it('the address carries the state and parses back', () => {
    const st = {
      runs: ['b0', 'r1'],
      group: true,
      by: ['activation', 'depth'],
      band: 'sd' as const,
      smooth: 0.4,
      metrics: ['train_loss'],
      hidden: ['r1'],
    };
    const h = compareHash(st);
    expect(h).toBe('#/compare?runs=b0,r1&group=1&by=activation,depth&band=sd&smooth=0.4&metrics=train_loss&hidden=r1');
    expect(parseCompareHash(h)).toEqual(st);
    expect(parseCompareHash('#/runs')).toBeNull();
  });
});

describe('CompareView grouped', () => {
  it('group seeds: one series per design with a band; the legend hides a group in every chart; per-chart log marks zeros', async () => {
    const series: Record<string, SeriesBucket[]> = {};
    RUNS.forEach(
      (r, i) =>
        (series[r.id] = [1, 2, 3].map((epoch) => ({
          epoch,
          min: 0,
          max: 0,
          last: epoch === 3 && r.id === 'r0' ? 0 : 1 / (epoch + i),
        }))),
    );
    installFakeApi({
      'runs.getMany': ((ids: string[]) => ({ runs: RUNS.filter((r) => ids.includes(r.id)), missing: [] })) as never,
      'metrics.series': (() => series) as never,
      'views.list': (() => []) as never,
    });
    store.compareIds = RUNS.map((r) => r.id);
    store.hiddenRuns = [];
    view.value = 'compare';
    const w = mount(CompareView, {
      attachTo: document.body,
      global: { stubs: { LazyPanel: { template: '<div><slot /></div>' }, EChart: true, UPlotChart: true } },
    });
    const charts = () => stubs(w).filter((c) => c.props('title') === 'train loss');
    await until(() => w.findAllComponents(UPlotChart).length >= 6);
    for (const c of w.findAllComponents(UPlotChart)) c.vm.$emit('width', 600); // the stub has no box to measure
    await until(() => charts().length === 1 && (charts()[0]!.props('series') as unknown[]).length === 4);
    await w.find('[data-testid="group-seeds"]').setValue(true);
    await until(() => (charts()[0]!.props('series') as unknown[]).length === 2);
    const s = charts()[0]!.props('series') as {
      label: string;
      values: number[];
      band?: { lo: number[]; hi: number[] };
    }[];
    expect(s.map((x) => x.label)).toEqual(['Bern_{9,0.01}[-5,5] (2 runs)', 'ReLU (2 runs)']);
    expect(s.every((x) => x.band)).toBe(true);
    expect(s[0]!.values[0]).toBeCloseTo((1 / 1 + 1 / 2) / 2, 12);
    expect(s[0]!.band!.lo[0]).toBeCloseTo(1 / 2, 12);
    expect(s[0]!.band!.hi[0]).toBeCloseTo(1, 12);
    expect(w.find('[data-testid="group-count"]').text()).toMatch(/2 groups of 4 runs/);
    expect(location.hash).toMatch(/^#\/compare\?runs=b0,b1,r0,r1&group=1&by=/);

    // the legend of one chart hides the ReLU group in every chart
    const legend = w.find('[data-testid="legend-train_loss"]');
    await legend.findAll('button')[1]!.trigger('click');
    await until(() =>
      stubs(w).every((c) => !(c.props('series') as { label: string }[]).some((x) => x.label.startsWith('ReLU'))),
    );
    expect(store.hiddenRuns).toEqual(['r0', 'r1']);
    expect(legend.findAll('button')[1]!.attributes('title')).toMatch(/ReLU \(2 runs\)/);
    await legend.findAll('button')[1]!.trigger('click');

    // per-chart log y: only this chart switches; ReLU's zero at epoch 3 is marked on the floor
    await w.find('[data-testid="log-train_loss"]').setValue(true);
    await until(() => charts()[0]!.props('logY') === true);
    expect(
      stubs(w)
        .find((c) => c.props('title') === 'test loss')!
        .props('logY'),
    ).toBe(false);
    await w.find('[data-testid="group-seeds"]').setValue(false);
    await until(() => (charts()[0]!.props('series') as unknown[]).length === 4);
    const relu0 = (charts()[0]!.props('series') as { label: string; values: (number | null)[] }[]).find(
      (x) => x.label === 'r0 · ReLU',
    )!;
    expect(belowLogFloor(relu0.values, 1e-12)).toEqual([2]); // the zero the chart draws on its floor, marked
    w.unmount();
  });
});
