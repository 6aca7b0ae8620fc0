// Issue 15 #3 and #4: the Compare heatmap's colour bar and the parallel-coordinates chart.
import { describe, expect, it } from 'vitest';
import type { LayerGrid, RunDetail } from '../shared/api.js';
import { parseSpec } from '../shared/spec.js';
import { activationLabel } from '../shared/spec.js';
import { heatmapOption, NOT_APPLICABLE, parallelOption } from '../src-renderer/lib/compare.js';

function run(id: string, spec: Record<string, unknown>): RunDetail {
  const s = parseSpec({ dataset: 'synthetic-higgs', depth: 2, width: 8, epochs: 2, ...spec });
  return {
    id,
    name: id,
    sweepId: null,
    status: 'finished',
    dataset: s.dataset,
    label: activationLabel(s),
    depth: s.depth,
    width: s.width,
    activation: s.activation,
    degree: s.activation === 'bernstein' ? s.degree : null,
    eps: s.activation === 'bernstein' ? s.eps : null,
    lr: s.lr,
    batchSize: s.batchSize,
    backend: 'wasm',
    paramCount: 10,
    epochsTotal: s.epochs,
    epochsDone: s.epochs,
    createdAt: '',
    startedAt: null,
    finishedAt: null,
    error: null,
    tags: [],
    final: { train_loss: 0.5, test_loss: 0.6, test_acc: 0.7 },
    spec: s,
  };
}

describe('issue 15 #3: heatmap colour bar', () => {
  it('a log range inside one decade reads as two different numbers, and the map leaves room for them', () => {
    const grid: LayerGrid = {
      runId: 'r',
      metric: 'min_dsigma',
      layers: [1, 2],
      epochs: [1, 2],
      values: [
        [0.93, 0.95],
        [0.97, 0.99],
      ],
    };
    const o = heatmapOption(grid, true) as {
      visualMap: { min: number; max: number; formatter: (v: number) => string };
      grid: { right: number };
    };
    const lo = o.visualMap.formatter(o.visualMap.min);
    const hi = o.visualMap.formatter(o.visualMap.max);
    expect(lo).not.toBe(hi);
    expect(lo).not.toMatch(/1e-0\.0|e-?\d+\.\d/);
    expect(Number(lo)).toBeCloseTo(0.93, 3);
    expect(Number(hi)).toBeCloseTo(0.99, 3);
    // room right of the map for the longest label (≈ 6.5 px per character) plus the bar itself
    expect(o.grid.right).toBeGreaterThanOrEqual(44 + hi.length * 6);
  });

  it('a wide log range shows plain powers, a linear dead-ratio range its fractions', () => {
    const wide = heatmapOption(
      { runId: 'r', metric: 'min_dsigma', layers: [1], epochs: [1, 2], values: [[1e-6, 0.1]] },
      true,
    ) as { visualMap: { min: number; max: number; formatter: (v: number) => string } };
    expect(wide.visualMap.formatter(wide.visualMap.min)).toBe('1.0e-6');
    expect(wide.visualMap.formatter(wide.visualMap.max)).toBe('0.1');
  });
});

describe('issue 15 #4: parallel coordinates', () => {
  const runs = [
    run('bern', { activation: 'bernstein', degree: 9, eps: 0.01, bounds: [-5, 5], batchNorm: true, epochs: 4 }),
    run('relu', { activation: 'relu', batchNorm: false, epochs: 2 }),
  ].map((detail, i) => ({ detail, color: ['#00f', '#f00'][i]!, finalValue: i === 0 ? 0.5 : 0.7 }));
  const o = parallelOption(runs, 'test_loss') as {
    parallelAxis: { name: string; type?: string; data?: string[] }[];
    series: { data: (string | number)[][] }[];
  };
  const axis = (name: string) => o.parallelAxis.findIndex((a) => a.name === name);

  it('every parameter that differs gets an axis (batch norm, epochs too), shared ones none', () => {
    const names = o.parallelAxis.map((a) => a.name);
    expect(names).toEqual(expect.arrayContaining(['activation', 'degree n', 'ε', 'batch norm', 'epochs', 'test_loss']));
    expect(names).not.toContain('width'); // both 8
    expect(names).not.toContain('depth');
  });

  it('ReLU has no degree or ε: it sits at the axis’s n/a tick, not at an interpolated height', () => {
    for (const name of ['degree n', 'ε']) {
      const i = axis(name);
      expect(o.parallelAxis[i]).toMatchObject({ type: 'category' });
      expect(o.parallelAxis[i]!.data![0]).toBe(NOT_APPLICABLE);
      expect(o.series[1]!.data[0]![i]).toBe(NOT_APPLICABLE);
      expect(o.series[0]!.data[0]![i]).not.toBe(NOT_APPLICABLE);
    }
    expect(o.series[0]!.data[0]![axis('degree n')]).toBe('9');
    expect(o.series[1]!.data[0]![axis('epochs')]).toBe(2);
  });
});
