// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { parse } from 'yaml';
import SweepView from '../src-renderer/views/SweepView.vue';
import { liveCount, newAxis, parseValueList, type SweepDraft } from '../src-renderer/lib/sweepBuilder.js';
import { store } from '../src-renderer/state/store.js';
import { installFakeApi, flush, DATASETS } from './ui-support.js';

const draft = (over: Partial<SweepDraft> = {}): SweepDraft => ({
  name: 's',
  dataset: 'synthetic-higgs',
  base: { depth: 4, width: 16, activation: 'bernstein', batchNorm: true, epochs: 2 },
  method: 'grid',
  axes: [],
  seeds: 1,
  randomSeed: 0,
  metric: { name: 'test_loss', goal: 'minimize' },
  earlyTerminate: 'none',
  ...over,
});

describe('sweep builder model', () => {
  it('grid run count is the product of the axes times seeds', () => {
    const c = liveCount(
      draft({
        axes: [
          { ...newAxis('activation'), values: 'bernstein, relu, gelu' },
          { ...newAxis('depth'), values: '2, 4' },
          { ...newAxis('bounds'), values: '[-5, 5], [-3, 3]' },
        ],
        seeds: 3,
      }),
    );
    expect(c.error).toBeUndefined();
    expect(c.runs).toBe(3 * 2 * 2 * 3);
    const file = parse(c.yaml);
    expect(file.parameters.bounds.values).toEqual([
      [-5, 5],
      [-3, 3],
    ]);
    expect(file.base.batchNorm).toBeUndefined(); // follows each activation's default
  });

  it('random method samples run_cap points from ranges', () => {
    const lr = { ...newAxis('lr'), mode: 'range' as const, min: 1e-4, max: 1e-2, distribution: 'log_uniform' as const };
    const c = liveCount(draft({ method: 'random', runCap: 7, seeds: 2, axes: [lr] }));
    expect(c.runs).toBe(7);
    expect(parse(c.yaml).parameters.lr).toEqual({ min: 1e-4, max: 1e-2, distribution: 'log_uniform' });
  });

  it('bad values name the axis; invalid points are errors, not silent drops', () => {
    expect(liveCount(draft({ axes: [{ ...newAxis('depth'), values: '' }] })).error).toMatch(
      /depth: list at least one value/,
    );
    expect(liveCount(draft({ axes: [{ ...newAxis('degree'), values: '0, 9' }] })).error).toMatch(/degree/);
    expect(parseValueList('true, false')).toEqual([true, false]);
  });
});

describe('SweepView', () => {
  it('shows the live run count as axes change and asks the server for the authoritative plan', async () => {
    store.datasets = DATASETS.slice();
    store.designerDraft = {
      name: 'Bern',
      blocks: [
        {
          kind: 'repeat',
          times: 3,
          blocks: [
            { kind: 'dense', width: 8 },
            { kind: 'batchnorm' },
            { kind: 'bernstein', degree: 5, eps: 0.01, bounds: [-4, 4], boundsMode: 'fixed' },
          ],
        },
        { kind: 'dense', width: 2 },
      ],
      training: { dataset: 'synthetic-higgs', epochs: 2 },
    };
    const plans: string[] = [];
    installFakeApi({ 'sweeps.plan': ((t: string) => (plans.push(t), { name: 'x', total: 6, runs: [] })) as never });
    const w = mount(SweepView);
    await flush();
    await w.find('[data-testid="axis-values-0"]').setValue('bernstein, relu');
    await w.find('[data-testid="sweep-seeds"]').setValue('3');
    expect(w.find('[data-testid="run-count"]').text()).toBe('6');
    const yaml = parse(w.find('[data-testid="sweep-yaml"]').text());
    expect(yaml.base).toMatchObject({ depth: 3, width: 8, degree: 5, bounds: [-4, 4] });
    expect(yaml.seeds).toBe(3);
    await new Promise((r) => setTimeout(r, 600));
    expect(plans.length).toBeGreaterThan(0);
    expect(parse(plans[plans.length - 1]).seeds).toBe(3);
    await flush();
    expect(w.find('[data-testid="server-ok"]').exists()).toBe(true);
    await w.find('[data-testid="axis-values-0"]').setValue('bernstein, relu, nonsense');
    expect(w.find('[data-testid="sweep-error"]').text()).toMatch(/activation/);
    expect((w.find('[data-testid="sweep-launch"]').element as HTMLButtonElement).disabled).toBe(true);
    w.unmount();
  });
});
