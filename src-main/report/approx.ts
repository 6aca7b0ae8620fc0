// The approximation-rate lab's figure page: max error vs depth (log y) per degree, the parameter-matched ReLU
// nets, the n^(−L) reference slopes, and a plain statement of which limit the measured curves show.
import type { ApproxResults, FigureSeries } from '../../shared/paper.js';
import { lineChart } from './charts.js';
import { esc, figure, num, page, table } from './html.js';

const ERR_FLOOR = 1e-9;

export function renderApproxReport(r: ApproxResults): string {
  const targets = [...new Set(r.points.map((p) => p.target))];
  const sections = targets.map((target) => {
    const pts = r.points.filter((p) => p.target === target);
    const degrees = [...new Set(pts.filter((p) => p.family === 'bernstein').map((p) => p.degree!))].sort((a, b) => a - b);
    const series: FigureSeries[] = [];
    const dashed: FigureSeries[] = [];
    for (const n of degrees) {
      const b = pts.filter((p) => p.family === 'bernstein' && p.degree === n).sort((a, c) => a.depth - c.depth);
      series.push({ label: `Bern n=${n}`, runId: b[0]?.runId ?? '', bernstein: true, points: b.map((p) => [p.depth, p.bestMaxErr]) });
      const relu = pts.filter((p) => p.family === 'relu' && p.matchedDegree === n).sort((a, c) => a.depth - c.depth);
      if (relu.length) series.push({ label: `ReLU (params ≈ Bern n=${n})`, runId: relu[0]!.runId, bernstein: false, points: relu.map((p) => [p.depth, p.bestMaxErr]) });
      // Reference: anchored at the measured depth-1 error, falling by n per added layer (the n^(−L) rate).
      const first = b[0];
      if (first) dashed.push({ label: `n^(−L) reference, n=${n}`, runId: '', bernstein: true, points: b.map((p) => [p.depth, first.bestMaxErr * n ** -(p.depth - first.depth)]) });
    }
    const c = lineChart({ title: `${target}: max |N − f| vs depth`, xName: 'depth L (hidden layers)', yName: 'max error', series, dashed, logY: true, floor: ERR_FLOOR, xInteger: true });
    const verdicts = r.verdicts.filter((v) => v.target === target);
    const rows = pts
      .slice()
      .sort((a, b) => a.depth - b.depth || (a.degree ?? a.matchedDegree ?? 0) - (b.degree ?? b.matchedDegree ?? 0) || a.family.localeCompare(b.family))
      .map((p) => [
        esc(p.family === 'bernstein' ? `Bern n=${p.degree}` : `ReLU ≈ n=${p.matchedDegree}`),
        String(p.depth),
        String(p.width),
        String(p.paramCount),
        num(p.maxErr),
        num(p.bestMaxErr),
        num(p.rmse),
        num(p.seconds, 3),
        esc(p.runId),
      ]);
    return `<h2>${esc(target)}</h2>
${figure(`approx-${target}`, c.svg, `Best max error over the fit's report points (dense test grid) vs depth; solid: measured, dashed: the n^(−L) reference slope anchored at the depth-1 error.${c.clamped ? ` ${c.clamped} point(s) ≤ ${ERR_FLOOR} drawn at ${ERR_FLOOR}.` : ''}`)}
<ul>${verdicts.map((v) => `<li><b>${esc(v.limitedBy)}</b>: ${esc(v.text)}</li>`).join('')}</ul>
<details><summary>All fits</summary>${table(['net', 'depth', 'width', 'params', 'final max err', 'best max err', 'RMSE', 'seconds', 'run'], rows)}</details>`;
  });
  const limits = new Set(r.verdicts.map((v) => v.limitedBy));
  const headline = limits.size === 0
    ? 'Too few depths to judge a rate.'
    : limits.has('optimisation') && limits.size === 1
      ? 'Every measured Bernstein curve decays far slower than n^(−L): OPTIMISATION limits what these trained networks reach, not the theoretical rate (the rate is about the best network of each depth, which training does not find).'
      : `Limits seen: ${[...limits].join(', ')} (per target and degree below).`;
  const s = r.settings;
  const body = `<h1>Approximation-rate lab</h1>
<p class="muted">Lab tag <code>${esc(r.tag)}</code>; ${r.points.length} fits, stored as runs tagged <code>approx-lab</code>.</p>
<div class="banner ${limits.has('optimisation') ? 'bad' : 'ok'}">${esc(headline)}</div>
<p>Theory (DESIGN §1.1): ‖N − f‖∞ ≤ C_d · ω_f(1/n^L) — for Lipschitz f the error may fall like n^(−L) with depth L.
Training here: ${esc(s.schedule)} from ${s.lr} to ${s.lrFinal} over ${s.steps} steps on a ${s.gridPoints}-point uniform grid
(full batch), error measured on a ${s.testPoints}-point grid. Bernstein nets: width ${s.width}, batch norm before each
Bernstein activation; ReLU nets: plain (no batch norm, no skips, the paper's baseline), same depth, width chosen so
the parameter count matches the Bernstein net of the same degree. No second-order optimiser was tried.
|x| (fn:kink) is represented exactly by ReLU nets; the smooth targets are the fair comparison.</p>
${sections.join('\n')}`;
  return page('DeepBern approximation-rate lab', body);
}
