// The Electron shell without Electron: the window's security options and CSP, the navigation policy, the
// compiled sandboxed preload (run in a VM with a recording `electron` stand-in), the IPC adapter's refusals,
// file-dialog grants and event fan-out, and how `deepbern start` decides Electron cannot run.
import { bridgeErrorBody } from '../src-renderer/api/client.js';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_METHODS } from '../shared/api.js';
import { BRIDGE_GLOBAL } from '../shared/protocol.js';
import { locateElectron } from '../src-main/electron/locate.js';
import { allowNavigation, APP_CSP, windowOptions } from '../src-main/electron/window.js';
import { IPC_CHANNELS, type IpcReply } from '../src-main/transports/ipc.js';
import { APP_URL, ipcHarness, type FakeIpc, type Harness } from './service-harness.js';

describe('window options', () => {
  it('isolate and sandbox the renderer, with no Node and web security on', () => {
    const o = windowOptions('/app/preload.cjs');
    expect(o.webPreferences).toMatchObject({
      preload: '/app/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
    });
  });

  it('a strict CSP: own scripts only, no objects, no framing, no base or form hijack', () => {
    const d = Object.fromEntries(APP_CSP.split('; ').map((p) => [p.split(' ')[0], p.split(' ').slice(1).join(' ')]));
    expect(d['default-src']).toBe("'self'");
    expect(d['script-src']).toBe("'self'");
    expect(APP_CSP).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline|\*/);
    expect(d['object-src']).toBe("'none'");
    expect(d['frame-ancestors']).toBe("'none'");
    expect(d['base-uri']).toBe("'none'");
    expect(d['form-action']).toBe("'none'");
  });

  it('navigation never leaves the app page', () => {
    const index = '/opt/deepbern/resources/app.asar/dist/renderer/index.html';
    expect(allowNavigation('file:///opt/deepbern/resources/app.asar/dist/renderer/index.html#/runs', index)).toBe(true);
    for (const url of ['https://evil.example/', 'file:///etc/passwd', 'file:///opt/deepbern/resources/app.asar/dist/renderer/other.html', 'javascript:alert(1)', 'not a url']) {
      expect(allowNavigation(url, index), url).toBe(false);
    }
  });
});

describe('the compiled preload (sandboxed CommonJS)', () => {
  const file = fileURLToPath(new URL('../dist/src-main/electron/preload.cjs', import.meta.url));

  function loadPreload() {
    expect(existsSync(file), `${file} is missing: run npm run build`).toBe(true);
    const exposed: Record<string, Record<string, (...a: unknown[]) => unknown>> = {};
    const invoked: unknown[][] = [];
    const listeners = new Map<string, ((...a: unknown[]) => void)[]>();
    const replies: IpcReply[] = [];
    const electron = {
      contextBridge: { exposeInMainWorld: (k: string, v: Record<string, (...a: unknown[]) => unknown>) => (exposed[k] = v) },
      ipcRenderer: {
        invoke: async (...a: unknown[]) => {
          invoked.push(a);
          return replies.shift() ?? { ok: true, result: null };
        },
        on: (ch: string, fn: (...a: unknown[]) => void) => listeners.set(ch, [...(listeners.get(ch) ?? []), fn]),
        removeListener: (ch: string, fn: (...a: unknown[]) => void) => listeners.set(ch, (listeners.get(ch) ?? []).filter((f) => f !== fn)),
      },
    };
    const required: string[] = [];
    const mod = { exports: {} as Record<string, unknown> };
    // Exactly what a sandboxed preload gets: a require that knows 'electron' (we record every other ask).
    const sandboxRequire = (id: string) => {
      required.push(id);
      if (id === 'electron') return electron;
      throw new Error(`module not found: ${id}`);
    };
    runInNewContext(readFileSync(file, 'utf8'), { require: sandboxRequire, module: mod, exports: mod.exports, Promise, Error, Object });
    return { exposed, invoked, listeners, replies, required };
  }

  it('exposes one function per contract method, plus onEvent and pickFile, under window.deepbern', () => {
    const { exposed, required } = loadPreload();
    expect(required).toEqual(['electron']);
    expect(Object.keys(exposed)).toEqual([BRIDGE_GLOBAL]);
    expect(Object.keys(exposed[BRIDGE_GLOBAL]!).sort()).toEqual([...API_METHODS, 'onEvent', 'pickFile'].sort());
  });

  it('calls go over the adapter channel as (method, args); error replies become Errors with the kind', async () => {
    const { exposed, invoked, replies } = loadPreload();
    const api = exposed[BRIDGE_GLOBAL]!;
    replies.push({ ok: true, result: { rows: [], total: 0 } });
    expect(await api['runs.list']!({ limit: 5 })).toEqual({ rows: [], total: 0 });
    expect(invoked[0]).toEqual([IPC_CHANNELS.call, 'runs.list', [{ limit: 5 }]]);
    replies.push({ ok: false, error: { error: 'no run with id r1', kind: 'not-found' } });
    const e = (await (api['runs.get']!('r1') as Promise<unknown>).catch((x: unknown) => x)) as Error & { kind?: string };
    // contextBridge passes on only the message, so the body travels in it; the renderer's client reads it back
    expect(e.message).toBe('deepbern-error:{"error":"no run with id r1","kind":"not-found"}');
    expect(bridgeErrorBody(`Error invoking remote method 'x': Error: ${e.message}`)).toEqual({ error: 'no run with id r1', kind: 'not-found' });
    expect(e.kind).toBe('not-found');
    replies.push({ ok: true, result: '/home/u/HIGGS.csv.gz' });
    expect(await api.pickFile!()).toBe('/home/u/HIGGS.csv.gz');
    expect(invoked[2]).toEqual([IPC_CHANNELS.pickFile]);
  });

  it('onEvent subscribes to the event channel and unsubscribes', () => {
    const { exposed, listeners } = loadPreload();
    const got: unknown[] = [];
    const off = exposed[BRIDGE_GLOBAL]!.onEvent!((e: unknown) => got.push(e)) as () => void;
    for (const fn of listeners.get(IPC_CHANNELS.event) ?? []) fn({}, { type: 'workers', size: 2, busy: 1 });
    expect(got).toEqual([{ type: 'workers', size: 2, busy: 1 }]);
    off();
    expect(listeners.get(IPC_CHANNELS.event)).toEqual([]);
  });
});

describe('the IPC adapter through the seam', () => {
  let h: Harness & { ipc: FakeIpc; unregister: () => void };
  let picked: string | null = null;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'deepbern-ipc-'));
    h = await ipcHarness({ workers: 1, pickFile: async () => picked });
  });
  afterAll(async () => {
    await h?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses calls from any page but the app', async () => {
    const r = (await h.ipc.invoke(IPC_CHANNELS.call, 'https://evil.example/', 'system.info', [])) as IpcReply;
    expect(r).toEqual({ ok: false, error: { error: 'refused: the call did not come from the workbench window', kind: 'forbidden' } });
    const p = (await h.ipc.invoke(IPC_CHANNELS.pickFile, 'file:///tmp/other.html')) as IpcReply;
    expect(p.ok).toBe(false);
  });

  it('rejects non-contract calls and malformed arguments before the service sees them', async () => {
    const calls: [unknown, unknown][] = [
      ['constructor', []],
      ['close', []],
      ['__proto__', []],
      [42, []],
      ['runs.get', ['r', 'extra']],
      ['runs.list', 'not-an-array'],
    ];
    for (const [method, args] of calls) {
      const r = (await h.ipc.invoke(IPC_CHANNELS.call, APP_URL, method, args)) as IpcReply;
      expect(r.ok, String(method)).toBe(false);
    }
    const tooMany = (await h.ipc.invoke(IPC_CHANNELS.call, APP_URL, 'system.info', [], 'extra')) as IpcReply;
    expect(tooMany.ok).toBe(false);
    // The store is still open: close() was not reachable as a "method".
    expect(((await h.ipc.invoke(IPC_CHANNELS.call, APP_URL, 'runs.list', [{}])) as IpcReply).ok).toBe(true);
  });

  it('a file picked in the dialog becomes importable; other paths stay refused', async () => {
    const csv = join(dir, 'picked.csv');
    await writeFile(csv, ['y,x1,x2', ...Array.from({ length: 30 }, (_, i) => `${i % 2},${i},${i * i}`)].join('\n') + '\n');
    const refused = await h.raw('datasets.import', [{ kind: 'csv', path: csv }]).catch((e: Error) => e.message);
    expect(refused).toMatch(/was not chosen in the file dialog/);
    picked = csv;
    expect(await h.ipc.invoke(IPC_CHANNELS.pickFile, APP_URL)).toEqual({ ok: true, result: csv });
    const info = (await h.call('datasets.import', { kind: 'csv', path: csv, labelColumn: 'y' })) as { inputDim: number; rows: number };
    expect(info).toMatchObject({ inputDim: 2, rows: 30 });
    picked = null;
    expect(await h.ipc.invoke(IPC_CHANNELS.pickFile, APP_URL)).toEqual({ ok: true, result: null });
  });

  it('events go to live windows only, and stop after unregistering', async () => {
    const before = h.ipc.sent.length;
    await h.call('sweeps.plan', 'name: x\nbase: {dataset: synthetic-higgs, depth: 1, width: 2, activation: relu}\n'); // no events
    expect(h.ipc.sent.length).toBe(before);
    const ev = h.ipc.sent.filter((s) => s.channel === IPC_CHANNELS.event);
    expect(ev.length).toBeGreaterThan(0); // the import above reported progress
    expect(ev.every((s) => typeof (s.args[0] as { type?: unknown }).type === 'string')).toBe(true);
    h.ipc.destroyed = true;
    (h.service as unknown as { emit(e: unknown): void }).emit({ type: 'workers', size: 1, busy: 0 });
    expect(h.ipc.sent.length).toBe(before);
    h.ipc.destroyed = false;
    h.unregister();
    expect([...h.ipc.handlers.keys()]).toEqual([]);
    (h.service as unknown as { emit(e: unknown): void }).emit({ type: 'workers', size: 1, busy: 0 });
    expect(h.ipc.sent.length).toBe(before);
    h.unregister = () => undefined;
  });
});

describe('deepbern start: can Electron run here?', () => {
  it('no display on Linux is a reason, in one line', () => {
    const r = locateElectron({}, 'linux');
    expect(r).toEqual({ ok: false, reason: 'no display (neither DISPLAY nor WAYLAND_DISPLAY is set)' });
  });

  it('a missing binary is a reason, found without require("electron") (which would try to download it)', () => {
    const r = locateElectron({ DISPLAY: ':0' }, 'linux');
    // On this machine the binary cannot be downloaded; where it is installed, the path is returned instead.
    if (r.ok) expect(existsSync(r.binary)).toBe(true);
    else expect(r.reason).toMatch(/Electron binary (was never downloaded|is missing)/);
    const override = locateElectron({ DISPLAY: ':0', ELECTRON_OVERRIDE_DIST_PATH: '/nonexistent/electron-dist' }, 'linux');
    expect(override).toEqual({ ok: false, reason: expect.stringMatching(/^the Electron binary is missing \(\/nonexistent\/electron-dist\//) });
  });
});
