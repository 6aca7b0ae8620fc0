// The compiled Electron main module (dist/src-main/electron/main.js), run under plain Node with `electron`
// resolved to a recording stand-in (test/support/fake-electron): the real service, store and worker pool
// behind it. Checks the wiring the policy tests cannot: the scheme registered before ready, the window shown
// on the loading page before the service starts, the app page after, permissions and IPC as the window would
// meet them, second-instance, and Quit closing the service with an honest exit code.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { APP_CSP } from '../src-main/electron/window.js';
import { DB_LOCKED_EXIT } from '../src-main/electron/app-start.js';
import { lockPathFor } from '../src-main/store/db-lock.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = join(ROOT, 'dist/src-main/electron/main.js');
const REGISTER = join(ROOT, 'test/support/fake-electron/register.mjs');

type Entry = Record<string, unknown> & { call: string };

function runMain(env: NodeJS.ProcessEnv): Promise<{ code: number | null; log: Entry[]; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', REGISTER, MAIN], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const log = out
        .split('\n')
        .filter((l) => l.startsWith('FAKE '))
        .map((l) => JSON.parse(l.slice(5)) as Entry);
      resolve({ code, log, err });
    });
  });
}

const index = (log: Entry[], pred: (e: Entry) => boolean) => log.findIndex(pred);

describe('the Electron main process, against a stand-in electron module', () => {
  let dir: string;
  beforeEach(async () => {
    expect(existsSync(MAIN), 'run npm run build first').toBe(true);
    dir = await mkdtemp(join(tmpdir(), 'deepbern-main-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts, serves the app page, answers its calls, and quits cleanly with exit code 0', async () => {
    const readyFile = join(dir, 'ready');
    const r = await runMain({
      DEEPBERN_DB: join(dir, 'w.db'),
      DEEPBERN_WORKERS: '1',
      DEEPBERN_BACKEND: 'wasm',
      DEEPBERN_READY_FILE: readyFile,
      FAKE_PACKAGED: '1',
      FAKE_SCENARIO: 'use',
    });
    const { log } = r;
    expect(r.code, r.err + JSON.stringify(log, null, 1)).toBe(0);
    expect(log.find((e) => e.call === 'drive-error')).toBeUndefined();

    // The scheme is privileged before ready, then handled.
    const reg = log.find((e) => e.call === 'registerSchemesAsPrivileged')!;
    expect(reg).toMatchObject({
      ready: false,
      schemes: [{ scheme: 'app', privileges: { standard: true, secure: true } }],
    });
    expect(index(log, (e) => e.call === 'protocol.handle')).toBeLessThan(
      index(log, (e) => e.call === 'new BrowserWindow'),
    );
    // Packaged on Linux: no menu; the window sandboxed, without DevTools, shown at once.
    expect(log.find((e) => e.call === 'setApplicationMenu')).toEqual({ call: 'setApplicationMenu', menu: null });
    expect(log.find((e) => e.call === 'new BrowserWindow')).toMatchObject({
      show: true,
      webPreferences: { sandbox: true, contextIsolation: true, nodeIntegration: false, devTools: false },
    });

    // Loading page first (served by the scheme, with the CSP), the API after the service started, then the app.
    const loads = log.filter((e) => e.call === 'loadURL');
    expect(loads.map((e) => [e.url, e.status])).toEqual([
      ['app://deepbern/loading.html', 200],
      ['app://deepbern/index.html', 200],
    ]);
    expect(loads[1]!.csp).toBe(APP_CSP);
    const firstHandle = index(log, (e) => e.call === 'ipcMain.handle');
    expect(index(log, (e) => e.url === 'app://deepbern/loading.html')).toBeLessThan(firstHandle);
    expect(firstHandle).toBeLessThan(index(log, (e) => e.url === 'app://deepbern/index.html'));
    expect(log.filter((e) => e.call === 'ipcMain.handle').map((e) => e.channel)).toEqual([
      'deepbern:call',
      'deepbern:pick-file',
      'deepbern:dropped-path',
    ]);
    expect(existsSync(readyFile) && (await readFile(readyFile, 'utf8'))).toMatch(/^\d+$/);

    // What the page meets.
    expect(log.filter((e) => e.call === 'permission')).toEqual([
      { call: 'permission', perm: 'clipboard-sanitized-write', granted: true },
      { call: 'permission', perm: 'media', granted: false },
    ]);
    expect(log.find((e) => e.call === 'permission-check')).toMatchObject({ granted: true });
    expect(log.find((e) => e.call === 'window.open')).toMatchObject({ result: { action: 'deny' } });
    expect(log.find((e) => e.call === 'will-navigate')).toMatchObject({ prevented: true });
    const [fromApp, fromLoading] = log.filter((e) => e.call === 'ipc') as unknown as {
      reply: { ok: boolean; result?: { workers: { size: number }; backend: { name: string }; transport: string } };
    }[];
    expect(fromApp!.reply).toMatchObject({
      ok: true,
      result: { transport: 'electron', workers: { size: 1 }, backend: { name: 'wasm' } },
    });
    expect(fromLoading!.reply.ok).toBe(false);

    // A second instance brings the window to the front; Quit closes the service (title says so), exit 0.
    expect(index(log, (e) => e.call === 'win.focus')).toBeGreaterThan(index(log, (e) => e.call === 'ipc'));
    expect(log.find((e) => e.call === 'win.setTitle')).toMatchObject({ title: 'DeepBern Workbench — stopping runs…' });
    expect(log.at(-1)).toEqual({ call: 'app.exit', code: 0 });
    // The lock beside the DB was held while it ran and is gone after a clean quit.
    expect(existsSync(lockPathFor(join(dir, 'w.db')))).toBe(false);
  }, 150_000);

  it('a database another front end holds: one dialog naming it, no window, no store opened, exit 4', async () => {
    const db = join(dir, 'w.db');
    const holder = spawn('sleep', ['60']);
    const lock = JSON.stringify({
      pid: holder.pid,
      host: hostname(),
      command: 'deepbern serve',
      startedAt: Date.now(),
    });
    await writeFile(lockPathFor(db), lock);
    try {
      const r = await runMain({ DEEPBERN_DB: db, DEEPBERN_WORKERS: '1', DEEPBERN_BACKEND: 'wasm', FAKE_PACKAGED: '1' });
      expect(r.code, r.err).toBe(DB_LOCKED_EXIT);
      const expected = `The database is already open in deepbern serve (pid ${holder.pid} on ${hostname()}).`;
      expect(r.log.map((e) => e.call)).toEqual(['registerSchemesAsPrivileged', 'ready', 'showMessageBox', 'app.exit']);
      expect(r.log.find((e) => e.call === 'showMessageBox')).toEqual({
        call: 'showMessageBox',
        parent: false,
        message: expected,
      });
      expect(r.err).toContain(expected);
      expect(existsSync(db)).toBe(false); // the store was never opened
      expect(await readFile(lockPathFor(db), 'utf8')).toBe(lock); // and the holder keeps its lock
    } finally {
      holder.kill('SIGKILL');
    }
  }, 60_000);

  it('a relaunch while quitting is told the app is still shutting down', async () => {
    // Also: the loading page's load being superseded (ERR_ABORTED) is not treated as a failure.
    const r = await runMain({
      DEEPBERN_DB: join(dir, 'w.db'),
      DEEPBERN_WORKERS: '1',
      DEEPBERN_BACKEND: 'wasm',
      FAKE_SCENARIO: 'quit-twice',
      FAKE_ABORT_LOADING: '1',
    });
    expect(r.code, r.err).toBe(0);
    expect(r.log.find((e) => e.call === 'showErrorBox')).toBeUndefined();
    expect(r.log.find((e) => e.call === 'showMessageBox')).toMatchObject({
      parent: true,
      message: 'DeepBern Workbench is still shutting down',
    });
    // Development build: Electron's default menu stays.
    expect(r.log.find((e) => e.call === 'setApplicationMenu')).toBeUndefined();
    expect(r.log.find((e) => e.call === 'new BrowserWindow')).toMatchObject({ webPreferences: { devTools: true } });
  }, 150_000);

  it('an app page that fails to load is shown as an error and exits 1 (not a window stuck on its background)', async () => {
    const r = await runMain({
      DEEPBERN_DB: join(dir, 'w.db'),
      DEEPBERN_WORKERS: '1',
      DEEPBERN_BACKEND: 'wasm',
      FAKE_FAIL_APP: '1',
    });
    expect(r.code).toBe(1);
    expect(r.log.find((e) => e.call === 'showErrorBox')).toMatchObject({
      title: 'DeepBern Workbench could not load app://deepbern/index.html',
      msg: expect.stringMatching(/ERR_FILE_NOT_FOUND/),
    });
    expect(r.err).toMatch(/could not load app:\/\/deepbern\/index\.html: ERR_FILE_NOT_FOUND/);
  }, 150_000);

  it('the second instance says why it exits, opens nothing and exits 0', async () => {
    const r = await runMain({ DEEPBERN_DB: join(dir, 'w.db'), FAKE_LOCK: 'held' });
    expect(r.code).toBe(0);
    expect(r.err).toContain('DeepBern Workbench is already running: its window was brought to the front');
    expect(r.log.map((e) => e.call)).toEqual(['registerSchemesAsPrivileged', 'app.exit']);
  }, 60_000);
});
