// Launch the Electron app from a terminal (`deepbern start`) and tell "it ran" from "it died at launch".
// Electron is started on the package FOLDER (not on main.js), so it reads our package.json: app.name and the
// user-data folder are the workbench's, as in the packaged app. The main process writes a ready file once its
// window is shown (DEEPBERN_READY_FILE); an exit before that with a failure is a launch failure, and its last
// stderr line (e.g. a missing shared library) is the reason. The one exception: the app refusing a database
// another front end holds (DB_LOCKED_EXIT) ran fine and said so in its dialog; web mode would be refused too.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DB_LOCKED_EXIT } from './app-start.js';

export const READY_FILE_ENV = 'DEEPBERN_READY_FILE';

export type LaunchResult = { launched: true; code: number } | { launched: false; reason: string };

export interface LaunchOptions {
  binary: string;
  /** The folder holding the app's package.json. */
  appDir: string;
  env: NodeJS.ProcessEnv;
  /** Where Electron's stderr goes as it arrives (default: ours). */
  stderr?: NodeJS.WritableStream;
}

// Escape sequences and Chromium's "[pid:...:ERROR:...]" prefixes make poor one-line reasons.
function cleanLine(s: string): string {
  return (
    s
      // eslint-disable-next-line no-control-regex -- strips ANSI colour codes (ESC [ … m) from Electron's output
      .replace(/\x1b\[[0-9;]*[A-Za-z]/g, '')
      .replace(/^\[[^\]]*\]\s*/, '')
      .trim()
  );
}

export function launchElectron(o: LaunchOptions): Promise<LaunchResult> {
  const readyFile = join(tmpdir(), `deepbern-ready-${process.pid}-${randomBytes(4).toString('hex')}`);
  const env: NodeJS.ProcessEnv = { ...o.env, [READY_FILE_ENV]: readyFile };
  delete env.ELECTRON_RUN_AS_NODE; // set by some shells/IDEs: it would make the binary a plain Node
  const out = o.stderr ?? process.stderr;
  return new Promise((resolve) => {
    let lastLine = '';
    let child;
    try {
      child = spawn(o.binary, [o.appDir], { stdio: ['inherit', 'inherit', 'pipe'], env, windowsHide: false });
    } catch (e) {
      resolve({ launched: false, reason: `cannot run ${o.binary}: ${(e as Error).message}` });
      return;
    }
    child.stderr!.on('data', (b: Buffer) => {
      out.write(b);
      const lines = b.toString('utf8').split('\n').map(cleanLine).filter(Boolean);
      if (lines.length) lastLine = lines[lines.length - 1]!;
    });
    // Like Electron's cli.js: Ctrl-C in the terminal quits the app (cleanly: the app's before-quit runs).
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    const handlers = (['SIGINT', 'SIGTERM'] as const).map((s) => [s, forward(s)] as const);
    for (const [s, h] of handlers) process.on(s, h);
    const done = (r: LaunchResult) => {
      for (const [s, h] of handlers) process.off(s, h);
      rmSync(readyFile, { force: true });
      resolve(r);
    };
    child.on('error', (e: NodeJS.ErrnoException) =>
      done({ launched: false, reason: `cannot run ${o.binary} (${e.code ?? e.message})` }),
    );
    child.on('close', (code, signal) => {
      const ready = existsSync(readyFile);
      const failed = code !== 0 && code !== DB_LOCKED_EXIT;
      if (!ready && failed) {
        const how = signal ? `signal ${signal}` : `code ${code}`;
        done({ launched: false, reason: `Electron exited at launch (${how})${lastLine ? `: ${lastLine}` : ''}` });
      } else done({ launched: true, code: code ?? 1 });
    });
  });
}
