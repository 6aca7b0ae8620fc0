// The Piscina task: one run per call. Talks to the main thread over a MessagePort: progress and epochs out;
// `ack` (the epoch and its checkpoint are stored; maybe `prune`) and `cancel` in.
import type { MessagePort } from 'node:worker_threads';
import { executeRunJob, type RunJob, type RunJobResult } from './run-job.js';
import type { RunEvent } from '../shared/run-events.js';

export type TaskToMain = RunEvent;

export type MainToTask = { type: 'cancel' } | { type: 'ack'; epoch: number; prune?: boolean };

export interface PoolTaskInput {
  job: RunJob;
  port: MessagePort;
}

export default async function poolTask({ job, port }: PoolTaskInput): Promise<RunJobResult> {
  const abort = new AbortController();
  const waiting = new Map<number, () => void>();
  let prune = false;
  port.on('message', (m: MainToTask) => {
    if (m.type === 'cancel') {
      abort.abort();
      for (const release of waiting.values()) release();
    } else if (m.type === 'ack') {
      prune ||= m.prune === true;
      waiting.get(m.epoch)?.();
      waiting.delete(m.epoch);
    }
  });
  const send = (m: TaskToMain) => port.postMessage(m);
  try {
    return await executeRunJob(job, {
      signal: abort.signal,
      onStart: (info) => send({ type: 'start', ...info }),
      onBatch: (p) => send({ type: 'batch', ...p }),
      onEpoch: (report, checkpoint) =>
        new Promise<void>((resolve) => {
          waiting.set(report.epoch, resolve);
          send({ type: 'epoch', report, checkpoint });
        }),
      shouldPrune: () => prune,
    });
  } finally {
    port.close();
  }
}
