// `npm start` (deepbern start) up to the launch of Electron, against a local mirror on 127.0.0.1: the binary
// is fetched the way Electron 42's install.js does (ELECTRON_MIRROR, the download cache, checksums.json), and
// each way it can fail falls back to web mode with one line saying why. The electron package is a temporary
// copy (its package.json and a checksums.json the test controls), so nothing is written into node_modules.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { arch, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDesktop, type StartDeps } from '../src-main/cli/serve.js';
import { DB_LOCKED_EXIT } from '../src-main/electron/app-start.js';
import { fetchFailureReason } from '../src-main/electron/fetch-binary.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const requireHere = createRequire(import.meta.url);
const REAL_PKG = dirname(requireHere.resolve('electron/package.json'));
const VERSION = (JSON.parse(readFileSync(join(REAL_PKG, 'package.json'), 'utf8')) as { version: string }).version;
const ARCH = arch();
const ZIP_NAME = `electron-v${VERSION}-linux-${ARCH}.zip`;
const ZIP_PATH = `/v${VERSION}/${ZIP_NAME}`;

/** A stored (uncompressed) zip with unix modes, enough for Electron's extractor. */
function zip(files: { name: string; data: string | Buffer; mode?: number }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const data = Buffer.isBuffer(f.data) ? f.data : Buffer.from(f.data);
    const name = Buffer.from(f.name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by unix: the external attributes carry the mode
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((((f.mode ?? 0o644) | 0o100000) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** A package's folder (its exports may hide package.json): up from its entry to the package.json naming it. */
function packageDirOf(name: string): string {
  let d = dirname(createRequire(join(REAL_PKG, 'package.json')).resolve(name));
  while (!(
    existsSync(join(d, 'package.json')) &&
    (JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')) as { name?: string }).name === name
  )) {
    const up = dirname(d);
    if (up === d) throw new Error(`no package folder for ${name}`);
    d = up;
  }
  return d;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** An "Electron" that dies at launch like one missing a system library. */
const DYING =
  '#!/bin/sh\necho "[123:ERROR:ozone] something first" >&2\necho "electron: error while loading shared libraries: libgtk-3.so.0: cannot open shared object file" >&2\nexit 127\n';
/** One that opens its window (writes the ready file, unless $FAKE_NO_READY), records how it was launched, then quits with $FAKE_EXIT. */
const RUNS =
  '#!/bin/sh\nprintf "%s" "$1" > "$FAKE_ARGS_FILE"\n[ -n "$FAKE_NO_READY" ] || echo ok > "$DEEPBERN_READY_FILE"\nexit ${FAKE_EXIT:-0}\n';

function electronZip(script: string): Buffer {
  return zip([
    { name: 'electron', data: script, mode: 0o755 },
    { name: 'version', data: `v${VERSION}` },
    { name: 'LICENSE', data: 'stand-in' },
  ]);
}

describe('deepbern start: fetching Electron from a mirror, and the fallbacks', () => {
  let tmp: string;
  let pkgDir: string;
  let server: Server;
  let mirror: string;
  let respond: (url: string) => { status: number; body: Buffer } = () => ({
    status: 404,
    body: Buffer.from('not found'),
  });
  const requests: string[] = [];

  beforeAll(async () => {
    expect(existsSync(join(ROOT, 'dist/src-main/electron/main.js')), 'run npm run build first').toBe(true);
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const r = respond(req.url ?? '');
      res.writeHead(r.status, { 'content-length': r.body.length });
      res.end(r.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'deepbern-start-'));
    pkgDir = join(tmp, 'electron');
    await mkdir(join(pkgDir, 'node_modules', '@electron'), { recursive: true });
    await mkdir(join(pkgDir, 'node_modules', '@electron-internal'), { recursive: true });
    await copyFile(join(REAL_PKG, 'package.json'), join(pkgDir, 'package.json'));
    await copyFile(join(REAL_PKG, 'checksums.json'), join(pkgDir, 'checksums.json'));
    // Electron's own downloader and extractor, as its install.js finds them.
    for (const dep of ['@electron/get', '@electron-internal/extract-zip']) {
      await symlink(packageDirOf(dep), join(pkgDir, 'node_modules', dep), 'dir');
    }
    requests.length = 0;
  });
  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  async function start(env: NodeJS.ProcessEnv = {}) {
    const lines: string[] = [];
    let web = 0;
    const stderr = { write: (s: string | Buffer) => (lines.push(String(s)), true) } as unknown as NodeJS.WritableStream;
    const deps: StartDeps = {
      env: {
        DISPLAY: ':99',
        ELECTRON_MIRROR: mirror,
        electron_config_cache: join(tmp, 'cache'),
        PATH: process.env.PATH,
        ...env,
      },
      platform: 'linux',
      electronPkgDir: pkgDir,
      appDir: ROOT,
      stderr,
      webMode: async () => void web++,
    };
    const outcome = await startDesktop({ open: false, db: join(tmp, 'w.db') }, deps);
    const text = lines.join('');
    const fallbackLines = text.split('\n').filter((l) => l.startsWith('deepbern: Electron cannot start:'));
    return { outcome, text, fallbackLines, web };
  }

  const setChecksum = (body: Buffer) =>
    writeFile(join(pkgDir, 'checksums.json'), JSON.stringify({ [ZIP_NAME]: sha256(body) }));

  it('a mirror answering 404: the download is attempted there, then web mode with one line', async () => {
    respond = () => ({ status: 404, body: Buffer.from('no such release') });
    const r = await start();
    expect(requests).toEqual([ZIP_PATH]);
    expect(r.text).toContain(`fetching Electron ${VERSION}`);
    expect(r.text).toContain(`from ${mirror}`);
    expect(r.outcome).toEqual({
      mode: 'web',
      reason: expect.stringMatching(
        /^download failed: Response code 404 \(Not Found\) for http:\/\/127\.0\.0\.1:\d+\/v[\d.]+\/electron-v[\d.]+-linux-\w+\.zip \(offline\? see docs\/release\.md/,
      ),
    });
    expect(r.fallbackLines).toHaveLength(1);
    expect(r.web).toBe(1);
    expect(existsSync(join(pkgDir, 'dist'))).toBe(false);
    expect(existsSync(join(pkgDir, 'path.txt'))).toBe(false);
  });

  it('a broken archive fails its checksum: web mode with one line, nothing installed', async () => {
    respond = (url) =>
      url === ZIP_PATH
        ? { status: 200, body: Buffer.from('PK\x03\x04 this is not an Electron build') }
        : { status: 404, body: Buffer.alloc(0) };
    const r = await start();
    expect(r.outcome).toMatchObject({
      mode: 'web',
      reason: expect.stringMatching(/^the downloaded archive is broken: .*checksum/i),
    });
    expect(r.fallbackLines).toHaveLength(1);
    expect(existsSync(join(pkgDir, 'path.txt'))).toBe(false);
  });

  it('a broken archive that passes its checksum fails to extract: web mode, no half-installed dist/', async () => {
    const garbage = Buffer.from('PK\x03\x04 truncated zip');
    await setChecksum(garbage);
    respond = (url) => (url === ZIP_PATH ? { status: 200, body: garbage } : { status: 404, body: Buffer.alloc(0) });
    const r = await start();
    expect(r.outcome).toMatchObject({
      mode: 'web',
      reason: expect.stringMatching(/^the downloaded archive is broken \(.+\.zip\): /),
    });
    expect(r.fallbackLines).toHaveLength(1);
    expect(r.fallbackLines[0]!.split('\n')).toHaveLength(1);
    expect(existsSync(join(pkgDir, 'dist'))).toBe(false);
    expect(existsSync(join(pkgDir, 'path.txt'))).toBe(false);
  });

  it('a good archive installs (with progress) and launches the package folder; dying at launch falls back with its reason', async () => {
    const body = electronZip(DYING);
    await setChecksum(body);
    respond = (url) => (url === ZIP_PATH ? { status: 200, body } : { status: 404, body: Buffer.alloc(0) });
    const r = await start();
    expect(r.text).toMatch(/downloading Electron… [\d.]+ MB of [\d.]+ MB \(100%\)/);
    expect(r.text).toContain(`Electron ${VERSION} is installed`);
    // The layout Electron's own index.js and install.js expect.
    expect(await readFile(join(pkgDir, 'path.txt'), 'utf8')).toBe('electron');
    expect(existsSync(join(pkgDir, 'dist', 'electron'))).toBe(true);
    expect(r.outcome).toEqual({
      mode: 'web',
      reason:
        'Electron exited at launch (code 127): electron: error while loading shared libraries: libgtk-3.so.0: cannot open shared object file',
    });
    expect(r.fallbackLines).toHaveLength(1);
    expect(r.web).toBe(1);
  });

  it('an installed Electron that opens its window is not a fallback, and its exit code is passed on', async () => {
    const body = electronZip(RUNS);
    await setChecksum(body);
    respond = (url) => (url === ZIP_PATH ? { status: 200, body } : { status: 404, body: Buffer.alloc(0) });
    const argsFile = join(tmp, 'args');
    const first = await start({ FAKE_ARGS_FILE: argsFile });
    expect(first.outcome).toEqual({ mode: 'electron', code: 0 });
    // Launched on the package folder (so app.name comes from our package.json), not on main.js.
    expect(await readFile(argsFile, 'utf8')).toBe(ROOT);
    expect(first.web).toBe(0);
    expect(requests).toEqual([ZIP_PATH]);
    // Installed now: no second download; a failure after the window opened is the app's exit code, not "cannot start".
    const again = await start({ FAKE_EXIT: '3', FAKE_ARGS_FILE: argsFile });
    expect(again.outcome).toEqual({ mode: 'electron', code: 3 });
    expect(again.fallbackLines).toEqual([]);
    expect(requests).toEqual([ZIP_PATH]);
    // The app refusing a database another front end holds exits DB_LOCKED_EXIT before its window: it said why
    // in its dialog, and web mode would be refused the same way, so that is no launch failure either.
    const refused = await start({ FAKE_EXIT: String(DB_LOCKED_EXIT), FAKE_NO_READY: '1', FAKE_ARGS_FILE: argsFile });
    expect(refused.outcome).toEqual({ mode: 'electron', code: DB_LOCKED_EXIT });
    expect(refused.fallbackLines).toEqual([]);
    expect(refused.web).toBe(0);
    // Any other exit before the window is one.
    const died = await start({ FAKE_EXIT: '1', FAKE_NO_READY: '1', FAKE_ARGS_FILE: argsFile });
    expect(died.outcome).toEqual({ mode: 'web', reason: 'Electron exited at launch (code 1)' });
  });

  it('offline: a zip pre-placed in Electron download cache installs without the network', async () => {
    const body = electronZip(RUNS);
    await setChecksum(body);
    // @electron/get's cache layout: <cache>/<sha256 of the URL's folder>/<file name> (docs/release.md).
    const githubDir = `https://github.com/electron/electron/releases/download/v${VERSION}`;
    const cacheDir = join(tmp, 'cache', createHash('sha256').update(githubDir).digest('hex'));
    await mkdir(cacheDir, { recursive: true });
    await writeFile(join(cacheDir, ZIP_NAME), body);
    const r = await start({ ELECTRON_MIRROR: '', FAKE_ARGS_FILE: join(tmp, 'args') });
    expect(r.text).toContain('(from the download cache)');
    expect(r.outcome).toEqual({ mode: 'electron', code: 0 });
    expect(requests).toEqual([]);
  });

  it('no display, or no renderer build: one line, no download', async () => {
    const r = await start({ DISPLAY: '', WAYLAND_DISPLAY: '' });
    expect(r.outcome).toEqual({ mode: 'web', reason: 'no display (neither DISPLAY nor WAYLAND_DISPLAY is set)' });
    expect(requests).toEqual([]);
    const noRenderer = await startDesktop(
      { open: false },
      {
        appDir: tmp,
        env: { DISPLAY: ':99' },
        platform: 'linux',
        electronPkgDir: pkgDir,
        stderr: { write: () => true } as unknown as NodeJS.WritableStream,
        webMode: async () => undefined,
      },
    );
    expect(noRenderer).toMatchObject({
      mode: 'web',
      reason: expect.stringMatching(/compiled Electron main is missing/),
    });
  });

  it('failure messages are one line', () => {
    expect(fetchFailureReason(Object.assign(new Error('fetch failed'), { cause: { code: 'ECONNREFUSED' } }))).toBe(
      'download failed: ECONNREFUSED',
    );
    expect(fetchFailureReason(new Error('first\n    at stack'))).toBe('first');
  });
});

describe('npm start, for real: Electron dying at launch falls back to web mode', () => {
  it('prints the one line and serves the workbench in a browser instead', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'deepbern-start-cli-'));
    try {
      const dist = join(tmp, 'electron-dist');
      await mkdir(dist);
      await writeFile(join(dist, 'electron'), DYING);
      await chmod(join(dist, 'electron'), 0o755);
      const child = spawn(
        process.execPath,
        [join(ROOT, 'bin/deepbern.js'), 'start', '--no-open', '--db', join(tmp, 'w.db'), '--workers', '1'],
        {
          env: { ...process.env, DISPLAY: ':99', ELECTRON_OVERRIDE_DIST_PATH: dist },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
      const deadline = Date.now() + 120_000;
      while (!/^http:\/\/127\.0\.0\.1:\d+\/\?token=/m.test(out) && Date.now() < deadline && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 200));
      child.kill('SIGTERM');
      await exited;
      expect(out, err).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=/m);
      const lines = err.split('\n').filter((l) => l.startsWith('deepbern: Electron cannot start:'));
      expect(lines).toEqual([
        'deepbern: Electron cannot start: Electron exited at launch (code 127): electron: error while loading shared libraries: libgtk-3.so.0: cannot open shared object file; starting web mode instead',
      ]);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }, 180_000);
});
