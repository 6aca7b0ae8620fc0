// Connected remote workers: each keeps a JSON record under its own key with a short TTL (a heartbeat), so a
// worker that dies drops out of the list by itself.
import { RespClient } from './resp-client.js';
import { parseRedisUrl } from './redis-url.js';
import { HEARTBEAT_TTL_MS, keys, type RemoteWorkerInfo } from './protocol.js';

export async function publishWorker(r: RespClient, info: RemoteWorkerInfo): Promise<void> {
  await r.call('SET', keys.worker(info.id), JSON.stringify({ ...info, seenAt: Date.now() }), 'PX', HEARTBEAT_TTL_MS);
}

export async function unpublishWorker(r: RespClient, id: string): Promise<void> {
  await r.call('DEL', keys.worker(id));
}

/** Workers whose heartbeat is alive, read over an open connection. */
export async function readWorkers(r: RespClient): Promise<RemoteWorkerInfo[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const reply = (await r.call('SCAN', cursor, 'MATCH', keys.workerPattern, 'COUNT', 200)) as [string, string[]];
    cursor = String(reply[0]);
    found.push(...reply[1]);
  } while (cursor !== '0');
  if (found.length === 0) return [];
  const values = (await r.call('MGET', ...found)) as (string | null)[];
  return values
    .filter((v): v is string => typeof v === 'string')
    .map((v) => JSON.parse(v) as RemoteWorkerInfo)
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** For Settings → Remote workers and `deepbern worker --list`: who is connected to this Redis, and how busy. */
export async function listRemoteWorkers(redisUrl: string): Promise<RemoteWorkerInfo[]> {
  const r = new RespClient({ ...parseRedisUrl(redisUrl), reconnect: false, connectTimeoutMs: 5_000 });
  try {
    await r.connect();
    return await readWorkers(r);
  } finally {
    r.disconnect();
  }
}
