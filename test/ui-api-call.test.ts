// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { ref } from 'vue';
import { attempt, latest } from '../src-renderer/composables/useApiCall.js';
import { store } from '../src-renderer/state/store.js';
import { installFakeApi } from './ui-support.js';

const fail = (msg: string) => Promise.reject(new Error(msg));

describe('attempt', () => {
  it('resolves with the result, toggling busy around the call', async () => {
    const busy = ref(false);
    let during = false;
    const r = await attempt('x', async () => {
      during = busy.value;
      return 42;
    }, { busy });
    expect(r).toBe(42);
    expect(during).toBe(true);
    expect(busy.value).toBe(false);
  });

  it('a string names what failed: one error toast "<what>: <server message>"', async () => {
    store.toasts.splice(0);
    const busy = ref(false);
    const r = await attempt('save failed', () => fail('name is taken'), { busy });
    expect(r).toBeUndefined();
    expect(busy.value).toBe(false);
    expect(store.toasts.map((t) => [t.kind, t.text])).toEqual([['error', 'save failed: name is taken']]);
  });

  it('a ref receives the message in place, a function gets it, null swallows it — no toast for any', async () => {
    store.toasts.splice(0);
    const field = ref('');
    await attempt(field, () => fail('bad URL'));
    expect(field.value).toBe('bad URL');
    const seen: string[] = [];
    await attempt((m) => seen.push(m), () => fail('boom'));
    expect(seen).toEqual(['boom']);
    expect(await attempt(null, () => fail('quiet'))).toBeUndefined();
    expect(store.toasts).toEqual([]);
  });

  it('reports the server message of a real client call (ApiError through the bridge)', async () => {
    installFakeApi({ 'designs.list': () => Promise.reject(new Error('database is locked')) });
    store.toasts.splice(0);
    const { getApi } = await import('../src-renderer/api/client.js');
    expect(await attempt('designs', () => getApi().call('designs.list'))).toBeUndefined();
    expect(store.toasts[0]?.text).toBe('designs: database is locked');
  });
});

describe('latest', () => {
  it('an overtaken call resolves undefined, reports nothing and leaves busy to the newest', async () => {
    const run = latest();
    const busy = ref(false);
    const err = ref('');
    let release!: () => void;
    const slow = run(err, () => new Promise<string>((_res, rej) => (release = () => rej(new Error('stale failure')))), { busy });
    const fast = run(err, async () => 'new', { busy });
    expect(await fast).toBe('new');
    expect(busy.value).toBe(false);
    release();
    expect(await slow).toBeUndefined();
    expect(err.value).toBe('');
    // and a stale success is dropped too
    let ok!: () => void;
    const slow2 = run(err, () => new Promise<string>((res) => (ok = () => res('old'))), { busy });
    const fast2 = run(err, () => fail('newest failed'), { busy });
    expect(await fast2).toBeUndefined();
    expect(err.value).toBe('newest failed');
    ok();
    expect(await slow2).toBeUndefined();
  });
});
