// Web-mode faults against a real `deepbern serve` process: nothing a client sends (with or without the token)
// may end the server. Every WebSocket protocol-error path is sent as raw bytes, then the server must still
// answer; YAML alias bombs and huge sweep plans are user errors (4xx), answered while the server stays
// responsive; auth failures carry their own error kind.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { BIN, cli } from './support/cli.js';

let dir: string;
let server: ChildProcessWithoutNullStreams;
let stderr = '';
let origin: URL;
let token: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deepbern-faults-web-'));
  server = spawn(
    process.execPath,
    [BIN, 'serve', '--no-open', '--db', join(dir, 'w.db'), '--workers', '1', '--backend', 'wasm'],
    { stdio: 'pipe' },
  );
  server.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let stdout = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 60 s; stderr: ${stderr}`)), 60_000);
    server.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /^(http:\/\/\S+)$/m.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    server.on('exit', (code) => reject(new Error(`serve exited ${code}; stderr: ${stderr}`)));
  });
  origin = new URL(url);
  token = origin.searchParams.get('token')!;
}, 90_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  await rm(dir, { recursive: true, force: true });
});

/** One API call on a fresh connection (no keep-alive socket the server may have timed out meanwhile). */
function call(method: string, args: unknown[], headers: Record<string, string> = { authorization: `Bearer ${token}` }) {
  return new Promise<{ status: number; body: { result?: unknown; error?: string; kind?: string } }>(
    (resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: Number(origin.port),
          method: 'POST',
          path: `/api/${method}`,
          agent: false,
          headers: { host: `127.0.0.1:${origin.port}`, 'content-type': 'application/json', ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }),
          );
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ args }));
    },
  );
}

async function assertAlive(): Promise<void> {
  expect(server.exitCode, stderr).toBeNull();
  const r = await call('system.info', []);
  expect(r.status).toBe(200);
}

/** A raw TCP connection that completed the WebSocket handshake on /events with the token. */
function rawSocket(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(Number(origin.port), '127.0.0.1');
    s.on('error', () => undefined); // the server may reset us: that is the point
    s.once('connect', () => {
      s.write(
        `GET /events?token=${encodeURIComponent(token)} HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        s.off('data', onData);
        if (!head.startsWith('HTTP/1.1 101')) reject(new Error(`no upgrade: ${head.split('\r\n')[0]}`));
        else resolve(s);
      }
    };
    s.on('data', onData);
  });
}

/** A client frame: FIN/RSV/opcode byte, masked payload (or unmasked when asked). */
function frame(first: number, payload: Buffer, opts: { mask?: boolean; len?: Buffer } = {}): Buffer {
  const mask = opts.mask ?? true;
  const m = randomBytes(4);
  let lenBytes: Buffer;
  if (opts.len) lenBytes = opts.len;
  else if (payload.length < 126) lenBytes = Buffer.from([payload.length]);
  else if (payload.length < 65536) lenBytes = Buffer.from([126, payload.length >> 8, payload.length & 255]);
  else {
    lenBytes = Buffer.alloc(9);
    lenBytes[0] = 127;
    lenBytes.writeBigUInt64BE(BigInt(payload.length), 1);
  }
  lenBytes = Buffer.from(lenBytes);
  if (mask) lenBytes[0]! |= 0x80;
  const body = mask ? Buffer.from(payload.map((b, i) => b ^ m[i % 4]!)) : payload;
  return Buffer.concat([Buffer.from([first]), lenBytes, mask ? m : Buffer.alloc(0), body]);
}

const closeFrame = (code: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return frame(0x88, b);
};

const badFrames: [string, () => Buffer][] = [
  ['reserved opcode 3', () => frame(0x83, Buffer.alloc(0))],
  ['reserved control opcode 0xB', () => frame(0x8b, Buffer.alloc(0))],
  ['RSV1 set without an extension', () => frame(0xc1, Buffer.from('hi'))],
  ['RSV2|RSV3 set', () => frame(0xb1, Buffer.from('hi'))],
  ['unmasked client frame', () => frame(0x81, Buffer.from('hi'), { mask: false })],
  ['oversize text frame (past maxPayload)', () => frame(0x81, Buffer.alloc(64 * 1024, 0x61))],
  ['declared 2^63 length', () => frame(0x82, Buffer.alloc(0), { len: Buffer.from([127, 0x80, 0, 0, 0, 0, 0, 0, 0]) })],
  ['invalid UTF-8 text', () => frame(0x81, Buffer.from([0xc3, 0x28, 0xff, 0xfe]))],
  ['invalid UTF-8 in a close reason', () => frame(0x88, Buffer.from([0x03, 0xe8, 0xff, 0xfe]))],
  ['close code 1005 (reserved)', () => closeFrame(1005)],
  ['close code 999 (out of range)', () => closeFrame(999)],
  ['close frame with a 1-byte body', () => frame(0x88, Buffer.from([3]))],
  ['fragmented ping (control frame without FIN)', () => frame(0x09, Buffer.from('x'))],
  ['ping longer than 125 bytes', () => frame(0x89, Buffer.alloc(200, 1))],
  ['continuation frame with nothing to continue', () => frame(0x80, Buffer.from('x'))],
  [
    'new text frame inside a fragmented message',
    () => Buffer.concat([frame(0x01, Buffer.from('a')), frame(0x81, Buffer.from('b'))]),
  ],
  ['garbage bytes', () => randomBytes(4096)],
];

describe('WebSocket error paths: the server survives every one', () => {
  it.each(badFrames)('%s → socket closed, server alive', async (_name, bytes) => {
    const s = await rawSocket();
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    s.write(bytes());
    await closed; // the server ends a protocol violator's connection…
    await assertAlive(); // …and nothing else
  });

  it('abrupt endings: half a frame header, half a payload, a reset', async () => {
    for (const cut of [
      frame(0x81, Buffer.from('hello')).subarray(0, 1),
      frame(0x81, Buffer.alloc(300, 0x61)).subarray(0, 100),
    ]) {
      const s = await rawSocket();
      s.end(cut);
      await new Promise((r) => s.once('close', r));
    }
    const s = await rawSocket();
    s.write(frame(0x81, Buffer.alloc(300, 0x61)).subarray(0, 50));
    s.resetAndDestroy();
    // A connection reset during the handshake itself.
    const half = connect(Number(origin.port), '127.0.0.1');
    half.on('error', () => undefined);
    await new Promise((r) => half.once('connect', r));
    half.write(
      `GET /events?token=${encodeURIComponent(token)} HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`,
    );
    half.resetAndDestroy();
    await new Promise((r) => setTimeout(r, 300));
    await assertAlive();
  });

  it('a well-behaved client keeps its event stream while others misbehave', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${origin.port}/events?token=${encodeURIComponent(token)}`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const bad = await rawSocket();
    bad.write(frame(0x83, Buffer.alloc(0)));
    await new Promise((r) => bad.once('close', r));
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
    await assertAlive();
  });
});

describe('auth failures have their own error kinds', () => {
  it('no token / a wrong token → 401 unauthorized; a foreign origin → 403 forbidden', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }] as Record<string, string>[]) {
      const r = await call('runs.list', [{}], headers);
      expect(r.status).toBe(401);
      expect(r.body.kind).toBe('unauthorized');
    }
    const foreign = await call('runs.list', [{}], { authorization: `Bearer ${token}`, origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.body.kind).toBe('forbidden');
    const up = await fetch(`${origin.origin}/upload?name=x.csv`, {
      method: 'POST',
      body: 'a,b\n1,2\n',
      headers: { 'x-fresh': '1' },
    });
    expect(up.status).toBe(401);
    expect(((await up.json()) as { kind: string }).kind).toBe('unauthorized');
    // An argument error is still bad-request.
    expect((await call('runs.get', [42])).body.kind).toBe('bad-request');
  });
});

/** 9^7 ≈ 4.8M strings from a few hundred bytes ("billion laughs"). */
const ALIAS_BOMB =
  'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n' +
  'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n' +
  'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nname: bomb\n';
const values = (n: number) => `{values: [${Array.from({ length: n }, (_, i) => i + 1).join(', ')}]}`;
const sweepHead = 'name: big\ndataset: synthetic-higgs\nbase: {depth: 2, width: 4, activation: relu, epochs: 1}\n';

describe('YAML alias bombs and huge plans are user errors', () => {
  it('alias bomb: sweeps.plan and sweeps.launch → 400 bad-request with a clear message, no stack in the log', async () => {
    const before = stderr.length;
    for (const m of ['sweeps.plan', 'sweeps.launch']) {
      const r = await call(m, [ALIAS_BOMB]);
      expect(r.status).toBe(400);
      expect(r.body.kind).toBe('bad-request');
      expect(r.body.error).toMatch(/alias/i);
    }
    expect(stderr.slice(before)).not.toMatch(/at .*\.js:\d+/);
    await assertAlive();
  });

  it('alias bomb in the CLI: sweep plan / sweep run exit 2 with one line', async () => {
    const file = join(dir, 'bomb.yaml');
    await writeFile(file, ALIAS_BOMB);
    for (const cmd of ['plan', 'run']) {
      const r = cli(['sweep', cmd, file, ...(cmd === 'run' ? ['--db', join(dir, 'cli.db')] : [])]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toMatch(/^deepbern: .*alias/i);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('run_cap 1e9 over a 1e9 grid: refused from the count (400), in the API and the CLI, without building runs', async () => {
    const text = `${sweepHead}run_cap: 1000000000\nparameters:\n  width: ${values(1000)}\n  depth: ${values(1000)}\n  epochs: ${values(1000)}\n`;
    const r = await call('sweeps.plan', [text]);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/1000000000 runs, more than the limit of 10000/);
    const launched = await call('sweeps.launch', [text]);
    expect(launched.status).toBe(400);
    expect(((await call('sweeps.list', [])).body.result as unknown[]).length).toBe(0);
    const file = join(dir, 'huge.yaml');
    await writeFile(file, text);
    const c = cli(['sweep', 'plan', file]);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/more than the limit of 10000 per sweep/);
    // random sampling: the same limit
    const rnd = await call('sweeps.plan', [
      `${sweepHead}method: random\nrun_cap: 50000000\nparameters:\n  lr: {min: 0.001, max: 0.1}\n`,
    ]);
    expect(rnd.status).toBe(400);
    expect(rnd.body.error).toMatch(/50000000 runs, more than the limit/);
  });

  it('the server answers a ping while big plans are in flight', async () => {
    // A sweep file near the body limit with a plan at the run limit: seconds of parsing and planning.
    const text = `${sweepHead}run_cap: 10000\nparameters:\n  width: ${values(4000)}\n  depth: ${values(100)}\n  epochs: ${values(4000)}\n`;
    const order: string[] = [];
    const plans = [0, 1, 2].map(() =>
      call('sweeps.plan', [text]).then((r) => {
        order.push('plan');
        return r;
      }),
    );
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    const ping = await call('system.info', []);
    order.push('ping');
    const pingMs = performance.now() - t0;
    const done = await Promise.all(plans);
    for (const p of done) {
      expect(p.status).toBe(200);
      expect((p.body.result as { runs: unknown[] }).runs).toHaveLength(10000);
    }
    expect(ping.status).toBe(200);
    expect(order[0], `ping took ${pingMs.toFixed(0)} ms`).toBe('ping');
  });
});
