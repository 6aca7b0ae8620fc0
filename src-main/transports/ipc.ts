// Electron mode: the contract over IPC. Plain functions over an injectable ipcMain-like seam, so the adapter is
// tested without Electron. One invoke channel carries (method, args); anything not in the contract, or with
// arguments API_ARGS refuses, is rejected before the service sees it. Replies are envelopes: Electron keeps
// only an Error's message across IPC, and the renderer needs the error's kind too.
import type { ApiErrorBody, WorkbenchApi, WorkbenchEvent } from '../../shared/api.js';
import { invoke, parseCall } from '../service/dispatch.js';
import { ServiceError, toApiError } from '../service/errors.js';
import type { FileGrants } from '../service/file-grants.js';
import { stat } from 'node:fs/promises';
import { dirname, isAbsolute } from 'node:path';

/** Channel names. The sandboxed preload (preload.cts) cannot import this module and repeats them; a test checks. */
export const IPC_CHANNELS = {
  call: 'deepbern:call',
  event: 'deepbern:event',
  pickFile: 'deepbern:pick-file',
  droppedPath: 'deepbern:dropped-path',
} as const;

export type IpcReply = { ok: true; result: unknown } | { ok: false; error: ApiErrorBody };

/** The part of Electron's IpcMainInvokeEvent we look at. */
export interface InvokeEventLike {
  senderFrame?: { url: string } | null;
}

/** The part of Electron's ipcMain we use. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

/** The part of Electron's WebContents we use. */
export interface WebContentsLike {
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
}

export type IpcService = WorkbenchApi & {
  onEvent(cb: (e: WorkbenchEvent) => void): () => void;
  readonly grants: FileGrants;
};

export interface IpcOptions {
  /** Only our own page may call (e.g. its URL is the app's index.html); default: any sender. */
  isTrustedSender?(event: InvokeEventLike): boolean;
  /** Native "open file" dialog; the chosen path is granted for import. Null when cancelled. */
  pickFile?(opts?: { directory?: boolean }): Promise<string | null>;
  /** Where events go (the app's windows). */
  targets(): WebContentsLike[];
}

/** Handles one contract call: validate, invoke, wrap. Never throws. */
export async function handleCall(service: WorkbenchApi, method: unknown, args: unknown): Promise<IpcReply> {
  try {
    const call = parseCall(method, args);
    return { ok: true, result: (await invoke(service, call)) ?? null };
  } catch (e) {
    return { ok: false, error: toApiError(e) };
  }
}

/**
 * A file the user dropped on the window: the preload read its path with webUtils.getPathForFile (only a real
 * drop or file input yields one) and asks for it to be importable, as a dialog pick would be. `folder: true`
 * grants its folder instead (the four files of an MNIST-style IDX set). Only existing files are granted.
 */
export async function grantDroppedPath(grants: FileGrants, raw: unknown, opts?: unknown): Promise<string> {
  if (typeof raw !== 'string' || raw === '' || !isAbsolute(raw))
    throw new ServiceError('bad-request', 'a dropped file needs an absolute path');
  const folder = typeof opts === 'object' && opts !== null && (opts as { folder?: unknown }).folder === true;
  const target = folder ? dirname(raw) : raw;
  const st = await stat(target).catch(() => null);
  if (!st) throw new ServiceError('not-found', `${target} does not exist (was it moved after dropping?)`);
  if (folder ? !st.isDirectory() : !st.isFile())
    throw new ServiceError('bad-request', `${target} is not a ${folder ? 'folder' : 'file'}`);
  grants.grantPath(target);
  return target;
}

/** Registers the handlers and the event fan-out; returns a function undoing both. */
export function registerIpc(ipc: IpcMainLike, service: IpcService, opts: IpcOptions): () => void {
  const trusted = (e: InvokeEventLike) => opts.isTrustedSender?.(e) ?? true;
  const untrusted = (): IpcReply => ({
    ok: false,
    error: { error: 'refused: the call did not come from the workbench window', kind: 'forbidden' },
  });

  ipc.handle(IPC_CHANNELS.call, (event, method, args, ...extra) => {
    if (!trusted(event)) return untrusted();
    if (extra.length)
      return {
        ok: false,
        error: { error: 'malformed call: expected (method, args)', kind: 'bad-request' },
      } satisfies IpcReply;
    return handleCall(service, method, args);
  });

  ipc.handle(IPC_CHANNELS.pickFile, async (event, raw?: unknown): Promise<IpcReply> => {
    if (!trusted(event)) return untrusted();
    try {
      if (!opts.pickFile) throw new ServiceError('bad-request', 'no file dialog in this mode');
      // The only option: a folder instead of a file (an MNIST-style IDX folder).
      const directory = typeof raw === 'object' && raw !== null && (raw as { directory?: unknown }).directory === true;
      const path = await opts.pickFile(directory ? { directory: true } : undefined);
      if (path) service.grants.grantPath(path);
      return { ok: true, result: path };
    } catch (e) {
      return { ok: false, error: toApiError(e) };
    }
  });

  ipc.handle(IPC_CHANNELS.droppedPath, async (event, raw?: unknown, opts?: unknown): Promise<IpcReply> => {
    if (!trusted(event)) return untrusted();
    try {
      return { ok: true, result: await grantDroppedPath(service.grants, raw, opts) };
    } catch (e) {
      return { ok: false, error: toApiError(e) };
    }
  });

  const unsubscribe = service.onEvent((e) => {
    for (const wc of opts.targets()) if (!wc.isDestroyed()) wc.send(IPC_CHANNELS.event, e);
  });

  return () => {
    unsubscribe();
    ipc.removeHandler(IPC_CHANNELS.call);
    ipc.removeHandler(IPC_CHANNELS.pickFile);
    ipc.removeHandler(IPC_CHANNELS.droppedPath);
  };
}
