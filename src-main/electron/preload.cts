// The Electron preload: exposes `window.deepbern` = one function per API method + onEvent(cb) + pickFile().
// Sandboxed preloads are CommonJS and may require only 'electron' (and a few Node built-ins), so this file
// imports nothing else at runtime: the method list and channel names are repeated here, and
// test/electron-preload.test.ts checks them against shared/api.ts and src-main/transports/ipc.ts.
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { ApiErrorBody, WorkbenchApi, WorkbenchEvent } from '../../shared/api.js';

const CALL = 'deepbern:call';
const EVENT = 'deepbern:event';
const PICK_FILE = 'deepbern:pick-file';
const DROPPED_PATH = 'deepbern:dropped-path';
// Typed by the shared constant's literal type, so the two cannot drift apart (type-only import: nothing loads).
const BRIDGE_ERROR_PREFIX: typeof import('../../shared/protocol.js').BRIDGE_ERROR_PREFIX = 'deepbern-error:';

export const METHODS = [
  'system.info',
  'datasets.list',
  'datasets.import',
  'datasets.remove',
  'designs.list',
  'designs.save',
  'designs.remove',
  'sweeps.plan',
  'sweeps.launch',
  'sweeps.list',
  'sweeps.get',
  'sweeps.cancel',
  'sweeps.resume',
  'sweeps.insights',
  'runs.list',
  'runs.get',
  'runs.cancel',
  'runs.delete',
  'runs.getMany',
  'store.space',
  'store.compact',
  'runs.setTags',
  'metrics.series',
  'metrics.layerGrid',
  'metrics.layerProfile',
  'metrics.exportCsv',
  'runs.exportModel',
  'paper.figures',
  'paper.certificate',
  'paper.approx',
  'paper.reportHtml',
  'paper.examples',
  'paper.approxRun',
  'views.list',
  'views.save',
  'views.remove',
  'settings.get',
  'settings.set',
  'remote.workers',
] as const satisfies readonly (keyof WorkbenchApi)[];

type Missing = Exclude<keyof WorkbenchApi, (typeof METHODS)[number]>;
/** A compile error here names a contract method the bridge does not expose yet: add it to METHODS. */
export const EVERY_METHOD_EXPOSED: [Missing] extends [never] ? true : { missing: Missing } = true;

type Reply = { ok: true; result: unknown } | { ok: false; error: ApiErrorBody };

/** Unwraps the main process's envelope; errors keep the server's message and carry its kind. */
async function unwrap(p: Promise<Reply>): Promise<unknown> {
  const r = await p;
  if (r.ok) return r.result;
  // contextBridge passes only the message on to the page: carry the whole error body in it.
  const e = new Error(BRIDGE_ERROR_PREFIX + JSON.stringify(r.error)) as Error & { kind?: string };
  e.kind = r.error.kind;
  throw e;
}

const calls = Object.fromEntries(
  METHODS.map((m) => [m, (...args: unknown[]) => unwrap(ipcRenderer.invoke(CALL, m, args) as Promise<Reply>)]),
) as unknown as {
  [M in (typeof METHODS)[number]]: WorkbenchApi[M];
};

const api = {
  ...calls,
  /** Subscribe to WorkbenchEvents; returns the unsubscribe function. */
  onEvent(cb: (e: WorkbenchEvent) => void): () => void {
    const listener = (_: IpcRendererEvent, e: WorkbenchEvent) => cb(e);
    ipcRenderer.on(EVENT, listener);
    return () => void ipcRenderer.removeListener(EVENT, listener);
  },
  /** The native open-file dialog (`directory: true`: a folder); the chosen path becomes importable. Null when cancelled. */
  pickFile(opts?: { directory?: boolean }): Promise<string | null> {
    return unwrap(
      (opts?.directory
        ? ipcRenderer.invoke(PICK_FILE, { directory: true })
        : ipcRenderer.invoke(PICK_FILE)) as Promise<Reply>,
    ) as Promise<string | null>;
  },
  /**
   * A File from a drop (or file input): its path on disk, granted for import by the main process (as a dialog
   * pick is); `folder: true` grants its folder instead. Null when the File has no path (e.g. made by the page).
   */
  async droppedPath(file: File, opts?: { folder?: boolean }): Promise<string | null> {
    const path = webUtils.getPathForFile(file);
    if (!path) return null;
    const reply = (
      opts?.folder ? ipcRenderer.invoke(DROPPED_PATH, path, { folder: true }) : ipcRenderer.invoke(DROPPED_PATH, path)
    ) as Promise<Reply>;
    return unwrap(reply) as Promise<string>;
  },
};

export type Api = typeof api;

contextBridge.exposeInMainWorld('deepbern', api);
