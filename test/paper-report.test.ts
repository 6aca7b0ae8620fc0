// The paper pack on a tiny real sweep (worker pool, real SQLite, real training): the report's figures carry one
// series per activation label, the certificate section is there, and a hand-made violation is flagged.
// Needs `npm run build` (the pool runs dist/). About 10–20 s on 2 cores.
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSweepText } from '../shared/sweep.js';
import { parseSpec } from '../shared/spec.js';
import { checkCertificate } from '../shared/paper.js';
import { RunStore } from '../src-main/store/run-store.js';
import { LocalPoolExecutor } from '../src-main/scheduler/local-pool.js';
import { createSweepFromText, Scheduler } from '../src-main/scheduler/scheduler.js';
import { buildPaperReport } from '../src-main/report/paper-report.js';
import { buildCertificate } from '../src-main/report/certificate.js';
import { APPROX_DEFAULTS, loadApproxResults, runApproxLab } from '../src-main/report/approx-lab.js';
import { renderApproxReport } from '../src-main/report/approx.js';
import { cli, tempDir } from './support/cli.js';

const tmp = tempDir('deepbern-paper-');
const db = join(tmp.dir, 'paper.db');
const LABELS = ['Bern_{9,0.01}[-5,5]', 'ReLU', 'SELU_BN'];
const SWEEP = `name: paper-tiny
dataset: synthetic-higgs
rows: 300
base: {depth: 3, width: 8, epochs: 2, batchSize: 64, evalBatch: 64}
parameters:
  variant:
    values:
      - {activation: bernstein, degree: 9, eps: 0.01, bounds: [-5, 5]}
      - {activation: relu}
      - {activation: selu, batchNorm: true}
`;
let sweepId = '';

beforeAll(async () => {
  const store = await RunStore.open(db);
  const scheduler = new Scheduler(store, new LocalPoolExecutor({ workers: 2 }));
  try {
    sweepId = (await createSweepFromText(store, SWEEP)).sweepId;
    await scheduler.startSweep(sweepId);
    await scheduler.waitForSweep(sweepId);
  } finally {
    await scheduler.close();
    await store.close();
  }
});
afterAll(() => tmp.cleanup());

describe('paper report', () => {
  it('figures carry one series per activation label; the HTML is self-contained with every section', async () => {
    const store = await RunStore.open(db);
    try {
      const { html, figures: f, certificates } = await buildPaperReport(store, sweepId);
      expect(f.layersShown).toEqual([1, 2, 3]);
      for (const panel of f.minDsigmaVsEpoch) expect(panel.series.map((s) => s.label)).toEqual(LABELS);
      for (const s of [f.minDsigmaVsLayer, f.deadVsLayer, f.mag1VsEpoch]) expect(s.map((x) => x.label)).toEqual(LABELS);
      // figure 3: a value per layer at the last epoch; figure 4: one MAG point per epoch
      for (const s of f.deadVsLayer) expect(s.points.map((p) => p[0])).toEqual([1, 2, 3]);
      for (const s of f.mag1VsEpoch) expect(s.points.map((p) => p[0])).toEqual([1, 2]);
      expect(f.deltaBars).toEqual([{ label: 'Bern_{9,0.01}[-5,5]', value: expect.closeTo(0.009, 12) }]);
      expect(f.source.kind).toBe('synthetic-higgs');
      expect(f.finalTable.map((r) => [r.label, r.status, r.epochsDone])).toEqual(LABELS.map((l) => [l, 'finished', 2]));
      expect(f.finalTable.every((r) => r.testAcc !== null && r.testLoss !== null)).toBe(true);
      // the real Bernstein run's certificate holds (the floor is a theorem; only a bug breaks it)
      expect(certificates).toHaveLength(1);
      expect(certificates[0]!.ok).toBe(true);
      expect(certificates[0]!.checked).toBeGreaterThan(0);

      for (const id of ['data', 'fig1-l1', 'fig1-l2', 'fig1-l3', 'fig2', 'fig3', 'fig4', 'final', 'certificate', 'definitions']) expect(html).toContain(`id="${id}"`);
      // every figure is inline SVG whose legend names every label (ECharts SSR writes legend text into the SVG)
      const fig3 = html.slice(html.indexOf('id="fig3"'), html.indexOf('</figure>', html.indexOf('id="fig3"')));
      expect(fig3).toContain('<svg');
      for (const l of LABELS) expect(fig3).toContain(l);
      expect(html).toContain('Certificate holds');
      expect(html).toContain('GENERATED HIGGS-shaped data');
      expect(html).toMatch(/ours/);
      // self-contained: no scripts, no external resources (XML namespace declarations are not fetched)
      const stripped = html.replace(/xmlns(:\w+)?="[^"]*"/g, '');
      expect(stripped).not.toMatch(/https?:\/\//);
      expect(stripped).not.toMatch(/<script|<link /i);
    } finally {
      await store.close();
    }
  });

  it('the certificate flags a hand-made violation: in the check, the report and the CLI (exit 3)', async () => {
    const store = await RunStore.open(db);
    let runId: string;
    try {
      const badSweep = await store.createSweep({ name: 'bad', config: parseSweepText('name: bad\ndataset: synthetic-higgs\n') });
      const spec = parseSpec({ dataset: 'synthetic-higgs', depth: 2, width: 4, activation: 'bernstein', degree: 9, eps: 0.01, bounds: [-5, 5], epochs: 2 });
      runId = await store.createRun({ spec, sweepId: badSweep, epochsTotal: 2 });
      const layer = (l: number, floor: number, min: number) => [
        { layer: l, metric: 'learned_floor' as const, value: floor },
        { layer: l, metric: 'min_dsigma' as const, value: min },
        { layer: l, metric: 'clipped_frac' as const, value: 0.01 },
        { layer: l, metric: 'dead_ratio' as const, value: 0 },
      ];
      // epoch 1: within float tolerance (not a violation); epoch 2, layer 2: observed 0.005 < proven 0.012
      await store.appendEpoch(runId, { epoch: 1, metrics: { mag1: 1e-3, dead_ratio: 0 }, layers: [...layer(1, 0.012, 0.012 * (1 - 1e-4)), ...layer(2, 0.012, 0.02)] });
      await store.appendEpoch(runId, { epoch: 2, metrics: { mag1: 1e-3, dead_ratio: 0 }, layers: [...layer(1, 0.012, 0.03), ...layer(2, 0.012, 0.005)] });
      const c = await buildCertificate(store, runId);
      expect(c.ok).toBe(false);
      expect(c.violations).toBe(1);
      expect(c.cells.filter((x) => x.violation).map((x) => [x.layer, x.epoch])).toEqual([[2, 2]]);
      const r = await buildPaperReport(store, badSweep);
      expect(r.html).toContain('CERTIFICATE VIOLATED');
      expect(r.html).toContain('VIOLATION: observed &lt; proven floor');
    } finally {
      await store.close();
    }
    const out = cli(['certificate', runId, '--db', db]);
    expect(out.code).toBe(3);
    expect(out.stderr).toMatch(/VIOLATION layer 2 epoch 2/);
    const json = cli(['certificate', runId, '--db', db, '--json']);
    expect(JSON.parse(json.stdout).violations).toBe(1);
    // a learned floor below δ̄ (the ε re-parameterisation broken) is flagged too
    expect(checkCertificate({ runId, label: 'x', degree: 9, eps: 0.01, bounds: [-5, 5], boundsMode: 'fixed', points: [{ layer: 1, epoch: 1, metric: 'learned_floor', value: 0.004 }] }).floorBelowDeltaBar).toBe(1);
  });

  it('deepbern report writes one HTML file', () => {
    const out = join(tmp.dir, 'r.html');
    const r = cli(['report', sweepId, '--db', db, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('<svg');
  });

  it('the approximation lab stores tagged runs and reads them back into its figure', async () => {
    const store = await RunStore.open(db);
    try {
      const o = { ...APPROX_DEFAULTS, targets: ['fn:smooth'], depths: [1, 2], degrees: [3], steps: 20, gridPoints: 64, reports: 2, backend: 'cpu' };
      const r = await runApproxLab(store, o);
      expect(r.points.map((p) => [p.family, p.depth])).toEqual([['bernstein', 1], ['relu', 1], ['bernstein', 2], ['relu', 2]]);
      expect(r.points.every((p) => Number.isFinite(p.maxErr) && p.maxErr > 0)).toBe(true);
      expect(r.verdicts).toHaveLength(1);
      const back = await loadApproxResults(store, r.tag);
      expect(back.points.map((p) => [p.runId, p.bestMaxErr])).toEqual(r.points.map((p) => [p.runId, expect.closeTo(p.bestMaxErr, 5)]));
      const html = renderApproxReport(back);
      expect(html).toContain('Bern n=3');
      expect(html).toContain('n^(−L) reference');
      expect((await buildCertificate(store, r.points[0]!.runId)).ok).toBe(true);
    } finally {
      await store.close();
    }
  });
});
