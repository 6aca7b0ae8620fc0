// The Electron shell (thin): one window over the renderer build (served from app://deepbern), the service in
// this main process, and the IPC adapter between them. Every policy is a tested function elsewhere:
// window.ts (options, navigation, permissions, menu, pool size), app-protocol.ts (the scheme), shutdown.ts
// (bounded quit), app-start.ts (the lock beside the DB), transports/ipc.ts (the calls). Started by `deepbern start` or a packaged build.
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  protocol,
  session,
  type MessageBoxOptions,
  type OpenDialogOptions,
} from 'electron';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BackendPref } from '../../workers/engine/backend.js';
import { probeBackendInWorker } from '../scheduler/backend-probe.js';
import { WorkbenchService } from '../service/workbench-service.js';
import { defaultDbPath } from '../store/paths.js';
import { registerIpc } from '../transports/ipc.js';
import { createAppHandler } from './app-protocol.js';
import { APP_COMMAND, lockAppDatabase, startLocked, type LockedService } from './app-start.js';
import { READY_FILE_ENV } from './launch.js';
// Type-only: keeps the preload in this program, so tsc emits it (as CommonJS, preload.cjs) beside main.js.
import type { Api } from './preload.cjs';
import { closeWithin, exitCodeFor, QUIT_TIMEOUT_MS } from './shutdown.js';
import {
  allowNavigation,
  allowPermission,
  APP_SCHEME,
  APP_SCHEME_PRIVILEGES,
  APP_URL,
  appMenu,
  desktopWorkers,
  isAppPage,
  LOADING_URL,
  windowOptions,
} from './window.js';

export type { Api };

const PRELOAD = fileURLToPath(new URL('./preload.cjs', import.meta.url));
const RENDERER_DIR = fileURLToPath(new URL('../../renderer/', import.meta.url));

function envWorkers(): number | undefined {
  const n = Number(process.env.DEEPBERN_WORKERS);
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

/** Tells `deepbern start` the window is up, so a later failure is not mistaken for a launch failure. */
function reportReady(): void {
  const file = process.env[READY_FILE_ENV];
  if (!file) return;
  try {
    writeFileSync(file, String(process.pid));
  } catch {
    // the launcher only loses the distinction between "died at launch" and "failed later"
  }
}

// Before `ready`: the scheme must be privileged (a secure, standard origin) when the first window asks.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: APP_SCHEME_PRIVILEGES }]);

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    // One app per user: a second instance would run the same queue twice. The first one shows itself (below).
    process.stderr.write('DeepBern Workbench is already running: its window was brought to the front\n');
    app.exit(0);
    return;
  }
  await app.whenReady();

  // One front end per database (app-start.ts): the lock beside the DB, before the window, the store or any
  // resume. Held by another app or `deepbern serve`: one dialog naming it, then exit non-zero.
  const dbPath = process.env.DEEPBERN_DB || defaultDbPath();
  const locked = await lockAppDatabase(dbPath);
  if (!locked.ok) {
    const r = locked.refusal;
    process.stderr.write(`DeepBern Workbench: ${r.message} ${r.detail.replace(/\s+/g, ' ')}\n`);
    await dialog.showMessageBox({
      type: 'error',
      title: r.title,
      message: r.message,
      detail: r.detail,
      buttons: ['Quit'],
    });
    app.exit(r.exitCode);
    return;
  }
  const dbLock = locked.lock;

  const packaged = app.isPackaged;
  const menu = appMenu(process.platform, packaged);
  if (menu !== 'default')
    Menu.setApplicationMenu(menu ? Menu.buildFromTemplate(menu as Electron.MenuItemConstructorOptions[]) : null);

  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_wc, permission, done, details) =>
    done(allowPermission(permission, details.requestingUrl)),
  );
  ses.setPermissionCheckHandler((_wc, permission, origin) => allowPermission(permission, origin));
  protocol.handle(APP_SCHEME, createAppHandler(RENDERER_DIR));

  let win: BrowserWindow | null = null;
  let service: WorkbenchService | null = null;
  /** The service and the DB lock, stopped together (service first). */
  let started: LockedService<WorkbenchService> | null = null;
  let quitting = false;
  // eslint-disable-next-line prefer-const -- set once the IPC bridge is registered; the quit handler reads it before that
  let unregister: (() => void) | undefined;

  const parentOf = () => (win && !win.isDestroyed() ? win : null);
  const messageBox = (o: MessageBoxOptions) => {
    const parent = parentOf();
    return parent ? dialog.showMessageBox(parent, o) : dialog.showMessageBox(o);
  };
  const openDialog = async (o: OpenDialogOptions) => {
    const parent = parentOf();
    const r = await (parent ? dialog.showOpenDialog(parent, o) : dialog.showOpenDialog(o));
    return r.canceled ? null : (r.filePaths[0] ?? null);
  };
  const fatal = (title: string, e: unknown) => {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`DeepBern Workbench: ${title}: ${msg}\n`);
    dialog.showErrorBox(title, msg);
    quitting = true;
    const s = started;
    if (!s) return void dbLock.release().finally(() => app.exit(1));
    unregister?.();
    void closeWithin(() => s.close()).finally(() => app.exit(1)); // the store closes cleanly even so
  };

  const load = (url: string) => {
    // A failed load must be seen: the window would stay on its background colour otherwise.
    win?.loadURL(url).catch((e: unknown) => {
      // Superseded by the next load (the app page replacing the loading page): not a failure.
      if ((e as { code?: string }).code === 'ERR_ABORTED') return;
      fatal(`DeepBern Workbench could not load ${url}`, e);
    });
  };

  const createWindow = (url: string) => {
    win = new BrowserWindow(windowOptions(PRELOAD, { devTools: !packaged }));
    const wc = win.webContents;
    wc.on('will-navigate', (e) => {
      if (!allowNavigation(e.url)) e.preventDefault();
    });
    wc.on('will-redirect', (e) => {
      if (!allowNavigation(e.url)) e.preventDefault();
    });
    wc.on('will-attach-webview', (e) => e.preventDefault());
    // The app opens no windows and links nowhere outside itself.
    wc.setWindowOpenHandler(() => ({ action: 'deny' }));
    wc.once('did-finish-load', reportReady);
    win.on('closed', () => (win = null));
    load(url);
  };

  // The window first, on the loading page: the backend probe, the store and resuming sweeps take seconds.
  createWindow(LOADING_URL);

  app.on('second-instance', () => {
    if (quitting) {
      // The relaunch exits; say why here, where the user is looking.
      void messageBox({
        type: 'info',
        title: 'DeepBern Workbench',
        message: 'DeepBern Workbench is still shutting down',
        detail: `Running batches are finishing and the store is closing (at most ${QUIT_TIMEOUT_MS / 1000} s). Start it again in a moment.`,
      });
      return;
    }
    if (!win) createWindow(service ? APP_URL : LOADING_URL);
    else {
      if (win.isMinimized()) win.restore();
      win.show();
      win.focus();
    }
  });
  app.on('activate', () => {
    if (!win && !quitting) createWindow(service ? APP_URL : LOADING_URL);
  });
  app.on('window-all-closed', () => app.quit());

  app.on('before-quit', (e) => {
    if (quitting) return;
    quitting = true;
    e.preventDefault();
    const s = started;
    // Still starting: nothing runs yet, and SQLite keeps whatever was committed. (The lock file of an exited
    // process is stale: the next start takes it over.)
    if (!s) return void dbLock.release().finally(() => app.exit(0));
    unregister?.();
    win?.setTitle('DeepBern Workbench — stopping runs…');
    // Stop training cleanly (finished epochs are stored; sweeps resume next start), but never hang invisibly.
    void closeWithin(() => s.close()).then((r) => {
      if (!r.ok) process.stderr.write(`DeepBern Workbench: ${r.reason}\n`);
      app.exit(exitCodeFor(r));
    });
  });

  // Holding the DB lock: the store opens, and the resume skips whatever a live CLI (`sweep run`, `train`) drives.
  try {
    started = await startLocked(dbLock, () =>
      WorkbenchService.start({
        dbPath,
        transport: 'electron',
        command: APP_COMMAND,
        workers: envWorkers() ?? desktopWorkers(),
        backend: (process.env.DEEPBERN_BACKEND as BackendPref | undefined) || undefined,
        // In a worker thread: a native tfjs addon must never load into (and crash) the Electron main process.
        probeBackend: probeBackendInWorker,
        resumeOnStart: true,
      }),
    );
  } catch (e) {
    return fatal('DeepBern Workbench could not start', e);
  }
  service = started.service;
  const running = service;
  unregister = registerIpc(ipcMain, running, {
    isTrustedSender: (e) => !!e.senderFrame && isAppPage(e.senderFrame.url),
    targets: () => (win && !win.isDestroyed() ? [win.webContents] : []),
    pickFile: (o) =>
      o?.directory
        ? openDialog({
            title: 'Import an MNIST-style IDX folder (train/t10k images and labels)',
            properties: ['openDirectory'],
          })
        : openDialog({
            title: 'Import a dataset',
            properties: ['openFile'],
            filters: [
              { name: 'CSV (optionally gzip)', extensions: ['csv', 'gz'] },
              { name: 'All files', extensions: ['*'] },
            ],
          }),
  });
  if (win) load(APP_URL);
  else createWindow(APP_URL);
}

main().catch((e: unknown) => {
  dialog.showErrorBox('DeepBern Workbench could not start', e instanceof Error ? e.message : String(e));
  app.exit(1);
});
