// The Electron window's security settings and policies, kept free of any `electron` import so tests can
// assert them without the Electron binary (test/electron-shell.test.ts). main.ts only wires them up.
import { cpus } from 'node:os';
import { rendererCsp } from '../csp.js';

/** The renderer is served from this privileged custom scheme (app-protocol.ts), never from file://. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'deepbern';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_URL = `${APP_ORIGIN}/index.html`;
/** Shown while the service starts (backend probe, store, resume): the window is up before any of it. */
export const LOADING_URL = `${APP_ORIGIN}/loading.html`;

/** The renderer's policy, sent as a response header by the scheme; the page's <meta> CSP is generated from it. */
export const APP_CSP = rendererCsp();

/** The privileges the scheme is registered with (before `ready`): a secure, standard origin like https. */
export const APP_SCHEME_PRIVILEGES = { standard: true, secure: true, supportFetchAPI: true, codeCache: true } as const;

/** BrowserWindow options: an isolated, sandboxed renderer with no Node and the web security model on. */
export function windowOptions(preload: string, opts: { devTools?: boolean } = {}) {
  return {
    width: 1440,
    height: 920,
    minWidth: 960,
    minHeight: 600,
    // Shown at once, on the loading page: the backend probe and resume happen while the user sees progress.
    show: true,
    title: 'DeepBern Workbench',
    backgroundColor: '#111418', // no white flash before the first paint
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      // The designer uses drag and drop; a file dropped on the window must not navigate away from the app.
      navigateOnDragDrop: false,
      spellcheck: false,
      // Packaged builds: no DevTools (and the fuses refuse --inspect); development keeps them.
      devTools: opts.devTools ?? false,
    },
  } as const;
}

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/** Is `url` on the app's own origin? */
export function isAppOrigin(url: string): boolean {
  const u = parse(url);
  return !!u && u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
}

/** Is `url` the app's own page (hash and query are the renderer's routing)? Only it may call the API. */
export function isAppPage(url: string): boolean {
  const u = parse(url);
  return !!u && isAppOrigin(url) && (u.pathname === '/index.html' || u.pathname === '/');
}

/** Navigation policy: the window shows only the app page (or the loading page before it). */
export function allowNavigation(url: string): boolean {
  return isAppPage(url) || url === LOADING_URL;
}

/**
 * Permission policy: the app page may write to the clipboard (its Copy buttons); nothing else is granted to
 * anything (no camera, notifications, geolocation, …). `requestingUrl` is the frame asking.
 */
export function allowPermission(permission: string, requestingUrl: string | undefined): boolean {
  return permission === 'clipboard-sanitized-write' && !!requestingUrl && isAppOrigin(requestingUrl);
}

/** A menu item as Electron's Menu.buildFromTemplate takes it (only roles here). */
export type MenuRole = { role: string };

/**
 * The application menu. Development: Electron's default (reload, DevTools). Packaged: none on Windows and
 * Linux; on macOS the app, Edit (copy/paste shortcuts live there) and Window menus, without View/DevTools.
 */
export function appMenu(platform: NodeJS.Platform, packaged: boolean): 'default' | MenuRole[] | null {
  if (!packaged) return 'default';
  return platform === 'darwin' ? [{ role: 'appMenu' }, { role: 'editMenu' }, { role: 'windowMenu' }] : null;
}

/** The desktop app's default pool: every core but one, which stays with the window (and at least one). */
export function desktopWorkers(cores: number = cpus().length): number {
  return Math.max(1, cores - 1);
}
