// Connected remote workers: each keeps a JSON record under its own key with a short TTL (a heartbeat), so a
// worker that dies drops out of the list by itself.
import type { Redis } from 'ioredis';
import { connectRedis } from './redis.js';
import { parseRedisUrl } from './redis-url.js';
import { HEARTBEAT_TTL_MS, keys, type RemoteWorkerInfo } from './protocol.js';

export async function publishWorker(r: Redis, info: RemoteWorkerInfo): Promise<void> {
  await r.set(keys.worker(info.id), JSON.stringify({ ...info, seenAt: Date.now() }), 'PX', HEARTBEAT_TTL_MS);
}

export async function unpublishWorker(r: Redis, id: string): Promise<void> {
  await r.del(keys.worker(id));
}

/** Workers whose heartbeat is alive, read over an open connection. */
export async function readWorkers(r: Redis): Promise<RemoteWorkerInfo[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await r.scan(cursor, 'MATCH', keys.workerPattern, 'COUNT', 200);
    cursor = next;
    found.push(...batch);
  } while (cursor !== '0');
  if (found.length === 0) return [];
  const values = await r.mget(...new Set(found)); // SCAN may return a key twice
  return values
    .filter((v): v is string => typeof v === 'string')
    .map((v) => JSON.parse(v) as RemoteWorkerInfo)
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** For Settings → Remote workers and `deepbern worker --list`: who is connected to this Redis, and how busy. */
export async function listRemoteWorkers(redisUrl: string): Promise<RemoteWorkerInfo[]> {
  const r = await connectRedis(parseRedisUrl(redisUrl), { name: 'deepbern-list', reconnect: false });
  try {
    return await readWorkers(r);
  } finally {
    r.disconnect();
  }
}
