// The Electron window's security settings, kept free of any `electron` import so tests can assert them
// without the Electron binary (test/electron-window.test.ts).
import { fileURLToPath } from 'node:url';
import { rendererCsp } from '../csp.js';

/** The renderer's policy, also sent as a response header; the page's own <meta> CSP says the same. */
export const APP_CSP = rendererCsp();

/** BrowserWindow options: an isolated, sandboxed renderer with no Node and the web security model on. */
export function windowOptions(preload: string) {
  return {
    width: 1440,
    height: 920,
    minWidth: 960,
    minHeight: 600,
    show: false, // shown on ready-to-show: no white flash
    title: 'DeepBern Workbench',
    backgroundColor: '#111418',
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
    },
  } as const;
}

/** Is `url` the app's own page (same file; hash and query are the renderer's routing)? */
export function isAppPage(url: string, indexFile: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'file:' && fileURLToPath(u) === indexFile;
  } catch {
    return false;
  }
}

/** Navigation policy: the window never leaves the app page; links never open new windows. */
export function allowNavigation(url: string, indexFile: string): boolean {
  return isAppPage(url, indexFile);
}
