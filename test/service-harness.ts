// Test harness: one real WorkbenchService (real SQLite file in a temp dir, real worker pool) reached through
// either adapter — HTTP+WS on 127.0.0.1:0, or the IPC adapter through a recording ipcMain seam — so the same
// contract tests run over both.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import type { ApiErrorBody, ApiMethod, WorkbenchApi, WorkbenchEvent } from '../shared/api.js';
import { WorkbenchService, type WorkbenchServiceOptions } from '../src-main/service/workbench-service.js';
import { startWebServer, type WebServer, type WebServerOptions } from '../src-main/transports/http.js';
import { IPC_CHANNELS, registerIpc, type InvokeEventLike, type IpcReply } from '../src-main/transports/ipc.js';

export type Result<M extends ApiMethod> = Awaited<ReturnType<WorkbenchApi[M]>>;

/** A failed call: the contract's error body, plus the HTTP status when there is one. */
export class CallError extends Error {
  constructor(
    readonly body: ApiErrorBody,
    readonly status?: number,
  ) {
    super(body.error);
  }
}

export interface Harness {
  name: 'http' | 'ipc';
  service: WorkbenchService;
  dir: string;
  /** A contract call: raw method name and args, so tests can send what the types forbid. */
  raw(method: string, args: unknown): Promise<unknown>;
  call<M extends ApiMethod>(method: M, ...args: Parameters<WorkbenchApi[M]>): Promise<Result<M>>;
  events: WorkbenchEvent[];
  waitForEvent(pred: (e: WorkbenchEvent) => boolean, timeoutMs?: number): Promise<WorkbenchEvent>;
  close(): Promise<void>;
  web?: WebServer;
}

type Opts = Partial<Omit<WorkbenchServiceOptions, 'transport'>> & {
  staticDir?: string;
  web?: Partial<Omit<WebServerOptions, 'service'>>;
};

async function startService(
  transport: 'web' | 'electron',
  opts: Opts,
): Promise<{ service: WorkbenchService; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'deepbern-svc-'));
  const service = await WorkbenchService.start({
    dbPath: join(dir, 'w.db'),
    workers: 2,
    backend: 'wasm',
    ...opts,
    transport,
  });
  return { service, dir };
}

function eventWaiter(events: WorkbenchEvent[]) {
  const waiters = new Set<() => void>();
  return {
    push(e: WorkbenchEvent) {
      events.push(e);
      for (const w of waiters) w();
    },
    wait(pred: (e: WorkbenchEvent) => boolean, timeoutMs = 90_000): Promise<WorkbenchEvent> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = events.find(pred);
          if (!hit) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `no matching event within ${timeoutMs} ms; got ${events.length}: ${JSON.stringify(events.slice(-5))}`,
            ),
          );
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
  };
}

export async function httpHarness(opts: Opts = {}): Promise<Harness> {
  const { service, dir } = await startService('web', opts);
  const web = await startWebServer({ service, staticDir: opts.staticDir ?? join(dir, 'no-renderer'), ...opts.web });
  const events: WorkbenchEvent[] = [];
  const ev = eventWaiter(events);
  const ws = new WebSocket(`ws://127.0.0.1:${web.port}/events?token=${web.token}`);
  ws.on('message', (m) => ev.push(JSON.parse(String(m)) as WorkbenchEvent));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const raw = async (method: string, args: unknown) => {
    const post = () =>
      fetch(`${web.url}/api/${method}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${web.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ args }),
      });
    // A pooled keep-alive socket the server closed an instant earlier fails before any byte is answered;
    // browsers retry that transparently, node's fetch does not: retry once on a connection-level failure.
    const res = await post().catch((e: unknown) => {
      if (e instanceof TypeError && e.message === 'fetch failed') return post();
      throw e;
    });
    const body = (await res.json()) as { result?: unknown } & Partial<ApiErrorBody>;
    if (!res.ok) throw new CallError(body as ApiErrorBody, res.status);
    return body.result;
  };
  return {
    name: 'http',
    service,
    dir,
    web,
    raw,
    call: (method, ...args) => raw(method, args) as never,
    events,
    waitForEvent: ev.wait,
    async close() {
      ws.close();
      await web.close();
      await service.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A recording stand-in for ipcMain + one window's webContents: what Electron would do, minus Electron. */
export class FakeIpc {
  readonly handlers = new Map<string, (event: InvokeEventLike, ...args: unknown[]) => unknown>();
  readonly sent: { channel: string; args: unknown[] }[] = [];
  destroyed = false;
  handle(channel: string, fn: (event: InvokeEventLike, ...args: unknown[]) => unknown): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`); // Electron throws too
    this.handlers.set(channel, fn);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  /** What ipcRenderer.invoke(channel, ...args) would resolve with. */
  async invoke(channel: string, frameUrl: string, ...args: unknown[]): Promise<unknown> {
    const fn = this.handlers.get(channel);
    if (!fn) throw new Error(`No handler registered for '${channel}'`);
    // Electron structured-clones arguments and results across the process boundary.
    return structuredClone(await fn({ senderFrame: { url: frameUrl } }, ...structuredClone(args)));
  }
  readonly webContents = {
    send: (channel: string, ...args: unknown[]): void => {
      this.sent.push({ channel, args: structuredClone(args) });
    },
    isDestroyed: () => this.destroyed,
  };
}

export const APP_URL = 'file:///app/renderer/index.html';

export async function ipcHarness(
  opts: Opts & { pickFile?: () => Promise<string | null> } = {},
): Promise<Harness & { ipc: FakeIpc; unregister: () => void }> {
  const { service, dir } = await startService('electron', opts);
  const ipc = new FakeIpc();
  const events: WorkbenchEvent[] = [];
  const ev = eventWaiter(events);
  const send = ipc.webContents.send;
  ipc.webContents.send = (channel, ...args) => {
    send(channel, ...args);
    if (channel === IPC_CHANNELS.event) ev.push(structuredClone(args[0]) as WorkbenchEvent);
  };
  const unregister = registerIpc(ipc, service, {
    isTrustedSender: (e) => e.senderFrame?.url.startsWith(APP_URL) ?? false,
    targets: () => [ipc.webContents],
    pickFile: opts.pickFile,
  });
  const raw = async (method: string, args: unknown) => {
    const reply = (await ipc.invoke(IPC_CHANNELS.call, `${APP_URL}#/runs`, method, args)) as IpcReply;
    if (!reply.ok) throw new CallError(reply.error);
    return reply.result;
  };
  return {
    name: 'ipc',
    service,
    dir,
    ipc,
    unregister,
    raw,
    call: (method, ...args) => raw(method, args) as never,
    events,
    waitForEvent: ev.wait,
    async close() {
      unregister();
      await service.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A 2-run sweep small enough for 2 shared cores: 300 rows, depth 2, width 8, 2 epochs. */
export const TINY_SWEEP = `
name: tiny
base:
  dataset: synthetic-higgs
  rows: 300
  depth: 2
  width: 8
  epochs: 2
  batchSize: 64
  evalBatch: 64
parameters:
  activation:
    values: [bernstein, relu]
metric: { name: test_loss, goal: minimize }
`;

export async function rejection(p: Promise<unknown>): Promise<CallError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CallError) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}
