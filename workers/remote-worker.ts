// A remote worker: a BullMQ Worker on the runs queue whose processor is a separate process per concurrent run
// (remote-processor.ts), plus a heartbeat record in Redis so the workbench can list it and size its capacity.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker, type Job } from 'bullmq';
import type { BackendPref } from './engine/backend.js';
import { closeRedis, connectRedis } from './remote/redis.js';
import { parseRedisUrl } from './remote/redis-url.js';
import { publishWorker, unpublishWorker } from './remote/registry.js';
import { HEARTBEAT_MS, PREFIX, QUEUE, type RemoteJobData, type RemoteWorkerInfo } from './remote/protocol.js';

export interface RemoteWorkerOptions {
  redisUrl: string;
  concurrency?: number;
  /** This machine's backend; overrides the one a sweep asks for (the worker knows its hardware). */
  backend?: BackendPref;
  /** BullMQ lock: a worker silent this long is presumed dead and its job re-queued (default 30 s). */
  lockDurationMs?: number;
  /** How often workers look for such stalled jobs (default 30 s). */
  stalledIntervalMs?: number;
  version?: string;
  log?(line: string): void;
}

export interface RemoteWorkerHandle {
  readonly info: RemoteWorkerInfo;
  /** Stop taking jobs; running ones stop after their current batch and go back to the queue. */
  close(): Promise<void>;
}

/** The compiled processor module (under vitest this file runs from source: point at dist/). */
export function processorFile(): string {
  const here = fileURLToPath(import.meta.url);
  const file = here.endsWith('.ts')
    ? fileURLToPath(new URL('../dist/workers/remote-processor.js', import.meta.url))
    : fileURLToPath(new URL('./remote-processor.js', import.meta.url));
  if (!existsSync(file)) throw new Error(`remote processor not built: ${file} is missing (run npm run build)`);
  return file;
}

export async function startRemoteWorker(opts: RemoteWorkerOptions): Promise<RemoteWorkerHandle> {
  const target = parseRedisUrl(opts.redisUrl);
  const processor = processorFile();
  // One clear error (refused, wrong password…) instead of endless reconnects; once up, it reconnects by itself.
  const redis = await connectRedis(target, { name: 'deepbern-worker' });
  const log = opts.log ?? (() => undefined);
  const concurrency = opts.concurrency ?? 1;
  const info: RemoteWorkerInfo = {
    id: `${hostname()}:${process.pid}`,
    host: hostname(),
    pid: process.pid,
    backend: opts.backend ?? 'auto',
    concurrency,
    busy: 0,
    runs: [],
    version: opts.version ?? '',
    startedAt: Date.now(),
    seenAt: Date.now(),
  };
  const publish = () => void publishWorker(redis, info).catch(() => undefined);

  // BullMQ uses our client (heartbeats share it) for its regular commands and makes a duplicate for its blocking
  // fetch (BullMQ closes that one, we close ours). maxRetriesPerRequest is null on both, as BullMQ requires.
  const worker = new Worker<RemoteJobData>(QUEUE, processor, {
    connection: redis,
    prefix: PREFIX,
    concurrency,
    // Child processes, not threads: each holds its own wasm heap and dataset, and a crash takes down one run.
    useWorkerThreads: false,
    workerForkOptions: {
      env: {
        ...process.env,
        DEEPBERN_REDIS_URL: opts.redisUrl,
        DEEPBERN_WORKER_BACKEND: opts.backend ?? '',
        DEEPBERN_WORKER_ID: info.id,
      },
    },
    lockDuration: opts.lockDurationMs ?? 30_000,
    stalledInterval: opts.stalledIntervalMs ?? 30_000,
    // A job re-queued this often (its workers keep dying) fails instead of looping forever.
    maxStalledCount: 5,
  });
  let lastError = '';
  worker.on('error', (e: Error) => {
    if (e.message !== lastError) log(`worker: ${e.message}`);
    lastError = e.message;
  });
  const runs = new Map<string, string>(); // job id → run id
  const track = () => {
    info.runs = [...runs.values()];
    info.busy = runs.size;
    publish();
  };
  worker.on('active', (job: Job<RemoteJobData>) => {
    runs.set(job.id as string, job.data.runId);
    track();
    log(`run ${job.data.runId} started (job ${job.id}, attempt ${job.attemptsStarted})`);
  });
  const done = (job: Job<RemoteJobData> | undefined, what: string) => {
    if (!job?.id || !runs.delete(job.id)) return;
    track();
    log(`run ${job.data.runId} ${what}`);
  };
  worker.on('completed', (job: Job<RemoteJobData>, result: { status?: string }) => done(job, result?.status ?? 'done'));
  worker.on('failed', (job: Job<RemoteJobData> | undefined, e: Error) =>
    done(job, e.name === 'WaitingError' ? 'handed back to the queue' : `failed: ${e.message}`),
  );
  await worker.waitUntilReady();
  publish();
  const beat = setInterval(publish, HEARTBEAT_MS);

  let closing: Promise<void> | null = null;
  return {
    info,
    close() {
      closing ??= (async () => {
        clearInterval(beat);
        await unpublishWorker(redis, info.id).catch(() => undefined);
        worker.cancelAllJobs('shutdown'); // running jobs stop after their batch and return to the queue
        await worker.close();
        await closeRedis(redis);
      })();
      return closing;
    },
  };
}
