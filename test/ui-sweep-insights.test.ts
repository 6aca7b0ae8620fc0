// @vitest-environment happy-dom
// The sweep insights panel (Runs screen, sweep selected): best-so-far curve and importance bars from the
// contract's sweeps.insights, refetched when a run of the sweep finishes; the builder offers bayes + hyperband.
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import type { SweepInsights } from '../shared/api.js';
import SweepInsightsPanel from '../src-renderer/components/SweepInsights.vue';
import UPlotChart from '../src-renderer/components/UPlotChart.vue';
import { buildSweepObject, liveCount, type SweepDraft } from '../src-renderer/lib/sweepBuilder.js';
import { flush, installFakeApi } from './ui-support.js';

type Stubbed = { props(k: string): unknown };

const insights = (n: number): SweepInsights => ({
  sweepId: 's1',
  metric: { name: 'test_loss', goal: 'minimize' },
  history: Array.from({ length: n }, (_, i) => ({
    index: i,
    runId: `r${i}`,
    name: `b-00${i + 1} ReLU`,
    status: 'finished' as const,
    value: 1 / (i + 1),
    best: 1 / (i + 1),
  })),
  importance:
    n >= 4
      ? {
          runs: n,
          params: [
            { param: 'lr', importance: 0.8 },
            { param: 'degree', importance: 0.2 },
          ],
          method: 'permutation importance',
        }
      : {
          runs: n,
          params: [],
          reason: 'needs at least 4 finished runs with a metric (has 2)',
          method: 'permutation importance',
        },
});

describe('sweep insights panel', () => {
  it('draws best-so-far and importance, says why when it cannot, and follows new runs', async () => {
    let n = 2;
    const fake = installFakeApi({ 'sweeps.insights': (() => insights(n)) as never });
    const w = mount(SweepInsightsPanel, { props: { sweepId: 's1' }, global: { stubs: { UPlotChart: true } } });
    await flush();
    await flush();
    expect(w.find('[data-testid="importance-reason"]').text()).toMatch(/at least 4/);
    const chart = w.findAllComponents(UPlotChart)[0] as unknown as Stubbed;
    expect((chart.props('series') as { label: string }[]).map((s) => s.label)).toEqual(['run', 'best so far']);
    n = 5;
    fake.emit({ type: 'run-status', runId: 'r4', status: 'finished' });
    await new Promise((r) => setTimeout(r, 600));
    const rows = w.findAll('[data-testid="importance-row"]');
    expect(rows.map((r) => r.text())).toEqual([expect.stringContaining('lr'), expect.stringContaining('degree')]);
    expect(rows[0]!.text()).toContain('0.80');
    expect(fake.calls.filter((c) => c.method === 'sweeps.insights').length).toBe(2);
  });

  it('the sweep builder writes method bayes with ranges and hyperband, counting the budget', () => {
    const d: SweepDraft = {
      name: 'b',
      dataset: 'synthetic-higgs',
      base: { depth: 2, width: 8, epochs: 3, activation: 'relu' },
      method: 'bayes',
      axes: [{ field: 'lr', mode: 'range', values: '', min: 0.0001, max: 0.01, distribution: 'log_uniform' }],
      seeds: 1,
      runCap: 12,
      randomSeed: 3,
      metric: { name: 'test_loss', goal: 'minimize' },
      earlyTerminate: 'hyperband',
    };
    const obj = buildSweepObject(d);
    expect(obj).toMatchObject({
      method: 'bayes',
      run_cap: 12,
      random_seed: 3,
      early_terminate: { type: 'hyperband' },
      parameters: { lr: { min: 0.0001, max: 0.01, distribution: 'log_uniform' } },
    });
    const live = liveCount(d);
    expect(live.ok).toBe(true);
    expect(live.runs).toBe(12);
  });
});
