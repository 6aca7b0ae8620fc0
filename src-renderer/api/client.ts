// The renderer's one API client, typed by WorkbenchApi. Over the Electron bridge (`window.deepbern`) when the
// preload exposed it, else HTTP (POST /api/<method>) + a WebSocket for events, per shared/protocol.ts.
// Views never know which transport they talk to.
import type { ApiErrorBody, ApiMethod, WorkbenchApi, WorkbenchEvent } from '../../shared/api.js';
import {
  API_PREFIX,
  BRIDGE_ERROR_PREFIX,
  BRIDGE_GLOBAL,
  EVENTS_PATH,
  TOKEN_PARAM,
  UPLOAD_PATH,
} from '../../shared/protocol.js';

export type Args<M extends ApiMethod> = Parameters<WorkbenchApi[M]>;
export type Result<M extends ApiMethod> = Awaited<ReturnType<WorkbenchApi[M]>>;
export type ConnectionState = 'open' | 'connecting' | 'closed';

/** An error the server (or the bridge) reported; `message` is the server's message for the user. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly kind: ApiErrorBody['kind'] | 'network' = 'internal',
    readonly status = 0,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The kind of an error answer that carried no body (a proxy's page, a refused upgrade…). */
export function kindOfStatus(status: number): ApiErrorBody['kind'] {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 409) return 'conflict';
  return status >= 400 && status < 500 ? 'bad-request' : 'internal';
}

/** What the Electron preload exposes: one function per API method, plus events and a file dialog. */
export type Bridge = { [M in ApiMethod]: WorkbenchApi[M] } & {
  onEvent(cb: (e: WorkbenchEvent) => void): (() => void) | void;
  pickFile(opts?: unknown): Promise<string | null | { path?: string; canceled?: boolean }>;
  /** A dropped File's path on disk, granted for import by the main process (null: the File has no path). */
  droppedPath?(file: File, opts?: { folder?: boolean }): Promise<string | null>;
};

export interface ClientEnv {
  location: { search: string; pathname: string; hash: string; host: string; protocol: string };
  history?: { replaceState(data: unknown, unused: string, url?: string): void };
  sessionStorage?: Pick<Storage, 'getItem' | 'setItem'>;
  fetch: typeof fetch;
  WebSocket?: typeof WebSocket;
  bridge?: Bridge;
  setTimeout: (fn: () => void, ms: number) => unknown;
}

const TOKEN_KEY = 'deepbern.token';

/** Read `?token=` from the address, keep it in sessionStorage and remove it from the address bar. */
export function takeToken(env: Pick<ClientEnv, 'location' | 'history' | 'sessionStorage'>): string | null {
  const params = new URLSearchParams(env.location.search);
  const fromUrl = params.get(TOKEN_PARAM);
  if (fromUrl) {
    env.sessionStorage?.setItem(TOKEN_KEY, fromUrl);
    params.delete(TOKEN_PARAM);
    const q = params.toString();
    env.history?.replaceState(null, '', env.location.pathname + (q ? `?${q}` : '') + env.location.hash);
    return fromUrl;
  }
  return env.sessionStorage?.getItem(TOKEN_KEY) ?? null;
}

/** Electron's ipcRenderer.invoke wraps errors: "Error invoking remote method 'x': Error: msg" → "msg". */
export function cleanBridgeMessage(msg: string): string {
  return msg.replace(/^Error invoking remote method '[^']*':\s*/, '').replace(/^(\w*Error):\s*/, '');
}

/** The error body the preload wrote into a bridged Error's message (see BRIDGE_ERROR_PREFIX), if any. */
export function bridgeErrorBody(msg: string): ApiErrorBody | null {
  const at = msg.indexOf(BRIDGE_ERROR_PREFIX);
  if (at < 0) return null;
  try {
    const b = JSON.parse(msg.slice(at + BRIDGE_ERROR_PREFIX.length)) as Partial<ApiErrorBody>;
    return typeof b.error === 'string' && typeof b.kind === 'string' ? (b as ApiErrorBody) : null;
  } catch {
    return null;
  }
}

export class WorkbenchClient {
  readonly transport: 'electron' | 'web';
  private token: string | null = null;
  private listeners = new Set<(e: WorkbenchEvent) => void>();
  private connListeners = new Set<(s: ConnectionState) => void>();
  private ws: WebSocket | null = null;
  private retry = 0;
  private started = false;
  state: ConnectionState = 'closed';

  constructor(private env: ClientEnv) {
    this.transport = env.bridge ? 'electron' : 'web';
    if (!env.bridge) this.token = takeToken(env);
  }

  /** Call one API method. Rejects with ApiError carrying the server's message. */
  async call<M extends ApiMethod>(method: M, ...args: Args<M>): Promise<Result<M>> {
    const bridge = this.env.bridge;
    if (bridge) {
      try {
        const fn = bridge[method] as unknown as (...a: unknown[]) => Promise<Result<M>>;
        if (typeof fn !== 'function') throw new ApiError(`the Electron bridge has no method ${method}`, 'internal');
        return await fn(...args);
      } catch (e) {
        if (e instanceof ApiError) throw e;
        const raw = cleanBridgeMessage(e instanceof Error ? e.message : String(e));
        const body = bridgeErrorBody(raw);
        if (body) throw new ApiError(body.error, body.kind);
        throw new ApiError(raw, (e as { kind?: ApiErrorBody['kind'] }).kind ?? 'internal');
      }
    }
    let res: Response;
    try {
      res = await this.env.fetch(API_PREFIX + method, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.authHeader() },
        body: JSON.stringify({ args }),
      });
    } catch (e) {
      throw new ApiError(
        `cannot reach the workbench server (${e instanceof Error ? e.message : String(e)})`,
        'network',
      );
    }
    const text = await res.text();
    let body: unknown = undefined;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    if (!res.ok) {
      const b = body as Partial<ApiErrorBody> | undefined;
      const msg =
        b?.error ??
        (res.status === 401 || res.status === 403
          ? 'not authorised: open the workbench with the link printed when it started (it carries the session token)'
          : text || `HTTP ${res.status}`);
      throw new ApiError(msg, b?.kind ?? kindOfStatus(res.status), res.status);
    }
    return (body as { result: Result<M> } | undefined)?.result as Result<M>;
  }

  /** Subscribe to events; returns an unsubscribe function. Starts the event stream on first use. */
  on(cb: (e: WorkbenchEvent) => void): () => void {
    this.listeners.add(cb);
    this.start();
    return () => this.listeners.delete(cb);
  }

  onConnection(cb: (s: ConnectionState) => void): () => void {
    this.connListeners.add(cb);
    cb(this.state);
    this.start();
    return () => this.connListeners.delete(cb);
  }

  private emit(e: WorkbenchEvent) {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        console.error('event listener failed', err);
      }
    }
  }

  private setState(s: ConnectionState) {
    if (s === this.state) return;
    this.state = s;
    for (const l of this.connListeners) l(s);
  }

  private start() {
    if (this.started) return;
    this.started = true;
    if (this.env.bridge) {
      this.env.bridge.onEvent((e) => this.emit(e));
      this.setState('open');
      return;
    }
    this.connect();
  }

  private connect() {
    const WS = this.env.WebSocket;
    if (!WS) return;
    this.setState('connecting');
    const proto = this.env.location.protocol === 'https:' ? 'wss:' : 'ws:';
    const q = this.token ? `?${TOKEN_PARAM}=${encodeURIComponent(this.token)}` : '';
    let ws: WebSocket;
    try {
      ws = new WS(`${proto}//${this.env.location.host}${EVENTS_PATH}${q}`);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 0;
      this.setState('open');
    };
    ws.onmessage = (m) => {
      try {
        this.emit(JSON.parse(String(m.data)) as WorkbenchEvent);
      } catch {
        /* ignore malformed */
      }
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.setState('connecting');
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect() {
    const delay = Math.min(10_000, 500 * 2 ** this.retry++);
    this.env.setTimeout(() => this.connect(), delay);
  }

  private authHeader(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  /** Web mode: upload a file (POST /upload) with progress; resolves with the upload id. */
  upload(file: Blob & { name?: string }, onProgress?: (fraction: number) => void): Promise<string> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      const name = encodeURIComponent(file.name ?? 'upload');
      xhr.open('POST', `${UPLOAD_PATH}?name=${name}`);
      const auth = this.authHeader();
      if (auth.authorization) xhr.setRequestHeader('authorization', auth.authorization);
      xhr.upload.onprogress = (e) => e.lengthComputable && onProgress?.(e.loaded / e.total);
      xhr.onerror = () => reject(new ApiError('upload failed: the server did not answer', 'network'));
      xhr.onload = () => {
        let body: { uploadId?: string; error?: string } = {};
        try {
          body = JSON.parse(xhr.responseText);
        } catch {
          /* not JSON */
        }
        if (xhr.status >= 200 && xhr.status < 300 && body.uploadId) resolve(body.uploadId);
        else
          reject(
            new ApiError(
              body.error ?? `upload failed (HTTP ${xhr.status})`,
              (body as Partial<ApiErrorBody>).kind ?? kindOfStatus(xhr.status),
              xhr.status,
            ),
          );
      };
      xhr.send(file);
    });
  }

  /**
   * Electron: a dropped File as an importable path (`folder`: its folder, for IDX sets), or null in web mode
   * and for Files without a path — then the caller uploads it instead.
   */
  async droppedPath(file: File, opts?: { folder?: boolean }): Promise<string | null> {
    if (!this.env.bridge?.droppedPath) return null;
    return this.env.bridge.droppedPath(file, opts);
  }

  /** Electron: the native file dialog (`directory: true`: a folder); resolves with a path or null when cancelled. */
  async pickFile(opts?: { directory?: boolean }): Promise<string | null> {
    if (!this.env.bridge) return null;
    const r = await this.env.bridge.pickFile(opts);
    if (!r) return null;
    if (typeof r === 'string') return r;
    return r.canceled ? null : (r.path ?? null);
  }
}

function browserEnv(): ClientEnv {
  const w = globalThis as unknown as Window & { [k: string]: unknown };
  return {
    location: w.location,
    history: w.history,
    sessionStorage: (() => {
      try {
        return w.sessionStorage;
      } catch {
        return undefined;
      }
    })(),
    fetch: w.fetch.bind(w),
    WebSocket: w.WebSocket as unknown as typeof WebSocket | undefined,
    bridge: w[BRIDGE_GLOBAL] as Bridge | undefined,
    setTimeout: (fn, ms) => w.setTimeout(fn, ms),
  };
}

let instance: WorkbenchClient | null = null;
/** The app's client (created on first use from the page's environment). */
export function getApi(): WorkbenchClient {
  return (instance ??= new WorkbenchClient(browserEnv()));
}
/** Tests: install a client over a fake environment. */
export function setApi(c: WorkbenchClient | null): void {
  instance = c;
}
