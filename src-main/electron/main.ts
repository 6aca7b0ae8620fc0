// The Electron shell (thin): one window over the renderer build, the service in this main process, and the
// IPC adapter between them. Everything the window may do is in window.ts; everything the app does is the
// service's. Started by `deepbern start` (which checks that Electron can run at all) or a packaged build.
import { app, BrowserWindow, dialog, ipcMain, session, shell } from 'electron';
import { fileURLToPath } from 'node:url';
import type { BackendPref } from '../../workers/engine/backend.js';
import { WorkbenchService } from '../service/workbench-service.js';
import { defaultDbPath } from '../store/paths.js';
import { registerIpc } from '../transports/ipc.js';
// Type-only: keeps the preload in this program, so tsc emits it (as CommonJS, preload.cjs) beside main.js.
import type { Api } from './preload.cjs';
import { allowNavigation, APP_CSP, isAppPage, windowOptions } from './window.js';

export type { Api };

const PRELOAD = fileURLToPath(new URL('./preload.cjs', import.meta.url));
const INDEX_HTML = fileURLToPath(new URL('../../renderer/index.html', import.meta.url));

function envWorkers(): number | undefined {
  const n = Number(process.env.DEEPBERN_WORKERS);
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    // One writer per store: a second instance would run the same queue twice.
    app.quit();
    return;
  }
  await app.whenReady();

  session.defaultSession.setPermissionRequestHandler((_wc, _perm, done) => done(false));
  session.defaultSession.webRequest.onHeadersReceived((details, done) => {
    done({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [APP_CSP] } });
  });

  const service = await WorkbenchService.start({
    dbPath: defaultDbPath(),
    transport: 'electron',
    workers: envWorkers(),
    backend: (process.env.DEEPBERN_BACKEND as BackendPref | undefined) || undefined,
    resumeOnStart: true,
  });

  let win: BrowserWindow | null = null;
  const unregister = registerIpc(ipcMain, service, {
    isTrustedSender: (e) => !!e.senderFrame && isAppPage(e.senderFrame.url, INDEX_HTML),
    targets: () => (win && !win.isDestroyed() ? [win.webContents] : []),
    pickFile: async (o) => {
      if (o?.directory) {
        const d = await dialog.showOpenDialog({ title: 'Import an MNIST-style IDX folder (train/t10k images and labels)', properties: ['openDirectory'] });
        return d.canceled ? null : (d.filePaths[0] ?? null);
      }
      const r = await dialog.showOpenDialog({
        title: 'Import a dataset',
        properties: ['openFile'],
        filters: [
          { name: 'CSV (optionally gzip)', extensions: ['csv', 'gz'] },
          { name: 'All files', extensions: ['*'] },
        ],
      });
      return r.canceled ? null : (r.filePaths[0] ?? null);
    },
  });

  const createWindow = () => {
    win = new BrowserWindow(windowOptions(PRELOAD));
    const wc = win.webContents;
    wc.on('will-navigate', (e, url) => {
      if (!allowNavigation(url, INDEX_HTML)) e.preventDefault();
    });
    wc.on('will-redirect', (e, url) => {
      if (!allowNavigation(url, INDEX_HTML)) e.preventDefault();
    });
    wc.on('will-attach-webview', (e) => e.preventDefault());
    wc.setWindowOpenHandler(({ url }) => {
      // External documentation links open in the user's browser, never inside the app.
      if (/^https:\/\//.test(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
    win.once('ready-to-show', () => win?.show());
    win.on('closed', () => (win = null));
    void win.loadFile(INDEX_HTML);
  };
  createWindow();

  app.on('second-instance', () => {
    if (win?.isMinimized()) win.restore();
    win?.focus();
  });
  app.on('activate', () => {
    if (!win) createWindow();
  });
  app.on('window-all-closed', () => app.quit());

  let quitting = false;
  app.on('before-quit', (e) => {
    if (quitting) return;
    quitting = true;
    e.preventDefault();
    // Stop training cleanly (finished epochs are stored; sweeps resume next start) before the DB closes.
    unregister();
    void service.close().finally(() => app.exit(0));
  });
}

main().catch((e: unknown) => {
  dialog.showErrorBox('DeepBern Workbench could not start', e instanceof Error ? e.message : String(e));
  app.exit(1);
});
