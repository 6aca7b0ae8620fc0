// `deepbern worker --redis URL` (train runs that a workbench queues on Redis) and `--redis` for
// `deepbern sweep run|resume` (dispatch runs to those workers). docs/distributed.md.
// BullMQ and the engine load only when used: every other command starts without them.
import type { Command } from 'commander';
import type { BackendPref } from '../../workers/engine/backend.js';
import { LocalPoolExecutor } from '../scheduler/local-pool.js';
import { setExecutorFactory } from './sweep.js';
import { numberFlag, UserError } from './errors.js';
import { VERSION } from '../version.js';

// Repeated from workers/engine/backend.ts: importing that module loads tfjs.
const BACKEND_PREFS: readonly BackendPref[] = ['auto', 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

interface WorkerFlags {
  redis?: string;
  concurrency: number;
  backend?: string;
  lockDuration?: number;
  stalledInterval?: number;
  list?: boolean;
  json?: boolean;
}

function redisUrlFrom(flag: string | undefined): string {
  // The environment keeps the password out of `ps` listings.
  const url = flag ?? process.env.DEEPBERN_REDIS_URL;
  if (!url) throw new UserError('--redis URL (or DEEPBERN_REDIS_URL) is required, e.g. redis://:password@host:6379');
  return url;
}

function positiveInt(name: string, v: number | undefined, max: number): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > max))
    throw new UserError(`${name} must be an integer between 1 and ${max}`);
}

async function listWorkers(url: string, json: boolean): Promise<void> {
  const { listRemoteWorkers } = await import('../../workers/remote/registry.js');
  const { redactRedisUrl } = await import('../../workers/remote/redis-url.js');
  const list = await listRemoteWorkers(url);
  if (json) return void process.stdout.write(JSON.stringify(list) + '\n');
  if (list.length === 0) return void process.stdout.write(`no workers connected to ${redactRedisUrl(url)}\n`);
  for (const w of list)
    process.stdout.write(
      `${w.id}  backend ${w.backend}  ${w.busy}/${w.concurrency} busy${w.runs.length ? `  runs ${w.runs.join(', ')}` : ''}  v${w.version}\n`,
    );
}

async function runWorker(url: string, f: WorkerFlags): Promise<void> {
  const { startRemoteWorker } = await import('../../workers/remote-worker.js');
  const { parseRedisUrl, describeTarget } = await import('../../workers/remote/redis-url.js');
  const say = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  const handle = await startRemoteWorker({
    redisUrl: url,
    concurrency: f.concurrency,
    backend: f.backend as BackendPref | undefined,
    lockDurationMs: f.lockDuration,
    stalledIntervalMs: f.stalledInterval,
    version: VERSION,
    log: say,
  });
  say(
    `worker ${handle.info.id} connected to ${describeTarget(parseRedisUrl(url))} (concurrency ${f.concurrency}, backend ${handle.info.backend}); waiting for runs, Ctrl-C to stop`,
  );
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) process.exit(130); // second signal: leave now; BullMQ re-queues our jobs when their locks expire
      stopping = true;
      say(`${sig}: stopping; running runs go back to the queue (their stored epochs are kept)`);
      void handle.close().then(resolve, (e: unknown) => {
        say(`stopping failed: ${e instanceof Error ? e.message : String(e)}`);
        process.exitCode = 1;
        resolve();
      });
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
  say('worker stopped');
}

/** Registers `deepbern worker` and makes `sweep run|resume --redis` use the remote executor. */
export function registerRemote(program: Command): void {
  setExecutorFactory(async (o) => {
    if (!o.redis) return new LocalPoolExecutor({ workers: o.workers, backend: o.backend as never });
    const { RemoteExecutor } = await import('../scheduler/remote-executor.js');
    const ex = await RemoteExecutor.connect({
      redisUrl: o.redis,
      workers: o.workers,
      log: (l) => process.stderr.write(`deepbern: ${l}\n`),
    });
    if (ex.capacityReason?.startsWith('no remote workers')) process.stderr.write(`deepbern: ${ex.capacityReason}\n`);
    return ex;
  });

  program
    .command('worker')
    .description('train runs that workbenches queue on Redis (docs/distributed.md)')
    .option('--redis <url>', 'redis://:password@host:6379 or rediss:// (TLS); default $DEEPBERN_REDIS_URL')
    .option('--concurrency <n>', 'runs at once, one process each (default 1)', numberFlag('--concurrency'), 1)
    .option(
      '--backend <name>',
      'auto | tfjs-node-gpu | tfjs-node | wasm | cpu (default: what the sweep asks, else auto)',
    )
    .option(
      '--lock-duration <ms>',
      'a worker silent this long is presumed dead and its run re-queued (default 30000)',
      numberFlag('--lock-duration'),
    )
    .option(
      '--stalled-interval <ms>',
      'how often to look for runs of dead workers (default 30000)',
      numberFlag('--stalled-interval'),
    )
    .option('--list', 'list the workers connected to this Redis and exit')
    // Accepted like every command's --db (scripts pass it everywhere): a worker stores nothing locally.
    .option('--db <path>', 'not used: a worker keeps no store; its runs are stored by the workbench that queued them')
    .option('--json', 'with --list: JSON output')
    .action(async (f: WorkerFlags) => {
      const url = redisUrlFrom(f.redis);
      positiveInt('--concurrency', f.concurrency, 64);
      positiveInt('--lock-duration', f.lockDuration, 3_600_000);
      positiveInt('--stalled-interval', f.stalledInterval, 3_600_000);
      if (f.backend !== undefined && !(BACKEND_PREFS as readonly string[]).includes(f.backend))
        throw new UserError(`--backend must be one of ${BACKEND_PREFS.join(', ')}`);
      if (f.list) return listWorkers(url, f.json === true);
      await runWorker(url, f);
    });
}
