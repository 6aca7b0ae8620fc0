// @vitest-environment happy-dom
// The status bar: backend and pool, plus remote workers while sweeps go to them.
import { describe, expect, it } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import StatusBar from '../src-renderer/components/StatusBar.vue';
import { installFakeApi } from './ui-support.js';

const worker = {
  id: 'w1',
  host: 'gpu-box',
  pid: 42,
  backend: 'tfjs-node-gpu',
  concurrency: 2,
  busy: 1,
  runs: ['r1'],
  version: '0.1.0',
  startedAt: 0,
  seenAt: Date.now(),
};

describe('StatusBar', () => {
  it('shows remote workers and their busy slots when sweeps use them', async () => {
    installFakeApi({
      'settings.get': () => ({ redisUrl: 'redis://:***@lab:6379', redisPasswordSet: true, useRemote: true }),
      'remote.workers': () => ({
        redisUrl: 'redis://:***@lab:6379',
        reachable: true,
        workers: [worker],
        checkedAt: new Date().toISOString(),
      }),
    });
    const w = mount(StatusBar);
    await flushPromises();
    expect(w.get('[data-testid="status-remote"]').text()).toMatch(/remote 1 worker · 1\/2 busy/);
    w.unmount();
  });

  it('says when remote workers are unreachable, and shows nothing when they are off', async () => {
    installFakeApi({
      'settings.get': () => ({ redisUrl: 'redis://lab:6379', redisPasswordSet: false, useRemote: true }),
      'remote.workers': () => ({
        redisUrl: 'redis://lab:6379',
        reachable: false,
        error: 'connection refused',
        workers: [],
        checkedAt: '',
      }),
    });
    const a = mount(StatusBar);
    await flushPromises();
    expect(a.get('[data-testid="status-remote"]').text()).toMatch(/remote workers unreachable/);
    expect(a.get('[data-testid="status-remote"]').attributes('title')).toBe('connection refused');
    a.unmount();
    installFakeApi({ 'settings.get': () => ({ redisUrl: null, redisPasswordSet: false, useRemote: false }) });
    const b = mount(StatusBar);
    await flushPromises();
    expect(b.find('[data-testid="status-remote"]').exists()).toBe(false);
    b.unmount();
  });
});
