// One Redis connection: TCP or TLS, AUTH/SELECT/CLIENT SETNAME on connect, commands pipelined in order,
// an offline queue while (re)connecting, and reconnection with backoff for long-lived clients.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { encodeCommand, RespError, RespParser, type Arg, type RespValue } from './resp.js';
import { describeTarget, type RedisTarget } from './redis-url.js';

export const CONNECTION_CLOSED = 'Connection is closed.'; // BullMQ recognises this text as a connection error

export interface RespClientOptions extends RedisTarget {
  connectionName?: string;
  /** Reconnect after a lost connection (long-lived clients). Off: the first failure ends the client. */
  reconnect?: boolean;
  connectTimeoutMs?: number;
}

/** Why Redis cannot be used, in words a user can act on (no password in it). */
export class RedisUnavailableError extends Error {
  override name = 'UserError';
}

interface Waiter {
  resolve(v: RespValue): void;
  reject(e: Error): void;
}

type Status = 'wait' | 'connecting' | 'connect' | 'ready' | 'reconnecting' | 'end';

export class RespClient extends EventEmitter {
  status: Status = 'wait';
  private socket: net.Socket | null = null;
  private parser = new RespParser();
  private sent: Waiter[] = [];
  private offline: { args: Arg[]; w: Waiter }[] = [];
  private attempts = 0;
  private ended = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private ready: Promise<void> | null = null;
  /** Run after AUTH/SELECT on every (re)connect, before queued commands (e.g. reloading Lua scripts). */
  onReconnect: (() => Arg[][]) | null = null;

  constructor(readonly target: RespClientOptions) {
    super();
  }

  /** Resolves once connected and authenticated; rejects with a RedisUnavailableError if that fails (no retry). */
  connect(): Promise<void> {
    if (this.status === 'ready') return Promise.resolve();
    if (this.ready) return this.ready;
    this.ended = false;
    this.ready = new Promise<void>((resolve, reject) => {
      const onReady = () => {
        this.off('end', onEnd);
        resolve();
      };
      const onEnd = (e?: Error) => {
        this.off('ready', onReady);
        reject(e ?? new RedisUnavailableError(`Redis at ${describeTarget(this.target)}: ${CONNECTION_CLOSED}`));
      };
      this.once('ready', onReady);
      this.once('end', onEnd);
    }).finally(() => (this.ready = null));
    this.open();
    return this.ready;
  }

  call(...args: Arg[]): Promise<RespValue> {
    return new Promise<RespValue>((resolve, reject) => {
      const w: Waiter = { resolve, reject };
      if (this.status === 'ready' && this.socket) this.send(args, w);
      else if (this.status === 'end' || this.ended) reject(new Error(CONNECTION_CLOSED));
      else {
        this.offline.push({ args, w });
        if (this.status === 'wait') void this.connect().catch(() => undefined);
      }
    });
  }

  /** Close now: in-flight and queued commands (a blocking BLPOP too) fail with "Connection is closed.". */
  disconnect(): void {
    this.ended = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.socket) this.socket.destroy();
    else this.finish();
  }

  /** QUIT politely (waits for replies already asked for), then close. */
  async quit(): Promise<void> {
    if (this.status === 'end') return;
    if (this.status !== 'ready') return this.disconnect();
    this.ended = true;
    await this.call('QUIT').catch(() => undefined);
    this.socket?.destroy();
  }

  private send(args: Arg[], w: Waiter): void {
    this.sent.push(w);
    this.socket?.write(encodeCommand(args));
  }

  private open(): void {
    const t = this.target;
    this.status = this.attempts === 0 ? 'connecting' : 'reconnecting';
    this.parser = new RespParser();
    const socket = t.tls
      ? tls.connect({ host: t.host, port: t.port, servername: t.tls.servername, rejectUnauthorized: t.tls.rejectUnauthorized })
      : net.connect({ host: t.host, port: t.port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    let lastError: Error | null = null;
    const timeout = setTimeout(() => socket.destroy(new Error(`connect timed out after ${t.connectTimeoutMs ?? 10_000} ms`)), t.connectTimeoutMs ?? 10_000);
    socket.once(t.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timeout);
      this.status = 'connect';
      this.emit('connect');
      void this.handshake().then(
        () => {
          this.attempts = 0;
          this.status = 'ready';
          const queued = this.offline.splice(0);
          for (const q of queued) this.send(q.args, q.w);
          this.emit('ready');
        },
        (e: Error) => {
          lastError = e;
          this.ended = true; // a refused password or a protocol error will not fix itself by retrying
          socket.destroy();
        },
      );
    });
    socket.on('data', (chunk: Buffer) => {
      let replies: RespValue[];
      try {
        replies = this.parser.feed(chunk);
      } catch (e) {
        socket.destroy(e as Error);
        return;
      }
      for (const r of replies) {
        const w = this.sent.shift();
        if (!w) continue; // a reply nobody asked for: ignore rather than crash
        if (r instanceof RespError) w.reject(r);
        else w.resolve(r);
      }
    });
    socket.on('error', (e: Error) => {
      lastError = lastError ?? e;
    });
    socket.on('close', () => {
      clearTimeout(timeout);
      this.socket = null;
      const inFlight = this.sent.splice(0);
      for (const w of inFlight) w.reject(new Error(CONNECTION_CLOSED));
      const err = lastError ? this.explain(lastError) : null;
      if (err && this.listenerCount('error') > 0) this.emit('error', err);
      this.emit('close');
      if (!this.ended && this.target.reconnect) {
        this.attempts++;
        this.status = 'reconnecting';
        this.emit('reconnecting');
        this.retryTimer = setTimeout(() => this.open(), Math.min(200 * 2 ** Math.min(this.attempts, 6), 5_000));
      } else this.finish(err ?? undefined);
    });
  }

  private finish(err?: Error): void {
    this.status = 'end';
    const queued = this.offline.splice(0);
    for (const q of queued) q.w.reject(err ?? new Error(CONNECTION_CLOSED));
    this.emit('end', err);
  }

  /** AUTH, SELECT and the client name, sent before anything queued. */
  private async handshake(): Promise<void> {
    const t = this.target;
    const steps: Arg[][] = [];
    if (t.password !== undefined) steps.push(t.username ? ['AUTH', t.username, t.password] : ['AUTH', t.password]);
    steps.push(['PING']); // answers NOAUTH when a password is needed and none was given
    if (t.db) steps.push(['SELECT', t.db]);
    if (t.connectionName) steps.push(['CLIENT', 'SETNAME', t.connectionName]);
    steps.push(...(this.onReconnect?.() ?? []));
    const replies = steps.map((s) => new Promise<RespValue>((resolve, reject) => this.send(s, { resolve, reject })));
    await Promise.all(replies);
  }

  private explain(e: Error): Error {
    const where = `Redis at ${describeTarget(this.target)}`;
    const code = (e as NodeJS.ErrnoException).code;
    if (e instanceof RespError) {
      if (/^(WRONGPASS|ERR invalid password|ERR invalid username-password)/.test(e.message)) return new RedisUnavailableError(`${where} refused the password (check the URL's :password@ part)`);
      if (/^NOAUTH/.test(e.message)) return new RedisUnavailableError(`${where} requires a password: use redis://:PASSWORD@host:port`);
      if (/^ERR AUTH .*no password is set/i.test(e.message)) return new RedisUnavailableError(`${where} has no password set but the URL gives one; set requirepass on the server (docs/distributed.md)`);
      return new RedisUnavailableError(`${where}: ${e.message}`);
    }
    if (code === 'ECONNREFUSED') return Object.assign(new RedisUnavailableError(`cannot reach ${where}: connection refused (is redis-server running and listening there?)`), { code });
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return Object.assign(new RedisUnavailableError(`cannot reach ${where}: unknown host`), { code });
    if ((code === 'ECONNRESET' || code === 'EPIPE') && this.target.tls) return Object.assign(new RedisUnavailableError(`cannot reach ${where}: connection reset during TLS (does the server speak TLS on that port?)`), { code });
    if ((code === 'ECONNRESET' || code === 'EPIPE') && !this.target.tls) return Object.assign(new RedisUnavailableError(`cannot reach ${where}: connection reset (if the server uses TLS, use rediss://)`), { code });
    if (/certificate|self.signed/i.test(e.message)) return Object.assign(new RedisUnavailableError(`cannot reach ${where}: ${e.message} (trust the server's CA with NODE_EXTRA_CA_CERTS=ca.pem; docs/distributed.md)`), { code });
    return Object.assign(new RedisUnavailableError(`cannot reach ${where}: ${e.message}`), { code });
  }
}

/** Connect once, PING, close: a clear error up front instead of endless reconnect attempts. */
export async function checkRedis(target: RedisTarget, timeoutMs = 5_000): Promise<void> {
  const c = new RespClient({ ...target, reconnect: false, connectTimeoutMs: timeoutMs });
  try {
    await c.connect();
  } finally {
    c.disconnect();
  }
}
