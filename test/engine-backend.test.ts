// Backend selection on this machine (no tfjs-node installed) and wasm inside a worker thread.
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend, nativeLoadError, type BackendPref } from '../workers/engine/backend.js';

describe('initBackend', () => {
  it('auto falls back past the absent native addons to wasm and says why', async () => {
    const info = await initBackend('auto');
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.tried.map((t) => t.name)).toEqual(['tfjs-node-gpu', 'tfjs-node']);
    for (const t of info.tried) expect(t.error).toMatch(/tfjs-node/);
    // One clear line each: which package, that it is absent, and what it would be for.
    expect(info.tried[0].error).toBe(
      '@tensorflow/tfjs-node-gpu is not installed (optional, for NVIDIA GPUs on Linux/Windows x64 with CUDA 11.2 + cuDNN 8.1; see the README)',
    );
    expect(info.tried[1].error).toBe('@tensorflow/tfjs-node is not installed (optional native CPU backend)');
    expect(await initBackend('auto')).toBe(info);
  });

  it('an installed native package whose addon fails to load says so in one line', () => {
    const dlopen = Object.assign(
      new Error(
        'libcudart.so.11.0: cannot open shared object file: No such file or directory\n    at Module._extensions..node',
      ),
      { code: 'ERR_DLOPEN_FAILED' },
    );
    expect(nativeLoadError('tfjs-node-gpu', dlopen).message).toBe(
      '@tensorflow/tfjs-node-gpu is installed but did not load: libcudart.so.11.0: cannot open shared object file: No such file or directory',
    );
    // A missing dependency of the package is not the package missing.
    const dep = Object.assign(new Error("Cannot find module '@mapbox/node-pre-gyp'"), { code: 'MODULE_NOT_FOUND' });
    expect(nativeLoadError('tfjs-node', dep).message).toBe(
      "@tensorflow/tfjs-node is installed but did not load: Cannot find module '@mapbox/node-pre-gyp'",
    );
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
