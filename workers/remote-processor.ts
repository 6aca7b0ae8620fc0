// The BullMQ sandboxed processor: runs in a child process forked by a remote worker, one run at a time, so
// training never stalls the worker's event loop (and its lock renewal). It runs the same executeRunJob as the
// local pool, sends each epoch to the workbench through job progress and waits for the workbench's ack (the
// epoch is stored) on its own Redis connection before training on. The ack says "stored", "already stored:
// resume from the stored checkpoint", or "stop".
import { hostname } from 'node:os';
import { WaitingError, type SandboxedJob } from 'bullmq';
import { Redis } from 'ioredis';
import { executeRunJob } from './run-job.js';
import type { BackendPref } from './engine/backend.js';
import { redisOptions } from './remote/redis.js';
import { parseRedisUrl } from './remote/redis-url.js';
import {
  b64,
  keys,
  toRemoteResult,
  unb64,
  type Ack,
  type RemoteJobData,
  type RemoteProgress,
  type RemoteResult,
  type StoredCheckpoint,
} from './remote/protocol.js';

const STOP_POLL_MS = 500;
const BATCH_PROGRESS_MS = 1_000;
/** A workbench that answers nothing for this long while its heartbeat lives is stuck: give the job up. */
const ACK_TIMEOUT_MS = 30 * 60_000;

// The worker process owns this child: if it dies (SIGKILL), stop too instead of training for nobody.
process.on('disconnect', () => process.exit(1));

let redis: Redis | null = null;
function connection(): Redis {
  if (!redis) {
    const url = process.env.DEEPBERN_REDIS_URL;
    if (!url) throw new Error('DEEPBERN_REDIS_URL is not set (the remote worker sets it for its job processes)');
    // The worker process has just connected with this URL: retry with ioredis' backoff rather than fail fast.
    // Commands wait through a reconnect (maxRetriesPerRequest: null); BullMQ's lock decides whether the job is
    // still ours. lazyConnect: the first command connects.
    redis = new Redis(redisOptions(parseRedisUrl(url), 'deepbern-run'));
    redis.on('error', () => undefined);
  }
  return redis;
}

type StopReason = 'cancel' | 'shutdown' | 'orphan';

export default async function processRun(
  job: SandboxedJob<RemoteJobData, RemoteResult>,
  token?: string,
  signal?: AbortSignal,
): Promise<RemoteResult> {
  const r = connection();
  const data = job.data;
  const jobId = job.id as string;
  const attempt = job.attemptsStarted;
  const worker = process.env.DEEPBERN_WORKER_ID ?? `${hostname()}:${process.ppid}`;
  const backend = (process.env.DEEPBERN_WORKER_BACKEND || data.backend || undefined) as BackendPref | undefined;
  const progress = (p: RemoteProgress) => job.updateProgress(p as unknown as object);

  const stop = new AbortController();
  let stopReason: StopReason | null = null;
  const halt = (why: StopReason) => {
    if (stopReason) return;
    stopReason = why;
    stop.abort();
  };
  // The worker aborts our signal when it shuts down (SIGINT/SIGTERM): hand the job back to the queue.
  if (signal?.aborted) halt('shutdown');
  signal?.addEventListener('abort', () => halt('shutdown'), { once: true });
  const checkStop = async () => {
    try {
      const [cancelled, alive] = await Promise.all([
        r.exists(keys.cancel(jobId)),
        r.exists(keys.workbench(data.workbench)),
      ]);
      if (cancelled === 1) halt('cancel');
      else if (alive === 0) halt('orphan');
    } catch {
      // Redis hiccup: keep training; the job's lock (renewed by the worker process) decides ownership.
    }
  };
  const poll = setInterval(() => void checkStop(), STOP_POLL_MS);

  const waitAck = async (epoch: number): Promise<Ack | null> => {
    const deadline = Date.now() + ACK_TIMEOUT_MS;
    while (!stop.signal.aborted) {
      if (Date.now() > deadline)
        throw new Error(`the workbench did not acknowledge epoch ${epoch} within ${ACK_TIMEOUT_MS / 60_000} min`);
      let reply: [key: string, value: string] | null;
      try {
        reply = await r.blpop(keys.ack(jobId, attempt), 1);
      } catch {
        await new Promise((res) => setTimeout(res, 500));
        continue;
      }
      if (!reply) continue;
      const ack = JSON.parse(reply[1]) as Ack;
      if (ack.epoch === epoch) return ack; // older acks (a re-sent epoch's) are stale news
    }
    return null;
  };

  try {
    await checkStop();
    for (;;) {
      const resume = await newestCheckpoint(r, data);
      const run = new AbortController();
      const onStop = () => run.abort();
      stop.signal.addEventListener('abort', onStop);
      let stale = false;
      let prune = false;
      let lastBatch = 0;
      const result = await executeRunJob(
        { runId: data.runId, spec: data.spec, backend, datasetFiles: data.datasetFiles, resumeFrom: resume },
        {
          signal: run.signal,
          onStart: (info) => progress({ type: 'start', attempt, worker, ...info }),
          onBatch: (p) => {
            const now = Date.now();
            if (now - lastBatch < BATCH_PROGRESS_MS) return;
            lastBatch = now;
            void progress({ type: 'batch', attempt, ...p }).catch(() => undefined);
          },
          onEpoch: async (report, checkpoint) => {
            await progress({ type: 'epoch', attempt, report, checkpoint: b64(checkpoint) });
            const ack = await waitAck(report.epoch);
            if (!ack) return; // stopping: the run's signal is already aborted
            if (ack.cancel) halt('cancel');
            if (ack.prune) prune = true;
            if (ack.stale) {
              stale = true; // this epoch was stored before (by an earlier attempt): continue from what is stored
              run.abort();
            }
          },
          shouldPrune: () => prune,
        },
      );
      stop.signal.removeEventListener('abort', onStop);
      if (stale && !stopReason) continue;
      if (stopReason === 'shutdown') {
        // Back to the queue: another worker (or this one, restarted) resumes from the stored checkpoint.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      return toRemoteResult(result);
    }
  } finally {
    clearInterval(poll);
  }
}

/** The job's checkpoint, or the one the workbench stored since the job was queued, whichever is later. */
async function newestCheckpoint(r: Redis, data: RemoteJobData): Promise<Uint8Array | undefined> {
  const raw = await r.get(keys.checkpoint(data.runId));
  if (typeof raw === 'string') {
    const stored = JSON.parse(raw) as StoredCheckpoint;
    if (stored.epoch > data.resumeEpoch) return unb64(stored.state);
  }
  return data.resumeFrom ? unb64(data.resumeFrom) : undefined;
}
