// @vitest-environment happy-dom
// Dropping a dataset file in the desktop app: the File's path (read by the preload, granted by the main
// process) is what gets imported — there is no upload server behind an app:// page. In web mode the client has
// no path for a File, so the view falls back to uploading it.
import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import DatasetsView from '../src-renderer/views/DatasetsView.vue';
import { WorkbenchClient } from '../src-renderer/api/client.js';
import { flush, installFakeApi } from './ui-support.js';

function drop(files: File[]) {
  const e = new Event('drop', { bubbles: true, cancelable: true }) as Event & { dataTransfer: { files: File[] } };
  Object.defineProperty(e, 'dataTransfer', { value: { files } });
  return e;
}

describe('DatasetsView: drop to import (Electron)', () => {
  it('a dropped CSV is imported by its granted path, not uploaded', async () => {
    const asked: { name: string; opts?: unknown }[] = [];
    const { calls } = installFakeApi({
      'datasets.import': () => ({ id: 'd1', title: 'HIGGS', rows: 10 }),
      ...({
        droppedPath: async (f: File, opts?: unknown) => (asked.push({ name: f.name, opts }), `/home/u/data/${f.name}`),
      } as object),
    });
    const w = mount(DatasetsView);
    await flush();
    w.get('[data-testid="dataset-drop"]').element.dispatchEvent(drop([new File(['y,a\n1,2\n'], 'HIGGS.csv.gz')]));
    await flush();
    expect(asked).toEqual([{ name: 'HIGGS.csv.gz', opts: undefined }]);
    expect(w.get('[data-testid="dataset-drop"]').text()).toContain('HIGGS.csv.gz');
    await w.get('[data-testid="dataset-import"]').trigger('click');
    await flush();
    const imp = calls.find((c) => c.method === 'datasets.import');
    expect(imp?.args[0]).toMatchObject({ kind: 'higgs', path: '/home/u/data/HIGGS.csv.gz' });
    expect(imp?.args[0]).not.toHaveProperty('uploadId');
  });

  it('dropped IDX files grant their folder', async () => {
    const asked: unknown[] = [];
    const { calls } = installFakeApi({
      'datasets.import': () => ({ id: 'd2', title: 'IDX', rows: 70000 }),
      ...({ droppedPath: async (_f: File, opts?: unknown) => (asked.push(opts), '/home/u/mnist') } as object),
    });
    const w = mount(DatasetsView);
    await flush();
    const files = [
      'train-images-idx3-ubyte',
      'train-labels-idx1-ubyte',
      't10k-images-idx3-ubyte',
      't10k-labels-idx1-ubyte',
    ].map((n) => new File(['x'], n));
    w.get('[data-testid="dataset-drop"]').element.dispatchEvent(drop(files));
    await flush();
    expect(asked).toEqual([{ folder: true }]);
    await w.get('[data-testid="dataset-import"]').trigger('click');
    await flush();
    expect(calls.find((c) => c.method === 'datasets.import')?.args[0]).toMatchObject({
      kind: 'idx',
      path: '/home/u/mnist',
    });
  });

  it('a refused drop shows why and imports nothing', async () => {
    const { calls } = installFakeApi({
      ...({
        droppedPath: async () => {
          throw new Error('/home/u/gone.csv does not exist (was it moved after dropping?)');
        },
      } as object),
    });
    const w = mount(DatasetsView);
    await flush();
    w.get('[data-testid="dataset-drop"]').element.dispatchEvent(drop([new File(['x'], 'gone.csv')]));
    await flush();
    expect(w.get('[data-testid="import-error"]').text()).toContain('does not exist');
    expect(calls.some((c) => c.method === 'datasets.import')).toBe(false);
  });
});

describe('the client: droppedPath', () => {
  it('web mode (no bridge) has no path for a File: null, so the view uploads instead', async () => {
    const c = new WorkbenchClient({
      location: { search: '', pathname: '/', hash: '', host: 'x', protocol: 'http:' },
      fetch: (() => Promise.reject(new Error('no fetch'))) as typeof fetch,
      setTimeout: (fn, ms) => setTimeout(fn, ms),
    });
    expect(await c.droppedPath(new File(['x'], 'a.csv'))).toBeNull();
  });
});
