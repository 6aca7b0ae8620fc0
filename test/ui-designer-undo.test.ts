// @vitest-environment happy-dom
// Issue 15 #2: undo/redo for every design edit (Ctrl/Cmd+Z, Shift+Ctrl/Cmd+Z), also while the name field has
// focus, and the next Save keeps the design's own name.
import { describe, expect, it, beforeEach } from 'vitest';
import { mount } from '@vue/test-utils';
import DesignerView from '../src-renderer/views/DesignerView.vue';
import { EditHistory, undoKey } from '../src-renderer/lib/history.js';
import { store } from '../src-renderer/state/store.js';
import { installFakeApi, flush, DATASETS } from './ui-support.js';

const key = (k: string, o: KeyboardEventInit = {}) =>
  new KeyboardEvent('keydown', { key: k, ctrlKey: true, bubbles: true, cancelable: true, ...o });
const kinds = (w: ReturnType<typeof mount>) =>
  w.findAll('[data-testid^="stack-block-"]').map((b) => b.attributes('data-kind'));

describe('EditHistory', () => {
  it('typing coalesces into one step; structural edits are steps of their own; a new edit clears redo', () => {
    let t = 0;
    const h = new EditHistory('a', { now: () => t, coalesceMs: 500 });
    h.record('ab');
    t = 100;
    h.record('abc'); // same burst
    t = 2000;
    h.record('abc+block', true);
    expect(h.undo()).toBe('abc');
    expect(h.undo()).toBe('a');
    expect(h.undo()).toBeNull();
    expect(h.redo()).toBe('abc');
    h.record('other', true);
    expect(h.canRedo).toBe(false);
    expect(undoKey(key('z'))).toBe('undo');
    expect(undoKey(key('Z', { shiftKey: true }))).toBe('redo');
    expect(undoKey(key('z', { ctrlKey: false, metaKey: true }))).toBe('undo');
    expect(undoKey(key('z', { ctrlKey: false }))).toBeNull();
  });
});

describe('Designer undo/redo', () => {
  beforeEach(() => {
    store.datasets = DATASETS.slice();
  });

  it('Ctrl+Z brings back a deleted block, Shift+Ctrl+Z deletes it again; the name is not touched; Save keeps the name', async () => {
    const saved: { name: string }[] = [];
    installFakeApi({
      'designs.save': ((d: { name: string }) => {
        saved.push(d);
        return { id: 'd1', name: d.name, blocks: [], training: {}, createdAt: '', updatedAt: '' };
      }) as never,
    });
    const w = mount(DesignerView, { attachTo: document.body });
    await flush();
    const before = kinds(w);
    expect(before).toEqual(['repeat', 'dense', 'batchnorm', 'bernstein', 'dense']);
    await w.find('[data-testid="remove-0-1"]').trigger('click');
    await flush();
    expect(kinds(w)).toEqual(['repeat', 'dense', 'bernstein', 'dense']);
    // focus in the name field, as after typing a name: Ctrl+Z is still the design's undo
    const nameInput = w.find('[data-testid="design-name"]').element as HTMLInputElement;
    nameInput.focus();
    const ev = key('z');
    nameInput.dispatchEvent(ev);
    await flush();
    expect(ev.defaultPrevented).toBe(true);
    expect(kinds(w)).toEqual(before);
    expect(nameInput.value).toBe('Bern 100×20');
    window.dispatchEvent(key('z', { shiftKey: true }));
    await flush();
    expect(kinds(w)).toEqual(['repeat', 'dense', 'bernstein', 'dense']);
    window.dispatchEvent(key('z'));
    await flush();
    expect(kinds(w)).toEqual(before);
    await w.find('[data-testid="design-save"]').trigger('click');
    await flush();
    expect(saved.map((d) => d.name)).toEqual(['Bern 100×20']);
    w.unmount();
  });

  it('field edits, the name and training settings undo too, with the buttons', async () => {
    installFakeApi();
    const w = mount(DesignerView, { attachTo: document.body });
    await flush();
    await w.find('[data-testid="stack-block-0-2"] .head').trigger('click');
    await w.find('[data-testid="prop-degree"]').setValue('5');
    await flush();
    await new Promise((r) => setTimeout(r, 900)); // a separate step from the next edit
    await w.find('[data-testid="design-name"]').setValue('renamed');
    await flush();
    expect((w.find('[data-testid="design-undo"]').element as HTMLButtonElement).disabled).toBe(false);
    await w.find('[data-testid="design-undo"]').trigger('click');
    await flush();
    expect((w.find('[data-testid="design-name"]').element as HTMLInputElement).value).toBe('Bern 100×20');
    expect((w.find('[data-testid="prop-degree"]').element as HTMLInputElement).value).toBe('5');
    await w.find('[data-testid="design-undo"]').trigger('click');
    await flush();
    expect((w.find('[data-testid="prop-degree"]').element as HTMLInputElement).value).not.toBe('5');
    await w.find('[data-testid="design-redo"]').trigger('click');
    await flush();
    expect((w.find('[data-testid="prop-degree"]').element as HTMLInputElement).value).toBe('5');
    w.unmount();
  });
});
