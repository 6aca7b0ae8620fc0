// @vitest-environment happy-dom
// The address (state/route.ts) and the Esc stack (lib/dialogs.ts): parse/format, bound refs written and
// restored, history entries only where the user would step back, and Esc closing the newest dialog only.
import { describe, expect, it } from 'vitest';
import { defineComponent, h, nextTick, ref } from 'vue';
import { mount } from '@vue/test-utils';
import { bindRoute, codec, field, go, parseRoute, route, routeHash, view } from '../src-renderer/state/route.js';
import { closeTopDialog, openDialogs, useDialog } from '../src-renderer/lib/dialogs.js';

describe('addresses', () => {
  it('parse and format: view, params, unknown views, empty values dropped', () => {
    expect(parseRoute('#/paper?sweep=abc&dead=eval')).toEqual({
      view: 'paper',
      params: { sweep: 'abc', dead: 'eval' },
    });
    expect(parseRoute('#/nowhere?x=1').view).toBe('designer');
    expect(parseRoute('').view).toBe('designer');
    expect(parseRoute('#/runs?q=&status=failed').params).toEqual({ status: 'failed' });
    expect(routeHash({ view: 'runs', params: { q: 'bern 9', by: 'a,b' } })).toBe('#/runs?q=bern+9&by=a,b');
    expect(routeHash({ view: 'settings', params: {} })).toBe('#/settings');
    expect(parseRoute(routeHash({ view: 'approx', params: { lab: 'x/y&z' } })).params).toEqual({ lab: 'x/y&z' });
  });

  it('a bound screen writes its state, pushes only real choices, and back/forward restore it', async () => {
    const tab = ref<'a' | 'b'>('a');
    const q = ref('');
    const pick = ref('');
    bindRoute('settings', {
      tab: field(tab, codec.oneOf(['a', 'b'] as const, 'a'), true),
      q: field(q, codec.str()),
      pick: field(pick, codec.str(), 'change'),
    });
    const len0 = history.length;
    go('settings');
    expect(view.value).toBe('settings');
    expect(location.hash).toBe('#/settings');
    expect(history.length).toBe(len0 + 1);
    q.value = 'bern';
    await nextTick();
    expect(location.hash).toBe('#/settings?q=bern');
    expect(history.length).toBe(len0 + 1); // typing replaces
    pick.value = 'first'; // picked by the screen itself: no step back
    await nextTick();
    expect(history.length).toBe(len0 + 1);
    pick.value = 'second'; // the user switched
    await nextTick();
    expect(history.length).toBe(len0 + 2);
    tab.value = 'b';
    await nextTick();
    expect(location.hash).toBe('#/settings?q=bern&pick=second&tab=b');
    expect(history.length).toBe(len0 + 3);
    // an address arriving from outside (back/forward, a pasted link) sets the refs; missing keys → fallback
    history.replaceState(null, '', '#/settings?pick=other');
    window.dispatchEvent(new Event('popstate'));
    expect([tab.value, q.value, pick.value]).toEqual(['a', '', 'other']);
    expect(route.value.params).toEqual({ pick: 'other' });
    // away and back through the navigation: the screen's state comes back into the address
    go('runs');
    expect(location.hash).toBe('#/runs');
    go('settings');
    expect(location.hash).toBe('#/settings?pick=other');
  });
});

describe('Esc', () => {
  it('closes the newest open dialog only, one per press; closed or unmounted dialogs leave the stack', async () => {
    const a = ref(false);
    const b = ref(false);
    const Comp = defineComponent({
      setup() {
        useDialog(
          () => a.value,
          () => (a.value = false),
        );
        useDialog(
          () => b.value,
          () => (b.value = false),
        );
        return () => h('div');
      },
    });
    const w = mount(Comp);
    expect(openDialogs()).toBe(0);
    a.value = true;
    await nextTick();
    b.value = true;
    await nextTick();
    expect(openDialogs()).toBe(2);
    const esc = () => window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', cancelable: true }));
    esc();
    expect([a.value, b.value]).toEqual([true, false]);
    esc();
    expect([a.value, b.value]).toEqual([false, false]);
    expect(closeTopDialog()).toBe(false);
    a.value = true;
    await nextTick();
    expect(openDialogs()).toBe(1);
    w.unmount();
    expect(openDialogs()).toBe(0);
  });
});
