// @vitest-environment happy-dom
// Component tests for the paper pack's screens: the certificate panel (a violation is loud), the run drawer,
// the Paper screen rendering a fixed figures payload (series per figure, δ̄ lines, zeros on log axes), the
// figure helpers, and the Settings → Remote workers form.
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { checkCertificate, type PaperFigures } from '../shared/paper.js';
import type { AppSettings, RemoteStatus, SettingsPatch } from '../shared/api.js';
import CertificatePanel from '../src-renderer/components/CertificatePanel.vue';
import RunDrawer from '../src-renderer/components/RunDrawer.vue';
import UPlotChart from '../src-renderer/components/UPlotChart.vue';
import PaperView from '../src-renderer/views/PaperView.vue';
import SettingsView from '../src-renderer/views/SettingsView.vue';
import { approxPanels, labelStyles, toPlot } from '../src-renderer/lib/paper.js';
import { flush, installFakeApi } from './ui-support.js';

const wait = (ms = 30) => new Promise((r) => setTimeout(r, ms));
type Stubbed = { props(k: string): unknown };
const charts = (w: ReturnType<typeof mount>) => w.findAllComponents(UPlotChart) as unknown as Stubbed[];

/** 3 layers × 2 epochs; layer 2 at epoch 2 observes 0.004 against a proven floor of 0.02: a violation. */
function certInput(violate: boolean) {
  const points: {
    layer: number;
    epoch: number;
    metric: 'learned_floor' | 'min_dsigma' | 'clipped_frac';
    value: number;
  }[] = [];
  for (const epoch of [1, 2])
    for (const layer of [1, 2, 3]) {
      points.push({ layer, epoch, metric: 'learned_floor', value: 0.02 });
      points.push({ layer, epoch, metric: 'min_dsigma', value: violate && layer === 2 && epoch === 2 ? 0.004 : 0.05 });
      points.push({ layer, epoch, metric: 'clipped_frac', value: 0.001 });
    }
  return {
    runId: 'r-bern',
    label: 'Bern_{9,0.01}[-5,5]',
    degree: 9,
    eps: 0.01,
    bounds: [-5, 5] as [number, number],
    boundsMode: 'fixed' as const,
    points,
  };
}

describe('CertificatePanel', () => {
  it('shows a violation loudly: red alert, counts, the offending row marked', async () => {
    installFakeApi();
    const cert = checkCertificate(certInput(true));
    expect(cert.ok).toBe(false);
    const w = mount(CertificatePanel, { props: { cert }, global: { stubs: { UPlotChart: true } } });
    const alert = w.find('[data-testid="cert-violation"]');
    expect(alert.exists()).toBe(true);
    expect(alert.attributes('role')).toBe('alert');
    expect(alert.text()).toMatch(
      /GRADIENT CERTIFICATE VIOLATED[\s\S]*1 \(layer, epoch\) cell with observed min \|σ′\| below the floor/,
    );
    expect(w.find('[data-testid="cert-ok"]').exists()).toBe(false);
    const bad = w.findAll('[data-testid="cert-bad-row"]');
    expect(bad).toHaveLength(1);
    expect(bad[0].text()).toMatch(/^2[\s\S]*0\.02[\s\S]*0\.004[\s\S]*0\.2[\s\S]*VIOLATION/);
    expect(w.findAll('[data-testid="cert-table"] tbody tr')).toHaveLength(3); // the last epoch's 3 layers
    expect(w.text()).toContain('δ̄ = nε/(u−l)0.009');
  });

  it('a holding certificate says so, with the δ̄ count, and no alert', () => {
    installFakeApi();
    const w = mount(CertificatePanel, {
      props: { cert: checkCertificate(certInput(false)) },
      global: { stubs: { UPlotChart: true } },
    });
    expect(w.find('[data-testid="cert-violation"]').exists()).toBe(false);
    expect(w.find('[data-testid="cert-ok"]').text()).toMatch(
      /holds[\s\S]*all 6 \(layer, epoch\) cells[\s\S]*≥ δ̄ in 6\/6/,
    );
    expect(w.findAll('[data-testid="cert-bad-row"]')).toHaveLength(0);
  });
});

describe('RunDrawer', () => {
  it('loads the run and, for Bernstein, its certificate; the violation is shown', async () => {
    const { calls } = installFakeApi({
      'runs.get': (() => ({
        id: 'r-bern',
        name: 'paper-001',
        sweepId: 's1',
        status: 'finished',
        dataset: 'synthetic-higgs',
        label: 'Bern_{9,0.01}[-5,5]',
        depth: 3,
        width: 8,
        activation: 'bernstein',
        degree: 9,
        eps: 0.01,
        lr: 0.001,
        batchSize: 64,
        backend: 'wasm',
        paramCount: 999,
        epochsTotal: 2,
        epochsDone: 2,
        createdAt: new Date().toISOString(),
        startedAt: null,
        finishedAt: null,
        error: null,
        tags: [],
        final: { train_loss: 0.61, test_loss: 0.66, test_acc: 0.581 },
        spec: {
          dataset: 'synthetic-higgs',
          depth: 3,
          width: 8,
          activation: 'bernstein',
          degree: 9,
          eps: 0.01,
          bounds: [-5, 5],
          boundsMode: 'fixed',
          alpha: 0.01,
          lr: 0.001,
        },
      })) as never,
      'paper.certificate': (() => checkCertificate(certInput(true))) as never,
      'metrics.series': ((ids: string[]) => ({
        [ids[0]!]: [1, 2].map((epoch) => ({ epoch, min: epoch / 10, max: epoch / 10, last: epoch / 10 })),
      })) as never,
      'metrics.layerGrid': ((runId: string, metric: string) => ({
        runId,
        metric,
        layers: [1, 2, 3],
        epochs: [1, 2],
        values: [
          [0, 0.1],
          [0.2, 0.3],
          [null, 0.5],
        ],
      })) as never,
    });
    const w = mount(RunDrawer, { props: { runId: 'r-bern' }, global: { stubs: { UPlotChart: true, EChart: true } } });
    await wait();
    const methods = calls.map((c) => c.method).filter((m) => m !== 'datasets.list');
    expect(methods.filter((m) => m === 'runs.get' || m === 'paper.certificate')).toEqual([
      'runs.get',
      'paper.certificate',
    ]);
    // the run's own curves (loss and accuracy, train and test) and its per-layer heatmap (dead ratio first)
    expect(calls.filter((c) => c.method === 'metrics.series').map((c) => [c.args[0], c.args[1]])).toEqual(
      ['train_loss', 'test_loss', 'train_acc', 'test_acc'].map((m) => [['r-bern'], m]),
    );
    expect(calls.filter((c) => c.method === 'metrics.layerGrid').map((c) => c.args)).toEqual([
      ['r-bern', 'dead_ratio'],
    ]);
    expect(w.find('[data-testid="run-curve-loss"]').attributes('data-points')).toBe('2');
    expect(w.find('[data-testid="run-heatmap"]').attributes('data-cells')).toBe('3x2');
    expect(w.find('[data-testid="drawer-dataset"]').text()).toBe('Synthetic HIGGS');
    expect((w.find('[data-testid="drawer-download-model"]').element as HTMLButtonElement).disabled).toBe(false);
    expect(w.find('[data-testid="drawer-metrics"]').text()).toMatch(/test acc58\.10%[\s\S]*test loss0\.66/);
    expect(w.find('[data-testid="drawer-spec"]').text()).toMatch(/bounds\s*\[-5, 5\]/);
    expect(w.find('[data-testid="drawer-spec"]').text()).not.toContain('alpha'); // only leaky ReLU has α
    expect(w.find('[data-testid="cert-violation"]').exists()).toBe(true);
    await w.find('[data-testid="drawer-close"]').trigger('click');
    expect(w.emitted('close')).toHaveLength(1);
    w.unmount();
  });
});

// ── a fixed figures payload ──────────────────────────────────────────────────────────────────────────────────
const B = 'Bern_{9,0.01}[-5,5]';
const series = (label: string, bernstein: boolean, points: [number, number | null][]) => ({
  label,
  runId: `r-${label}`,
  bernstein,
  points,
});
const FIGS: PaperFigures = {
  sweepId: 's1',
  sweepName: 'paper-fixed',
  source: {
    ids: ['synthetic-higgs'],
    description: 'synthetic-higgs: GENERATED HIGGS-shaped data',
    kind: 'synthetic-higgs',
  },
  mnist: false,
  layersShown: [1, 2, 4],
  minDsigmaVsEpoch: [1, 2, 4].map((layer) => ({
    layer,
    series: [
      series(B, true, [
        [1, 0.5],
        [2, 0.6],
      ]),
      series('ReLU', false, [
        [1, 0],
        [2, 0],
      ]),
    ],
  })),
  minDsigmaVsLayer: [
    series(B, true, [
      [1, 0.5],
      [2, 0.4],
      [3, 0.45],
      [4, 0.5],
    ]),
    series('ReLU', false, [
      [1, 0],
      [2, 0],
      [3, 0],
      [4, 0],
    ]),
    series('SELU', false, [
      [1, 0.1],
      [2, 0.05],
      [3, 0.02],
      [4, 0.01],
    ]),
  ],
  deadReadings: ['epoch', 'eval'],
  deadVsLayer: {
    epoch: [
      series(B, true, [
        [1, 0],
        [2, 0],
        [3, 0],
        [4, 0],
      ]),
      series('ReLU', false, [
        [1, 0.25],
        [2, 0.5],
        [3, 0.75],
        [4, 0.875],
      ]),
      series('SELU', false, [
        [1, 0],
        [2, 0],
        [3, 0],
        [4, 0.125],
      ]),
    ],
    eval: [
      series(B, true, [
        [1, 0],
        [2, 0],
        [3, 0],
        [4, 0],
      ]),
      series('ReLU', false, [
        [1, 0.125],
        [2, 0.25],
        [3, 0.375],
        [4, 0.5],
      ]),
      series('SELU', false, [
        [1, 0],
        [2, 0],
        [3, 0],
        [4, 0],
      ]),
    ],
  },
  mag1VsEpoch: [
    series(B, true, [
      [1, 1e-3],
      [2, 2e-3],
    ]),
    series('ReLU', false, [
      [1, 1e-6],
      [2, 1e-7],
    ]),
    series('SELU', false, [
      [1, 1e-4],
      [2, 1e-4],
    ]),
  ],
  deadVsEpoch: { epoch: [], eval: [] },
  initFigure: null,
  deltaBars: [{ label: B, value: 0.009 }],
  finalTable: [
    {
      runId: `r-${B}`,
      label: B,
      init: 'lecun_normal',
      depth: 4,
      width: 8,
      status: 'finished',
      epochsDone: 2,
      testAcc: 0.71,
      testLoss: 0.55,
      trainLoss: 0.5,
      deadRatio: { epoch: 0, eval: 0 },
      deadLast: { epoch: 0, eval: 0 },
    },
    {
      runId: 'r-ReLU',
      label: 'ReLU',
      init: 'he_normal',
      depth: 4,
      width: 8,
      status: 'finished',
      epochsDone: 2,
      testAcc: 0.52,
      testLoss: 0.69,
      trainLoss: 0.69,
      deadRatio: { epoch: 0.6, eval: 0.31 },
      deadLast: { epoch: 0.875, eval: 0.5 },
    },
    {
      runId: 'r-SELU',
      label: 'SELU',
      init: 'lecun_normal',
      depth: 4,
      width: 8,
      status: 'running',
      epochsDone: 1,
      testAcc: 0.6,
      testLoss: 0.66,
      trainLoss: 0.64,
      deadRatio: { epoch: 0.03, eval: 0 },
      deadLast: { epoch: 0.125, eval: 0 },
    },
  ],
  certificates: [
    {
      runId: `r-${B}`,
      label: B,
      deltaBar: 0.009,
      checked: 8,
      violations: 1,
      floorBelowDeltaBar: 0,
      aboveDeltaBar: 8,
      minObserved: 0.004,
      minLearnedFloor: 0.02,
      maxClippedFrac: 0.001,
      ok: false,
    },
  ],
  maxWidth: 8,
};

describe('figure helpers', () => {
  it('colours Bernstein labels cool and baselines warm, stable across figures', () => {
    const s = labelStyles([...FIGS.deadVsLayer.epoch, ...FIGS.mag1VsEpoch]);
    expect(s.map((x) => x.label)).toEqual([B, 'ReLU', 'SELU']);
    expect(s[0]).toMatchObject({ bernstein: true, color: '#1f5fd6' });
    expect(s[1]).toMatchObject({ bernstein: false, color: '#d62728' });
  });

  it('aligns series on x, adds a dashed δ̄ line, draws zeros at the log floor and counts them, hides labels', () => {
    const colors = new Map(labelStyles(FIGS.minDsigmaVsLayer).map((s) => [s.label, s.color]));
    const p = toPlot(FIGS.minDsigmaVsLayer, { colors, refs: FIGS.deltaBars, logFloor: 1e-10 });
    expect(p.x).toEqual([1, 2, 3, 4]);
    expect(p.series.map((s) => s.label)).toEqual([B, 'ReLU', 'SELU', `δ̄ ${B}`]);
    expect(p.series[1].values).toEqual([1e-10, 1e-10, 1e-10, 1e-10]);
    expect(p.clamped).toBe(4);
    expect(p.series[3]).toMatchObject({ values: [0.009, 0.009, 0.009, 0.009], dash: [6, 4], color: colors.get(B) });
    const hidden = toPlot(FIGS.minDsigmaVsLayer, { colors, refs: FIGS.deltaBars, hidden: new Set([B]) });
    expect(hidden.series.map((s) => s.label)).toEqual(['ReLU', 'SELU']); // its δ̄ goes with it
  });

  it('approximation panels: Bernstein per degree, its floor, the n^(−L) slope from the first depth, the matched ReLU; final vs selected', () => {
    const pt = (family: 'bernstein' | 'relu', depth: number, err: number) => ({
      runId: `${family}${depth}`,
      target: 'fn:smooth',
      family,
      degree: family === 'bernstein' ? 3 : null,
      matchedDegree: family === 'relu' ? 3 : null,
      depth,
      width: 8,
      paramCount: 10,
      bn: 'none' as const,
      final: { index: 4, valMaxErr: err, maxErr: 2 * err, rmse: err },
      selected: { index: 2, valMaxErr: err, maxErr: err, rmse: err },
      verdictErr: err,
      clippedFrac: 0,
      finalTrainMse: err,
      steps: 10,
      seconds: 1,
    });
    const floor = (depth: number, upper: number, belowPrecision = false) => ({
      target: 'fn:smooth',
      depth,
      degree: 3,
      bern: 0.1,
      relu: 0.1,
      winner: 'tie' as const,
      limitedBy: 'optimisation' as const,
      text: '',
      floor: {
        degree: 3 ** depth,
        computedDegree: 3 ** depth,
        upper,
        lower: upper / 2,
        belowPrecision,
        capped: false,
        text: '',
      },
    });
    const points = [pt('bernstein', 1, 0.3), pt('bernstein', 2, 0.1), pt('relu', 1, 0.5), pt('relu', 2, 0.4)];
    const [panel] = approxPanels(points, [floor(1, 0.05), floor(2, 1e-15, true)]);
    expect(panel.x).toEqual([1, 2]);
    expect(panel.series.map((s) => s.label)).toEqual([
      'Bern n=3',
      'floor E_{n^L}, n=3',
      'n^(−L) slope, n=3',
      'ReLU ≈ params of n=3',
    ]);
    expect(panel.series[1].values).toEqual([0.05, null]); // below float64 precision: a gap, not a number
    expect(panel.series[2].values[1]).toBeCloseTo(0.1, 12); // 0.3 · 3^(−1)
    expect(approxPanels(points, [], 'final')[0].series[0].values).toEqual([0.6, 0.2]);
    expect(approxPanels(points, [], 'selected')[0].series[0].values).toEqual([0.3, 0.1]);
  });
});

describe('PaperView', () => {
  it('renders every figure from the payload: series per label, δ̄ lines, final table, data source, the violation banner', async () => {
    installFakeApi({
      'sweeps.list': (() => [
        {
          id: 's1',
          name: 'paper-fixed',
          status: 'finished',
          createdAt: new Date().toISOString(),
          counts: { finished: 3 },
          total: 3,
          metric: { name: 'test_acc', goal: 'maximize' },
        },
      ]) as never,
      'paper.figures': ((id: string) => {
        expect(id).toBe('s1');
        return FIGS;
      }) as never,
    });
    const w = mount(PaperView, { attachTo: document.body, global: { stubs: { UPlotChart: true, RunDrawer: true } } });
    await wait();
    await flush();
    const cs = charts(w);
    expect(cs).toHaveLength(6); // figure 1 × 3 layers, figures 2, 3, 4 (no MNIST figure 5)
    const labels = (c: Stubbed) => (c.props('series') as { label: string }[]).map((s) => s.label);
    expect(labels(cs[0])).toEqual([B, 'ReLU', `δ̄ ${B}`]);
    expect(labels(cs[3])).toEqual([B, 'ReLU', 'SELU', `δ̄ ${B}`]);
    expect(labels(cs[4])).toEqual([B, 'ReLU', 'SELU']); // dead ratio: no δ̄
    expect(cs.every((c) => c.props('logY') === true)).toBe(true);
    expect(cs[4].props('x')).toEqual([1, 2, 3, 4]);
    // zeros of the dead ratio sit at 0.5/width on the log axis, and the caption says how many
    expect((cs[4].props('series') as { values: number[] }[])[0].values).toEqual([0.0625, 0.0625, 0.0625, 0.0625]);
    expect(w.find('[data-testid="figure-3"]').text()).toMatch(/7 points at 0 drawn at 0\.0625/);
    expect(w.find('[data-testid="figure-1·L4"]').text()).toMatch(/layer 4 \(last\)/);
    expect(w.find('[data-testid="paper-source"]').text()).toMatch(/synthetic-higgs[\s\S]*GENERATED/);
    expect(w.findAll('[data-testid="paper-legend"] .chip .lbltext').map((c) => c.attributes('data-label'))).toEqual([
      B,
      'ReLU',
      'SELU',
    ]);
    expect(w.find('[data-testid="paper-legend"] .chip').text()).toBe('Bern9,0.01[−5,5]'); // real subscripts
    const rows = w.findAll('[data-testid="final-row"]');
    expect(rows).toHaveLength(3);
    expect(rows[0].text()).toMatch(/Bern_\{9,0\.01\}\[-5,5\][\s\S]*71\.00%/);
    expect(rows[2].text()).toMatch(/running/);
    expect(w.find('[data-testid="paper-cert-violation"]').text()).toMatch(/GRADIENT CERTIFICATE VIOLATED in 1 run/);
    expect(w.findAll('.ours').length).toBeGreaterThanOrEqual(10);

    // The dead ratio defaults to the paper's epoch average, labelled so; the eval-batch reading is one pick away.
    expect(w.find('[data-testid="figure-3"]').text()).toMatch(/epoch avg[\s\S]*averaged over the last epoch's batches/);
    expect(w.find('[data-testid="paper-final-table"] thead').text()).toMatch(/dead \(all\) · epoch avg/);
    expect(rows[1].text()).toMatch(/60\.0%[\s\S]*87\.5%/);
    const pick = w.find('[data-testid="paper-dead-reading"]');
    expect(pick.findAll('option').map((o) => o.text())).toEqual([
      'default (epoch avg)',
      'epoch average over the training batches (the paper’s reading)',
      'fixed evaluation batch, eval mode (depends on evalBatch)',
    ]);
    await pick.setValue('eval');
    await flush();
    const fig3 = charts(w)[4];
    expect(
      (fig3.props('series') as { label: string; values: number[] }[]).find((x) => x.label === 'ReLU')!.values,
    ).toEqual([0.125, 0.25, 0.375, 0.5]);
    expect(w.find('[data-testid="figure-3"]').text()).toMatch(
      /eval batch[\s\S]*fixed evaluation batch[\s\S]*8 points at 0/,
    );
    expect(w.find('[data-testid="paper-final-table"] thead').text()).toMatch(/dead \(all\) · eval batch/);
    expect(w.findAll('[data-testid="final-row"]')[1].text()).toMatch(/31\.0%[\s\S]*50\.0%/);
    expect(w.find('[data-testid="paper-init-figure"]').exists()).toBe(false); // the sweep does not vary init

    // hide ReLU from the legend: every chart drops it
    await w.findAll('[data-testid="paper-legend"] .chip')[1].trigger('click');
    expect(charts(w).every((c) => !labels(c).includes('ReLU'))).toBe(true);
    w.unmount();
  });

  it('the initialisation figure: a dead-vs-layer panel per init scheme and the accuracy table; the report download passes the pick', async () => {
    const row = (label: string, init: string, acc: number, dead: number) => ({
      runId: `r-${label}-${init}`,
      label,
      init,
      depth: 4,
      width: 8,
      status: 'finished',
      epochsDone: 2,
      testAcc: acc,
      testLoss: 0.6,
      trainLoss: 0.6,
      deadRatio: { epoch: dead, eval: dead / 2 },
      deadLast: { epoch: dead, eval: dead / 2 },
    });
    const panel = (init: string, relu: number) => ({
      init,
      deadVsLayer: {
        epoch: [
          series(B, true, [
            [1, 0],
            [4, 0],
          ]),
          series('ReLU', false, [
            [1, relu / 2],
            [4, relu],
          ]),
          series('ReLU_res', false, [
            [1, 0],
            [4, 0.125],
          ]),
        ],
        eval: [
          series(B, true, [
            [1, 0],
            [4, 0],
          ]),
          series('ReLU', false, [
            [1, relu / 4],
            [4, relu / 2],
          ]),
          series('ReLU_res', false, [
            [1, 0],
            [4, 0],
          ]),
        ],
      },
    });
    const rows = [
      row(B, 'torch', 0.86, 0),
      row('ReLU', 'torch', 0.5, 0.6),
      row('ReLU_res', 'torch', 0.8, 0.05),
      row(B, 'he_normal', 0.87, 0),
      row('ReLU', 'he_normal', 0.85, 0.1),
      row('ReLU_res', 'he_normal', 0.51, 0.3),
    ];
    const figs: PaperFigures = {
      ...FIGS,
      finalTable: rows.map((r) => ({ ...r, label: `${r.label} ${r.init}` })),
      initFigure: { inits: ['torch', 'he_normal'], panels: [panel('torch', 0.75), panel('he_normal', 0.125)], rows },
    };
    const { calls } = installFakeApi({
      'sweeps.list': (() => [
        {
          id: 's1',
          name: 'paper-init',
          status: 'finished',
          createdAt: new Date().toISOString(),
          counts: { finished: 6 },
          total: 6,
          metric: { name: 'test_acc', goal: 'maximize' },
        },
      ]) as never,
      'paper.figures': (() => figs) as never,
      'paper.reportHtml': (() => '<html></html>') as never,
    });
    const w = mount(PaperView, { attachTo: document.body, global: { stubs: { UPlotChart: true, RunDrawer: true } } });
    await wait();
    await flush();
    const fig = w.find('[data-testid="paper-init-figure"]');
    expect(fig.exists()).toBe(true);
    expect(w.text()).toContain('Initialisation — dead ratio vs layer and final test accuracy under torch vs he_normal');
    expect(fig.find('[data-testid="figure-I·torch"]').text()).toMatch(/init = torch[\s\S]*U\(±1\/√fan_in\)/);
    expect(fig.find('[data-testid="figure-I·he_normal"]').text()).toMatch(/init = he_normal[\s\S]*N\(0, 2\/fan_in\)/);
    const cs = charts(w);
    expect(cs).toHaveLength(8); // figures 1 × 3, 2, 3, 4, and the two init panels
    const relu = (c: Stubbed) =>
      (c.props('series') as { label: string; values: number[] }[]).find((x) => x.label === 'ReLU')!.values;
    expect(relu(cs[6])).toEqual([0.375, 0.75]);
    expect(relu(cs[7])).toEqual([0.0625, 0.125]);
    const cells = w.findAll('[data-testid="paper-init-table"] tbody tr').map((r) => r.text());
    expect(cells).toHaveLength(3);
    // accuracies with two decimals, dead ratios with one: as in the final table, the CLI and the report
    expect(cells[0]).toMatch(/^Bern_\{9,0\.01\}\[-5,5\]\s*86\.00% · 0\.0%[\s\S]*87\.00% · 0\.0%/);
    expect(cells[1]).toMatch(/^ReLU\s*50\.00% · 60\.0%[\s\S]*85\.00% · 10\.0%/);
    // the final table names each run's init when the sweep varies it
    expect(w.find('[data-testid="paper-final-table"] thead').text()).toContain('init');
    await w.find('[data-testid="paper-dead-reading"]').setValue('eval');
    await flush();
    expect(relu(charts(w)[6])).toEqual([0.1875, 0.375]);
    await w.find('[data-testid="paper-download"]').trigger('click');
    await wait();
    expect(calls.find((c) => c.method === 'paper.reportHtml')?.args).toEqual(['s1', 'eval', null]); // null: one line per run (the screen groups nothing: one seed)
    w.unmount();
  });
});

describe('SettingsView', () => {
  it('shows the redacted URL, saves a new one, lists workers, toggles remote, and shows an unreachable Redis clearly', async () => {
    let settings: AppSettings = { redisUrl: 'redis://:***@queue.lab:6379', redisPasswordSet: true, useRemote: false };
    let reachable = true;
    const sets: SettingsPatch[] = [];
    const now = Date.now();
    installFakeApi({
      'settings.get': (() => settings) as never,
      'settings.set': ((p: SettingsPatch) => {
        sets.push(p);
        settings = {
          ...settings,
          ...(p.redisUrl !== undefined ? { redisUrl: (p.redisUrl ?? '').replace(/:[^:@/]+@/, ':***@') || null } : {}),
          ...(p.useRemote !== undefined ? { useRemote: p.useRemote } : {}),
        };
        return settings;
      }) as never,
      'remote.workers': ((): RemoteStatus =>
        reachable
          ? {
              redisUrl: settings.redisUrl,
              reachable: true,
              checkedAt: new Date(now).toISOString(),
              workers: [
                {
                  id: 'gpu-box-1',
                  host: 'gpu-box',
                  pid: 4242,
                  backend: 'tfjs-node-gpu',
                  concurrency: 1,
                  busy: 1,
                  runs: ['r1'],
                  version: '0.1.0',
                  startedAt: now - 3_600_000,
                  seenAt: now - 2000,
                },
                {
                  id: 'laptop-7',
                  host: 'laptop',
                  pid: 77,
                  backend: 'wasm',
                  concurrency: 2,
                  busy: 0,
                  runs: [],
                  version: '0.1.0',
                  startedAt: now - 60_000,
                  seenAt: now - 1000,
                },
              ],
            }
          : {
              redisUrl: settings.redisUrl,
              reachable: false,
              error: 'cannot reach Redis at redis://queue.lab:6379: connection refused',
              workers: [],
              checkedAt: new Date(now).toISOString(),
            }) as never,
    });
    const w = mount(SettingsView, { attachTo: document.body });
    await wait();
    const input = w.find('[data-testid="settings-redis-url"]');
    expect((input.element as HTMLInputElement).value).toBe('redis://:***@queue.lab:6379');
    expect(w.text()).toContain('A password is stored');
    expect((w.find('[data-testid="settings-save"]').element as HTMLButtonElement).disabled).toBe(true); // nothing changed

    const rows = w.findAll('[data-testid="remote-worker-row"]');
    expect(rows).toHaveLength(2);
    expect(rows[0].text()).toMatch(
      /gpu-box-1[\s\S]*gpu-box[\s\S]*4242[\s\S]*tfjs-node-gpu[\s\S]*busy 1\/1[\s\S]*r1[\s\S]*1h 0m[\s\S]*2s ago/,
    );
    expect(rows[1].text()).toMatch(/laptop[\s\S]*idle/);
    expect(w.find('[data-testid="remote-status"]').text()).toMatch(
      /Connected to redis:\/\/:\*\*\*@queue\.lab:6379[\s\S]*2 workers[\s\S]*1\/3 slots busy/,
    );

    await w.find('[data-testid="settings-remote-toggle"] input').setValue(true);
    await wait();
    expect(sets).toEqual([{ useRemote: true }]);
    expect(w.find('[data-testid="settings-remote-toggle"]').classes()).toContain('on');

    reachable = false;
    await input.setValue('redis://:newpass@other.host:6380');
    await w.find('[data-testid="settings-form"]').trigger('submit');
    await wait();
    expect(sets[1]).toEqual({ redisUrl: 'redis://:newpass@other.host:6380' });
    expect((input.element as HTMLInputElement).value).toBe('redis://:***@other.host:6380');
    expect(w.find('[data-testid="remote-error"]').text()).toMatch(
      /Redis unreachable\.[\s\S]*connection refused[\s\S]*Sweeps launched now will be refused/,
    );
    expect(w.findAll('[data-testid="remote-worker-row"]')).toHaveLength(0);
    w.unmount();
  });
});
