// The approximation-rate lab's figure page: max test error vs depth (log y) per degree, the parameter-matched
// ReLU nets, the architecture's floor (best polynomial of degree n^L), the n^(−L) reference slope, and a plain
// statement per (target, depth, degree) of which family won and whether optimisation or the floor limits it.
import type { ApproxResults, FigureSeries } from '../../shared/paper.js';
import { lineChart } from './charts.js';
import { esc, figure, num, page, table } from './html.js';

const ERR_FLOOR = 1e-9;

export function renderApproxReport(r: ApproxResults): string {
  const s = r.settings;
  const checkpoint = s.select === 'validation' ? 'the validation-selected report point' : 'the final fit';
  const sections = r.targets.map((t) => {
    const target = t.id;
    const pts = r.points.filter((p) => p.target === target);
    const degrees = [...new Set(pts.filter((p) => p.family === 'bernstein').map((p) => p.degree!))].sort(
      (a, b) => a - b,
    );
    const cells = r.cells.filter((c) => c.target === target);
    const series: FigureSeries[] = [];
    const dashed: FigureSeries[] = [];
    for (const n of degrees) {
      const b = pts.filter((p) => p.family === 'bernstein' && p.degree === n).sort((a, c) => a.depth - c.depth);
      series.push({
        label: `Bern n=${n}`,
        runId: b[0]?.runId ?? '',
        bernstein: true,
        points: b.map((p) => [p.depth, p.verdictErr]),
      });
      const relu = pts.filter((p) => p.family === 'relu' && p.matchedDegree === n).sort((a, c) => a.depth - c.depth);
      if (relu.length)
        series.push({
          label: `ReLU (params ≈ Bern n=${n})`,
          runId: relu[0]!.runId,
          bernstein: false,
          points: relu.map((p) => [p.depth, p.verdictErr]),
        });
      const fl = cells.filter((c) => c.degree === n).sort((a, c) => a.depth - c.depth);
      // The floor's upper bound (a floor below float64 precision is drawn at the chart's floor).
      dashed.push({
        label: `floor E_{n^L}, n=${n}`,
        runId: '',
        bernstein: true,
        points: fl.map((c) => [c.depth, c.floor.belowPrecision ? ERR_FLOOR : c.floor.upper]),
      });
      // Reference: anchored at the measured first-depth error, falling by n per added layer (the n^(−L) rate).
      const first = b[0];
      if (first)
        dashed.push({
          label: `n^(−L) reference, n=${n}`,
          runId: '',
          bernstein: true,
          points: b.map((p) => [p.depth, first.verdictErr * n ** -(p.depth - first.depth)]),
        });
    }
    const c = lineChart({
      title: `${target} = ${t.formula}: max |N − f| vs depth`,
      xName: 'depth L (hidden layers)',
      yName: 'max error (test grid)',
      series,
      dashed,
      logY: true,
      floor: ERR_FLOOR,
      xInteger: true,
    });
    const verdicts = r.verdicts.filter((v) => v.target === target);
    const rows = pts
      .slice()
      .sort(
        (a, b) =>
          a.depth - b.depth ||
          (a.degree ?? a.matchedDegree ?? 0) - (b.degree ?? b.matchedDegree ?? 0) ||
          a.family.localeCompare(b.family),
      )
      .map((p) => {
        const cell =
          p.family === 'bernstein' ? cells.find((x) => x.depth === p.depth && x.degree === p.degree) : undefined;
        return [
          esc(p.family === 'bernstein' ? `Bern n=${p.degree}` : `ReLU ≈ n=${p.matchedDegree}`),
          String(p.depth),
          String(p.width),
          String(p.paramCount),
          esc(p.bn),
          num(p.final.maxErr),
          p.selected ? `${num(p.selected.maxErr)} (report ${p.selected.index}, val ${num(p.selected.valMaxErr)})` : '—',
          cell ? esc(cell.floor.text) : '—',
          p.clippedFrac === null ? '—' : num(p.clippedFrac, 3),
          num(p.seconds, 3),
          esc(p.runId),
        ];
      });
    return `<h2>${esc(t.title)}: <code>f(x) = ${esc(t.formula)}</code> <span class="muted">(${esc(target)}${t.smooth ? ', smooth' : ', not smooth: ReLU nets represent it exactly'})</span></h2>
${figure(`approx-${target}`, c.svg, `Max error on the dense test grid of ${checkpoint} vs depth; solid: measured, dashed: the architecture's floor (upper bound of the best uniform error of a degree-n^L polynomial) and the n^(−L) reference slope anchored at the first depth.${c.clamped ? ` ${c.clamped} point(s) ≤ ${ERR_FLOOR} (incl. floors below float64 precision) drawn at ${ERR_FLOOR}.` : ''}`)}
<ul>${cells.map((x) => `<li><b>${esc(x.limitedBy)}</b> · ${esc(x.winner === 'tie' ? 'tie' : x.winner === 'none' ? 'no winner' : x.winner === 'bernstein' ? 'Bernstein won' : 'ReLU won')}: ${esc(x.text)}</li>`).join('')}</ul>
<ul>${verdicts.map((v) => `<li><b>n=${v.degree}</b>: ${esc(v.text)}</li>`).join('')}</ul>
<details><summary>All fits</summary>${table(['net', 'depth', 'width', 'params', 'batch norm', 'final: test max err', 'selected: test max err', 'floor (best degree-n^L polynomial)', 'clamped frac', 'seconds', 'run'], rows)}</details>`;
  });
  const count = (l: string) => r.cells.filter((c) => c.limitedBy === l).length;
  const wins = (w: string) => r.cells.filter((c) => c.winner === w).length;
  const headline =
    r.cells.length === 0
      ? 'No Bernstein fits in this lab.'
      : `${r.cells.length} (target, depth, degree) cells: optimisation limits ${count('optimisation')}, the architecture's floor limits ${count('architecture floor')}` +
        `${count('float32 precision') ? `, float32 precision ${count('float32 precision')}` : ''}${count('undetermined') ? `, undetermined ${count('undetermined')}` : ''}${count('diverged') ? `, diverged ${count('diverged')}` : ''}. ` +
        `Bernstein won ${wins('bernstein')}, ReLU won ${wins('relu')}, ${wins('tie')} tie(s) (within ×1.1).`;
  const body = `<h1>Approximation-rate lab</h1>
<p class="muted">Lab tag <code>${esc(r.tag)}</code>; ${r.points.length} fits, stored as runs tagged <code>approx-lab</code>.</p>
${r.legacy ? '<div class="banner bad">Stored before validation selection: this lab\'s old "best" error was chosen on the test grid and is not shown; the verdict uses the final fit, and its Bernstein nets used non-affine batch norm.</div>' : ''}
<div class="banner ${count('optimisation') > count('architecture floor') ? 'bad' : 'ok'}">${esc(headline)}</div>
<p><b>Verdict uses ${esc(checkpoint)}</b> (select: ${esc(s.select)}). Selection compares max |N − f| on a ${s.valPoints}-point validation grid
disjoint from the train and test grids, at each of ${s.reports} report points; the ${s.testPoints}-point test grid is read once per fit, after training,
to score the final and the selected weights (both shown below).</p>
<p>Theory (DESIGN §1.1): ‖N − f‖∞ ≤ C_d · ω_f(1/n^L). The floor: in eval mode and with no pre-activation clamped, a depth-L net of
degree-n Bernstein activations is a polynomial of degree ≤ n^L in x, so its error is at least E_{n^L}(f), the best uniform error of such a polynomial.
Floor method: ${esc(s.floorMethod)}. "Optimisation limits it" means the measured error is more than ×1.25 above the floor's upper bound (a polynomial of the net's degree does clearly better);
"the architecture's floor limits it" means it is within ×1.25.</p>
<p>Training: ${esc(s.schedule)} from ${s.lr} to ${s.lrFinal} over ${s.steps} steps on a ${s.gridPoints}-point uniform grid (full batch).
Bernstein nets: width ${s.width}, batch norm <b>${esc(s.bn)}</b> before each Bernstein activation (affine or none: non-affine batch norm on a 1-D input
maps every first-layer unit to ±x̂, so depth 1 is a single degree-n polynomial). ReLU nets: plain (no batch norm, no skips, the paper's baseline),
same depth, width chosen so the parameter count matches the Bernstein net of the same degree. No second-order optimiser was tried.
|x| (fn:kink) is represented exactly by ReLU nets; the smooth targets are the fair comparison.</p>
${sections.join('\n')}`;
  return page('DeepBern approximation-rate lab', body);
}
