// The paper pack on a tiny real sweep (worker pool, real SQLite, real training): the report's figures carry one
// series per activation label, the certificate section is there, and a hand-made violation is flagged.
// Needs `npm run build` (the pool runs dist/). About 10–20 s on 2 cores.
import { join } from 'node:path';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSweepText } from '../shared/sweep.js';
import { parseSpec } from '../shared/spec.js';
import { checkCertificate } from '../shared/paper.js';
import { RunStore } from '../src-main/store/run-store.js';
import { LocalPoolExecutor } from '../src-main/scheduler/local-pool.js';
import { createSweepFromText, Scheduler } from '../src-main/scheduler/scheduler.js';
import { buildPaperReport, renderPaperReport } from '../src-main/report/paper-report.js';
import { buildCertificate } from '../src-main/report/certificate.js';
import { APPROX_DEFAULTS, loadApproxResults, runApproxLab } from '../src-main/report/approx-lab.js';
import { renderApproxReport } from '../src-main/report/approx.js';
import { lineChart } from '../src-main/report/charts.js';
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
// The initialisation figure's shape: ReLU, ReLU_res and Bern under torch vs he_normal (tiny here).
const INIT_SWEEP = `name: paper-init-tiny
dataset: synthetic-higgs
rows: 300
base: {depth: 3, width: 8, epochs: 1, batchSize: 64, evalBatch: 64, bnAffine: true}
method: grid
parameters:
  init: {values: [torch, he_normal]}
  variant:
    values:
      - {activation: relu}
      - {activation: relu, residual: true}
      - {activation: bernstein, degree: 9, eps: 0.01, bounds: [-5, 5]}
`;
let sweepId = '';
let initSweepId = '';

beforeAll(async () => {
  const store = await RunStore.open(db);
  const scheduler = new Scheduler(store, new LocalPoolExecutor({ workers: 2 }));
  try {
    sweepId = (await createSweepFromText(store, SWEEP)).sweepId;
    initSweepId = (await createSweepFromText(store, INIT_SWEEP)).sweepId;
    await scheduler.startSweep(sweepId);
    await scheduler.startSweep(initSweepId);
    await scheduler.waitForSweep(sweepId);
    await scheduler.waitForSweep(initSweepId);
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
      for (const s of [f.minDsigmaVsLayer, f.deadVsLayer.epoch, f.deadVsLayer.eval, f.mag1VsEpoch])
        expect(s.map((x) => x.label)).toEqual(LABELS);
      // figure 3: a value per layer at the last epoch, for both dead readings; figure 4: one MAG point per epoch
      expect(f.deadReadings).toEqual(['epoch', 'eval']);
      for (const s of [...f.deadVsLayer.epoch, ...f.deadVsLayer.eval])
        expect(s.points.map((p) => p[0])).toEqual([1, 2, 3]);
      for (const s of [...f.deadVsEpoch.epoch, ...f.deadVsEpoch.eval])
        expect(s.points.map((p) => p[0])).toEqual([1, 2]);
      for (const r of f.finalTable)
        for (const k of ['epoch', 'eval'] as const) expect(r.deadRatio[k]).toEqual(expect.any(Number));
      expect(f.initFigure).toBeNull(); // one init scheme in this sweep
      for (const s of f.mag1VsEpoch) expect(s.points.map((p) => p[0])).toEqual([1, 2]);
      expect(f.deltaBars).toEqual([{ label: 'Bern_{9,0.01}[-5,5]', value: expect.closeTo(0.009, 12) }]);
      expect(f.source.kind).toBe('synthetic-higgs');
      expect(f.finalTable.map((r) => [r.label, r.status, r.epochsDone])).toEqual(LABELS.map((l) => [l, 'finished', 2]));
      expect(f.finalTable.every((r) => r.testAcc !== null && r.testLoss !== null)).toBe(true);
      // each run's init (the activation's default here) and batch-norm mode, in the table and the HTML
      expect(f.finalTable.map((r) => [r.init, r.bnAffine])).toEqual([
        ['lecun_normal', false],
        ['he_normal', false],
        ['lecun_normal', false],
      ]);
      const final = html.slice(html.indexOf('id="final"'));
      expect(final).toContain('<th>init</th>');
      expect(final).toContain('he_normal');
      // the real Bernstein run's certificate holds (the floor is a theorem; only a bug breaks it)
      expect(certificates).toHaveLength(1);
      expect(certificates[0]!.ok).toBe(true);
      expect(certificates[0]!.checked).toBeGreaterThan(0);

      for (const id of [
        'data',
        'fig1-l1',
        'fig1-l2',
        'fig1-l3',
        'fig2',
        'fig3',
        'fig4',
        'final',
        'certificate',
        'definitions',
      ])
        expect(html).toContain(`id="${id}"`);
      // every figure is inline SVG whose legend names every label (ECharts SSR writes legend text into the SVG)
      const fig3 = html.slice(html.indexOf('id="fig3"'), html.indexOf('</figure>', html.indexOf('id="fig3"')));
      expect(fig3).toContain('<svg');
      for (const l of LABELS) expect(fig3).toContain(l);
      expect(html).toContain('Certificate holds');
      // figure 3 shows the paper's epoch-average reading by default and says so; both readings are in the table
      expect(fig3).toMatch(/Dead ratio shown: <b>epoch average over the training batches/);
      expect(html).toContain('dead (all) · eval batch');
      expect(html).toContain('depends on the batch');
      const evalHtml = renderPaperReport(f, certificates, { dead: 'eval' });
      const evalFig3 = evalHtml.slice(
        evalHtml.indexOf('id="fig3"'),
        evalHtml.indexOf('</figure>', evalHtml.indexOf('id="fig3"')),
      );
      expect(evalFig3).toMatch(/Dead ratio shown: <b>fixed evaluation batch/);
      expect(html).toContain('GENERATED HIGGS-shaped data');
      expect(html).toMatch(/ours/);
      // self-contained: no scripts, no external resources (XML namespace declarations are not fetched)
      const stripped = html.replace(/xmlns(:\w+)?="[^"]*"/g, '');
      expect(stripped).not.toMatch(/https?:\/\//);
      expect(stripped).not.toMatch(/<script|<link /i);
      // Issue 15 #10: the definitions are written for readers (no notes about our sources or design docs), and
      // every log figure labels each decade between its ends, so δ̄ can be placed.
      const defs = html.slice(html.indexOf('id="definitions"'));
      expect(defs).not.toMatch(/not available to us|DESIGN §|docs\//);
      expect(defs).toMatch(/threshold τ/);
      const fig2 = html.slice(html.indexOf('id="fig2"'), html.indexOf('</figure>', html.indexOf('id="fig2"')));
      const ticks = [...fig2.matchAll(/<text[^>]*>(1e-\d+|0\.0*1|1)<\/text>/g)].map((m) =>
        Math.round(Math.log10(Number(m[1]))),
      );
      const decades = [...new Set(ticks)].sort((a, b) => a - b);
      expect(decades.length).toBeGreaterThanOrEqual(2);
      expect(decades).toEqual(Array.from({ length: decades.at(-1)! - decades[0]! + 1 }, (_, i) => decades[0]! + i));
    } finally {
      await store.close();
    }
  });

  it('issue 15 #10: a log chart spanning 14 decades labels every decade (ECharts alone skips most of them)', () => {
    const c = lineChart({
      title: 't',
      xName: 'x',
      yName: 'y',
      logY: true,
      floor: 1e-14,
      series: [
        {
          label: 'a',
          runId: 'a',
          bernstein: true,
          points: [
            [1, 1e-14],
            [2, 0.3],
            [3, 1e-3],
          ],
        },
      ],
    });
    const labels = [...c.svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    for (let k = -14; k <= 0; k++) expect(labels).toContain(k >= -3 ? String(10 ** k) : `1e${k}`);
  });

  it('the certificate flags a hand-made violation: in the check, the report and the CLI (exit 3)', async () => {
    const store = await RunStore.open(db);
    let runId: string;
    try {
      const badSweep = await store.createSweep({
        name: 'bad',
        config: parseSweepText('name: bad\ndataset: synthetic-higgs\n'),
      });
      const spec = parseSpec({
        dataset: 'synthetic-higgs',
        depth: 2,
        width: 4,
        activation: 'bernstein',
        degree: 9,
        eps: 0.01,
        bounds: [-5, 5],
        epochs: 2,
      });
      runId = await store.createRun({ spec, sweepId: badSweep, epochsTotal: 2 });
      const layer = (l: number, floor: number, min: number) => [
        { layer: l, metric: 'learned_floor' as const, value: floor },
        { layer: l, metric: 'min_dsigma' as const, value: min },
        { layer: l, metric: 'clipped_frac' as const, value: 0.01 },
        { layer: l, metric: 'dead_ratio' as const, value: 0 },
      ];
      // epoch 1: within float tolerance (not a violation); epoch 2, layer 2: observed 0.005 < proven 0.012
      await store.appendEpoch(runId, {
        epoch: 1,
        metrics: { mag1: 1e-3, dead_ratio: 0 },
        layers: [...layer(1, 0.012, 0.012 * (1 - 1e-4)), ...layer(2, 0.012, 0.02)],
      });
      await store.appendEpoch(runId, {
        epoch: 2,
        metrics: { mag1: 1e-3, dead_ratio: 0 },
        layers: [...layer(1, 0.012, 0.03), ...layer(2, 0.012, 0.005)],
      });
      const c = await buildCertificate(store, runId);
      expect(c.ok).toBe(false);
      expect(c.violations).toBe(1);
      expect(c.cells.filter((x) => x.violation).map((x) => [x.layer, x.epoch])).toEqual([[2, 2]]);
      const r = await buildPaperReport(store, badSweep);
      expect(r.html).toContain('CERTIFICATE VIOLATED');
      // A run stored before the epoch-average reading has only the eval-batch one: that is what the report shows.
      expect(r.figures.deadReadings).toEqual(['eval']);
      expect(r.html).toMatch(/Dead ratio shown: <b>fixed evaluation batch/);
      expect(renderPaperReport(r.figures, r.certificates, { dead: 'epoch' })).toContain(
        'no run in this sweep has this reading',
      );
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
    expect(
      checkCertificate({
        runId,
        label: 'x',
        degree: 9,
        eps: 0.01,
        bounds: [-5, 5],
        boundsMode: 'fixed',
        points: [{ layer: 1, epoch: 1, metric: 'learned_floor', value: 0.004 }],
      }).floorBelowDeltaBar,
    ).toBe(1);
  });

  it('deepbern report writes one HTML file; --dead-reading picks the reading, a bad value is refused', () => {
    const out = join(tmp.dir, 'r.html');
    const r = cli(['report', sweepId, '--db', db, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('<svg');
    expect(readFileSync(out, 'utf8')).toMatch(/Dead ratio shown: <b>epoch average/);
    const outEval = join(tmp.dir, 'r-eval.html');
    expect(cli(['report', sweepId, '--db', db, '--out', outEval, '--dead-reading', 'eval']).code).toBe(0);
    expect(readFileSync(outEval, 'utf8')).toMatch(/Dead ratio shown: <b>fixed evaluation batch/);
    const bad = cli(['report', sweepId, '--db', db, '--out', join(tmp.dir, 'nope.html'), '--dead-reading', 'last']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--dead-reading must be one of epoch, eval/);
    expect(existsSync(join(tmp.dir, 'nope.html'))).toBe(false);
  });

  it('a sweep over init schemes gets the initialisation figure: a panel per scheme, accuracy per label × scheme', async () => {
    const store = await RunStore.open(db);
    try {
      const { html, figures: f } = await buildPaperReport(store, initSweepId);
      expect(f.initFigure).not.toBeNull();
      const fig = f.initFigure!;
      expect(fig.inits).toEqual(['torch', 'he_normal']);
      const plain = ['ReLU', 'ReLU_res', 'Bern_{9,0.01}[-5,5]'];
      for (const p of fig.panels)
        for (const k of ['epoch', 'eval'] as const) {
          expect(p.deadVsLayer[k].map((s) => s.label).sort()).toEqual([...plain].sort());
          for (const s of p.deadVsLayer[k]) expect(s.points.map((x) => x[0])).toEqual([1, 2, 3]);
        }
      expect(fig.rows.map((r) => `${r.label}|${r.init}`).sort()).toEqual(
        plain.flatMap((l) => [`${l}|torch`, `${l}|he_normal`]).sort(),
      );
      expect(fig.rows.every((r) => r.testAcc !== null)).toBe(true);
      // elsewhere the labels carry the init, so the two ReLU runs stay apart in every figure
      expect(f.finalTable.map((r) => r.label)).toContain('ReLU torch');
      expect(f.finalTable.map((r) => r.label)).toContain('ReLU he_normal');
      expect(html).toContain('id="fig-init"');
      for (const init of fig.inits) {
        const at = html.indexOf(`id="fig-init-${init}"`);
        expect(at).toBeGreaterThan(0);
        const svg = html.slice(at, html.indexOf('</figure>', at));
        expect(svg).toContain('<svg');
        for (const l of plain) expect(svg).toContain(l);
      }
      expect(html).toContain('test acc · torch');
    } finally {
      await store.close();
    }
  });

  it('the approximation lab stores tagged runs and reads them back into its figure', async () => {
    const store = await RunStore.open(db);
    try {
      const o = {
        ...APPROX_DEFAULTS,
        targets: ['fn:smooth'],
        depths: [1, 2],
        degrees: [3],
        steps: 20,
        gridPoints: 64,
        reports: 2,
        backend: 'cpu',
      };
      const r = await runApproxLab(store, o);
      expect(r.points.map((p) => [p.family, p.depth])).toEqual([
        ['bernstein', 1],
        ['relu', 1],
        ['bernstein', 2],
        ['relu', 2],
      ]);
      expect(
        r.points.every(
          (p) => Number.isFinite(p.final.maxErr) && p.final.maxErr > 0 && Number.isFinite(p.selected!.maxErr),
        ),
      ).toBe(true);
      expect(r.verdicts).toHaveLength(1);
      expect(r.cells).toHaveLength(2);
      const back = await loadApproxResults(store, r.tag);
      expect(back.points.map((p) => [p.runId, p.verdictErr])).toEqual(
        r.points.map((p) => [p.runId, expect.closeTo(p.verdictErr, 5)]),
      );
      const html = renderApproxReport(back);
      expect(html).toContain('Bern n=3');
      expect(html).toContain('n^(−L) reference');
      expect(html).toContain('exp(sin(πx))');
      expect((await buildCertificate(store, r.points[0]!.runId)).ok).toBe(true);
    } finally {
      await store.close();
    }
  });
});

describe('the paper commands that train go through the workbench service', () => {
  it('`paper run` stores and runs the sweep under its own lease and writes the report; a bad file changes nothing', async () => {
    const fresh = join(tmp.dir, 'paper-run.db');
    const file = join(tmp.dir, 'paper-run.yaml');
    writeFileSync(
      file,
      'name: paper-run-tiny\ndataset: synthetic-higgs\nrows: 300\nbase: {depth: 2, width: 8, epochs: 2, batchSize: 64, evalBatch: 64}\nparameters:\n  activation: {values: [relu]}\n',
    );
    const out = join(tmp.dir, 'paper-run.html');
    const r = cli(['paper', 'run', file, '--workers', '1', '--db', fresh, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const sweepId = r.stdout.trim();
    expect(sweepId).toMatch(/^\S+$/);
    expect(r.stderr).toContain('no imported HIGGS in the store: using synthetic-higgs');
    expect(r.stderr).toContain(`sweep ${sweepId}: 1 runs on 1 worker(s)`);
    expect(r.stderr).toMatch(new RegExp(`sweep ${sweepId} done in \\d+ s`));
    expect(readFileSync(out, 'utf8')).toContain('<svg');
    const store = await RunStore.open(fresh, { readOnly: true });
    try {
      expect((await store.getSweep(sweepId)).status).toBe('finished');
      expect((await store.listRuns({ sweepId })).rows.map((x) => [x.status, x.epochsDone])).toEqual([['finished', 2]]);
    } finally {
      await store.close();
    }
    const never = join(tmp.dir, 'paper-never.db');
    writeFileSync(file, 'name: bad\ndataset: synthetic-higgs\nbase: {depth: 0}\n');
    const bad = cli(['paper', 'run', file, '--db', never]);
    expect(bad.code).toBe(2);
    expect(existsSync(never)).toBe(false);
  }, 180_000);

  it('`approx` stores its fits as approx runs, finished and released, and writes its report', async () => {
    const fresh = join(tmp.dir, 'approx-cli.db');
    const out = join(tmp.dir, 'approx-cli.html');
    const r = cli([
      'approx',
      '--targets',
      'fn:smooth',
      '--depths',
      '1',
      '--degrees',
      '3',
      '--steps',
      '20',
      '--grid',
      '32',
      '--reports',
      '2',
      '--no-relu',
      '--workers',
      '0',
      '--backend',
      'cpu',
      '--db',
      fresh,
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\[1\/1\] fn:smooth Bern n=3 L=1: test max err final/);
    expect(readFileSync(out, 'utf8')).toContain('Bern n=3');
    const store = await RunStore.open(fresh, { readOnly: true });
    try {
      const runs = (await store.listRuns({ kind: 'approx' })).rows;
      expect(runs.map((x) => [x.status, x.epochsDone, x.kind])).toEqual([['finished', 2, 'approx']]);
      expect((await store.listRuns({ kind: 'training' })).total).toBe(0);
      expect(await store.db.all('SELECT id FROM runs WHERE owner_id IS NOT NULL')).toEqual([]);
    } finally {
      await store.close();
    }
  }, 180_000);
});
