// The desktop package, built for real by electron-builder (`--linux dir`) against a stand-in Electron folder:
// Electron's binary cannot be downloaded here, so the stand-in is a script carrying Electron's fuse wire (the
// sentinel @electron/fuses looks for, with Electron's default states), which lets the build flip the fuses
// from electron-builder.yml exactly as on a real binary. Then: what the package holds, the deb target's
// computed configuration (electron-builder stops before running fpm, which it would download), and the
// extracted app running a one-run sweep under plain Node through its own Piscina pool.
// Needs `npm run build` (dist/ and dist/renderer) first, like the packaging itself.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const requireHere = createRequire(import.meta.url);
const asar = requireHere('@electron/asar') as {
  listPackage(archive: string, o: { isPack: boolean }): string[];
  extractAll(archive: string, dest: string): void;
};
const fuses = requireHere('@electron/fuses') as {
  getCurrentFuseWire(binary: string): Promise<Record<string, number | string>>;
};
const electronVersion = (requireHere('electron/package.json') as { version: string }).version;
const config = parse(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as Record<string, unknown> & {
  electronFuses: Record<string, boolean>;
  deb: { depends: string[]; maintainer?: string };
};

// @electron/fuses' wire: sentinel, version 1, length 8, then one byte per FuseV1Options index ('1' on, '0' off).
const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
const FUSE_INDEX: Record<string, number> = {
  runAsNode: 0,
  enableCookieEncryption: 1,
  enableNodeOptionsEnvironmentVariable: 2,
  enableNodeCliInspectArguments: 3,
  enableEmbeddedAsarIntegrityValidation: 4,
  onlyLoadAppFromAsar: 5,
  loadBrowserProcessSpecificV8Snapshot: 6,
  grantFileProtocolExtraPrivileges: 7,
};
const ON = 49;
const OFF = 48;
/** Electron's own defaults: RunAsNode, NODE_OPTIONS, --inspect and file:// privileges on; the rest off. */
const ELECTRON_DEFAULT_WIRE = [ON, OFF, ON, ON, OFF, OFF, OFF, ON];

async function standInElectron(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const wire = Buffer.from([1, ELECTRON_DEFAULT_WIRE.length, ...ELECTRON_DEFAULT_WIRE]);
  const script = Buffer.concat([
    Buffer.from(`#!/bin/sh\n# stand-in Electron for packaging tests; fuse wire: ${SENTINEL}`),
    wire,
    Buffer.from('\necho "stand-in Electron: no app here" >&2\nexit 1\n'),
  ]);
  await writeFile(join(dir, 'electron'), script, { mode: 0o755 });
  await writeFile(join(dir, 'version'), electronVersion);
  await writeFile(join(dir, 'LICENSE'), 'stand-in');
}

function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('the desktop package (electron-builder --linux dir, stand-in Electron)', () => {
  let tmp: string;
  let fake: string;
  let unpacked: string;
  let entries: string[];
  let built: { code: number | null; out: string; err: string };

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'deepbern-pack-'));
    fake = join(tmp, 'electron-dist');
    await standInElectron(fake);
    expect(existsSync(join(ROOT, 'dist/renderer/index.html')), 'run npm run build first').toBe(true);
    built = await run(
      join(ROOT, 'node_modules/.bin/electron-builder'),
      ['--linux', 'dir', '--publish', 'never', `-c.electronDist=${fake}`, `-c.directories.output=${join(tmp, 'out')}`],
      { cwd: ROOT },
    );
    unpacked = join(tmp, 'out', 'linux-unpacked');
    const archive = join(unpacked, 'resources', 'app.asar');
    entries = existsSync(archive) ? asar.listPackage(archive, { isPack: false }).map((e) => e.replace(/\\/g, '/')) : [];
  }, 600_000);
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('builds, without rebuilding native modules', () => {
    expect(built.code, built.out + built.err).toBe(0);
    expect(built.out + built.err).not.toMatch(/installing native dependencies|@electron\/rebuild/);
    expect(existsSync(join(unpacked, 'deepbern-workbench'))).toBe(true);
  });

  it('holds the compiled app, the renderer, the examples and the production dependencies', () => {
    for (const e of [
      '/package.json',
      '/dist/src-main/electron/main.js',
      '/dist/src-main/electron/preload.cjs',
      '/dist/src-main/cli/main.js',
      '/dist/workers/pool-task.js',
      '/dist/workers/engine/threads/replica-worker.js',
      '/dist/workers/backend-probe.js',
      '/dist/renderer/index.html',
      '/examples/quickstart.yaml',
      '/examples/paper',
      '/node_modules/piscina/package.json',
      '/node_modules/sqlite3/package.json',
    ]) {
      expect(entries, e).toContain(e);
    }
    expect(entries.some((e) => e.startsWith('/dist/renderer/assets/') && e.endsWith('.js'))).toBe(true);
    expect(entries.filter((e) => e.startsWith('/examples/paper/')).length).toBeGreaterThan(0);
    // Nothing of the test build or the sources.
    expect(entries.some((e) => e.startsWith('/dist/test/') || e.startsWith('/src-main/') || e.endsWith('.map'))).toBe(
      false,
    );
    const pkg = JSON.parse(asarFile(unpacked, 'package.json')) as {
      main: string;
      productName: string;
      desktopName: string;
    };
    expect(pkg).toMatchObject({
      main: 'dist/src-main/electron/main.js',
      productName: 'DeepBern Workbench',
      desktopName: 'deepbern-workbench.desktop',
    });
  });

  it('leaves the optional native TensorFlow backends out', () => {
    expect(entries.filter((e) => /\/@tensorflow\/tfjs-node/.test(e))).toEqual([]);
    expect(existsSync(join(unpacked, 'resources/app.asar.unpacked/node_modules/@tensorflow/tfjs-node'))).toBe(false);
  });

  it('unpacks the wasm binaries and native addons (read by path, dlopen()ed)', () => {
    const wasmDir = join(unpacked, 'resources/app.asar.unpacked/node_modules/@tensorflow/tfjs-backend-wasm/dist');
    const wasm = readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'));
    expect(wasm).toEqual(expect.arrayContaining(['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm']));
    const sqliteAddon = join(
      unpacked,
      'resources/app.asar.unpacked/node_modules/sqlite3/build/Release/node_sqlite3.node',
    );
    expect(existsSync(sqliteAddon)).toBe(true);
  });

  it('flips the fuses electron-builder.yml sets (no Node mode, no NODE_OPTIONS, no --inspect, no file:// privileges)', async () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      loadBrowserProcessSpecificV8Snapshot: false,
      grantFileProtocolExtraPrivileges: false,
    });
    const wire = await fuses.getCurrentFuseWire(join(unpacked, 'deepbern-workbench'));
    for (const [name, on] of Object.entries(config.electronFuses)) {
      expect(wire[String(FUSE_INDEX[name])], name).toBe(on ? ON : OFF);
    }
  });

  it('the deb configuration is complete: maintainer, homepage, default depends kept, icons and desktop entry', async () => {
    // electron-builder's API, stopped (effectiveOptionComputed) just before it would download and run fpm.
    const builder = requireHere('electron-builder') as typeof import('electron-builder');
    const fpmTarget = requireHere(join(ROOT, 'node_modules/app-builder-lib/out/targets/FpmTarget.js')) as {
      default: { prototype: { getDefaultDepends(t: string): string[] } };
    };
    let args: string[] = [];
    let desktop = '';
    await builder.build({
      projectDir: ROOT,
      targets: builder.Platform.LINUX.createTarget('deb', builder.Arch.x64),
      prepackaged: unpacked,
      publish: 'never',
      config: { electronDist: fake, directories: { output: join(tmp, 'deb') } },
      effectiveOptionComputed: async (o: unknown) => {
        const [a, desktopFile] = o as [string[], string];
        args = a;
        desktop = await readFile(desktopFile, 'utf8');
        return true; // stop here: fpm is fetched from the network
      },
    });
    const flag = (name: string) => args[args.indexOf(name) + 1];
    expect(flag('--maintainer')).toMatch(/^.+ <[^@\s]+@[^@\s]+>$/);
    expect(flag('--url')).toMatch(/^https:\/\//);
    expect(flag('--name')).toBe('deepbern-workbench');
    // `depends` replaces electron-builder's list: ours must still contain all of it.
    const defaults = fpmTarget.default.prototype.getDefaultDepends.call(null, 'deb');
    expect(defaults.length).toBeGreaterThan(5);
    expect(config.deb.depends).toEqual(expect.arrayContaining([...defaults, 'libasound2']));
    const icons = args.filter((a) => a.includes('/usr/share/icons/hicolor/'));
    for (const size of [16, 32, 48, 64, 128, 256, 512])
      expect(
        icons.some((a) => a.endsWith(`/${size}x${size}/apps/deepbern-workbench.png`)),
        `${size}px`,
      ).toBe(true);
    // Each is a real PNG of its size (IHDR width/height), rendered from build/icon.svg.
    for (const a of icons) {
      const [file, dest] = a.split('=') as [string, string];
      const png = readFileSync(file);
      const size = Number(/\/(\d+)x\d+\//.exec(dest)![1]);
      expect(png.subarray(1, 4).toString(), file).toBe('PNG');
      expect([png.readUInt32BE(16), png.readUInt32BE(20)], file).toEqual([size, size]);
    }
    const big = readFileSync(join(ROOT, 'build/icon.png')); // the .icns / .ico source
    expect([big.readUInt32BE(16), big.readUInt32BE(20)]).toEqual([1024, 1024]);
    expect(args.some((a) => a.endsWith('=/usr/share/applications/deepbern-workbench.desktop'))).toBe(true);
    expect(desktop).toMatch(/^Name=DeepBern Workbench$/m);
    expect(desktop).toMatch(/^Icon=deepbern-workbench$/m);
    expect(desktop).toMatch(/^StartupWMClass=deepbern-workbench$/m);
    expect(desktop).toMatch(/^Categories=Education;Science;$/m);
  }, 180_000);

  it('the extracted app runs a one-run sweep under plain Node through its own Piscina pool', async () => {
    const app = join(tmp, 'extracted');
    asar.extractAll(join(unpacked, 'resources', 'app.asar'), app); // unpacked files come along
    const sweep = join(tmp, 'one.yaml');
    await writeFile(
      sweep,
      'name: packaged-smoke\ndataset: synthetic-higgs\nrows: 400\nbase: {activation: bernstein, depth: 2, width: 4, epochs: 1, batchSize: 64}\n',
    );
    const db = join(tmp, 'smoke.db');
    // Outside the repo: every module (piscina, sqlite3, tfjs) resolves from the package's own node_modules.
    expect(app.startsWith(ROOT)).toBe(false);
    const cli = join(app, 'dist/src-main/cli/main.js');
    const r = await run(
      process.execPath,
      [cli, 'sweep', 'run', sweep, '--workers', '1', '--backend', 'wasm', '--db', db],
      { cwd: tmp },
    );
    expect(r.code, r.out + r.err).toBe(0);
    const runs = await run(process.execPath, [cli, 'runs', '--db', db, '--json'], { cwd: tmp });
    expect(runs.code, runs.err).toBe(0);
    const { runs: list } = JSON.parse(runs.out) as { runs: { status: string; backend: string | null }[] };
    expect(list.map((x) => [x.status, x.backend])).toEqual([['finished', 'wasm']]);
  }, 300_000);
});

function asarFile(unpacked: string, file: string): string {
  return (requireHere('@electron/asar') as { extractFile(a: string, f: string): Buffer })
    .extractFile(join(unpacked, 'resources', 'app.asar'), file)
    .toString('utf8');
}
