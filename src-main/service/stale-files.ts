// Start-up cleanup of what interrupted imports and crashed servers leave behind: dataset-file temp files
// (`<id>.dbds.<pid>-<hex>[.labels].tmp`, beside the DB) and web-mode upload/IDX folders in the OS temp dir
// (`deepbern-uploads-<pid>-…`, `deepbern-idx-<pid>-…`). Only names we create, and only stale ones: the
// process that wrote them is gone (and the file was not touched for a while), or nothing touched them for a day.
import { readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A live writer touches its temp file every few milliseconds; this much quiet plus a dead pid is stale. */
const QUIET_MS = 2 * 60_000;
/** Untouched this long, it is stale whoever wrote it (a pid reused by another process, another host). */
const ABANDONED_MS = 24 * 3600_000;

/** `.dbds.<pid>-<12 hex>(.labels).tmp`, or the older `.dbds.<12 hex>.tmp` without a pid. */
const DATASET_TMP = /\.dbds\.(?:(\d+)-)?[0-9a-f]{12}(?:\.labels)?\.tmp$/;
const TEMP_DIR = /^deepbern-(?:uploads|idx)-(\d+)-/;

export interface CleanupReport {
  removed: string[];
  bytes: number;
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, another user's
  }
}

function stale(pid: number | undefined, mtimeMs: number, now: number): boolean {
  const quiet = now - mtimeMs;
  if (quiet > ABANDONED_MS) return true;
  return pid !== undefined && !alive(pid) && quiet > QUIET_MS;
}

async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return []; // no folder yet: nothing to clean
  }
}

async function sizeOf(path: string): Promise<number> {
  const s = await stat(path).catch(() => undefined);
  if (!s) return 0;
  if (!s.isDirectory()) return s.size;
  let total = 0;
  for (const e of await entries(path)) total += await sizeOf(join(path, e));
  return total;
}

/**
 * Remove stale temp files of ours from `datasetsDir` (the folder beside the DB) and stale upload/IDX folders
 * from `tempRoot` (default the OS temp dir; null: skip). Never throws: cleanup must not stop a start.
 */
export async function cleanStaleFiles(opts: {
  datasetsDir?: string;
  tempRoot?: string | null;
  now?: number;
}): Promise<CleanupReport> {
  const now = opts.now ?? Date.now();
  const report: CleanupReport = { removed: [], bytes: 0 };
  const consider = async (path: string, pid: number | undefined, dirOk: boolean) => {
    const s = await stat(path).catch(() => undefined);
    if (!s || (s.isDirectory() && !dirOk) || (!s.isDirectory() && !s.isFile())) return;
    if (!stale(pid, s.mtimeMs, now)) return;
    const bytes = await sizeOf(path);
    try {
      await rm(path, { recursive: true, force: true });
      report.removed.push(path);
      report.bytes += bytes;
    } catch {
      /* not ours to remove after all (permissions): leave it */
    }
  };
  if (opts.datasetsDir) {
    for (const name of await entries(opts.datasetsDir)) {
      const m = DATASET_TMP.exec(name);
      if (m) await consider(join(opts.datasetsDir, name), m[1] === undefined ? undefined : Number(m[1]), false);
    }
  }
  const root = opts.tempRoot === null ? undefined : (opts.tempRoot ?? tmpdir());
  for (const name of root === undefined ? [] : await entries(root)) {
    const m = TEMP_DIR.exec(name);
    if (m) await consider(join(root as string, name), Number(m[1]), true);
  }
  return report;
}

/** One line for the log, or null when nothing was removed. */
export function cleanupLine(r: CleanupReport): string | null {
  if (r.removed.length === 0) return null;
  const mb = r.bytes / 2 ** 20;
  return `removed ${r.removed.length} stale temp file${r.removed.length === 1 ? '' : 's'} left by interrupted imports or a crashed server (${mb >= 1 ? `${mb.toFixed(0)} MB` : `${r.bytes} bytes`})`;
}
