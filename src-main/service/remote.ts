// Settings → Remote workers: who is connected to the configured Redis, and the executor sweeps use when
// "use remote workers" is on. Only public functions of workers/remote/ and the RemoteExecutor are called, and
// they load on first use (BullMQ and ioredis stay out of a local-only session).
import type { RemoteStatus } from '../../shared/api.js';
import type { BackendInfo } from '../../workers/engine/backend.js';
import type { Executor } from '../scheduler/executor.js';

export async function remoteStatus(redisUrl: string | null): Promise<RemoteStatus> {
  const checkedAt = new Date().toISOString();
  if (!redisUrl) return { redisUrl: null, reachable: false, error: 'no Redis URL set', workers: [], checkedAt };
  const { redactRedisUrl } = await import('../../workers/remote/redis-url.js');
  const shown = redactRedisUrl(redisUrl);
  try {
    const { listRemoteWorkers } = await import('../../workers/remote/registry.js');
    const list = await listRemoteWorkers(redisUrl);
    return {
      redisUrl: shown,
      reachable: true,
      workers: list.map((w) => ({
        id: w.id,
        host: w.host,
        pid: w.pid,
        backend: w.backend,
        concurrency: w.concurrency,
        busy: w.busy,
        runs: w.runs,
        version: w.version,
        startedAt: w.startedAt,
        seenAt: w.seenAt,
      })),
      checkedAt,
    };
  } catch (e) {
    // Their messages name host and port, never the password; redact anyway in case a URL is echoed.
    const msg = (e instanceof Error ? e.message : String(e)).split(redisUrl).join(shown);
    return { redisUrl: shown, reachable: false, error: msg, workers: [], checkedAt };
  }
}

export async function connectRemoteExecutor(redisUrl: string, _backend: BackendInfo): Promise<Executor> {
  const { RemoteExecutor } = await import('../scheduler/remote-executor.js');
  return RemoteExecutor.connect({ redisUrl });
}
