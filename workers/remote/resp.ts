// RESP2, the Redis wire protocol: encode a command, and parse replies incrementally from a socket stream.
// Ours because BullMQ 6 ships no Redis driver (ioredis is an optional peer that this package does not install).

export type RespValue = string | number | null | RespValue[] | RespError;

/** An error reply (`-ERR …`, `-WRONGPASS …`); returned inside arrays (EXEC), thrown for single replies. */
export class RespError extends Error {
  override name = 'ReplyError';
}

export type Arg = string | number | Buffer | Uint8Array;

export function encodeCommand(args: readonly Arg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : typeof a === 'number' ? Buffer.from(String(a)) : Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    parts.push(Buffer.from(`$${b.length}\r\n`), b, CRLF);
  }
  return Buffer.concat(parts);
}

const CRLF = Buffer.from('\r\n');
const INCOMPLETE = Symbol('incomplete');

/** Feed socket chunks; complete replies come out in order. Bulk strings decode as UTF-8 (as ioredis does). */
export class RespParser {
  private buf: Buffer = Buffer.alloc(0);
  private chunks: Buffer[] = [];
  private queued = 0;
  /** Bytes a partial reply needs at least (from a bulk length seen): big replies are not re-parsed per chunk. */
  private need = 0;

  feed(chunk: Buffer): RespValue[] {
    this.chunks.push(chunk);
    this.queued += chunk.length;
    if (this.buf.length + this.queued < this.need) return [];
    this.buf = Buffer.concat([this.buf, ...this.chunks]);
    this.chunks = [];
    this.queued = 0;
    const out: RespValue[] = [];
    let pos = 0;
    for (;;) {
      this.need = 0;
      const r = this.parse(pos);
      if (r === INCOMPLETE) break;
      out.push(r.value);
      pos = r.next;
    }
    this.buf = this.buf.subarray(pos);
    this.need = Math.max(0, this.need - pos);
    return out;
  }

  private parse(pos: number): { value: RespValue; next: number } | typeof INCOMPLETE {
    const eol = this.buf.indexOf(CRLF, pos);
    if (eol < 0) return INCOMPLETE;
    const type = String.fromCharCode(this.buf[pos]);
    const line = this.buf.toString('utf8', pos + 1, eol);
    const after = eol + 2;
    switch (type) {
      case '+':
        return { value: line, next: after };
      case '-':
        return { value: new RespError(line), next: after };
      case ':':
        return { value: Number(line), next: after };
      case '$': {
        const len = Number(line);
        if (len < 0) return { value: null, next: after };
        if (this.buf.length < after + len + 2) {
          this.need = after + len + 2;
          return INCOMPLETE;
        }
        return { value: this.buf.toString('utf8', after, after + len), next: after + len + 2 };
      }
      case '*': {
        const n = Number(line);
        if (n < 0) return { value: null, next: after };
        const items: RespValue[] = [];
        let p = after;
        for (let i = 0; i < n; i++) {
          const r = this.parse(p);
          if (r === INCOMPLETE) return INCOMPLETE;
          items.push(r.value);
          p = r.next;
        }
        return { value: items, next: p };
      }
      default:
        throw new Error(`Redis protocol error: unexpected reply type "${type}"`);
    }
  }
}
