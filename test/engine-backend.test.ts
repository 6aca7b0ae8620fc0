// Backend selection on this machine (no tfjs-node installed) and wasm inside a worker thread.
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend, type BackendPref } from '../workers/engine/backend.js';

describe('initBackend', () => {
  it('auto falls back past the absent native addons to wasm and says why', async () => {
    const info = await initBackend('auto');
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.tried.map((t) => t.name)).toEqual(['tfjs-node-gpu', 'tfjs-node']);
    for (const t of info.tried) expect(t.error).toMatch(/tfjs-node/);
    expect(await initBackend('auto')).toBe(info);
  });

  it('an explicit preference that cannot load is a clear error; cpu and wasm switch', async () => {
    await expect(initBackend('tfjs-node')).rejects.toThrow(/backend tfjs-node could not load/);
    await expect(initBackend('bogus' as BackendPref)).rejects.toThrow(/must be one of/);
    expect((await initBackend('cpu')).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    await initBackend('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('wasm initialises inside a worker thread and gradients work there', async () => {
    // A Piscina task file is compiled JS; here tsx compiles the TypeScript worker on the fly.
    const url = new URL('./support/backend-worker.ts', import.meta.url).href;
    const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); })`;
    const worker = new Worker(boot, { eval: true, workerData: 'wasm' });
    const msg = await new Promise<{ info: { name: string }; backend: string; grad: number[] }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`worker exited (${code}) without a result`)));
    });
    await worker.terminate();
    expect(msg.info.name).toBe('wasm');
    expect(msg.backend).toBe('wasm');
    expect(msg.grad).toEqual([2, 4, 6]);
  });
});
