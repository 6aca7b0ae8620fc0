// Test support for the UI component tests: a WorkbenchClient over a fake Electron bridge.
import { WorkbenchClient, setApi, type Bridge } from '../src-renderer/api/client.js';
import type { ApiMethod, DatasetInfo, WorkbenchEvent } from '../shared/api.js';

export type Handlers = Partial<Record<ApiMethod, (...args: never[]) => unknown>>;

export const DATASETS: DatasetInfo[] = [
  {
    id: 'synthetic-higgs',
    title: 'Synthetic HIGGS',
    kind: 'builtin',
    task: 'classification',
    inputDim: 28,
    outputDim: 2,
    rows: 100000,
  },
  { id: 'mnist', title: 'MNIST', kind: 'builtin', task: 'classification', inputDim: 784, outputDim: 10, rows: 70000 },
];

export function installFakeApi(handlers: Handlers = {}) {
  const calls: { method: string; args: unknown[] }[] = [];
  const listeners: ((e: WorkbenchEvent) => void)[] = [];
  const defaults: Handlers = {
    'system.info': () => ({
      version: '0.1.0',
      backend: { name: 'wasm', tried: [] },
      workers: { size: 2, busy: 0 },
      dbPath: '/tmp/x.db',
      transport: 'electron',
    }),
    'datasets.list': () => DATASETS,
    'designs.list': () => [],
  };
  const bridge = new Proxy({} as Bridge, {
    get(_t, prop: string) {
      if (prop === 'onEvent') return (cb: (e: WorkbenchEvent) => void) => void listeners.push(cb);
      if (prop === 'pickFile') return async () => null;
      return async (...args: unknown[]) => {
        calls.push({ method: prop, args });
        const h =
          (handlers as Record<string, (...a: unknown[]) => unknown>)[prop] ??
          (defaults as Record<string, (...a: unknown[]) => unknown>)[prop];
        if (!h) throw new Error(`no fake for ${prop}`);
        return h(...args);
      };
    },
  });
  const client = new WorkbenchClient({
    location: { search: '', pathname: '/', hash: '', host: 'x', protocol: 'http:' },
    fetch: (() => Promise.reject(new Error('no fetch in tests'))) as typeof fetch,
    bridge,
    setTimeout: (fn, ms) => setTimeout(fn, ms),
  });
  setApi(client);
  return { client, calls, emit: (e: WorkbenchEvent) => listeners.forEach((l) => l(e)) };
}

export const flush = () => new Promise((r) => setTimeout(r, 0));
