// @vitest-environment happy-dom
import { describe, expect, it, beforeEach } from 'vitest';
import { mount } from '@vue/test-utils';
import DesignerView from '../src-renderer/views/DesignerView.vue';
import { store } from '../src-renderer/state/store.js';
import { installFakeApi, flush, DATASETS } from './ui-support.js';

describe('DesignerView', () => {
  beforeEach(() => {
    store.datasets = DATASETS.slice();
  });

  it('shows the inline error at the degree field and blocks Train; fixing it clears both', async () => {
    installFakeApi();
    const w = mount(DesignerView, { attachTo: document.body });
    await flush();
    // The starter stack is trainable: Repeat(20)[Dense 100, BN, Bern] → Dense 2.
    expect(w.find('[data-testid="design-valid"]').exists()).toBe(true);
    expect(w.find('[data-testid="param-count"]').text()).toBe(
      (28 * 100 + 100 + 19 * 10100 + 20 * 100 * 10 + 202).toLocaleString('en-US'),
    );
    await w.find('[data-testid="stack-block-0-2"] .head').trigger('click');
    const degree = w.find('[data-testid="prop-degree"]');
    await degree.setValue('0');
    expect(w.find('[data-testid="error-degree"]').text()).toMatch(/degree n must be an integer between 1 and 64/);
    expect(degree.classes()).toContain('invalid');
    expect(w.find('[data-testid="issue-0-2"]').exists()).toBe(true);
    expect(w.find('[data-testid="design-invalid"]').exists()).toBe(true);
    expect((w.find('[data-testid="design-train"]').element as HTMLButtonElement).disabled).toBe(true);
    await degree.setValue('5');
    expect(w.find('[data-testid="error-degree"]').exists()).toBe(false);
    expect(w.find('[data-testid="design-valid"]').exists()).toBe(true);
    w.unmount();
  });

  it('l ≥ u is shown at the bounds fields', async () => {
    installFakeApi();
    const w = mount(DesignerView, { attachTo: document.body });
    await flush();
    await w.find('[data-testid="stack-block-0-2"] .head').trigger('click');
    await w.find('[data-testid="prop-l"]').setValue('6');
    expect(w.find('[data-testid="error-bounds"]').text()).toMatch(/l < u/);
    w.unmount();
  });

  it('removing the Dense inside the group names the block that now lacks it; palette click adds and save calls designs.save', async () => {
    const saved: unknown[] = [];
    installFakeApi({
      'designs.save': ((d: { name: string }) => {
        saved.push(d);
        return { id: 'd1', name: d.name, blocks: [], training: {}, createdAt: '', updatedAt: '' };
      }) as never,
    });
    const w = mount(DesignerView, { attachTo: document.body });
    await flush();
    await w.find('[data-testid="remove-0-0"]').trigger('click');
    expect(w.find('[data-testid="issue-0-0"]').text()).toMatch(/BatchNorm must follow a Dense/);
    // select the group's first block and add a Dense from the palette before it is fixed by moving up
    await w.find('[data-testid="stack-block-0"] > .head').trigger('click');
    await w.find('[data-testid="palette-dense"]').trigger('click'); // appends into the selected group
    expect(w.find('[data-testid="stack-block-0-2"]').attributes('data-kind')).toBe('dense');
    await w.find('[data-testid="design-save"]').trigger('click');
    await flush();
    expect(saved).toHaveLength(1);
    w.unmount();
  });

  it('init and affine batch norm: the default init is named, choosing them changes the summary, the count and the saved training', async () => {
    const saved: { training: Record<string, unknown> }[] = [];
    installFakeApi({
      'designs.save': ((d: { name: string; training: Record<string, unknown> }) => {
        saved.push(d);
        return { id: 'd2', name: d.name, blocks: [], training: d.training, createdAt: '', updatedAt: '' };
      }) as never,
    });
    const w = mount(DesignerView, { attachTo: document.body });
    await flush();
    // the starter stack is Bernstein: its default init is lecun_normal
    expect(w.find('[data-testid="summary-init"]').text()).toBe('lecun_normal');
    expect(w.find('[data-testid="train-init"] option').text()).toBe('default (lecun_normal)');
    const before = w.find('[data-testid="param-count"]').text();
    await w.find('[data-testid="train-init"]').setValue('torch');
    await w.find('[data-testid="train-bn-affine"]').setValue(true);
    expect(w.find('[data-testid="summary-init"]').text()).toBe('torch');
    expect(w.find('[data-testid="design-summary"]').text()).toMatch(/affine · none/);
    const count = (t: string) => Number(t.replace(/,/g, ''));
    expect(count(w.find('[data-testid="param-count"]').text()) - count(before)).toBe(20 * 2 * 100); // γ, β per unit and layer
    await w.find('[data-testid="design-save"]').trigger('click');
    await flush();
    expect(saved[0].training).toMatchObject({ init: 'torch', bnAffine: true });
    w.unmount();
  });
});
