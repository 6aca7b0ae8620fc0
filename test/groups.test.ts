// shared/groups.ts, the grouping Compare, the Paper screen and the HTML reports share: figure series grouped
// into mean + band on the union of their x values, the automatic choice (only when the seed varies), and the
// final metrics per group over finished runs only.
import { describe, expect, it } from 'vitest';
import { DEFAULT_GROUP_BY, groupFinals, groupRuns, groupSeries, resolveGrouping } from '../shared/groups.js';
import type { FigureSeries } from '../shared/paper.js';
import { activationLabel, parseSpec } from '../shared/spec.js';

const run = (id: string, activation: string, seed: number, depth = 2) => {
  const spec = parseSpec({ dataset: 'synthetic-higgs', activation, seed, depth, width: 8 });
  return { id, label: activationLabel(spec), spec };
};
const RUNS = [run('b0', 'bernstein', 0), run('b1', 'bernstein', 1), run('r0', 'relu', 0), run('r1', 'relu', 1)];
const series = (runId: string, pts: [number, number | null][], bernstein = runId.startsWith('b')): FigureSeries => ({
  label: `${runId}`,
  runId,
  bernstein,
  points: pts,
});

describe('groups for figures and reports', () => {
  it('automatic grouping only when it merges runs (the seed varies); none when asked', () => {
    const g = resolveGrouping(RUNS, undefined);
    expect(g?.groups.map((x) => x.runIds)).toEqual([
      ['b0', 'b1'],
      ['r0', 'r1'],
    ]);
    expect(g?.band).toBe('minmax');
    expect(g?.by).toEqual(DEFAULT_GROUP_BY);
    expect(resolveGrouping(RUNS, null)).toBeNull();
    expect(resolveGrouping([RUNS[0]!, RUNS[2]!], undefined)).toBeNull(); // one seed each: nothing to group
    expect(resolveGrouping(RUNS, { by: [], band: 'sd' })?.groups).toHaveLength(1);
  });

  it('a group line is the mean at each x over the members that have it; the band their min–max or ±1 sd', () => {
    const groups = groupRuns(RUNS, DEFAULT_GROUP_BY, (r) => r.label);
    const s = [
      series('b0', [
        [1, 1],
        [2, 3],
      ]),
      series('b1', [
        [1, 3],
        [2, null],
        [3, 5],
      ]),
      series('r0', [[1, 0.5]]),
    ];
    const mm = groupSeries(s, groups, 'minmax');
    expect(mm.map((x) => x.label)).toEqual(['Bern_{9,0.01}[-5,5] (2 runs)', 'ReLU (2 runs)']);
    expect(mm[0]!.points).toEqual([
      [1, 2],
      [2, 3],
      [3, 5],
    ]);
    expect(mm[0]!.band).toEqual({ lo: [1, 3, 5], hi: [3, 3, 5] });
    expect(mm[0]!.runs).toBe(2);
    // r1 has no series in this figure: a group of one member draws its line without a band
    expect(mm[1]).toMatchObject({ points: [[1, 0.5]], runs: 1, bernstein: false });
    expect(mm[1]!.band).toBeUndefined();
    const sd = groupSeries(s, groups, 'sd');
    expect(sd[0]!.band!.lo[0]).toBeCloseTo(2 - Math.SQRT2, 12);
    expect(sd[0]!.band!.hi[0]).toBeCloseTo(2 + Math.SQRT2, 12);
  });

  it('final metrics per group count only finished runs', () => {
    const groups = groupRuns(RUNS, DEFAULT_GROUP_BY, (r) => r.label);
    const row = (runId: string, status: string, testAcc: number | null) => ({
      runId,
      status,
      testAcc,
      testLoss: 1 - (testAcc ?? 0),
      trainLoss: null,
    });
    const f = groupFinals(
      groups,
      [row('b0', 'finished', 0.8), row('b1', 'finished', 0.6), row('r0', 'finished', 0.7), row('r1', 'cancelled', 0.1)],
      'minmax',
    );
    expect(f[0]).toMatchObject({ finished: 2, seeds: [0, 1], testAcc: { n: 2, lo: 0.6, hi: 0.8 } });
    expect(f[0]!.testAcc!.mean).toBeCloseTo(0.7, 12);
    expect(f[1]).toMatchObject({ finished: 1, testAcc: { mean: 0.7, lo: 0.7, hi: 0.7, n: 1 }, trainLoss: null });
  });
});
