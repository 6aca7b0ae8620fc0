// `deepbern report`: one sweep's paper figures, final table, data source, metric definitions and the
// gradient certificates, as ONE self-contained HTML file.
import {
  BAND_LABEL,
  DEFAULT_GROUP_BY,
  groupFinals,
  groupSeries,
  resolveGrouping,
  type GroupOption,
  type GroupStat,
  type RunGroup,
} from '../../shared/groups.js';
import {
  DEAD_READING_LABEL,
  defaultDeadReading,
  type DeadReading,
  type FigureSeries,
  type FinalRow,
  type GradientCertificate,
  type PaperFigures,
} from '../../shared/paper.js';
import type { RunStore } from '../store/run-store.js';
import { buildCertificate } from './certificate.js';
import { lineChart } from './charts.js';
import { buildPaperFigures } from './figures.js';
import { esc, figure, num, page, table } from './html.js';
import { formatMetric } from '../../shared/format.js';

/** Log-axis floors: where zeros are drawn (each caption says so). */
const MIN_DSIGMA_FLOOR = 1e-10;
const MAG_FLOOR = 1e-14;

export const METRIC_DEFINITIONS = `
<dl>
<dt>Dead-neuron ratio, epoch average (per layer) — the paper's reading</dt>
<dd>For each training mini-batch, inside the training step (training mode, batch statistics): the fraction of a
layer's units whose |σ'(z)| &lt; τ (default τ = 10⁻⁶, a spec parameter) on <em>every</em> sample of that batch; averaged
over the epoch's batches (<code>dead_ratio_epoch</code>). This is what the paper's figure 3 calls "the average dead neuron
percentage over the last epoch". The network-wide value pools all hidden units.</dd>
<dt>Dead-neuron ratio, evaluation batch (per layer) <span class="ours">ours</span></dt>
<dd>Fraction of a layer's units whose |σ'(z)| &lt; τ for <em>every</em> sample of a fixed evaluation batch (the first
<code>evalBatch</code> training rows, eval mode; <code>dead_ratio</code>). It depends on the batch's size: the more rows, the fewer
units are off on all of them (MNIST ReLU: 0.157 at 512 rows, 0.12 at 10k). ReLU: a unit is dead when its
pre-activation is never positive.</dd>
<dt>Minimum absolute derivative min |σ'| (per layer) <span class="ours">ours</span></dt>
<dd>Min over units × evaluation samples of |σ'(z)|. For Bernstein layers only pre-activations <em>inside</em> [l,u]
count (one clamped sample would make it 0); the clamped fraction is reported on its own.</dd>
<dt>Learned floor (Bernstein, per layer) <span class="ours">ours</span></dt>
<dd>n/(u−l) · min over units and k of (c<sub>k+1</sub> − c<sub>k</sub>) from the learned effective coefficients — a proven lower
bound on σ' inside [l,u] (the degree-(n−1) Bernstein basis is ≥ 0 and sums to 1). With the ε
re-parameterisation every step is ≥ ε, so the learned floor is ≥ δ̄ = n·ε/(u−l).</dd>
<dt>Clamped fraction (Bernstein, per layer)</dt>
<dd>Fraction of evaluation pre-activations outside [l,u], where σ' = 0 and no floor holds.</dd>
<dt>MAG <span class="ours">ours</span></dt>
<dd>Mean over first-hidden-layer units and evaluation samples of |∂loss/∂a₁| (a₁ = first hidden activations),
eval mode.</dd>
<dt>Loss and accuracy</dt>
<dd>Train: mean over the epoch's mini-batches (training mode). Test: held-out split, eval mode.</dd>
</dl>`;

function certificateSection(certs: GradientCertificate[]): string {
  if (certs.length === 0)
    return '<h2 id="certificate">Gradient certificate</h2><p>No Bernstein runs with stored epochs in this sweep.</p>';
  const bad = certs.filter((c) => !c.ok);
  const banner = bad.length
    ? `<div class="banner bad">CERTIFICATE VIOLATED in ${bad.length} run(s): ${bad.map((c) => `${esc(c.label)} (${c.runId}: ${c.violations} cell(s) with observed min |σ'| below the proven floor, ${c.floorBelowDeltaBar} with the floor below δ̄)`).join('; ')}</div>`
    : `<div class="banner ok">Certificate holds: in every Bernstein run, at every layer and epoch, the observed min |σ'| inside [l,u] is ≥ the floor proven from the learned coefficients (tolerance ${certs[0]!.tolerance.abs} + ${certs[0]!.tolerance.rel}·floor for float32 rounding).</div>`;
  const summary = table(
    [
      'run',
      'label',
      'δ̄ = nε/(u−l)',
      'cells checked',
      'violations',
      'floor < δ̄',
      "min |σ'| ≥ δ̄ (cells)",
      "min observed |σ'|",
      'min learned floor',
      'max clamped frac',
    ],
    certs.map((c) => {
      const minObs = Math.min(...c.cells.map((x) => x.minDsigma ?? Infinity));
      const minFloor = Math.min(...c.cells.map((x) => x.learnedFloor ?? Infinity));
      return [
        esc(c.runId),
        esc(c.label),
        c.deltaBar === null ? 'per-unit (adaptive)' : num(c.deltaBar),
        String(c.checked),
        String(c.violations),
        String(c.floorBelowDeltaBar),
        c.deltaBar === null ? '–' : `${c.aboveDeltaBar}/${c.cells.filter((x) => x.minDsigma !== null).length}`,
        num(Number.isFinite(minObs) ? minObs : null),
        num(Number.isFinite(minFloor) ? minFloor : null),
        num(c.maxClippedFrac),
      ];
    }),
    (i) => (certs[i]!.ok ? '' : 'bad'),
  );
  const perRun = certs
    .map((c) => {
      const last = c.cells.filter((x) => x.epoch === c.lastEpoch);
      const violations = c.cells.filter((x) => x.violation || x.floorBelowDeltaBar);
      const rows = [...violations.filter((x) => x.epoch !== c.lastEpoch), ...last];
      return `<details${c.ok ? '' : ' open'}><summary>${esc(c.label)} (${esc(c.runId)}) — per layer at epoch ${c.lastEpoch}${violations.length ? `, plus every violating cell` : ''}</summary>
${table(
  ['layer', 'epoch', 'learned floor', "observed min |σ'|", 'observed / floor', 'clamped frac', 'status'],
  rows.map((x) => [
    String(x.layer),
    String(x.epoch),
    num(x.learnedFloor),
    num(x.minDsigma),
    x.learnedFloor && x.minDsigma !== null ? num(x.minDsigma / x.learnedFloor, 3) : '–',
    num(x.clippedFrac),
    esc(
      x.violation
        ? 'VIOLATION: observed < proven floor'
        : x.floorBelowDeltaBar
          ? 'floor below δ̄'
          : x.minDsigma === null
            ? 'no sample inside [l,u]'
            : 'ok',
    ),
  ]),
  (i) => (rows[i]!.violation ? 'bad' : rows[i]!.floorBelowDeltaBar ? 'warn' : ''),
)}</details>`;
    })
    .join('\n');
  return `<h2 id="certificate">Gradient certificate</h2>
<p>Per layer: the floor proven from the learned coefficients (<code>learned_floor</code>) beside the observed minimum
|σ'| inside [l,u] (<code>min_dsigma</code>) and the fraction of clamped pre-activations (<code>clipped_frac</code>, where the
floor does not apply). A violation means observed &lt; proven floor beyond float tolerance — a bug in the engine
or the probes, never a property of training. CLI: <code>deepbern certificate &lt;run-id&gt;</code>.</p>
${banner}
${summary}
${perRun}`;
}

export interface PaperReport {
  html: string;
  figures: PaperFigures;
  certificates: GradientCertificate[];
}

export interface ReportOptions {
  /** The dead-neuron reading figures 3 and 5 and the initialisation figure plot (default: the epoch average). */
  dead?: DeadReading;
  /**
   * Seeds grouped into mean + band (shared/groups.ts): undefined = automatic (all parameters but the seed, when
   * the sweep varies the seed), null = one line per run, or the fields to group by and the band.
   */
  group?: GroupOption | null;
}

/** The group-by fields said the short way: "all parameters but the seed" for the default. */
function byText(by: readonly string[]): string {
  const def = DEFAULT_GROUP_BY;
  return by.length === def.length && def.every((f) => by.includes(f))
    ? 'all parameters but the seed'
    : by.join(', ') || 'nothing (one group)';
}

/** Final metrics per group over its finished runs: the mean and its band. */
function groupTable(groups: RunGroup[], rows: FinalRow[], band: GroupOption['band']): string {
  const stat = (st: GroupStat | null, metric: string) => {
    if (!st) return '–';
    if (st.n === 1) return formatMetric(metric, st.mean);
    return band === 'sd'
      ? `${formatMetric(metric, st.mean)} ± ${formatMetric(metric, st.hi - st.mean)}`
      : `${formatMetric(metric, st.mean)} [${formatMetric(metric, st.lo)}, ${formatMetric(metric, st.hi)}]`;
  };
  return table(
    [
      'group',
      'runs',
      'finished',
      'seeds',
      `test acc (mean ${band === 'sd' ? '± sd' : '[min, max]'})`,
      'test loss',
      'train loss',
    ],
    groupFinals(groups, rows, band).map((g) => [
      esc(g.label),
      String(g.runIds.length),
      String(g.finished),
      esc(g.seeds.join(', ')),
      stat(g.testAcc, 'test_acc'),
      stat(g.testLoss, 'test_loss'),
      stat(g.trainLoss, 'train_loss'),
    ]),
  );
}

export async function buildPaperReport(
  store: RunStore,
  sweepId: string,
  opts: ReportOptions = {},
): Promise<PaperReport> {
  const figs = await buildPaperFigures(store, sweepId);
  const certificates: GradientCertificate[] = [];
  for (const c of figs.certificates) certificates.push(await buildCertificate(store, c.runId));
  return { html: renderPaperReport(figs, certificates, opts), figures: figs, certificates };
}

/** The initialisation figure: dead vs layer per scheme, and the final accuracy per label × scheme. */
function initSection(
  f: PaperFigures,
  dead: DeadReading,
  deadFloor: number,
  G: (s: FigureSeries[]) => FigureSeries[],
): string {
  const fig = f.initFigure;
  if (!fig) return '';
  const panels = fig.panels
    .map((p) => {
      const c = lineChart({
        title: `init = ${p.init}: dead-neuron ratio vs layer (last epoch)`,
        xName: 'hidden layer',
        yName: 'dead ratio',
        series: G(p.deadVsLayer[dead]),
        logY: true,
        floor: deadFloor,
        xInteger: true,
      });
      return figure(
        `fig-init-${p.init}`,
        c.svg,
        `Initialisation <code>${esc(p.init)}</code>; dead ratio = ${esc(DEAD_READING_LABEL[dead])}.${c.clamped ? ` <b>${c.clamped} point(s) are exactly 0 and are drawn at 0.5/width = ${num(deadFloor)}</b>.` : ''}`,
      );
    })
    .join('\n');
  const labels = [...new Set(fig.rows.map((r) => r.label))];
  const acc = table(
    ['label', ...fig.inits.map((i) => `test acc · ${i}`), ...fig.inits.map((i) => `dead (all) · ${i}`)],
    labels.map((l) => {
      const cell = (i: string) => fig.rows.find((r) => r.label === l && r.init === i);
      return [
        esc(l),
        ...fig.inits.map((i) => formatMetric('test_acc', cell(i)?.testAcc)),
        ...fig.inits.map((i) => formatMetric('dead_ratio', cell(i)?.deadRatio[dead])),
      ];
    }),
  );
  return `<h2 id="fig-init">Initialisation — dead ratio vs layer and final test accuracy per scheme</h2>
<p>The same nets under each initialisation the sweep uses (docs/init.md). <code>torch</code> is PyTorch's nn.Linear default
(W, b ~ U(−1/√fan_in, 1/√fan_in): weight variance 1/(3·fan_in), so a plain ReLU net loses signal variance with every
layer); <code>he_normal</code> draws W ~ N(0, 2/fan_in) with zero biases, which keeps a ReLU net's signal alive.</p>
${panels}
${acc}`;
}

export function renderPaperReport(f: PaperFigures, certs: GradientCertificate[], opts: ReportOptions = {}): string {
  const dead = opts.dead ?? defaultDeadReading(f.deadReadings);
  const grouping = resolveGrouping(f.groupable ?? [], opts.group);
  const G = (series: FigureSeries[]): FigureSeries[] =>
    grouping ? groupSeries(series, grouping.groups, grouping.band) : series;
  const groupText = grouping
    ? ` Runs grouped by ${esc(byText(grouping.by))}: each line is a group's mean over its runs (seeds), the shaded band its ${BAND_LABEL[grouping.band]}.`
    : '';
  const deadText = `Dead ratio shown: <b>${esc(DEAD_READING_LABEL[dead])}</b> (<code>${dead === 'epoch' ? 'dead_ratio_epoch' : 'dead_ratio'}</code>)${f.deadReadings.includes(dead) ? '' : ' — <b>no run in this sweep has this reading</b> (runs from before it was recorded have only the evaluation-batch reading)'}; the other reading: <code>deepbern report --dead-reading ${dead === 'epoch' ? 'eval' : 'epoch'}</code>.`;
  const deltaText = f.deltaBars.length
    ? `Dashed lines: δ̄ = n·ε/(u−l) per fixed-bounds Bernstein label (${f.deltaBars.map((d) => `${esc(d.label)}: ${num(d.value)}`).join(', ')}). Adaptive-bounds labels have a per-unit [l,u], hence no single δ̄ line: their certified floor is in the certificate section.`
    : 'No fixed-bounds Bernstein run: no δ̄ line.';
  const zeroNote = (n: number, floor: number, what: string) =>
    n > 0
      ? ` <b>${n} point(s) are exactly 0 (${what}) and are drawn at ${num(floor)}</b> — a log axis cannot show zero.`
      : '';

  const fig1 = f.minDsigmaVsEpoch
    .map((panel) => {
      const c = lineChart({
        title: `min |σ'| vs epoch — layer ${panel.layer}`,
        xName: 'epoch',
        yName: "min |σ'|",
        series: G(panel.series),
        logY: true,
        floor: MIN_DSIGMA_FLOOR,
        refs: f.deltaBars,
        xInteger: true,
      });
      return figure(
        `fig1-l${panel.layer}`,
        c.svg,
        `Figure 1, layer ${panel.layer}. Minimum |σ'| over units × evaluation samples (Bernstein: inside [l,u]) at each epoch. ${deltaText}${zeroNote(c.clamped, MIN_DSIGMA_FLOOR, "e.g. ReLU units off on some sample: σ' = 0")}`,
      );
    })
    .join('\n');
  const c2 = lineChart({
    title: "min |σ'| vs layer (last epoch)",
    xName: 'hidden layer',
    yName: "min |σ'|",
    series: G(f.minDsigmaVsLayer),
    logY: true,
    floor: MIN_DSIGMA_FLOOR,
    refs: f.deltaBars,
    xInteger: true,
  });
  const deadFloor = 0.5 / f.maxWidth;
  const c3 = lineChart({
    title: `dead-neuron ratio vs layer (last epoch; ${dead === 'epoch' ? 'epoch average' : 'eval batch'})`,
    xName: 'hidden layer',
    yName: 'dead ratio',
    series: G(f.deadVsLayer[dead]),
    logY: true,
    floor: deadFloor,
    xInteger: true,
  });
  const c4 = lineChart({
    title: 'MAG (mean |∂loss/∂a₁|) vs epoch',
    xName: 'epoch',
    yName: 'MAG',
    series: G(f.mag1VsEpoch),
    logY: true,
    floor: MAG_FLOOR,
    xInteger: true,
  });

  let fig5 = '';
  if (f.mnist) {
    const c5a = lineChart({
      title: 'MNIST: MAG vs epoch, Bernstein vs the others',
      xName: 'epoch',
      yName: 'MAG',
      series: G(f.mag1VsEpoch),
      logY: true,
      floor: MAG_FLOOR,
      xInteger: true,
    });
    const c5b = lineChart({
      title: 'MNIST: network-wide dead ratio vs epoch',
      xName: 'epoch',
      yName: 'dead ratio',
      series: G(f.deadVsEpoch[dead]),
      logY: true,
      floor: 0.5 / (f.maxWidth * Math.max(...f.finalTable.map((r) => r.depth))),
      xInteger: true,
    });
    fig5 = `<h2 id="fig5">Figure 5 — MNIST: MAG and dead ratios</h2>
${figure('fig5-mag', c5a.svg, `MAG of the first hidden layer per epoch; Bernstein labels in blue/green, the baselines in warm colours.${zeroNote(c5a.clamped, MAG_FLOOR, 'no gradient reaches layer 1')}`)}
${figure('fig5-dead', c5b.svg, `Network-wide dead ratio per epoch. ${deadText}${zeroNote(c5b.clamped, 0.5 / (f.maxWidth * Math.max(...f.finalTable.map((r) => r.depth))), 'no dead unit')}`)}`;
  }

  const finalTable = table(
    [
      'label',
      'run',
      'init',
      'BN affine',
      'depth',
      'width',
      'status',
      'epochs',
      'test acc',
      'test loss',
      'train loss',
      'dead (all) · epoch avg',
      'dead (last layer) · epoch avg',
      'dead (all) · eval batch',
      'dead (last layer) · eval batch',
    ],
    f.finalTable.map((r) => [
      esc(r.label),
      esc(r.runId),
      esc(r.init),
      r.bnAffine ? 'yes' : 'no',
      String(r.depth),
      String(r.width),
      esc(r.status),
      String(r.epochsDone),
      formatMetric('test_acc', r.testAcc),
      num(r.testLoss),
      num(r.trainLoss),
      ...[r.deadRatio.epoch, r.deadLast.epoch, r.deadRatio.eval, r.deadLast.eval].map((v) =>
        formatMetric('dead_ratio', v),
      ),
    ]),
  );

  const body = `
<h1>Deep Bernstein Networks — paper figures for sweep ${esc(f.sweepName)}</h1>
<p class="muted">Sweep <code>${esc(f.sweepId)}</code>; ${f.finalTable.length} runs; layers shown in figure 1: ${f.layersShown.join(', ')}.${grouping ? ` <span id="grouping">${groupText} One line per run: <code>deepbern report --group-by none</code>.</span>` : ''}</p>
<h2 id="data">Data source</h2>
<p><b>${esc(f.source.kind === 'imported-higgs' ? 'Imported HIGGS' : f.source.kind === 'synthetic-higgs' ? 'Synthetic HIGGS-shaped data (no HIGGS import in the store)' : f.source.kind)}</b>: ${esc(f.source.description)}</p>
<h2 id="fig1">Figure 1 — min |σ'| across epochs (first, middle, last layer)</h2>
${fig1}
<h2 id="fig2">Figure 2 — min |σ'| across depth at the final epoch</h2>
${figure('fig2', c2.svg, `Each run's last stored epoch. ${deltaText}${zeroNote(c2.clamped, MIN_DSIGMA_FLOOR, "σ' = 0 on some sample")}`)}
<h2 id="fig3">Figure 3 — dead-neuron ratio vs layer</h2>
${figure('fig3', c3.svg, `Each run's last stored epoch, log y. ${deadText} The smallest non-zero ratio is 1/width = ${num(1 / f.maxWidth)};${c3.clamped > 0 ? ` <b>${c3.clamped} point(s) are exactly 0 (no dead unit in that layer) and are drawn at 0.5/width = ${num(deadFloor)}</b>, below every possible non-zero value.` : ' no point is zero.'}`)}
<h2 id="fig4">Figure 4 — MAG of layer 1 vs epoch</h2>
${figure('fig4', c4.svg, `Mean |∂loss/∂a₁| over first-layer units and evaluation samples, log y.${zeroNote(c4.clamped, MAG_FLOOR, 'no gradient reaches layer 1')}`)}
${fig5}
${initSection(f, dead, deadFloor, G)}
<h2 id="final">Final test accuracy and loss per activation × depth</h2>
${
  grouping
    ? `<h3 id="groups">Across seeds — ${grouping.groups.length} groups of ${f.finalTable.length} runs (grouped by ${esc(byText(grouping.by))})</h3>
${groupTable(grouping.groups, f.finalTable, grouping.band)}
<h3>Every run</h3>`
    : ''
}
${finalTable}
${certificateSection(certs)}
<h2 id="definitions">Metric definitions</h2>
<p>How each quantity in this report is measured. Where a definition is marked <span class="ours">ours</span>, the paper
names the quantity without fixing every detail (threshold, which samples, which layer), and the workbench makes the
choice stated here; its parameters (the threshold τ and the size of the evaluation batch) are stored with every run,
so the figures can be recomputed with other values.</p>
${METRIC_DEFINITIONS}`;
  return page(`DeepBern paper report — ${f.sweepName}`, body);
}
