// The Electron shell without Electron: the window's security options and CSP, the app:// scheme, the
// navigation, permission and menu policies, the bounded quit, the compiled sandboxed preload (run in a VM with
// a recording `electron` stand-in), the IPC adapter's refusals, file-dialog and drop grants and event fan-out,
// and how `deepbern start` decides Electron cannot run.
import { bridgeErrorBody } from '../src-renderer/api/client.js';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_METHODS } from '../shared/api.js';
import { BRIDGE_GLOBAL } from '../shared/protocol.js';
import { parse as parseYaml } from 'yaml';
import { rendererCsp, rendererMetaCsp } from '../src-main/csp.js';
import { appFileFor, createAppHandler } from '../src-main/electron/app-protocol.js';
import { locateElectron } from '../src-main/electron/locate.js';
import { closeWithin, exitCodeFor, QUIT_TIMEOUT_MS } from '../src-main/electron/shutdown.js';
import {
  allowNavigation,
  allowPermission,
  APP_CSP,
  APP_SCHEME_PRIVILEGES,
  APP_URL as WINDOW_URL,
  appMenu,
  desktopWorkers,
  isAppPage,
  LOADING_URL,
  windowOptions,
} from '../src-main/electron/window.js';
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
      devTools: false,
    });
    expect(windowOptions('/p').show).toBe(true); // at once, on the loading page
    expect(windowOptions('/p', { devTools: true }).webPreferences.devTools).toBe(true);
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

  it('navigation never leaves the app page (or the loading page before it)', () => {
    expect(WINDOW_URL).toBe('app://deepbern/index.html');
    expect(allowNavigation('app://deepbern/index.html#/runs')).toBe(true);
    expect(allowNavigation(LOADING_URL)).toBe(true);
    for (const url of [
      'https://evil.example/',
      'file:///etc/passwd',
      'file:///opt/deepbern/resources/app.asar/dist/renderer/index.html',
      'app://deepbern/other.html',
      'app://evil/index.html',
      'javascript:alert(1)',
      'not a url',
    ]) {
      expect(allowNavigation(url), url).toBe(false);
    }
    // Only the app page may call the API: not the loading page, not another origin.
    expect(isAppPage('app://deepbern/index.html?x=1#/compare')).toBe(true);
    expect(isAppPage(LOADING_URL)).toBe(false);
    expect(isAppPage('app://deepbern.evil/index.html')).toBe(false);
  });

  it('permissions: the app page may write the clipboard (Copy buttons); nothing else, nobody else', () => {
    expect(allowPermission('clipboard-sanitized-write', 'app://deepbern/index.html#/sweep')).toBe(true);
    expect(allowPermission('clipboard-sanitized-write', 'app://deepbern')).toBe(true); // permission checks pass the origin
    expect(allowPermission('clipboard-sanitized-write', 'https://evil.example/')).toBe(false);
    expect(allowPermission('clipboard-sanitized-write', undefined)).toBe(false);
    for (const p of [
      'clipboard-read',
      'media',
      'notifications',
      'geolocation',
      'openExternal',
      'fileSystem',
      'unknown',
    ]) {
      expect(allowPermission(p, 'app://deepbern/index.html'), p).toBe(false);
    }
  });

  it('the menu: Electron default in development; packaged, none (Windows/Linux) or app/Edit/Window (macOS, no DevTools)', () => {
    expect(appMenu('linux', false)).toBe('default');
    expect(appMenu('linux', true)).toBeNull();
    expect(appMenu('win32', true)).toBeNull();
    expect(appMenu('darwin', true)).toEqual([{ role: 'appMenu' }, { role: 'editMenu' }, { role: 'windowMenu' }]);
  });

  it('the default pool leaves one core for the window', () => {
    expect(desktopWorkers(8)).toBe(7);
    expect(desktopWorkers(2)).toBe(1);
    expect(desktopWorkers(1)).toBe(1);
  });

  it('one CSP: the scheme sends APP_CSP, the built page carries the same policy as <meta> (minus frame-ancestors)', () => {
    expect(APP_CSP).toBe(rendererCsp());
    expect(APP_CSP).not.toMatch(/ws:|wss:/); // the window talks IPC, not sockets
    expect(rendererMetaCsp()).toBe(APP_CSP.replace("; frame-ancestors 'none'", ''));
    const source = readFileSync(fileURLToPath(new URL('../src-renderer/index.html', import.meta.url)), 'utf8');
    expect(source).toContain('content="%DEEPBERN_CSP%"'); // never written by hand
    const built = fileURLToPath(new URL('../dist/renderer/index.html', import.meta.url));
    expect(existsSync(built), `${built} is missing: run npm run build`).toBe(true);
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(readFileSync(built, 'utf8'))?.[1];
    expect(meta).toBe(rendererMetaCsp());
  });

  it('the builder config sets the fuses of the security checklist', () => {
    const cfg = parseYaml(readFileSync(fileURLToPath(new URL('../electron-builder.yml', import.meta.url)), 'utf8')) as {
      electronFuses: Record<string, boolean>;
    };
    expect(cfg.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true,
      enableEmbeddedAsarIntegrityValidation: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });
});

describe('the app:// scheme', () => {
  let dir: string;
  let handler: (r: Request) => Promise<Response>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'deepbern-scheme-'));
    await mkdir(join(dir, 'renderer', 'assets'), { recursive: true });
    await writeFile(join(dir, 'renderer', 'index.html'), '<!doctype html><p>app</p>');
    await writeFile(join(dir, 'renderer', 'assets', 'main.js'), 'console.log(1)');
    await writeFile(join(dir, 'secret.txt'), 'outside the renderer');
    handler = createAppHandler(join(dir, 'renderer'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is registered as a secure standard origin', () => {
    expect(APP_SCHEME_PRIVILEGES).toMatchObject({ standard: true, secure: true });
    expect(APP_SCHEME_PRIVILEGES).not.toHaveProperty('bypassCSP');
  });

  it('serves the renderer with the CSP header and the right types', async () => {
    const page = await handler(new Request('app://deepbern/index.html'));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toBe(APP_CSP);
    expect(await page.text()).toContain('<p>app</p>');
    const js = await handler(new Request('app://deepbern/assets/main.js'));
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(js.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await handler(new Request('app://deepbern/'))).status).toBe(200);
    const loading = await handler(new Request(LOADING_URL));
    expect(loading.status).toBe(200);
    expect(await loading.text()).toMatch(/Starting/);
  });

  it('nothing outside the renderer folder, no other host, no writes', async () => {
    for (const url of [
      'app://deepbern/../secret.txt',
      'app://deepbern/%2e%2e/secret.txt',
      'app://deepbern/%2e%2e%2fsecret.txt',
      'app://deepbern/assets/..%2f..%2fsecret.txt',
      'app://other/index.html',
      'app://deepbern/missing.js',
      'app://deepbern/%E0%A4%A',
    ]) {
      const r = await handler(new Request(url));
      expect(r.status, url).toBe(404);
    }
    expect(appFileFor('app://deepbern/%2e%2e%2fsecret.txt', join(dir, 'renderer'))).toBeNull();
    expect(appFileFor('https://deepbern/index.html', join(dir, 'renderer'))).toBeNull();
    expect((await handler(new Request('app://deepbern/index.html', { method: 'POST', body: 'x' }))).status).toBe(405);
  });
});

describe('quitting is bounded', () => {
  it('a close that finishes: exit code 0', async () => {
    const r = await closeWithin(async () => undefined, 1000);
    expect(r).toEqual({ ok: true });
    expect(exitCodeFor(r)).toBe(0);
  });

  it('a close that hangs: gives up after the timeout, exit code 1, with the reason', async () => {
    const t0 = Date.now();
    const r = await closeWithin(() => new Promise<void>(() => undefined), 200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(r).toEqual({
      ok: false,
      reason: expect.stringMatching(
        /did not stop within 0 s; quitting anyway \(interrupted sweeps resume on the next start\)/,
      ),
    });
    expect(exitCodeFor(r)).toBe(1);
  });

  it('a close that fails: exit code 1, not a silent success', async () => {
    const r = await closeWithin(async () => {
      throw new Error('SQLITE_IOERR: disk I/O error');
    }, 1000);
    expect(r).toEqual({ ok: false, reason: 'closing the store failed: SQLITE_IOERR: disk I/O error' });
    expect(exitCodeFor(r)).toBe(1);
  });

  it('the app waits 10–20 s', () => {
    expect(QUIT_TIMEOUT_MS).toBeGreaterThanOrEqual(10_000);
    expect(QUIT_TIMEOUT_MS).toBeLessThanOrEqual(20_000);
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
    const pathsOf = new Map<unknown, string>();
    const electron = {
      webUtils: { getPathForFile: (f: unknown) => pathsOf.get(f) ?? '' },
      contextBridge: {
        exposeInMainWorld: (k: string, v: Record<string, (...a: unknown[]) => unknown>) => (exposed[k] = v),
      },
      ipcRenderer: {
        invoke: async (...a: unknown[]) => {
          invoked.push(a);
          return replies.shift() ?? { ok: true, result: null };
        },
        on: (ch: string, fn: (...a: unknown[]) => void) => listeners.set(ch, [...(listeners.get(ch) ?? []), fn]),
        removeListener: (ch: string, fn: (...a: unknown[]) => void) =>
          listeners.set(
            ch,
            (listeners.get(ch) ?? []).filter((f) => f !== fn),
          ),
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
    runInNewContext(readFileSync(file, 'utf8'), {
      require: sandboxRequire,
      module: mod,
      exports: mod.exports,
      Promise,
      Error,
      Object,
    });
    return { exposed, invoked, listeners, replies, required, pathsOf };
  }

  it('exposes one function per contract method, plus onEvent and pickFile, under window.deepbern', () => {
    const { exposed, required } = loadPreload();
    expect(required).toEqual(['electron']);
    expect(Object.keys(exposed)).toEqual([BRIDGE_GLOBAL]);
    expect(Object.keys(exposed[BRIDGE_GLOBAL]!).sort()).toEqual(
      [...API_METHODS, 'droppedPath', 'onEvent', 'pickFile'].sort(),
    );
  });

  it('calls go over the adapter channel as (method, args); error replies become Errors with the kind', async () => {
    const { exposed, invoked, replies } = loadPreload();
    const api = exposed[BRIDGE_GLOBAL]!;
    replies.push({ ok: true, result: { rows: [], total: 0 } });
    expect(await api['runs.list']!({ limit: 5 })).toEqual({ rows: [], total: 0 });
    expect(invoked[0]).toEqual([IPC_CHANNELS.call, 'runs.list', [{ limit: 5 }]]);
    replies.push({ ok: false, error: { error: 'no run with id r1', kind: 'not-found' } });
    const e = (await (api['runs.get']!('r1') as Promise<unknown>).catch((x: unknown) => x)) as Error & {
      kind?: string;
    };
    // contextBridge passes on only the message, so the body travels in it; the renderer's client reads it back
    expect(e.message).toBe('deepbern-error:{"error":"no run with id r1","kind":"not-found"}');
    expect(bridgeErrorBody(`Error invoking remote method 'x': Error: ${e.message}`)).toEqual({
      error: 'no run with id r1',
      kind: 'not-found',
    });
    expect(e.kind).toBe('not-found');
    replies.push({ ok: true, result: '/home/u/HIGGS.csv.gz' });
    expect(await api.pickFile!()).toBe('/home/u/HIGGS.csv.gz');
    expect(invoked[2]).toEqual([IPC_CHANNELS.pickFile]);
  });

  it('droppedPath: the path webUtils reads from a File goes to the main process to be granted; a File without a path does not', async () => {
    const { exposed, invoked, replies, pathsOf } = loadPreload();
    const api = exposed[BRIDGE_GLOBAL]!;
    const dropped = { name: 'HIGGS.csv.gz' };
    pathsOf.set(dropped, '/home/u/data/HIGGS.csv.gz');
    replies.push({ ok: true, result: '/home/u/data/HIGGS.csv.gz' });
    expect(await api.droppedPath!(dropped)).toBe('/home/u/data/HIGGS.csv.gz');
    expect(invoked[0]).toEqual([IPC_CHANNELS.droppedPath, '/home/u/data/HIGGS.csv.gz']);
    replies.push({ ok: true, result: '/home/u/mnist' });
    pathsOf.set(dropped, '/home/u/mnist/train-images-idx3-ubyte');
    expect(await api.droppedPath!(dropped, { folder: true })).toBe('/home/u/mnist');
    expect(invoked[1]).toEqual([IPC_CHANNELS.droppedPath, '/home/u/mnist/train-images-idx3-ubyte', { folder: true }]);
    // A File the page made itself (new File([...])) has no path: nothing is asked, the caller uploads instead.
    expect(await api.droppedPath!({ name: 'made.csv' })).toBeNull();
    expect(invoked).toHaveLength(2);
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
    expect(r).toEqual({
      ok: false,
      error: { error: 'refused: the call did not come from the workbench window', kind: 'forbidden' },
    });
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
    await writeFile(
      csv,
      ['y,x1,x2', ...Array.from({ length: 30 }, (_, i) => `${i % 2},${i},${i * i}`)].join('\n') + '\n',
    );
    const refused = await h.raw('datasets.import', [{ kind: 'csv', path: csv }]).catch((e: Error) => e.message);
    expect(refused).toMatch(/was not chosen in the file dialog/);
    picked = csv;
    expect(await h.ipc.invoke(IPC_CHANNELS.pickFile, APP_URL)).toEqual({ ok: true, result: csv });
    const info = (await h.call('datasets.import', { kind: 'csv', path: csv, labelColumn: 'y' })) as {
      inputDim: number;
      rows: number;
    };
    expect(info).toMatchObject({ inputDim: 2, rows: 30 });
    picked = null;
    expect(await h.ipc.invoke(IPC_CHANNELS.pickFile, APP_URL)).toEqual({ ok: true, result: null });
  });

  it('a dropped file becomes importable from its path; relative, missing or wrong-kind paths are refused', async () => {
    const csv = join(dir, 'dropped.csv');
    await writeFile(csv, ['y,a', ...Array.from({ length: 20 }, (_, i) => `${i % 2},${i}`)].join('\n') + '\n');
    const refused = await h.raw('datasets.import', [{ kind: 'csv', path: csv }]).catch((e: Error) => e.message);
    expect(refused).toMatch(/was not chosen in the file dialog/);
    expect(await h.ipc.invoke(IPC_CHANNELS.droppedPath, APP_URL, csv)).toEqual({ ok: true, result: csv });
    expect(await h.call('datasets.import', { kind: 'csv', path: csv, labelColumn: 'y' })).toMatchObject({
      rows: 20,
      inputDim: 1,
    });
    // folder: the dropped file's folder is granted (an IDX set), not the file
    expect(await h.ipc.invoke(IPC_CHANNELS.droppedPath, APP_URL, csv, { folder: true })).toEqual({
      ok: true,
      result: dir,
    });
    const bad: [unknown, unknown?][] = [
      ['relative.csv'],
      [''],
      [42],
      [join(dir, 'missing.csv')],
      [dir],
      [csv + '-nope', { folder: false }],
    ];
    for (const [p, o] of bad) {
      const r = (await h.ipc.invoke(IPC_CHANNELS.droppedPath, APP_URL, p, o)) as IpcReply;
      expect(r.ok, String(p)).toBe(false);
    }
    const dirAsFile = (await h.ipc.invoke(IPC_CHANNELS.droppedPath, APP_URL, dir)) as IpcReply;
    expect(dirAsFile).toMatchObject({ ok: false, error: { error: `${dir} is not a file` } });
    const untrusted = (await h.ipc.invoke(IPC_CHANNELS.droppedPath, 'https://evil.example/', csv)) as IpcReply;
    expect(untrusted).toMatchObject({ ok: false, error: { error: expect.stringMatching(/^refused/) } });
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

  it('a missing binary is a reason, found without require("electron") (which would download it without progress)', () => {
    const r = locateElectron({ DISPLAY: ':0' }, 'linux');
    // On this machine the binary was never downloaded; where it is installed, the path is returned instead.
    if (r.ok) expect(existsSync(r.binary)).toBe(true);
    else {
      expect(r.reason).toMatch(/^the Electron [\d.]+ binary is not downloaded yet/);
      expect(r.fetch).toMatchObject({ platformPath: 'electron', version: expect.stringMatching(/^\d+\./) });
    }
    const override = locateElectron(
      { DISPLAY: ':0', ELECTRON_OVERRIDE_DIST_PATH: '/nonexistent/electron-dist' },
      'linux',
    );
    expect(override).toEqual({
      ok: false,
      reason: expect.stringMatching(/^the Electron binary is missing \(\/nonexistent\/electron-dist\//),
    });
    expect(override).not.toHaveProperty('fetch'); // Electron's override is never downloaded into
  });
});
