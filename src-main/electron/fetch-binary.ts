// Fetch the Electron binary on first `deepbern start`, as Electron 42's own install.js does (electron/rfcs#22):
// the same downloader (@electron/get: ELECTRON_MIRROR, the download cache, checksums.json), the same extractor,
// the same `dist/` + `path.txt` layout, so `npx electron` and `require('electron')` find it afterwards. Unlike
// install.js it reports progress from the first byte and ends with one line instead of a stack trace, and it
// extracts into a temporary folder first, so a broken archive never leaves a half-installed `dist/`.
import { execSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch as hostArch } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ElectronPackage } from './locate.js';

export interface FetchProgress {
  transferred: number;
  total: number | null;
}

export interface FetchOptions {
  env?: NodeJS.ProcessEnv;
  platform?: string;
  arch?: string;
  /** Called as bytes arrive (not for a cache hit). */
  onProgress?: (p: FetchProgress) => void;
}

export type FetchResult = { ok: true; binary: string; fromCache: boolean } | { ok: false; reason: string };

const GITHUB = 'https://github.com/electron/electron/releases/download/';

/** Where the archive comes from, for the "downloading …" line (the mirror when one is set). */
export function downloadSource(env: NodeJS.ProcessEnv = process.env): string {
  return env.ELECTRON_MIRROR || env.npm_config_electron_mirror || env.NPM_CONFIG_ELECTRON_MIRROR || GITHUB;
}

// The two packages are Electron's own dependencies: resolve them from its folder, not from ours.
interface ElectronGet {
  downloadArtifact(details: Record<string, unknown>): Promise<string>;
}
interface ExtractZip {
  extract(zip: string, opts: { dir: string }): Promise<void>;
}
async function importFrom<T>(pkgDir: string, id: string): Promise<T> {
  const file = createRequire(join(pkgDir, 'package.json')).resolve(id);
  return (await import(pathToFileURL(file).href)) as T;
}

/** One line for the user from whatever the downloader or extractor threw. */
export function fetchFailureReason(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  const first = (s: string) => s.split('\n')[0]!.trim();
  const msg = first(err instanceof Error ? err.message : String(e));
  if (err?.name === 'HTTPError') return `download failed: ${msg}`;
  if (msg === 'fetch failed')
    return `download failed: ${err.cause?.code ?? first(err.cause?.message ?? 'network error')}`;
  if (/checksum/i.test(msg)) return `the downloaded archive is broken: ${msg}`;
  return msg;
}

/** As install.js: an x64 Node under Rosetta on Apple silicon still gets the arm64 Electron. */
function nativeArch(platform: string): string {
  const a = hostArch();
  if (platform !== 'darwin' || process.platform !== 'darwin' || a !== 'x64') return a;
  try {
    return execSync('sysctl -in sysctl.proc_translated', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim() === '1'
      ? 'arm64'
      : a;
  } catch {
    return a;
  }
}

export async function fetchElectronBinary(pkg: ElectronPackage, o: FetchOptions = {}): Promise<FetchResult> {
  const env = o.env ?? process.env;
  const platform = o.platform ?? env.ELECTRON_INSTALL_PLATFORM ?? env.npm_config_platform ?? process.platform;
  const arch = o.arch ?? env.ELECTRON_INSTALL_ARCH ?? env.npm_config_arch ?? nativeArch(platform);
  const remoteChecksums = !!(env.electron_use_remote_checksums || env.npm_config_electron_use_remote_checksums);
  let zip: string;
  let fromCache = true;
  try {
    const get = await importFrom<ElectronGet>(pkg.dir, '@electron/get');
    zip = await get.downloadArtifact({
      version: pkg.version,
      artifactName: 'electron',
      platform,
      arch,
      force: env.force_no_cache === 'true',
      // install.js reads these from process.env (through @electron/get); passed explicitly so `env` is the truth.
      cacheRoot: env.electron_config_cache,
      mirrorOptions: {
        mirror: env.ELECTRON_MIRROR,
        customDir: env.ELECTRON_CUSTOM_DIR,
        customFilename: env.ELECTRON_CUSTOM_FILENAME,
      },
      checksums: remoteChecksums
        ? undefined
        : (JSON.parse(readFileSync(join(pkg.dir, 'checksums.json'), 'utf8')) as Record<string, string>),
      downloadOptions: {
        quiet: true, // our own progress instead of @electron/get's bar, which appears only after 30 s
        getProgressCallback: (p: FetchProgress) => {
          fromCache = false;
          o.onProgress?.({ transferred: p.transferred, total: p.total });
        },
      },
    });
  } catch (e) {
    return { ok: false, reason: fetchFailureReason(e) };
  }

  const dist = join(pkg.dir, 'dist');
  const partial = join(pkg.dir, `dist.partial-${process.pid}`);
  try {
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    const { extract } = await importFrom<ExtractZip>(pkg.dir, '@electron-internal/extract-zip');
    await extract(zip, { dir: partial });
    if (!existsSync(join(partial, pkg.platformPath))) throw new Error(`it has no ${pkg.platformPath}`);
    await rm(dist, { recursive: true, force: true });
    await rename(partial, dist);
    // As install.js: the archive's typings replace the package's, and path.txt is written last (it marks "installed").
    if (existsSync(join(dist, 'electron.d.ts')))
      await rename(join(dist, 'electron.d.ts'), join(pkg.dir, 'electron.d.ts'));
    await writeFile(join(pkg.dir, 'path.txt'), pkg.platformPath);
  } catch (e) {
    await rm(partial, { recursive: true, force: true }).catch(() => undefined);
    return { ok: false, reason: `the downloaded archive is broken (${zip}): ${fetchFailureReason(e)}` };
  }
  return { ok: true, binary: join(dist, pkg.platformPath), fromCache };
}
