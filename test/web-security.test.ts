// The web transport's gatekeeping against a real server on 127.0.0.1:0 (and a real service behind it):
// tokens (HTTP and WebSocket), foreign Origin/Host, body limits, malformed calls, static files and traversal,
// security headers, and uploads that become importable datasets.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startWebServer } from '../src-main/transports/http.js';
import { httpHarness, rejection, type Harness } from './service-harness.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let h: Harness;
let port: number;
let token: string;
let root: string;

/** A raw HTTP request: exact path bytes (no URL normalisation), any headers. */
function raw(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer | string,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, headers: { host: `127.0.0.1:${port}`, ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const auth = () => ({ authorization: `Bearer ${token}` });
const api = (method: string, payload: string, headers: Record<string, string> = auth()) =>
  raw('POST', `/api/${method}`, { 'content-type': 'application/json', ...headers }, payload);

/** The HTTP status a WebSocket upgrade is answered with (101 when it opens). */
function wsStatus(path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', (e) => reject(e));
  });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'deepbern-web-'));
  const site = join(root, 'renderer');
  await mkdir(join(site, 'assets'), { recursive: true });
  await writeFile(
    join(site, 'index.html'),
    '<!doctype html><title>wb</title><script type="module" src="./assets/app.js"></script>',
  );
  await writeFile(join(site, 'assets', 'app.js'), 'console.log("app")');
  await writeFile(join(root, 'secret.txt'), 'TOP SECRET');
  await symlink(join(root, 'secret.txt'), join(site, 'assets', 'link.txt'));
  h = await httpHarness({ staticDir: site, workers: 1, web: { maxBodyBytes: 64 * 1024, maxUploadBytes: 256 * 1024 } });
  port = h.web!.port;
  token = h.web!.token;
});

afterAll(async () => {
  await h?.close();
  await rm(root, { recursive: true, force: true });
});

describe('authentication', () => {
  it('issue 15 #9: opening the app without its token shows a page saying how to open it, not raw JSON naming a command', async () => {
    for (const path of ['/', '/index.html', '/?token=wrong']) {
      const r = await raw('GET', path, { accept: 'text/html,application/xhtml+xml' });
      expect(r.status).toBe(401);
      expect(String(r.headers['content-type'])).toMatch(/^text\/html/);
      expect(r.body).toMatch(/link that was printed when the workbench started/);
      expect(r.body).toMatch(/Desktop app/);
      expect(r.body).not.toMatch(/deepbern serve|"error"/);
      expect(r.body).not.toContain(token);
    }
    // The app's own calls still get the JSON error, without a command the user may never have run.
    const j = await api('system.info', '{"args":[]}', {});
    expect(JSON.parse(j.body).error).not.toMatch(/deepbern serve/);
    expect((await raw('GET', '/assets/app.js')).headers['content-type']).toMatch(/json/);
  });

  it('401 without a token, with a wrong one, and with a prefix of the right one', async () => {
    const cases: Record<string, string>[] = [
      {},
      { authorization: 'Bearer nope' },
      { authorization: `Bearer ${token.slice(0, -1)}` },
      { authorization: token },
    ];
    for (const headers of cases) {
      const r = await api('system.info', '{"args":[]}', headers);
      expect(r.status).toBe(401);
      expect(JSON.parse(r.body).error).toMatch(/not authorised/);
    }
    expect((await raw('GET', '/?token=wrong')).status).toBe(401);
    expect((await raw('GET', '/assets/app.js')).status).toBe(401);
    expect((await raw('POST', '/upload?name=x.csv', {}, 'a,b\n1,2\n')).status).toBe(401);
  });

  it('accepts the token as a bearer header or ?token=', async () => {
    expect((await api('system.info', '{"args":[]}')).status).toBe(200);
    expect((await raw('POST', `/api/system.info?token=${token}`, {}, '{"args":[]}')).status).toBe(200);
  });

  it('the landing page sets an HttpOnly SameSite=Strict cookie that lets its own assets load', async () => {
    const page = await raw('GET', `/?token=${token}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>wb</title>');
    const cookie = String(page.headers['set-cookie']);
    expect(cookie).toMatch(new RegExp(`^deepbern_token_${port}=.+; Path=/; HttpOnly; SameSite=Strict`));
    const asset = await raw('GET', '/assets/app.js', { cookie: cookie.split(';')[0]! });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/^text\/javascript/);
    expect(asset.body).toBe('console.log("app")');
    expect((await raw('GET', '/assets/app.js', { cookie: `deepbern_token_${port}=forged` })).status).toBe(401);
    // The cookie opens the page's files only: API calls and uploads need the token itself.
    expect((await api('system.info', '{"args":[]}', { cookie: cookie.split(';')[0]! })).status).toBe(401);
    expect((await raw('POST', '/upload?name=x.csv', { cookie: cookie.split(';')[0]! }, 'a,b\n1,2\n')).status).toBe(401);
    expect(await wsStatus('/events', { cookie: cookie.split(';')[0]! })).toBe(401);
  });

  it('WebSocket upgrade: 401 without or with a wrong token, 403 from a foreign Origin, 404 elsewhere, open with the token', async () => {
    expect(await wsStatus('/events')).toBe(401);
    expect(await wsStatus('/events?token=wrong')).toBe(401);
    expect(await wsStatus(`/events?token=${token}`, { origin: 'http://evil.example' })).toBe(403);
    expect(await wsStatus(`/nope?token=${token}`)).toBe(404);
    expect(await wsStatus(`/events?token=${token}`, { origin: `http://127.0.0.1:${port}` })).toBe(101);
  });
});

describe('foreign callers', () => {
  it('403 for a foreign Origin even with the token', async () => {
    const r = await api('system.info', '{"args":[]}', { ...auth(), origin: 'http://evil.example' });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body).error).toMatch(/foreign Origin "http:\/\/evil\.example"/);
    expect((await api('system.info', '{"args":[]}', { ...auth(), origin: 'null' })).status).toBe(403);
    expect((await api('system.info', '{"args":[]}', { ...auth(), origin: `http://127.0.0.1:${port}` })).status).toBe(
      200,
    );
  });

  it('403 for a rebinding Host header (the server listens on loopback only)', async () => {
    const r = await api('system.info', '{"args":[]}', { ...auth(), host: `attacker.example:${port}` });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body).error).toMatch(/foreign Host/);
    expect((await api('system.info', '{"args":[]}', { ...auth(), host: `localhost:${port}` })).status).toBe(200);
  });
});

describe('routes and static files', () => {
  it('404 for unknown routes and unknown methods, 405 for GET on the API', async () => {
    expect((await raw('GET', '/nope', auth())).status).toBe(404);
    const m = await api('fs.readFile', '{"args":["/etc/passwd"]}');
    expect(m.status).toBe(404);
    expect(JSON.parse(m.body)).toEqual({ error: 'unknown API method "fs.readFile"', kind: 'not-found' });
    expect((await raw('GET', '/api/system.info', auth())).status).toBe(405);
    expect((await api('__proto__', '{"args":[]}')).status).toBe(404);
  });

  it('404 for every traversal attempt, never the file', async () => {
    for (const path of [
      '/..%2f..%2fetc/passwd',
      '/..%2fsecret.txt',
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/%2e%2e%5csecret.txt',
      '/assets/link.txt', // a symlink out of the root
      '/assets%00.js',
      '/%E0%A4%A',
    ]) {
      const r = await raw('GET', path, auth());
      expect(r.status, path).toBe(404);
      expect(r.body).not.toContain('TOP SECRET');
      expect(r.body).not.toContain('root:');
    }
  });

  it('security headers on every response', async () => {
    for (const r of [
      await raw('GET', `/?token=${token}`),
      await api('system.info', '{"args":[]}'),
      await raw('GET', '/nope'),
    ]) {
      expect(r.headers['content-security-policy']).toMatch(
        /default-src 'self'; script-src 'self';.*object-src 'none'.*frame-ancestors 'none'/,
      );
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
    }
  });
});

describe('bodies and arguments', () => {
  it('413 for a body over the limit (declared or streamed)', async () => {
    const big = JSON.stringify({ args: ['x'.repeat(70 * 1024)] });
    const r = await api('sweeps.plan', big);
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body)).toMatchObject({
      kind: 'bad-request',
      error: expect.stringMatching(/larger than the limit of 65536 bytes/),
    });
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/api/sweeps.plan',
          headers: { ...auth(), 'transfer-encoding': 'chunked' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(10 * 1024));
      req.end();
    });
    expect(chunked).toBe(413);
  });

  it('400 for malformed JSON and for arguments the schema refuses, with the reason', async () => {
    const j = await api('runs.list', '{"args": [');
    expect(j.status).toBe(400);
    expect(JSON.parse(j.body).error).toMatch(/not JSON/);
    expect((await api('runs.list', '[1,2]')).status).toBe(400);
    const a = await api('runs.list', JSON.stringify({ args: [{ limit: 'ten' }] }));
    expect(a.status).toBe(400);
    expect(JSON.parse(a.body)).toEqual({
      kind: 'bad-request',
      error: expect.stringMatching(
        /^runs\.list: invalid arguments: argument 0\.limit: .*expected number, received string/,
      ),
    });
    const s = await api('runs.setTags', JSON.stringify({ args: ['r1'] }));
    expect(s.status).toBe(400);
  });
});

describe('uploads', () => {
  it('an uploaded CSV streams to a temp file and imports by its upload id (once); dataset-import events arrive', async () => {
    const rows =
      ['label,a,b', ...Array.from({ length: 40 }, (_, i) => `${i % 2},${i / 10},${(i * 7) % 5}`)].join('\n') + '\n';
    const up = await raw('POST', '/upload?name=..%2F..%2Fmy%20data.csv', auth(), rows);
    expect(up.status).toBe(200);
    const { uploadId, name, bytes } = JSON.parse(up.body) as { uploadId: string; name: string; bytes: number };
    expect(name).toBe('my_data.csv');
    expect(bytes).toBe(Buffer.byteLength(rows));
    const info = await h.call('datasets.import', { kind: 'csv', uploadId, labelColumn: 'label', title: 'tiny csv' });
    expect(info).toMatchObject({ kind: 'csv', title: 'tiny csv', inputDim: 2, rows: 40 });
    expect((await h.call('datasets.list')).map((d) => d.id)).toContain(info.id);
    // Issue 15 #6: what the user reads names their file, never the server's temp folder or the hashed name.
    const listed = (await h.call('datasets.list')).find((d) => d.id === info.id)!;
    expect(listed.description).toBe('imported from my_data.csv');
    await h.waitForEvent((e) => e.type === 'dataset-import' && e.done && e.datasetId === info.id, 10_000);
    const again = await rejection(h.call('datasets.import', { kind: 'csv', uploadId }));
    expect(again.body.kind).toBe('not-found');
    await h.call('datasets.remove', info.id);
    expect((await h.call('datasets.list')).map((d) => d.id)).not.toContain(info.id);
    expect((await rejection(h.call('datasets.remove', 'synthetic-higgs'))).body.kind).toBe('bad-request');
  });

  it('issue 15 #6: an import error names the uploaded file by its own name, not the temp path', async () => {
    const up = await raw('POST', '/upload?name=tiny.csv', auth(), 'label,a\n1,2\n0,3\n');
    const { uploadId } = JSON.parse(up.body) as { uploadId: string };
    const err = await rejection(h.call('datasets.import', { kind: 'csv', uploadId, labelColumn: 'label' }));
    expect(err.body.error).toMatch(/^tiny\.csv: 2 data rows/);
    expect(err.body.error).not.toMatch(/deepbern-uploads|[0-9a-f]{16}-tiny/);
  });

  it('413 for an upload over its limit', async () => {
    const r = await raw('POST', '/upload?name=big.csv', auth(), Buffer.alloc(300 * 1024, 0x31));
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).error).toMatch(/larger than the limit of 256 KiB|larger than the limit of 262144 bytes/);
  });
});

describe('a dev server origin allowed explicitly (serve --allow-origin)', () => {
  it('accepts its Origin and proxied Host, and nothing else', async () => {
    const dev = await startWebServer({
      service: h.service,
      staticDir: root,
      token,
      extraOrigins: ['http://localhost:5173'],
    });
    const call = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: dev.port,
            method: 'POST',
            path: '/api/system.info',
            headers: { ...auth(), ...headers },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end('{"args":[]}');
      });
    try {
      expect(await call({ host: 'localhost:5173', origin: 'http://localhost:5173' })).toBe(200);
      expect(await call({ host: 'localhost:5174', origin: 'http://localhost:5174' })).toBe(403);
      expect(await call({ host: `127.0.0.1:${dev.port}`, origin: 'http://localhost:5174' })).toBe(403);
    } finally {
      await dev.close();
    }
  });
});
