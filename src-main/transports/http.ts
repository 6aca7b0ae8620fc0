// Web mode: the contract over HTTP + WebSocket (shared/protocol.ts). A thin adapter: it authenticates,
// validates with API_ARGS (via dispatch.ts) and calls the service; it knows nothing about runs or sweeps.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, WebSocket } from 'ws';
import type { ApiErrorBody, WorkbenchApi, WorkbenchEvent } from '../../shared/api.js';
import { API_PREFIX, EVENTS_PATH, TOKEN_PARAM, UPLOAD_PATH } from '../../shared/protocol.js';
import { invoke, parseCall } from '../service/dispatch.js';
import { HTTP_STATUS, toApiError } from '../service/errors.js';
import type { FileGrants } from '../service/file-grants.js';
import {
  foreignRequest,
  isLoopbackHost,
  newToken,
  presentedToken,
  sessionCookie,
  setSecurityHeaders,
  tokenMatches,
} from './http-security.js';
import { resolveStatic, sendFile } from './static-files.js';
import { formatBytes, receiveUpload, safeFileName, TooLarge } from './uploads.js';

/** What the web transport needs from the service. */
export type ServedApi = WorkbenchApi & {
  onEvent(cb: (e: WorkbenchEvent) => void): () => void;
  readonly grants: FileGrants;
};

export interface WebServerOptions {
  service: ServedApi;
  /** Default 127.0.0.1. Anything not loopback is reachable from the network (the CLI warns). */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Default: a fresh random token. */
  token?: string;
  /** The built renderer (dist/renderer). */
  staticDir: string;
  /** JSON API bodies (default 2 MiB: a sweep file may be 1 MB of text). */
  maxBodyBytes?: number;
  /** Uploads (default 16 GiB: HIGGS.csv.gz is 2.6 GB). */
  maxUploadBytes?: number;
  uploadDir?: string;
  /** Origins besides the server's own that may call it (e.g. a vite dev server). */
  extraOrigins?: string[];
}

export interface WebServer {
  readonly url: string;
  /** The page to open: url with ?token=. */
  readonly openUrl: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

/** Slow WebSocket clients skip progress ticks rather than buffer them without bound. */
const WS_PROGRESS_BACKLOG = 1 << 20;
const WS_PING_MS = 30_000;

function kindOfStatus(status: number): ApiErrorBody['kind'] {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  return status >= 500 ? 'internal' : 'bad-request';
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly kind: ApiErrorBody['kind'] = kindOfStatus(status),
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

function sendError(res: ServerResponse, status: number, error: string, kind: ApiErrorBody['kind']): void {
  sendJson(res, status, { error, kind } satisfies ApiErrorBody);
}

/** What a person who opened the address without its token sees: how to open the app, not a JSON error. */
export const LOGIN_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>DeepBern Workbench — open with your link</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px/1.55 system-ui,sans-serif;background:#f5f6f8;color:#1c2230;margin:0;display:grid;place-items:center;min-height:100vh}
main{background:#fff;border:1px solid #dde1e8;border-radius:10px;padding:28px 34px;max-width:560px;box-shadow:0 8px 30px rgba(0,0,0,.06)}
h1{font-size:19px;margin:0 0 10px}code{background:#eef1f6;border-radius:4px;padding:1px 5px;font-size:13px}li{margin:6px 0}</style></head>
<body><main><h1>This address needs its session link</h1>
<p>The DeepBern Workbench only answers the browser tab it was opened in, so that other pages and programs on this
computer cannot read or change your runs.</p>
<ul><li><b>Web mode:</b> open the link that was printed when the workbench started
(it looks like <code>http://127.0.0.1:PORT/?token=…</code>). The token leaves the address bar after the first load;
this tab keeps working, but a new tab or a bookmark needs the printed link again. Restarting the workbench prints a new link.</li>
<li><b>Desktop app:</b> use the workbench window; it needs no link.</li></ul></main></body></html>
`;

function sendLoginPage(res: ServerResponse, head: boolean): void {
  res.statusCode = 401;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(LOGIN_PAGE));
  res.end(head ? undefined : LOGIN_PAGE);
}

/** A browser asking for a page (the address bar), not a script's fetch of the API or an asset. */
function isPageNavigation(req: IncomingMessage, url: URL): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (url.pathname.startsWith(API_PREFIX) || url.pathname === UPLOAD_PATH || url.pathname === EVENTS_PATH) return false;
  const accept = String(req.headers.accept ?? '');
  return url.pathname === '/' || url.pathname.endsWith('.html') || accept.includes('text/html');
}

/** Reads a body up to `limit` bytes; past it, 413 (the rest is drained so the client reads the answer). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit)
    return Promise.reject(new HttpError(413, `the request body is larger than the limit of ${formatBytes(limit)}`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        chunks.length = 0;
        reject(new HttpError(413, `the request body is larger than the limit of ${formatBytes(limit)}`));
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** After refusing a body, swallow what the client still sends (up to a cap) so it can read the response. */
function drain(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Connection', 'close');
  let left = 64 << 20;
  req.on('data', (c: Buffer) => {
    left -= c.length;
    if (left < 0) req.destroy();
  });
  req.resume();
}

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token ?? newToken();
  const maxBody = opts.maxBodyBytes ?? 2 << 20;
  const maxUpload = opts.maxUploadBytes ?? 16 * 2 ** 30;
  const uploadDir =
    opts.uploadDir ?? join(tmpdir(), `deepbern-uploads-${process.pid}-${randomBytes(4).toString('hex')}`);
  const loopbackOnly = isLoopbackHost(host);
  const { service } = opts;
  let port = 0;

  const gate = (req: IncomingMessage, url: URL): HttpError | null => {
    const foreign = foreignRequest(req, { port, loopbackOnly, extraOrigins: opts.extraOrigins });
    if (foreign) return new HttpError(403, `refused: ${foreign}`);
    const staticFile =
      !url.pathname.startsWith(API_PREFIX) && url.pathname !== UPLOAD_PATH && url.pathname !== EVENTS_PATH;
    if (
      !tokenMatches(
        presentedToken(req, url, port, staticFile && (req.method === 'GET' || req.method === 'HEAD')),
        token,
      )
    ) {
      return new HttpError(
        401,
        'not authorised: open the workbench with the link printed when it started (it carries the session token)',
      );
    }
    return null;
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse, method: string): Promise<void> => {
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      throw new HttpError(405, `${API_PREFIX}${method} takes POST`);
    }
    const raw = await readBody(req, maxBody);
    let body: unknown;
    try {
      body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
    } catch (e) {
      throw new HttpError(400, `the request body is not JSON: ${(e as Error).message}`);
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new HttpError(400, 'the request body must be {"args": [...]}');
    const call = parseCall(method, (body as { args?: unknown }).args);
    sendJson(res, 200, { result: (await invoke(service, call)) ?? null });
  };

  const handleUpload = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    if (req.method !== 'POST') throw new HttpError(405, `${UPLOAD_PATH} takes POST`);
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > maxUpload)
      throw new HttpError(413, `the upload is larger than the limit of ${formatBytes(maxUpload)}`);
    const name = safeFileName(url.searchParams.get('name'));
    try {
      const { path, bytes } = await receiveUpload(req, uploadDir, name, maxUpload);
      const upload = service.grants.addUpload({ path, name, bytes });
      sendJson(res, 200, { uploadId: upload.id, name, bytes });
    } catch (e) {
      if (e instanceof TooLarge) throw new HttpError(413, e.message);
      throw e;
    }
  };

  const handleStatic = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(404, 'not found');
    const file = await resolveStatic(opts.staticDir, url.pathname);
    if (!file)
      throw new HttpError(
        404,
        url.pathname === '/'
          ? `the renderer is not built (${opts.staticDir} has no index.html; run npx vite build)`
          : 'not found',
      );
    // The landing page carries the token in its address; a cookie lets the page's own assets load.
    if (url.searchParams.has(TOKEN_PARAM)) res.setHeader('Set-Cookie', sessionCookie(port, token));
    sendFile(res, file, req.method);
  };

  const server: Server = createServer((req, res) => {
    setSecurityHeaders(req, res);
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      sendError(res, 400, 'malformed request URL', 'bad-request');
      return;
    }
    void (async () => {
      const refused = gate(req, url);
      if (refused) throw refused;
      if (url.pathname.startsWith(API_PREFIX)) await handleApi(req, res, url.pathname.slice(API_PREFIX.length));
      else if (url.pathname === UPLOAD_PATH) await handleUpload(req, res, url);
      else await handleStatic(req, res, url);
    })().catch((e: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (e instanceof HttpError) {
        if (e.status === 413 || e.status === 401 || e.status === 403) drain(req, res);
        // A page navigation (not the app's own API calls or assets) gets a page saying how to open the app.
        if (e.status === 401 && isPageNavigation(req, url)) return sendLoginPage(res, req.method === 'HEAD');
        sendError(res, e.status, e.message, e.kind);
        return;
      }
      const body = toApiError(e);
      if (body.kind === 'internal')
        process.stderr.write(`deepbern: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      sendError(res, HTTP_STATUS[body.kind], body.error, body.kind);
    });
  });

  // Keep idle connections longer than Node's 5 s default: a client that pauses between calls (a busy
  // renderer, a test computing between requests) otherwise races the server's close and sees "socket hang up".
  server.keepAliveTimeout = 30_000;

  // ── events over WebSocket ─────────────────────────────────────────────────────────────────────────────
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const alive = new WeakMap<WebSocket, boolean>();
  // Nothing a client sends may end the server: every socket gets an error handler. ws reports a protocol
  // violation (bad opcode, unmasked or oversize frame, invalid UTF-8, bad close code…) as an 'error' on the
  // WebSocket and then closes it; without a listener that error would be thrown and end the process.
  wss.on('error', () => undefined);
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    // Before the handshake completes, the raw socket has no listener either (a reset mid-upgrade).
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, text: string) => {
      socket.end(
        `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
      );
    };
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      refuse(400, 'Bad Request');
      return;
    }
    const refused = gate(req, url);
    if (refused) return refuse(refused.status, refused.status === 401 ? 'Unauthorized' : 'Forbidden');
    if (url.pathname !== EVENTS_PATH) return refuse(404, 'Not Found');
    wss.handleUpgrade(req, socket, head, (ws) => {
      alive.set(ws, true);
      ws.on('error', () => ws.terminate());
      ws.on('pong', () => alive.set(ws, true));
      ws.on('message', () => undefined); // the stream is one-way; calls go through POST
      wss.emit('connection', ws, req);
    });
  });
  const ping = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.get(ws)) ws.terminate();
      else {
        alive.set(ws, false);
        ws.ping();
      }
    }
  }, WS_PING_MS);
  ping.unref();
  const unsubscribe = service.onEvent((e) => {
    const data = JSON.stringify(e);
    for (const ws of wss.clients) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (e.type === 'run-progress' && ws.bufferedAmount > WS_PROGRESS_BACKLOG) continue;
      ws.send(data);
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const base = `http://${shownHost}:${port}`;

  let closing: Promise<void> | null = null;
  return {
    url: base,
    openUrl: `${base}/?${TOKEN_PARAM}=${encodeURIComponent(token)}`,
    port,
    token,
    close() {
      closing ??= (async () => {
        unsubscribe();
        // Our own temp folder only (uploads still registered are deleted by the service's grants).
        if (!opts.uploadDir) await rm(uploadDir, { recursive: true, force: true });
        clearInterval(ping);
        for (const ws of wss.clients) ws.terminate();
        await new Promise<void>((r) => wss.close(() => r()));
        await new Promise<void>((r) => {
          server.close(() => r());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}
