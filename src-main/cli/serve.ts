// `deepbern serve` (web mode: the workbench in a browser) and `deepbern start` (the Electron app, or web mode
// where Electron cannot run). Both are thin: the service does the work, the transports carry it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { BackendPref } from '../../workers/engine/backend.js';
import { downloadSource, fetchElectronBinary, type FetchProgress } from '../electron/fetch-binary.js';
import { launchElectron } from '../electron/launch.js';
import { locateElectron } from '../electron/locate.js';
import { defaultDbPath } from '../store/paths.js';
import { DB_HELP } from './store.js';
import { acquireFrontEndLock } from '../store/db-lock.js';
import { isLoopbackHost } from '../transports/http-security.js';
import { startWebServer } from '../transports/http.js';
// Repeated from workers/engine/backend.ts: importing that module loads tfjs, which every other command pays for.
const BACKEND_PREFS: readonly BackendPref[] = ['auto', 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];
import { numberFlag, UserError } from './errors.js';

interface ServeFlags {
  port?: number;
  host: string;
  db?: string;
  workers?: number;
  backend?: string;
  open: boolean;
  resume: boolean;
  allowOrigin?: string[];
}

/** The renderer build: dist/renderer beside dist/src-main (compiled), or the repo's dist/ (run from source). */
function rendererDir(): string {
  const here = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(here.endsWith('.ts') ? '../../dist/renderer' : '../../renderer', import.meta.url));
}

function checkFlags(f: { port?: number; workers?: number; backend?: string }): void {
  if (f.port !== undefined && (!Number.isInteger(f.port) || f.port < 0 || f.port > 65535))
    throw new UserError('--port must be an integer between 0 and 65535');
  if (f.workers !== undefined && (!Number.isInteger(f.workers) || f.workers < 1 || f.workers > 256))
    throw new UserError('--workers must be an integer between 1 and 256');
  if (f.backend !== undefined && !(BACKEND_PREFS as readonly string[]).includes(f.backend))
    throw new UserError(`--backend must be one of ${BACKEND_PREFS.join(', ')}`);
}

function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined); // no browser launcher: the printed URL is enough
    child.unref();
  } catch {
    // same: the URL is printed
  }
}

export async function serve(f: ServeFlags): Promise<void> {
  checkFlags(f);
  const staticDir = rendererDir();
  if (!existsSync(`${staticDir}/index.html`))
    process.stderr.write(`deepbern: warning: the renderer is not built (${staticDir}); run \`npx vite build\`\n`);
  const dbPath = f.db ?? defaultDbPath();
  // One front end per DB (the app, another serve): refused with who has it (exit 4) before anything resumes.
  const lock = await acquireFrontEndLock(dbPath, { command: 'deepbern serve' });
  const { WorkbenchService } = await import('../service/workbench-service.js'); // loads tfjs: only when serving
  let service;
  try {
    service = await WorkbenchService.start({
      dbPath,
      transport: 'web',
      workers: f.workers,
      backend: f.backend as BackendPref | undefined,
      resumeOnStart: f.resume,
    });
  } catch (e) {
    await lock.release();
    throw e;
  }
  let server;
  try {
    server = await startWebServer({ service, host: f.host, port: f.port ?? 0, staticDir, extraOrigins: f.allowOrigin });
  } catch (e) {
    await service.close();
    await lock.release();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL')
      throw new UserError(`cannot listen on ${f.host}:${f.port ?? 0} (${code})`);
    throw e;
  }
  if (!isLoopbackHost(f.host)) {
    process.stderr.write(
      `deepbern: warning: listening on ${f.host}: anyone who can reach this machine and has the link can use the workbench (and its files)\n`,
    );
  }
  // Handlers first: whoever reads the printed URL may signal us the moment it appears.
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write('deepbern: stopping (finished epochs are kept; running sweeps continue on the next start)\n');
    void server
      .close()
      .then(() => service.close())
      .finally(() => lock.release().finally(() => process.exit(0)));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const info = await service['system.info']();
  process.stderr.write(
    `deepbern: web mode, store ${info.dbPath}, backend ${info.backend.name}, ${info.workers.size} worker${info.workers.size > 1 ? 's' : ''}\n`,
  );
  process.stdout.write(`${server.openUrl}\n`);
  if (f.open) openBrowser(server.openUrl);
}

export interface StartDeps {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** The `electron` package folder (default: the installed one). */
  electronPkgDir?: string;
  /** The app folder Electron launches (default: this install's package root). */
  appDir?: string;
  stderr?: NodeJS.WritableStream;
  /** Web mode when Electron cannot start (default: `serve` on loopback). */
  webMode?: () => Promise<void>;
}

export type StartOutcome = { mode: 'electron'; code: number } | { mode: 'web'; reason: string };

/** Download progress on one line: redrawn in a terminal, every 25% otherwise (logs, CI). */
function progressLine(err: NodeJS.WritableStream & { isTTY?: boolean }) {
  let lastQuarter = -1;
  const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
  return {
    update({ transferred, total }: FetchProgress) {
      const pct = total ? Math.floor((transferred / total) * 100) : null;
      const text = `deepbern: downloading Electron… ${mb(transferred)}${total ? ` of ${mb(total)} (${pct}%)` : ''}`;
      if (err.isTTY) err.write(`\r${text}`);
      else if (pct !== null && Math.floor(pct / 25) > lastQuarter) {
        lastQuarter = Math.floor(pct / 25);
        err.write(`${text}\n`);
      }
    },
    end() {
      if (err.isTTY) err.write('\n');
    },
  };
}

/**
 * `deepbern start`: the Electron app. Fetches Electron's binary on first use (as `npx electron` would, with
 * progress, honouring ELECTRON_MIRROR and the cache), launches the package folder, and falls back to web mode
 * with a one-line reason when there is no display, the fetch fails, the build is incomplete or Electron dies
 * at launch.
 */
export async function startDesktop(
  f: { db?: string; workers?: number; backend?: string; open: boolean },
  deps: StartDeps = {},
): Promise<StartOutcome> {
  checkFlags(f);
  const env = deps.env ?? process.env;
  const err = deps.stderr ?? process.stderr;
  // The package root: beside dist/ (compiled: dist/src-main/cli/serve.js; from source: src-main/cli/serve.ts).
  const appDir =
    deps.appDir ?? fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../' : '../../../', import.meta.url));
  const fallback = async (reason: string): Promise<StartOutcome> => {
    err.write(`deepbern: Electron cannot start: ${reason}; starting web mode instead\n`);
    await (
      deps.webMode ??
      (() => serve({ host: '127.0.0.1', db: f.db, workers: f.workers, backend: f.backend, open: f.open, resume: true }))
    )();
    return { mode: 'web', reason };
  };
  const mainJs = join(appDir, 'dist', 'src-main', 'electron', 'main.js');
  const indexHtml = join(appDir, 'dist', 'renderer', 'index.html');
  if (!existsSync(mainJs)) return fallback(`the compiled Electron main is missing (${mainJs}; run npm run build)`);
  if (!existsSync(indexHtml)) return fallback(`the renderer is not built (${indexHtml}; run npm run build)`);

  let electron = locateElectron(env, deps.platform, deps.electronPkgDir);
  if (!electron.ok && electron.fetch) {
    const pkg = electron.fetch;
    err.write(
      `deepbern: first start: fetching Electron ${pkg.version} (about 100 MB, once) from ${downloadSource(env)}\n`,
    );
    const bar = progressLine(err);
    const got = await fetchElectronBinary(pkg, { env, onProgress: (p) => bar.update(p) });
    bar.end();
    if (!got.ok) return fallback(`${got.reason} (offline? see docs/release.md, "Installing offline")`);
    err.write(`deepbern: Electron ${pkg.version} is installed${got.fromCache ? ' (from the download cache)' : ''}\n`);
    electron = locateElectron(env, deps.platform, deps.electronPkgDir);
  }
  if (!electron.ok) return fallback(electron.reason);

  const childEnv: NodeJS.ProcessEnv = { ...env, DEEPBERN_DB: f.db ?? defaultDbPath() };
  if (f.workers !== undefined) childEnv.DEEPBERN_WORKERS = String(f.workers);
  if (f.backend !== undefined) childEnv.DEEPBERN_BACKEND = f.backend;
  const run = await launchElectron({ binary: electron.binary, appDir, env: childEnv, stderr: err });
  if (!run.launched) return fallback(run.reason);
  return { mode: 'electron', code: run.code };
}

async function start(f: { db?: string; workers?: number; backend?: string; open: boolean }): Promise<void> {
  const r = await startDesktop(f);
  if (r.mode === 'electron') process.exitCode = r.code;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('web mode: serve the workbench to a browser (prints the URL with its session token)')
    .option('--port <n>', 'port (default: a free one)', numberFlag('--port'))
    .option('--host <host>', 'interface to listen on; 0.0.0.0 exposes it to the network', '127.0.0.1')
    .option('--db <path>', DB_HELP)
    .option('--workers <n>', 'parallel runs (default: CPU cores)', numberFlag('--workers'))
    .option('--backend <name>', 'auto | tfjs-node-gpu | tfjs-node | wasm | cpu')
    .option('--no-open', 'do not open a browser')
    .option('--no-resume', 'do not re-queue sweeps an earlier crash left running')
    .option(
      '--allow-origin <origin>',
      'also accept calls from this origin, e.g. a vite dev server http://localhost:5173 (repeatable)',
      (v: string, prev: string[] = []) => {
        if (!/^https?:\/\/[^/\s]+$/.test(v))
          throw new UserError(`--allow-origin must be an origin like http://localhost:5173 (got "${v}")`);
        return [...prev, v];
      },
    )
    .action((f: ServeFlags) => serve(f));

  program
    .command('start')
    .description(
      'the desktop app (Electron; its binary is fetched on first start); where Electron cannot start, web mode instead',
    )
    .option('--db <path>', DB_HELP)
    .option(
      '--workers <n>',
      'parallel runs (default: CPU cores − 1, one stays with the window)',
      numberFlag('--workers'),
    )
    .option('--backend <name>', 'auto | tfjs-node-gpu | tfjs-node | wasm | cpu')
    .option('--no-open', 'web-mode fallback: do not open a browser')
    .action((f: { db?: string; workers?: number; backend?: string; open: boolean }) => start(f));
}
