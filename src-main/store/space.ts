// Giving disk space back. Deleted rows leave free pages that SQLite reuses but never returns to the OS;
// VACUUM rewrites the file without them. It costs a full copy, so only when enough is free.
import { stat } from 'node:fs/promises';
import type { Db } from './db.js';

export interface VacuumPolicy {
  /** Vacuum when at least this many bytes are free… (default 1 MiB) */
  minFreeBytes: number;
  /** …and they are at least this fraction of the file (default 0.2). */
  minFreeFraction: number;
}

export const DEFAULT_VACUUM_POLICY: VacuumPolicy = { minFreeBytes: 1024 * 1024, minFreeFraction: 0.2 };

/** Bytes on disk: the database plus its write-ahead log. */
export async function diskBytes(path: string): Promise<number> {
  const size = async (p: string) => (await stat(p).catch(() => undefined))?.size ?? 0;
  return (await size(path)) + (await size(`${path}-wal`));
}

export async function freePages(db: Db): Promise<{ free: number; total: number; pageSize: number }> {
  const get = async (pragma: string) =>
    Object.values((await db.get<Record<string, number>>(`PRAGMA ${pragma}`)) ?? {})[0] ?? 0;
  return { free: await get('freelist_count'), total: await get('page_count'), pageSize: await get('page_size') };
}

/** VACUUMs when the policy says so (or always when `force`), then folds the WAL back into the file. */
export async function reclaim(db: Db, mode: 'auto' | 'always' | 'never', policy: VacuumPolicy): Promise<boolean> {
  if (mode === 'never') return false;
  const { free, total, pageSize } = await freePages(db);
  const worth = free * pageSize >= policy.minFreeBytes && total > 0 && free / total >= policy.minFreeFraction;
  if (mode === 'always' || worth) {
    await db.exec('VACUUM');
    // In WAL mode the shrink reaches the main file only at a checkpoint; TRUNCATE also empties the -wal file.
    await db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    return true;
  }
  return false;
}
