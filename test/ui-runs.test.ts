// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import RunsView from '../src-renderer/views/RunsView.vue';
import type { ListRunsQuery, RunSummary } from '../shared/api.js';
import { visibleRange, pagesFor } from '../src-renderer/lib/virtual.js';
import { store } from '../src-renderer/state/store.js';
import { flush, installFakeApi } from './ui-support.js';

const N = 5000;
const run = (i: number): RunSummary => ({
  id: `r${i}`,
  name: `sweep-${i}`,
  sweepId: 's1',
  status: i % 7 === 0 ? 'running' : 'finished',
  dataset: 'synthetic-higgs',
  label: 'Bern_{9,0.01}[-5,5]',
  depth: 10,
  width: 32,
  activation: 'bernstein',
  degree: 9,
  eps: 0.01,
  lr: 0.001,
  batchSize: 256,
  backend: 'wasm',
  paramCount: 12345,
  epochsTotal: 10,
  epochsDone: i % 7 === 0 ? 3 : 10,
  createdAt: new Date(0).toISOString(),
  startedAt: null,
  finishedAt: null,
  error: null,
  tags: [],
  final: { train_loss: 0.5, test_loss: 0.6, test_acc: 0.7 },
});

describe('virtual scroller', () => {
  it('renders only the rows in view plus overscan, and asks for the pages they need', () => {
    const r = visibleRange(30 * 1000, 600, 30, N, 8);
    expect(r.start).toBe(992);
    expect(r.end).toBe(1028);
    expect(r.padTop + (r.end - r.start) * 30 + r.padBottom).toBe(N * 30);
    expect(pagesFor(r.start, r.end, 100)).toEqual([9, 10]);
    expect(visibleRange(0, 600, 30, 3).end).toBe(3);
  });
});

describe('RunsView', () => {
  it('pages from the server, renders a window of rows, updates live progress and hands the selection to Compare', async () => {
    const queries: ListRunsQuery[] = [];
    const { emit } = installFakeApi({
      'runs.list': ((q: ListRunsQuery) => {
        queries.push(q);
        const rows = Array.from({ length: Math.min(q.limit ?? 100, N - (q.offset ?? 0)) }, (_, k) =>
          run((q.offset ?? 0) + k),
        );
        return { rows, total: N };
      }) as never,
      'sweeps.list': (() => []) as never,
    });
    const w = mount(RunsView, { attachTo: document.body });
    await new Promise((r) => setTimeout(r, 300));
    expect(w.find('[data-testid="runs-total"]').text()).toBe('5,000 runs');
    const rows = w.findAll('[data-testid="run-row"]');
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.length).toBeLessThan(80); // 5000 runs, a window rendered
    expect(queries[0]).toMatchObject({ limit: 100, offset: 0, orderBy: 'createdAt', desc: true });

    // sort by test accuracy → server-side query, cache reset
    const th = w.findAll('.th').find((h) => h.text().startsWith('test acc'))!;
    await th.trigger('click');
    await new Promise((r) => setTimeout(r, 300));
    expect(queries[queries.length - 1]).toMatchObject({ orderBy: 'final.test_acc', desc: true, offset: 0 });

    // live progress of a running run moves its bar
    emit({ type: 'run-progress', runId: 'r0', epoch: 4, epochs: 10, batch: 5, batches: 10, loss: 0.4 });
    await new Promise((r) => setTimeout(r, 0));
    const bar = w.find('[data-testid="run-row"] .bar > i');
    expect(bar.attributes('style')).toContain('width: 35%');

    await w.findAll('[data-testid="run-row"]')[1].trigger('click');
    await w.findAll('[data-testid="run-row"]')[3].trigger('click', { shiftKey: true });
    await w.find('[data-testid="runs-compare"]').trigger('click');
    expect(store.compareIds).toEqual(['r1', 'r2', 'r3']);
    w.unmount();
  });
});

describe('RunsView live rows and selection actions', () => {
  it('status, epoch and tag changes re-render the row in place (no reload, no hand-made tick)', async () => {
    let lists = 0;
    const tagged: unknown[][] = [];
    const rows = [run(7), run(8), run(9)]; // r7 is running at epoch 3
    const { emit } = installFakeApi({
      'runs.list': (() => {
        lists++;
        return { rows: rows.map((r) => ({ ...r, tags: [...r.tags] })), total: rows.length };
      }) as never,
      'sweeps.list': (() => []) as never,
      'runs.setTags': ((id: string, tags: string[]) => void tagged.push([id, tags])) as never,
    });
    const w = mount(RunsView, { attachTo: document.body });
    await new Promise((r) => setTimeout(r, 300));
    const row = () => w.findAll('[data-testid="run-row"]')[0];
    expect(row().text()).toMatch(/running[\s\S]*3\/10/);
    const before = lists;
    emit({ type: 'run-epoch', runId: 'r7', epoch: 4, epochs: 10, metrics: { test_acc: 0.9, test_loss: 0.2 } } as never);
    await flush();
    expect(row().text()).toMatch(/4\/10[\s\S]*90\.00%[\s\S]*0\.2/);
    emit({ type: 'run-status', runId: 'r7', status: 'failed', error: 'diverged at epoch 4' } as never);
    await flush();
    expect(row().find('.badge').text()).toBe('failed');
    expect(row().find('.badge').attributes('title')).toBe('diverged at epoch 4');
    expect(lists).toBe(before); // updated in place; the refresh comes later (debounced)

    // tag two selected runs: the tags show at once
    await w.findAll('[data-testid="run-row"]')[0].trigger('click');
    await w.findAll('[data-testid="run-row"]')[1].trigger('click', { ctrlKey: true });
    const tagBtn = w.findAll('.toolbar button').find((b) => b.text() === 'Tag…')!;
    await tagBtn.trigger('click');
    await w.find('.toolbar .tagin').setValue('keep');
    await w
      .findAll('.toolbar button')
      .find((b) => b.text() === 'Add')!
      .trigger('click');
    await flush();
    await flush();
    expect(tagged.map((t) => t[0]).sort()).toEqual(['r7', 'r8']);
    expect(
      w
        .findAll('[data-testid="run-row"]')
        .slice(0, 2)
        .every((r) => r.find('.tag').text() === 'keep'),
    ).toBe(true);
    expect(w.find('.toolbar .tagin').exists()).toBe(false); // the tag field closes after success
    w.unmount();
  });
});
