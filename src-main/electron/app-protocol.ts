// The `app://deepbern/` scheme: serves the renderer build (read-only, GET only, nothing outside its folder) with
// the app's CSP as a header, plus the loading page shown while the service starts. Electron's security
// checklist prefers a custom scheme over file:// (no file-protocol privileges, a real origin for the CSP).
// Plain Node (fetch's Request/Response), so it is tested without Electron; main.ts hands it to protocol.handle.
import { readFile } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, resolve } from 'node:path';
import { APP_CSP, APP_HOST, APP_SCHEME } from './window.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

// Inline styles only (the CSP allows them; it allows no inline script).
const LOADING_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>DeepBern Workbench</title></head>
<body style="margin:0;height:100vh;display:flex;align-items:center;justify-content:center;background:#111418;color:#c9d1e3;font:15px system-ui,sans-serif">
<div style="text-align:center"><div style="font-size:20px;margin-bottom:8px">DeepBern Workbench</div>
<div style="opacity:.7">Starting: detecting the training backend, opening the store, resuming sweeps…</div></div>
</body></html>`;

/** The file an app:// URL names inside `rendererDir`, or null (other host, traversal, bad encoding). */
export function appFileFor(url: string, rendererDir: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return null;
  let path: string;
  try {
    path = decodeURIComponent(u.pathname);
  } catch {
    return null;
  }
  if (path.includes('\0')) return null;
  if (path === '/' || path === '') path = '/index.html';
  const root = resolve(rendererDir);
  const file = resolve(root, `.${path}`);
  const rel = relative(root, file);
  if (!rel || rel.startsWith('..') || isAbsolute(rel)) return null;
  return join(root, rel);
}

function headers(type: string): Record<string, string> {
  return {
    'content-type': type,
    'content-security-policy': APP_CSP,
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-cache',
  };
}

/** The protocol handler: `protocol.handle('app', createAppHandler(dir))`. */
export function createAppHandler(rendererDir: string): (req: Request) => Promise<Response> {
  return async (req) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return new Response('method not allowed', { status: 405 });
    if (new URL(req.url).pathname === '/loading.html' && appFileFor(req.url, rendererDir)) {
      return new Response(LOADING_HTML, { status: 200, headers: headers(TYPES['.html']!) });
    }
    const file = appFileFor(req.url, rendererDir);
    if (!file) return new Response('not found', { status: 404 });
    try {
      const body = await readFile(file);
      return new Response(req.method === 'HEAD' ? null : body, {
        status: 200,
        headers: headers(TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream'),
      });
    } catch {
      return new Response('not found', { status: 404 });
    }
  };
}
