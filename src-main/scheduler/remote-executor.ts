// The remote executor: one BullMQ job per run on Redis, trained by `deepbern worker` processes on any machine.
// The workbench stays the only SQLite writer: epochs come back as job progress (QueueEvents), the scheduler
// stores each one, and only then does the worker get its ack and train on. A killed worker's job stalls and
// is re-queued by BullMQ; it resumes from the checkpoint the workbench last stored, so no epoch lands twice.
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RunJob, RunJobResult } from '../../workers/run-job.js';
import { loadState } from '../../workers/engine/state.js';
import { closeRedis, connectRedis } from '../../workers/remote/redis.js';
import { parseRedisUrl } from '../../workers/remote/redis-url.js';
import { readWorkers } from '../../workers/remote/registry.js';
import {
  b64,
  fromRemoteResult,
  HEARTBEAT_MS,
  HEARTBEAT_TTL_MS,
  KEY_TTL_S,
  keys,
  PREFIX,
  QUEUE,
  type Ack,
  type RemoteJobData,
  type RemoteProgress,
  type RemoteResult,
} from '../../workers/remote/protocol.js';
import type { Executor, ExecutionHooks } from './executor.js';
import { RunInterruptedError } from './run-recorder.js';

export interface RemoteExecutorOptions {
  redisUrl: string;
  /** In-flight runs. Default: the summed concurrency of the workers connected now (refreshed every few s). */
  workers?: number;
  /** How long a cancelled run whose job nobody picks up (no live worker) waits before counting as cancelled. */
  cancelGraceMs?: number;
  /** One-line notices (Redis connection lost). */
  log?(line: string): void;
}

interface Pending {
  runId: string;
  /** Checks in a row that found the job missing from Redis (a Redis restart without persistence loses it). */
  missing: number;
  hooks: ExecutionHooks;
  /** Epochs are stored one after another, in the order they arrive. */
  chain: Promise<void>;
  storeError?: unknown;
  settle(r: RunJobResult | Error): void;
}

const WORKERS_REFRESH_MS = 3_000;
/** After Redis lost our jobs, runs that would start within this long are interrupted as well. */
const LOST_PAUSE_MS = 60_000;

export class RemoteExecutor implements Executor {
  capacityReason?: string;
  private readonly id = randomUUID();
  private readonly pending = new Map<string, Pending>();
  private connectedCapacity = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;
  /** When Redis last lost our jobs: runs queued right after are interrupted too, instead of trusting it at once. */
  private lostAt = 0;

  private constructor(
    private readonly opts: RemoteExecutorOptions,
    private readonly redis: Redis,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
  ) {}

  /** Connects (a clear error if Redis is unreachable or refuses the password) and starts listening. */
  static async connect(opts: RemoteExecutorOptions): Promise<RemoteExecutor> {
    // Fails fast with one line (refused, wrong password, TLS mismatch…); once up, reconnects with backoff and
    // commands wait meanwhile.
    const redis = await connectRedis(parseRedisUrl(opts.redisUrl), { name: 'deepbern-workbench' });
    // The Queue shares our client; QueueEvents blocks on XREAD, so BullMQ gives it a duplicate (and closes that).
    // Progress events carry checkpoints: keep the stream short (QueueEvents reads it live).
    const queue = new Queue(QUEUE, { connection: redis, prefix: PREFIX, streams: { events: { maxLen: 1000 } } });
    const events = new QueueEvents(QUEUE, { connection: redis, prefix: PREFIX });
    queue.on('error', () => undefined);
    events.on('error', () => undefined);
    try {
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
      const ex = new RemoteExecutor(opts, redis, queue, events);
      await ex.start();
      return ex;
    } catch (e) {
      await Promise.allSettled([events.close(), queue.close()]);
      redis.disconnect();
      throw e;
    }
  }

  get capacity(): number {
    return this.opts.workers ?? Math.max(1, this.connectedCapacity);
  }

  /** The workers connected right now (for the UI and the CLI's start line). */
  async workers() {
    return readWorkers(this.redis);
  }

  private async start(): Promise<void> {
    const beat = () => this.redis.set(keys.workbench(this.id), String(process.pid), 'PX', HEARTBEAT_TTL_MS);
    await beat();
    this.timers.push(setInterval(() => void beat().catch(() => undefined), HEARTBEAT_MS));
    const refresh = async () => {
      const list = await readWorkers(this.redis);
      this.connectedCapacity = list.reduce((s, w) => s + w.concurrency, 0);
      this.capacityReason = this.opts.workers
        ? undefined
        : list.length === 0
          ? 'no remote workers connected yet: runs wait in the queue until one starts'
          : `${list.length} remote worker${list.length > 1 ? 's' : ''} connected`;
    };
    await refresh();
    if (this.opts.workers === undefined)
      this.timers.push(setInterval(() => void refresh().catch(() => undefined), WORKERS_REFRESH_MS));
    this.events.on('progress', ({ jobId, data }: { jobId: string; data: unknown }) =>
      this.onProgress(jobId, data as RemoteProgress),
    );
    this.events.on('completed', ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => {
      void this.finish(jobId, () => fromRemoteResult(returnvalue as RemoteResult));
    });
    this.events.on('failed', ({ jobId, failedReason }: { jobId: string; failedReason: string }) => {
      // The worker's run process died (SIGKILL, OOM): not the run's fault; it resumes from its last checkpoint.
      const died = /^Unexpected exit code|^Error initializing child/.test(failedReason);
      void this.finish(jobId, () =>
        died
          ? new RunInterruptedError(
              `the remote worker's run process died (${failedReason}); \`deepbern sweep resume\` continues from the last checkpoint`,
            )
          : new Error(`remote worker: ${failedReason}`),
      );
    });
    // Jobs Redis no longer has (restarted without persistence, FLUSHALL): their runs end interrupted, not hang.
    this.timers.push(setInterval(() => void this.checkLostJobs().catch(() => undefined), WORKERS_REFRESH_MS));
    let down = false;
    this.redis.on('close', () => {
      if (down || this.closed) return;
      down = true;
      this.opts.log?.(
        `lost the connection to Redis; reconnecting (runs whose jobs Redis lost end interrupted and resumable)`,
      );
    });
    this.redis.on('ready', () => void (down = false));
  }

  async execute(job: RunJob, hooks: ExecutionHooks): Promise<RunJobResult> {
    const { runId } = job;
    if (Date.now() - this.lostAt < LOST_PAUSE_MS) {
      // The sweep ends resumable (one line per run) rather than trickling on over a Redis that just lost its data.
      throw new RunInterruptedError(
        'not started: Redis lost its queued jobs (restarted without persistence?); `deepbern sweep resume` runs it',
      );
    }
    const attempt = await this.redis.incr(keys.attempts(runId));
    await this.redis.expire(keys.attempts(runId), KEY_TTL_S);
    const jobId = `${runId}-a${attempt}`;
    // Earlier executions of this run (a workbench that was killed) must not train on: stop and drop them.
    for (let k = 1; k < attempt; k++) {
      const old = `${runId}-a${k}`;
      await this.redis.set(keys.cancel(old), '1', 'EX', KEY_TTL_S);
      await this.queue.remove(old).catch(() => 0);
    }
    const resumeEpoch = job.resumeFrom ? loadState(job.resumeFrom).epoch : 0;
    // The stored checkpoint, as workers see it: a re-queued job resumes from here, not from its job data.
    if (job.resumeFrom)
      await this.redis.set(
        keys.checkpoint(runId),
        JSON.stringify({ epoch: resumeEpoch, state: b64(job.resumeFrom) }),
        'EX',
        KEY_TTL_S,
      );
    else await this.redis.del(keys.checkpoint(runId));

    const result = new Promise<RunJobResult>((resolve, reject) => {
      let done = false;
      this.pending.set(jobId, {
        runId,
        hooks,
        missing: 0,
        chain: Promise.resolve(),
        settle: (r) => {
          if (done) return;
          done = true;
          this.pending.delete(jobId);
          if (r instanceof Error) reject(r);
          else resolve(r);
        },
      });
    });
    const data: RemoteJobData = {
      runId,
      spec: job.spec,
      backend: job.backend,
      datasetFiles: job.datasetFiles,
      resumeFrom: job.resumeFrom ? b64(job.resumeFrom) : undefined,
      resumeEpoch,
      workbench: this.id,
    };
    await this.queue.add('run', data, { jobId, removeOnComplete: true, removeOnFail: { count: 1000 }, attempts: 1 });

    const onAbort = () => void this.cancel(jobId, job, resumeEpoch);
    hooks.signal.addEventListener('abort', onAbort, { once: true });
    if (hooks.signal.aborted) onAbort();
    try {
      return await result;
    } finally {
      hooks.signal.removeEventListener('abort', onAbort);
      await this.redis.del(keys.cancel(jobId), keys.checkpoint(runId)).catch(() => undefined);
    }
  }

  private async checkLostJobs(): Promise<void> {
    for (const [jobId, p] of [...this.pending]) {
      const state = await this.queue.getJobState(jobId);
      p.missing = state === 'unknown' ? p.missing + 1 : 0;
      // Twice in a row: a job that just completed is removed too, but its 'completed' event settles it first.
      if (p.missing >= 2) {
        this.lostAt = Date.now();
        void this.finish(
          jobId,
          () =>
            new RunInterruptedError(
              "Redis lost this run's job (restarted without persistence?); `deepbern sweep resume` continues from the last checkpoint",
            ),
        );
      }
    }
  }

  /** Cancel: a waiting job is removed at once; a running one sees the mark within a second and ends cancelled. */
  private async cancel(jobId: string, job: RunJob, resumeEpoch: number): Promise<void> {
    const cancelled = (): RunJobResult => ({
      status: 'cancelled',
      epochsDone: resumeEpoch,
      finalState: job.resumeFrom ?? new Uint8Array(),
      paramCount: 0,
      backend: job.backend === 'auto' || !job.backend ? 'wasm' : job.backend,
    });
    await this.redis.set(keys.cancel(jobId), '1', 'EX', KEY_TTL_S).catch(() => undefined);
    const removed = await this.queue.remove(jobId).catch(() => 0);
    if (removed === 1) return void this.finish(jobId, cancelled);
    // Active on a worker (or on a dead one with no live worker to re-queue it): don't wait forever.
    const t = setTimeout(() => {
      void this.queue.remove(jobId).catch(() => 0);
      void this.finish(jobId, cancelled);
    }, this.opts.cancelGraceMs ?? 30_000);
    t.unref();
  }

  private onProgress(jobId: string, p: RemoteProgress): void {
    const entry = this.pending.get(jobId);
    if (!entry) return; // another workbench's job, or one that already ended
    if (p.type === 'start')
      entry.hooks.onStart({
        backend: p.backend,
        paramCount: p.paramCount,
        dataSource: p.dataSource,
        ...(p.threads !== undefined ? { threads: p.threads } : {}),
      });
    else if (p.type === 'batch') entry.hooks.onBatch(p);
    else if (p.type === 'epoch') entry.chain = entry.chain.then(() => this.storeEpoch(jobId, entry, p));
  }

  private async storeEpoch(
    jobId: string,
    entry: Pending,
    p: Extract<RemoteProgress, { type: 'epoch' }>,
  ): Promise<void> {
    const { epoch } = p.report;
    let ack: Ack;
    try {
      const { prune } = await entry.hooks.onEpoch(p.report, new Uint8Array(Buffer.from(p.checkpoint, 'base64')));
      await this.redis.set(
        keys.checkpoint(entry.runId),
        JSON.stringify({ epoch, state: p.checkpoint }),
        'EX',
        KEY_TTL_S,
      );
      ack = { epoch, prune };
    } catch (e) {
      if (isAlreadyStored(e))
        ack = { epoch, stale: true }; // a re-run re-sent it: the worker resumes from the stored one
      else {
        entry.storeError = e; // storing failed: stop the run rather than train on unsaved epochs
        ack = { epoch, cancel: true };
      }
    }
    const key = keys.ack(jobId, p.attempt);
    await this.redis.rpush(key, JSON.stringify(ack));
    await this.redis.expire(key, KEY_TTL_S);
  }

  private async finish(jobId: string, outcome: () => RunJobResult | Error): Promise<void> {
    const entry = this.pending.get(jobId);
    if (!entry) return;
    await entry.chain.catch(() => undefined); // every epoch that arrived is stored (or refused) first
    const r = outcome();
    entry.settle(entry.storeError && !(r instanceof Error) && r.status === 'cancelled' ? asError(entry.storeError) : r);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    for (const [jobId, p] of this.pending) p.settle(new Error(`remote executor closed while job ${jobId} was running`));
    await this.redis.del(keys.workbench(this.id)).catch(() => undefined);
    await Promise.allSettled([this.events.close(), this.queue.close()]);
    await closeRedis(this.redis);
  }
}

function isAlreadyStored(e: unknown): boolean {
  return e instanceof Error && e.name === 'StoreError' && (e as { code?: unknown }).code === 'conflict';
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
