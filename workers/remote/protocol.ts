// What the workbench and remote workers say to each other through Redis: the BullMQ queue, our own keys,
// and the shapes of job data, progress messages, acks and results. Binary data travels as base64.
import type { RemoteWorkerView } from '../../shared/api.js';
import type { NetworkSpec } from '../../shared/spec.js';
import type { RunEvent } from '../../shared/run-events.js';
import type { BackendPref } from '../engine/backend.js';
import type { RunJobResult } from '../run-job.js';

/** BullMQ key prefix; our own keys live under `${PREFIX}:x:`. */
export const PREFIX = 'deepbern';
export const QUEUE = 'runs';

export const keys = {
  /** INCR per execution of a run: job ids never collide when a run is queued again. */
  attempts: (runId: string) => `${PREFIX}:x:attempts:${runId}`,
  /** The last checkpoint the workbench STORED for a run: {epoch, state}. A (re)started job resumes from it. */
  checkpoint: (runId: string) => `${PREFIX}:x:ckpt:${runId}`,
  /** Acks for one BullMQ attempt of a job (a stalled job restarts under a new attempt number). */
  ack: (jobId: string, attempt: number) => `${PREFIX}:x:ack:${jobId}:${attempt}`,
  cancel: (jobId: string) => `${PREFIX}:x:cancel:${jobId}`,
  /** A workbench's heartbeat: jobs of a workbench that is gone are dropped rather than trained unsaved. */
  workbench: (id: string) => `${PREFIX}:x:workbench:${id}`,
  worker: (id: string) => `${PREFIX}:x:worker:${id}`,
  workerPattern: `${PREFIX}:x:worker:*`,
};

export const HEARTBEAT_MS = 5_000;
export const HEARTBEAT_TTL_MS = 15_000;
/** How long Redis keeps acks, cancel marks and checkpoints that nobody cleaned up. */
export const KEY_TTL_S = 7 * 24 * 3600;

export interface RemoteJobData {
  runId: string;
  spec: NetworkSpec;
  backend?: BackendPref;
  datasetFiles?: Record<string, string>;
  /** The checkpoint the run resumes from when queued (base64), and its epoch (0: from scratch). */
  resumeFrom?: string;
  resumeEpoch: number;
  /** Id of the workbench (executor) that stores this run's epochs. */
  workbench: string;
}

/** A run's events as job progress: the shared RunEvent, tagged with the BullMQ attempt; checkpoints as base64. */
export type RemoteProgress = { attempt: number } & (
  | (Extract<RunEvent, { type: 'start' }> & { worker: string })
  | Extract<RunEvent, { type: 'batch' }>
  | (Omit<Extract<RunEvent, { type: 'epoch' }>, 'checkpoint'> & { checkpoint: string })
);

/** The workbench's answer to one epoch: stored (maybe prune), already stored (resume from the stored one), or stop. */
export interface Ack {
  epoch: number;
  prune?: boolean;
  stale?: boolean;
  cancel?: boolean;
}

export type RemoteResult = Omit<RunJobResult, 'finalState'> & { finalState: string };

export interface StoredCheckpoint {
  epoch: number;
  state: string;
}

/** A worker's heartbeat record: exactly what the app shows (the contract's type). */
export type RemoteWorkerInfo = RemoteWorkerView;

export const b64 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
export const unb64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64'));

export function toRemoteResult(r: RunJobResult): RemoteResult {
  return { ...r, finalState: b64(r.finalState) };
}
export function fromRemoteResult(r: RemoteResult): RunJobResult {
  return { ...r, finalState: unb64(r.finalState) };
}
