// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import RunsView from '../src-renderer/views/RunsView.vue';
import type { RunSummary } from '../shared/api.js';
import { COLUMNS_KEY } from '../src-renderer/composables/useRunColumns.js';
import { nameWidth } from '../src-renderer/lib/runColumns.js';
import { installFakeApi } from './ui-support.js';

const run = (i: number, name: string): RunSummary => ({
  id: `r${i}`,
  name,
  sweepId: 's1',
  status: 'finished',
  dataset: 'synthetic-higgs',
  label: 'ReLU',
  depth: 2,
  width: 8,
  activation: 'relu',
  degree: null,
  eps: null,
  lr: 0.001,
  batchSize: 64,
  backend: 'wasm',
  paramCount: 100,
  epochsTotal: 2,
  epochsDone: 2,
  createdAt: new Date(0).toISOString(),
  startedAt: null,
  finishedAt: null,
  error: null,
  tags: [],
  final: { train_loss: 0.5, test_loss: 0.6, test_acc: 0.7 },
});
const settle = () => new Promise((r) => setTimeout(r, 300));
const cols = (w: ReturnType<typeof mount>) => w.findAll('.th').map((h) => h.attributes('data-col'));

describe('runs table columns', () => {
  it('a name column as wide as the longest name, within bounds', () => {
    expect(nameWidth(['short'], 184)).toBe(184);
    expect(nameWidth(['x'.repeat(40)], 184)).toBe(Math.ceil(40 * 7.2 + 24));
    expect(nameWidth(['x'.repeat(400)], 184)).toBe(480);
    expect(nameWidth(['iiii', 'WW'], 10, 480, (t) => (t === 'WW' ? 100 : 20))).toBe(124); // the widest text, not the most characters
  });

  it('the chooser hides columns, remembers them in localStorage, and the name column stays first and pinned', async () => {
    localStorage.removeItem(COLUMNS_KEY);
    const long = 'sweep-with-a-name-of-fifty-characters-0000000001';
    installFakeApi({
      'runs.list': (() => ({ rows: [run(1, long), run(2, 'b')], total: 2 })) as never,
      'sweeps.list': (() => []) as never,
    });
    const w = mount(RunsView, { attachTo: document.body });
    await settle();
    expect(cols(w)[0]).toBe('name');
    expect(w.find('.th[data-col="name"]').classes()).toContain('pin');
    // the grid's name track fits the long name
    expect(w.find('.thead').attributes('style')).toContain(`34px ${nameWidth([long], 184)}px`);
    await w.find('[data-testid="runs-columns"]').trigger('click');
    expect(w.find('[data-testid="runs-column-name"]').exists()).toBe(false);
    await w.find('[data-testid="runs-column-backend"]').setValue(false);
    expect(cols(w)).not.toContain('backend');
    expect(JSON.parse(localStorage.getItem(COLUMNS_KEY)!)).toEqual({ hidden: ['backend'] });
    w.unmount();

    const again = mount(RunsView, { attachTo: document.body });
    await settle();
    expect(cols(again)).not.toContain('backend');
    expect(cols(again)).toContain('test_acc');
    await again.find('[data-testid="runs-columns"]').trigger('click');
    await again.find('[data-testid="runs-columns-reset"]').trigger('click');
    expect(cols(again)).toContain('backend');
    again.unmount();
    // unreadable storage: every column
    localStorage.setItem(COLUMNS_KEY, '{not json');
    const third = mount(RunsView, { attachTo: document.body });
    await settle();
    expect(cols(third)).toContain('backend');
    third.unmount();
  });
});
