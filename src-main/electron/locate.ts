// Can Electron run here, and where is its binary? Answered WITHOUT `require('electron')`: since Electron 42
// that module downloads the binary synchronously on first use, with no progress and a stack trace on failure.
// `deepbern start` fetches it itself instead (fetch-binary.ts), visibly, and says why when it cannot.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The installed `electron` npm package: its folder, version and the binary's path inside `dist/`. */
export interface ElectronPackage {
  dir: string;
  version: string;
  /** Relative to `dist/`, as Electron's install.js writes it to `path.txt`. */
  platformPath: string;
}

export type ElectronCheck =
  | { ok: true; binary: string }
  /** `fetch`: the package is installed but its binary is not: fetching it may fix this. */
  | { ok: false; reason: string; fetch?: ElectronPackage };

/** Where Electron's install.js puts the executable for a platform (`dist/<this>`). */
export function platformPath(platform: string): string {
  switch (platform) {
    case 'mas':
    case 'darwin':
      return 'Electron.app/Contents/MacOS/Electron';
    case 'freebsd':
    case 'openbsd':
    case 'linux':
      return 'electron';
    case 'win32':
      return 'electron.exe';
    default:
      throw new Error(`Electron builds are not available on platform ${platform}`);
  }
}

/** The electron package in this install (or in `dir`); null when it is not installed. */
export function electronPackage(dir?: string, platform: string = process.platform): ElectronPackage | null {
  let pkgDir = dir;
  if (!pkgDir) {
    try {
      pkgDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
    } catch {
      return null;
    }
  }
  const pkgFile = join(pkgDir, 'package.json');
  if (!existsSync(pkgFile)) return null;
  const version = String((JSON.parse(readFileSync(pkgFile, 'utf8')) as { version?: unknown }).version ?? '');
  return { dir: pkgDir, version, platformPath: platformPath(platform) };
}

function readTrimmed(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

export function locateElectron(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  pkgDir?: string,
): ElectronCheck {
  if (platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) {
    return { ok: false, reason: 'no display (neither DISPLAY nor WAYLAND_DISPLAY is set)' };
  }
  let pkg: ElectronPackage | null;
  try {
    pkg = electronPackage(pkgDir, platform);
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  if (!pkg) return { ok: false, reason: 'the electron package is not installed (npm install --include=dev)' };
  const relative = readTrimmed(join(pkg.dir, 'path.txt'));
  // Electron's own override (a binary built or unpacked elsewhere): used as is, never downloaded.
  if (env.ELECTRON_OVERRIDE_DIST_PATH) {
    const binary = join(env.ELECTRON_OVERRIDE_DIST_PATH, relative || 'electron');
    return existsSync(binary)
      ? { ok: true, binary }
      : { ok: false, reason: `the Electron binary is missing (${binary}, from ELECTRON_OVERRIDE_DIST_PATH)` };
  }
  const binary = join(pkg.dir, 'dist', relative || pkg.platformPath);
  // The same test as Electron's install.js: right version, right platform, binary present.
  const installed =
    relative === pkg.platformPath &&
    readTrimmed(join(pkg.dir, 'dist', 'version')).replace(/^v/, '') === pkg.version &&
    existsSync(binary);
  if (installed) return { ok: true, binary };
  return {
    ok: false,
    reason: `the Electron ${pkg.version} binary is not downloaded yet (${join(pkg.dir, 'dist')})`,
    fetch: pkg,
  };
}
