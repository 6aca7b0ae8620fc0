// BullMQ's IRedisClient over our RespClient. BullMQ 6 takes any client through `RedisConnection.clientFactory`;
// with ioredis absent (an optional peer this package does not install) this adapter is how Queue, Worker and
// QueueEvents reach Redis. Only the commands BullMQ's interface declares are here.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { ConnectionClosedError, RedisConnection, type IRedisClient, type IRedisTransaction, type RedisOptions } from 'bullmq';
import type { Arg, RespValue } from './resp.js';
import { RespError } from './resp.js';
import { CONNECTION_CLOSED, RespClient } from './resp-client.js';
import type { RedisTarget } from './redis-url.js';

type Reply = RespValue;
const str = (v: Reply): string | null => (v === null ? null : String(v));
const strs = (v: Reply): string[] => (Array.isArray(v) ? v.map((x) => String(x)) : []);
const num = (v: Reply): number => Number(v);

function scriptArgs(args: unknown[], numberOfKeys: number): Arg[] {
  const list = args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
  return list.map((a, i) => (Buffer.isBuffer(a) ? a : a === undefined || a === null ? '' : i < numberOfKeys ? String(a) : (a as Arg)));
}

interface Script {
  sha: string;
  lua: string;
  numberOfKeys: number;
}

export class BullRedisClient extends EventEmitter implements IRedisClient {
  readonly isCluster = false;
  private readonly conn: RespClient;
  private readonly scripts = new Map<string, Script>();

  constructor(readonly options: RedisOptions & RedisTarget) {
    super();
    this.conn = new RespClient({ ...options, reconnect: true });
    // Scripts live in the server's cache; after a reconnect (maybe to a restarted server) load them again.
    this.conn.onReconnect = () => [...this.scripts.values()].map((s) => ['SCRIPT', 'LOAD', s.lua]);
    for (const ev of ['connect', 'ready', 'close', 'reconnecting']) this.conn.on(ev, () => this.emit(ev));
    this.conn.on('error', (e: Error) => this.emit('error', e));
    this.conn.on('end', () => this.emit('end'));
    void this.conn.connect().catch(() => undefined); // like ioredis: connect on construction; failures surface as events
  }

  get status(): string {
    return this.conn.status;
  }
  set status(v: string) {
    // RedisConnection.close() marks clients 'end' after quit(); make sure the socket is gone too.
    if (v === 'end' && this.conn.status !== 'end') this.conn.disconnect();
  }

  private async cmd(...args: Arg[]): Promise<Reply> {
    try {
      return await this.conn.call(...args);
    } catch (e) {
      if (e instanceof Error && e.message === CONNECTION_CLOSED) throw new ConnectionClosedError(CONNECTION_CLOSED, e);
      throw e;
    }
  }

  connect(): Promise<void> {
    return this.conn.connect();
  }
  disconnect(): void {
    this.conn.disconnect();
  }
  async quit(): Promise<string> {
    await this.conn.quit();
    return 'OK';
  }
  duplicate(overrides?: Partial<RedisOptions>): IRedisClient {
    const dup = new BullRedisClient({ ...this.options, ...(overrides ?? {}) });
    for (const [name, s] of this.scripts) dup.defineCommand(name, { numberOfKeys: s.numberOfKeys, lua: s.lua });
    return dup;
  }

  defineCommand(name: string, def: { numberOfKeys: number; lua: string }): void {
    const sha = createHash('sha1').update(def.lua).digest('hex');
    this.scripts.set(name, { sha, lua: def.lua, numberOfKeys: def.numberOfKeys });
    // BullMQ checks `client[name]` to see whether a script is defined.
    (this as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => this.runCommand(name, args);
    void this.conn.call('SCRIPT', 'LOAD', def.lua).catch(() => undefined); // EVALSHA inside MULTI needs it loaded
  }

  async runCommand(name: string, args: unknown[]): Promise<Reply> {
    const s = this.scripts.get(name);
    if (!s) throw new Error(`BullMQ: unknown command "${name}"`);
    const a = scriptArgs(args, s.numberOfKeys);
    const keys = a.slice(0, s.numberOfKeys);
    const argv = a.slice(s.numberOfKeys);
    try {
      return await this.cmd('EVALSHA', s.sha, s.numberOfKeys, ...keys, ...argv);
    } catch (e) {
      if (e instanceof RespError && e.message.startsWith('NOSCRIPT')) return this.cmd('EVAL', s.lua, s.numberOfKeys, ...keys, ...argv);
      throw e;
    }
  }

  multi(): IRedisTransaction {
    return new Batch(this.conn, this.scripts, true);
  }
  pipeline(): IRedisTransaction {
    return new Batch(this.conn, this.scripts, false);
  }

  async hgetall(key: string): Promise<Record<string, string>> {
    const flat = strs(await this.cmd('HGETALL', key));
    const out: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]] = flat[i + 1];
    return out;
  }
  async hget(key: string, field: string): Promise<string | null> {
    return str(await this.cmd('HGET', key, field));
  }
  async hmget(key: string, ...fields: string[]): Promise<(string | null)[]> {
    const r = await this.cmd('HMGET', key, ...fields);
    return Array.isArray(r) ? r.map(str) : [];
  }
  async hset(key: string, data: Record<string, string | number>): Promise<number> {
    return num(await this.cmd('HSET', key, ...Object.entries(data).flat()));
  }
  async hdel(key: string, ...fields: string[]): Promise<number> {
    return num(await this.cmd('HDEL', key, ...fields));
  }
  async hexists(key: string, field: string): Promise<number> {
    return num(await this.cmd('HEXISTS', key, field));
  }
  async get(key: string): Promise<string | null> {
    return str(await this.cmd('GET', key));
  }
  async set(key: string, value: string | number, options?: { PX?: number; EX?: number }): Promise<string | null> {
    const extra: Arg[] = options?.PX != null ? ['PX', options.PX] : options?.EX != null ? ['EX', options.EX] : [];
    return str(await this.cmd('SET', key, value, ...extra));
  }
  async del(...keys: string[]): Promise<number> {
    return keys.length === 0 ? 0 : num(await this.cmd('DEL', ...keys));
  }
  async zrange(key: string, start: number, end: number, options?: { WITHSCORES?: boolean }): Promise<string[]> {
    return strs(await this.cmd('ZRANGE', key, start, end, ...(options?.WITHSCORES ? ['WITHSCORES'] : [])));
  }
  async zrevrange(key: string, start: number, end: number, options?: { WITHSCORES?: boolean }): Promise<string[]> {
    return strs(await this.cmd('ZREVRANGE', key, start, end, ...(options?.WITHSCORES ? ['WITHSCORES'] : [])));
  }
  async zcard(key: string): Promise<number> {
    return num(await this.cmd('ZCARD', key));
  }
  async zscore(key: string, member: string): Promise<string | null> {
    return str(await this.cmd('ZSCORE', key, member));
  }
  async lrange(key: string, start: number, end: number): Promise<string[]> {
    return strs(await this.cmd('LRANGE', key, start, end));
  }
  async llen(key: string): Promise<number> {
    return num(await this.cmd('LLEN', key));
  }
  async ltrim(key: string, start: number, end: number): Promise<string> {
    return String(await this.cmd('LTRIM', key, start, end));
  }
  async lpos(key: string, value: string): Promise<number | null> {
    const r = await this.cmd('LPOS', key, value);
    return r === null ? null : num(r);
  }
  async smembers(key: string): Promise<string[]> {
    return strs(await this.cmd('SMEMBERS', key));
  }
  async xadd(key: string, id: string, fields: Record<string, string | number>, options?: { MAXLEN?: number; approximate?: boolean }): Promise<string> {
    const trim: Arg[] = options?.MAXLEN != null ? ['MAXLEN', ...(options.approximate === false ? [] : ['~']), options.MAXLEN] : [];
    return String(await this.cmd('XADD', key, ...trim, id, ...Object.entries(fields).flat()));
  }
  // BullMQ's own type for this reply is `any` (ioredis' nested stream arrays).
  async xread(streams: { key: string; id: string }[], options?: { BLOCK?: number; COUNT?: number }): Promise<any> {
    const args: Arg[] = ['XREAD'];
    if (options?.COUNT != null) args.push('COUNT', options.COUNT);
    if (options?.BLOCK != null) args.push('BLOCK', options.BLOCK);
    args.push('STREAMS', ...streams.map((s) => s.key), ...streams.map((s) => s.id));
    try {
      return await this.cmd(...args);
    } catch (e) {
      if (e instanceof ConnectionClosedError && this.conn.status === 'end') return null; // closed on purpose
      throw e;
    }
  }
  async xtrim(key: string, strategy: 'MAXLEN', threshold: number, options?: { approximate?: boolean }): Promise<number> {
    return num(await this.cmd('XTRIM', key, strategy, ...(options?.approximate === false ? [] : ['~']), threshold));
  }
  async bzpopmin(key: string, timeout: number): Promise<[key: string, member: string, score: string] | null> {
    let r: Reply;
    try {
      r = await this.cmd('BZPOPMIN', key, timeout);
    } catch (e) {
      if (e instanceof ConnectionClosedError && this.conn.status === 'end') return null;
      throw e;
    }
    if (!Array.isArray(r)) return null;
    return [String(r[0]), String(r[1]), String(r[2])];
  }
  async info(): Promise<string> {
    return String(await this.cmd('INFO'));
  }
  async clientSetName(name: string): Promise<unknown> {
    return this.cmd('CLIENT', 'SETNAME', name);
  }
  async clientList(): Promise<string> {
    return String(await this.cmd('CLIENT', 'LIST'));
  }
  async clientInfo(): Promise<string> {
    return String(await this.cmd('CLIENT', 'INFO'));
  }
  async scan(cursor: string | number, options: { MATCH?: string; COUNT?: number }): Promise<[string, string[]]> {
    const args: Arg[] = ['SCAN', cursor];
    if (options.MATCH) args.push('MATCH', options.MATCH);
    if (options.COUNT) args.push('COUNT', options.COUNT);
    const r = await this.cmd(...args);
    return Array.isArray(r) ? [String(r[0]), strs(r[1])] : ['0', []];
  }
  scanStream(options: { match: string; count?: number }): Readable {
    let cursor = '0';
    let started = false;
    const self = this;
    return new Readable({
      objectMode: true,
      async read() {
        try {
          if (started && cursor === '0') return void this.push(null);
          started = true;
          const [next, keys] = await self.scan(cursor, { MATCH: options.match, COUNT: options.count });
          cursor = next;
          this.push(keys);
        } catch (e) {
          this.destroy(e as Error);
        }
      },
    });
  }
}

/** MULTI/EXEC (atomic) or a plain pipeline; either way results come back as ioredis' [error, value] pairs. */
class Batch implements IRedisTransaction {
  private readonly cmds: Arg[][] = [];

  constructor(
    private readonly conn: RespClient,
    private readonly scripts: Map<string, Script>,
    private readonly atomic: boolean,
  ) {}

  private add(...args: Arg[]): this {
    this.cmds.push(args);
    return this;
  }
  hgetall(key: string): this {
    return this.add('HGETALL', key);
  }
  hset(key: string, data: Record<string, string | number>): this {
    return this.add('HSET', key, ...Object.entries(data).flat());
  }
  hscan(key: string, cursor: string | number, options?: { COUNT?: number }): this {
    return this.add('HSCAN', key, cursor, ...(options?.COUNT != null ? ['COUNT', options.COUNT] : []));
  }
  smembers(key: string): this {
    return this.add('SMEMBERS', key);
  }
  sscan(key: string, cursor: string | number, options?: { COUNT?: number }): this {
    return this.add('SSCAN', key, cursor, ...(options?.COUNT != null ? ['COUNT', options.COUNT] : []));
  }
  zrange(key: string, start: number, end: number): this {
    return this.add('ZRANGE', key, start, end);
  }
  lrange(key: string, start: number, end: number): this {
    return this.add('LRANGE', key, start, end);
  }
  llen(key: string): this {
    return this.add('LLEN', key);
  }
  del(...keys: string[]): this {
    return keys.length === 0 ? this : this.add('DEL', ...keys);
  }
  runCommand(name: string, args: unknown[]): this {
    const s = this.scripts.get(name);
    if (!s) throw new Error(`BullMQ: unknown command "${name}" in transaction`);
    const a = scriptArgs(args, s.numberOfKeys);
    return this.add('EVALSHA', s.sha, s.numberOfKeys, ...a);
  }

  async exec(): Promise<[Error | null, unknown][] | null> {
    if (this.cmds.length === 0) return [];
    const wrap = (e: unknown): Error => (e instanceof Error && e.message === CONNECTION_CLOSED ? new ConnectionClosedError(CONNECTION_CLOSED, e) : (e as Error));
    if (!this.atomic) {
      const settled = await Promise.allSettled(this.cmds.map((c) => this.conn.call(...c)));
      if (settled.some((s) => s.status === 'rejected' && !(s.reason instanceof RespError))) {
        throw wrap((settled.find((s) => s.status === 'rejected') as PromiseRejectedResult).reason);
      }
      return settled.map((s) => (s.status === 'fulfilled' ? [null, s.value] : [s.reason as Error, null]));
    }
    // Queue replies ("QUEUED") are not interesting; EXEC's array holds the results (errors inline).
    const all = [this.conn.call('MULTI'), ...this.cmds.map((c) => this.conn.call(...c)), this.conn.call('EXEC')];
    const settled = await Promise.allSettled(all);
    const exec = settled[settled.length - 1];
    if (exec.status === 'rejected') throw wrap(exec.reason);
    if (exec.value === null) return null;
    return (exec.value as RespValue[]).map((v) => (v instanceof RespError ? [v, null] : [null, v]));
  }
}

let installed = false;
/** Make every BullMQ connection in this process use our client (idempotent). */
export function installBullRedisClient(): void {
  if (installed) return;
  installed = true;
  RedisConnection.clientFactory = (opts) => new BullRedisClient(opts as RedisOptions & RedisTarget);
}
