// A recording stand-in for the parts of Electron that src-main/electron/main.ts uses. Every call is logged as a
// JSON line ("FAKE {...}") on stdout; FAKE_SCENARIO drives the app like a user would once the app page loaded:
//   use   — permissions, window.open, navigation, API calls over IPC, a second instance, then Quit
//   quit-twice — Quit, then a relaunch while it is shutting down
// FAKE_LOCK=held plays the second instance; FAKE_PACKAGED=1 a packaged build; FAKE_ABORT_LOADING / FAKE_FAIL_APP
// make a page load fail (see loadURL).
import { EventEmitter } from 'node:events';

const log = (e) => process.stdout.write(`FAKE ${JSON.stringify(e)}\n`);
let ready = false;
const handlers = new Map();
let permissionRequest = null;
let permissionCheck = null;
let schemeHandler = null;
const windows = [];

class FakeApp extends EventEmitter {
  isPackaged = process.env.FAKE_PACKAGED === '1';
  requestSingleInstanceLock() {
    return process.env.FAKE_LOCK !== 'held';
  }
  whenReady() {
    return new Promise((resolve) =>
      setTimeout(() => {
        ready = true;
        log({ call: 'ready' });
        resolve();
      }, 10),
    );
  }
  quit() {
    log({ call: 'app.quit' });
    let prevented = false;
    this.emit('before-quit', { preventDefault: () => (prevented = true) });
    if (!prevented) this.exit(0);
  }
  exit(code = 0) {
    log({ call: 'app.exit', code });
    process.exit(code);
  }
}
export const app = new FakeApp();

export const protocol = {
  registerSchemesAsPrivileged(schemes) {
    log({ call: 'registerSchemesAsPrivileged', schemes, ready });
  },
  handle(scheme, fn) {
    log({ call: 'protocol.handle', scheme });
    schemeHandler = fn;
  },
};

export const session = {
  defaultSession: {
    setPermissionRequestHandler(fn) {
      permissionRequest = fn;
    },
    setPermissionCheckHandler(fn) {
      permissionCheck = fn;
    },
  },
};

export const Menu = {
  buildFromTemplate: (t) => ({ template: t }),
  setApplicationMenu(m) {
    log({ call: 'setApplicationMenu', menu: m });
  },
};

export const dialog = {
  async showMessageBox(a, b) {
    const o = b ?? a;
    log({ call: 'showMessageBox', parent: !!b, message: o.message });
    return { response: 0 };
  },
  async showOpenDialog(a, b) {
    log({ call: 'showOpenDialog', parent: !!b });
    return { canceled: true, filePaths: [] };
  },
  showErrorBox(title, msg) {
    log({ call: 'showErrorBox', title, msg });
  },
};

export const ipcMain = {
  handle(channel, fn) {
    log({ call: 'ipcMain.handle', channel });
    handlers.set(channel, fn);
  },
  removeHandler(channel) {
    handlers.delete(channel);
  },
};

class FakeWebContents extends EventEmitter {
  openHandler = null;
  setWindowOpenHandler(fn) {
    this.openHandler = fn;
  }
  send() {}
  isDestroyed() {
    return false;
  }
}

export class BrowserWindow extends EventEmitter {
  constructor(opts) {
    super();
    this.webContents = new FakeWebContents();
    this.destroyed = false;
    windows.push(this);
    log({ call: 'new BrowserWindow', show: opts.show, webPreferences: opts.webPreferences });
  }
  async loadURL(url) {
    // FAKE_ABORT_LOADING: the loading page's load is superseded; FAKE_FAIL_APP: the app page fails to load.
    if (process.env.FAKE_ABORT_LOADING === '1' && url.endsWith('/loading.html')) {
      this.webContents.emit('did-finish-load');
      throw Object.assign(new Error(`ERR_ABORTED (-3) loading '${url}'`), { code: 'ERR_ABORTED', errno: -3 });
    }
    if (process.env.FAKE_FAIL_APP === '1' && url.endsWith('/index.html')) {
      throw Object.assign(new Error(`ERR_FILE_NOT_FOUND (-6) loading '${url}'`), {
        code: 'ERR_FILE_NOT_FOUND',
        errno: -6,
      });
    }
    const res = schemeHandler ? await schemeHandler(new Request(url)) : null;
    log({
      call: 'loadURL',
      url,
      status: res?.status ?? null,
      csp: res?.headers.get('content-security-policy') ?? null,
    });
    this.webContents.emit('did-finish-load');
    if (url.endsWith('/index.html'))
      setTimeout(() => void drive(this).catch((e) => log({ call: 'drive-error', error: String(e) })), 0);
  }
  isDestroyed() {
    return this.destroyed;
  }
  isMinimized() {
    return false;
  }
  restore() {}
  show() {
    log({ call: 'win.show' });
  }
  focus() {
    log({ call: 'win.focus' });
  }
  setTitle(t) {
    log({ call: 'win.setTitle', title: t });
  }
}

async function drive(win) {
  const scenario = process.env.FAKE_SCENARIO ?? 'use';
  const appUrl = 'app://deepbern/index.html';
  if (scenario === 'use') {
    const granted = (perm, url) =>
      new Promise((resolve) =>
        permissionRequest(win.webContents, perm, resolve, { requestingUrl: url, isMainFrame: true }),
      );
    log({
      call: 'permission',
      perm: 'clipboard-sanitized-write',
      granted: await granted('clipboard-sanitized-write', appUrl),
    });
    log({ call: 'permission', perm: 'media', granted: await granted('media', appUrl) });
    log({
      call: 'permission-check',
      granted: permissionCheck(win.webContents, 'clipboard-sanitized-write', 'app://deepbern', {}),
    });
    log({ call: 'window.open', result: win.webContents.openHandler({ url: 'https://example.org/' }) });
    let prevented = false;
    win.webContents.emit('will-navigate', { url: 'https://evil.example/', preventDefault: () => (prevented = true) });
    log({ call: 'will-navigate', url: 'https://evil.example/', prevented });
    const call = handlers.get('deepbern:call');
    log({
      call: 'ipc',
      from: 'app',
      reply: await call({ senderFrame: { url: `${appUrl}#/runs` } }, 'system.info', []),
    });
    log({
      call: 'ipc',
      from: 'loading',
      reply: await call({ senderFrame: { url: 'app://deepbern/loading.html' } }, 'system.info', []),
    });
    app.emit('second-instance', {}, []);
    app.quit();
  } else if (scenario === 'quit-twice') {
    app.quit();
    app.emit('second-instance', {}, []);
  }
}
