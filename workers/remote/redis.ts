// Redis connections through ioredis (BullMQ's own driver): options from our parsed URL (TLS, ACL user, db), a
// first connect that fails fast with one line a user can act on, then reconnection with backoff for as long as
// the connection lives. BullMQ gets these clients as ready-made instances (`connection: client`).
import { Redis, type RedisOptions } from 'ioredis';
import { describeTarget, type RedisTarget } from './redis-url.js';

/** Why Redis cannot be used, in words a user can act on (never the password). The CLI prints it as one line, exit 2. */
export class RedisUnavailableError extends Error {
  override name = 'UserError';
}

const CONNECT_TIMEOUT_MS = 5_000;
const CONNECTION_CLOSED = 'Connection is closed.'; // ioredis' text when a connection ends before it was ready

export interface ConnectOptions {
  /** CLIENT SETNAME: tells the connections apart in `redis-cli CLIENT LIST`. */
  name?: string;
  /** Reconnect with backoff when a connection that was up is lost (default). Off: one-shot clients. */
  reconnect?: boolean;
  /** Give up on the first connect (TCP/TLS and handshake) after this long. */
  timeoutMs?: number;
}

/**
 * ioredis options for a target. Every client (and every duplicate BullMQ makes of one) has
 * `maxRetriesPerRequest: null`, which BullMQ requires of blocking connections (Worker, QueueEvents): commands
 * wait through a reconnect instead of failing after 20 attempts. RESP2, as BullMQ's Lua scripts were written for
 * (ioredis 6 defaults to RESP3, under which a script's `true`/`false` replies change type).
 */
export function redisOptions(target: RedisTarget, name?: string): RedisOptions {
  return {
    host: target.host,
    port: target.port,
    username: target.username,
    password: target.password,
    db: target.db,
    // SNI name only for host names; ?tls_insecure=1 turns the certificate check off (redis-url.ts).
    tls: target.tls
      ? { servername: target.tls.servername, rejectUnauthorized: target.tls.rejectUnauthorized }
      : undefined,
    connectionName: name,
    protocol: 2,
    maxRetriesPerRequest: null,
    connectTimeout: CONNECT_TIMEOUT_MS,
    lazyConnect: true, // connect() below, to get its outcome; BullMQ calls connect() on the duplicates it makes
  };
}

/**
 * A connected client, or a RedisUnavailableError (refused, wrong or missing password, TLS mismatch, timeout) after
 * one attempt: a CLI must get an answer, not endless reconnects to a server that will never take it. Once up, a
 * lost connection is re-established with backoff (capped at 5 s) and commands wait meanwhile.
 */
export async function connectRedis(target: RedisTarget, opts: ConnectOptions = {}): Promise<Redis> {
  const timeoutMs = opts.timeoutMs ?? CONNECT_TIMEOUT_MS;
  let up = false;
  const client = new Redis({
    ...redisOptions(target, opts.name),
    connectTimeout: timeoutMs,
    // null: don't retry. Before the first ready that is the fail-fast; after it, only for one-shot clients.
    retryStrategy: (times) => (up && opts.reconnect !== false ? Math.min(200 * 2 ** Math.min(times, 5), 5_000) : null),
  });
  let lastError: Error | undefined;
  // Always listened to (else ioredis prints "Unhandled error event" to stderr); callers add their own to report.
  client.on('error', (e: Error) => (lastError = e));
  let timer: NodeJS.Timeout | undefined;
  const noAnswer = new Promise<never>((_, reject) => {
    // connectTimeout covers TCP/TLS; this also covers a server that accepts and then never answers.
    timer = setTimeout(
      () => reject(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })),
      timeoutMs + 1_000,
    );
  });
  try {
    await Promise.race([client.connect(), noAnswer]);
  } catch (e) {
    client.disconnect();
    throw explainRedisError(lastError ?? (e as Error), target);
  } finally {
    clearTimeout(timer);
  }
  up = true;
  return client;
}

/** Connect once, then close: a clear error up front, or nothing. */
export async function checkRedis(target: RedisTarget, timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
  const c = await connectRedis(target, { reconnect: false, timeoutMs });
  c.disconnect();
}

/** QUIT politely when connected (replies already asked for arrive first); otherwise just drop the connection. */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
  else client.disconnect();
}

/** An ioredis or socket error → one line naming the server (no password) and what to do. */
export function explainRedisError(e: Error, target: RedisTarget): RedisUnavailableError {
  const where = `Redis at ${describeTarget(target)}`;
  const code = (e as NodeJS.ErrnoException).code;
  const msg = e.message ?? String(e);
  const fail = (text: string) => Object.assign(new RedisUnavailableError(text), code ? { code } : {});
  if (e.name === 'ReplyError') {
    if (/^WRONGPASS|^ERR invalid password|invalid username-password/.test(msg))
      return fail(`${where} refused the password (check the URL's :password@ part)`);
    if (/^NOAUTH/.test(msg)) return fail(`${where} requires a password: use redis://:PASSWORD@host:port`);
    if (/no password is set|without any password configured/i.test(msg))
      return fail(
        `${where} has no password set but the URL gives one; set requirepass on the server (docs/distributed.md)`,
      );
    return fail(`${where}: ${msg}`);
  }
  const cannot = `cannot reach ${where}`;
  if (code === 'ECONNREFUSED')
    return fail(`${cannot}: connection refused (is redis-server running and listening there?)`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return fail(`${cannot}: unknown host`);
  if (/certificate|self[- ]signed|CERT_|ALTNAME/i.test(`${code ?? ''} ${msg}`)) {
    return fail(`${cannot}: ${msg} (trust the server's CA with NODE_EXTRA_CA_CERTS=ca.pem; docs/distributed.md)`);
  }
  const closed = msg === CONNECTION_CLOSED || code === 'ECONNRESET' || code === 'EPIPE';
  if (
    target.tls &&
    (closed || /^ERR_SSL|^EPROTO/.test(code ?? '') || /SSL routines|wrong version number|packet length/i.test(msg))
  ) {
    return fail(
      `${cannot}: TLS handshake failed (does the server speak TLS on that port? rediss:// needs its tls-port)`,
    );
  }
  if (!target.tls && (closed || /Protocol error/i.test(msg)))
    return fail(`${cannot}: the server closed the connection (if it uses TLS, use rediss://)`);
  if (code === 'ETIMEDOUT') {
    const hint = target.tls ? 'or a plaintext port: rediss:// needs the TLS port' : 'or a TLS port: use rediss://';
    return fail(
      `${cannot}: ${/no answer/.test(msg) ? msg : 'connection timed out'} (host down, a firewall in the way, ${hint}?)`,
    );
  }
  return fail(`${cannot}: ${msg}`);
}

export type { Redis };
