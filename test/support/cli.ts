// Run the real `deepbern` CLI (the compiled build, as users do) on temp files.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'deepbern.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], opts: { env?: Record<string, string> } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...opts.env },
    timeout: 300_000,
    maxBuffer: 512 * 2 ** 20,
  }); // a model file can be MBs
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The same, without blocking the test's event loop (for runs that others interrupt). */
export function cliAsync(
  args: string[],
  opts: { env?: Record<string, string> } = {},
): { child: ReturnType<typeof spawn>; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code: code ?? (signal ? -1 : 0), stdout, stderr })),
  );
  return { child, done };
}

/** `deepbern train` of a tiny net (1 epoch on 100 rows): the base of the bad-flag cases, `extra` before `--db`. */
export const tinyTrainArgs = (db: string, ...extra: string[]): string[] => [
  'train',
  '--depth',
  '2',
  '--width',
  '4',
  '--activation',
  'bernstein',
  '--epochs',
  '1',
  '--rows',
  '100',
  ...extra,
  '--db',
  db,
];

/** stderr's lines without commander's usage hint (it follows a usage error on a line of its own). */
export function errorLines(r: CliResult): string[] {
  return r.stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('(add --help'));
}

/** The CLI failed (with `code`, when given) and said why in one `deepbern: …` line matching `re`. */
export function expectOneLineError(r: CliResult, re: RegExp, code?: number): void {
  if (code === undefined) expect(r.code, r.stderr).not.toBe(0);
  else expect(r.code, r.stderr).toBe(code);
  const lines = errorLines(r);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^deepbern: /);
  expect(lines[0]).toMatch(re);
}

export function tempDir(prefix = 'deepbern-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A hash of the DB's logical content (a dump), so "unchanged" means no row changed, whatever WAL does. */
export function dbHash(path: string): string {
  if (!existsSync(path)) return 'absent';
  const script = `
    const sqlite3 = require('sqlite3');
    const db = new sqlite3.Database(process.argv[1], sqlite3.OPEN_READONLY);
    db.all("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name", async (e, tables) => {
      if (e) { console.log('error ' + e.message); return; }
      const out = [];
      for (const t of tables) {
        // A live process's lease renews every few seconds: its heartbeat is liveness, not stored data (who owns
        // what still counts).
        const cols = t.name === 'owners' ? 'id, pid, host, command, started_at' : '*';
        const rows = await new Promise((res, rej) => db.all('SELECT ' + cols + ' FROM "' + t.name + '"', (err, r) => err ? rej(err) : res(r)));
        out.push(t.name, JSON.stringify(rows, (k, v) => Buffer.isBuffer(v) ? v.toString('base64') : v));
      }
      db.get('PRAGMA user_version', (e2, v) => { console.log(JSON.stringify([v, out])); db.close(); });
    });`;
  const r = spawnSync(process.execPath, ['-e', script, path], { encoding: 'utf8', cwd: ROOT });
  return createHash('sha256')
    .update(r.stdout + r.stderr)
    .digest('hex');
}

export function fileHash(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}
