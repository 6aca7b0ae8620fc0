// `deepbern serve` and `deepbern start` as the user runs them (the compiled CLI, a real server, a temp DB):
// the printed link works, the token is required, --host 0.0.0.0 warns, SIGTERM stops cleanly, and `start`
// falls back to web mode with ONE line saying why where Electron cannot run (as on this machine).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from './support/redis.js';

const BIN = fileURLToPath(new URL('../bin/deepbern.js', import.meta.url));
let dir: string;
const children: ChildProcessWithoutNullStreams[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deepbern-cli-'));
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

function run(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: 'pipe' });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 60 s; stderr: ${stderr}`)), 60_000);
    child.stdout.on('data', () => {
      const m = /^(http:\/\/\S+)$/m.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => reject(new Error(`exited ${code} before printing a URL; stderr: ${stderr}`)));
  });
  url.catch(() => undefined); // tests that expect an early exit never await it
  return { child, url, exited, out: () => stdout, err: () => stderr };
}

describe('deepbern serve', () => {
  it('prints a token link on 127.0.0.1 that works; no token → 401; SIGTERM stops it cleanly', async () => {
    const s = run(['serve', '--no-open', '--db', join(dir, 'w.db'), '--workers', '1', '--backend', 'wasm']);
    const url = new URL(await s.url);
    expect(url.hostname).toBe('127.0.0.1');
    const token = url.searchParams.get('token')!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const api = `${url.origin}/api/system.info`;
    const ok = await fetch(api, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{"args":[]}' });
    expect(ok.status).toBe(200);
    expect((await ok.json()).result).toMatchObject({
      transport: 'web',
      dbPath: join(dir, 'w.db'),
      workers: { size: 1 },
    });
    expect((await fetch(api, { method: 'POST', body: '{"args":[]}' })).status).toBe(401);
    expect(s.err()).not.toMatch(/warning: listening/);
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  });

  it('--host 0.0.0.0 works but warns', async () => {
    const s = run([
      'serve',
      '--no-open',
      '--host',
      '0.0.0.0',
      '--db',
      join(dir, 'w.db'),
      '--workers',
      '1',
      '--backend',
      'wasm',
    ]);
    const url = new URL(await s.url);
    expect(s.err()).toMatch(/warning: listening on 0\.0\.0\.0: anyone who can reach this machine/);
    const r = await fetch(`${url.origin}/api/runs.list?token=${url.searchParams.get('token')}`, {
      method: 'POST',
      body: '{"args":[{}]}',
    });
    expect(r.status).toBe(200);
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  });

  it('refuses bad flags with one line and exit 2', async () => {
    const s = run(['serve', '--no-open', '--port', '70000', '--db', join(dir, 'w.db')]);
    expect(await s.exited).toBe(2);
    expect(s.err().trim()).toBe('deepbern: --port must be an integer between 0 and 65535');
  });
});

describe('deepbern start', () => {
  it('without a display: one line saying why, then web mode', async () => {
    const env = { ...process.env };
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    const s = run(['start', '--no-open', '--db', join(dir, 'w.db'), '--workers', '1', '--backend', 'wasm'], env);
    await s.url;
    const reasons = s
      .err()
      .split('\n')
      .filter((l) => /Electron/.test(l));
    expect(reasons).toEqual([
      'deepbern: Electron cannot start: no display (neither DISPLAY nor WAYLAND_DISPLAY is set); starting web mode instead',
    ]);
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  });

  it('with a display but no Electron binary (this machine): tries to fetch it, says why it could not, then web mode', async () => {
    // A mirror nobody listens on (and an empty cache): the fetch fails fast and deterministically, online or not.
    const port = await freePort();
    const env = {
      ...process.env,
      DISPLAY: ':99',
      ELECTRON_MIRROR: `http://127.0.0.1:${port}/`,
      electron_config_cache: join(dir, 'electron-cache'),
    };
    const s = run(['start', '--no-open', '--db', join(dir, 'w.db'), '--workers', '1', '--backend', 'wasm'], env);
    const url = await Promise.race([s.url, s.exited.then(() => null)]);
    if (url === null) {
      // Electron is installed and started (a developer machine): nothing to assert about the fallback.
      expect(s.err()).not.toMatch(/fetching Electron/);
      return;
    }
    expect(s.err()).toMatch(
      /^deepbern: first start: fetching Electron [\d.]+ \(about 100 MB, once\) from http:\/\/127\.0\.0\.1:\d+\/$/m,
    );
    expect(s.err()).toMatch(
      /^deepbern: Electron cannot start: download failed: ECONNREFUSED \(offline\? see docs\/release\.md, "Installing offline"\); starting web mode instead$/m,
    );
    expect(
      s
        .err()
        .split('\n')
        .filter((l) => l.includes('cannot start')),
    ).toHaveLength(1);
    s.child.kill('SIGTERM');
    expect(await s.exited, s.err()).toBe(0);
  });
});
