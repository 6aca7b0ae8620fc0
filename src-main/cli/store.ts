// Opening the store for a CLI command: --db, else $DEEPBERN_DB, else the per-user data dir. Commands that only
// read open it read-only: no migration, no journal-mode switch, and they work on a read-only file.
import { existsSync } from 'node:fs';
import { RunStore } from '../store/run-store.js';
import { defaultDbPath } from '../store/paths.js';

/** Opens the store; a writable open also turns what dead processes left `running` into `interrupted`. */
export async function openStore(db?: string, opts: { readOnly?: boolean } = {}): Promise<RunStore> {
  const store = await RunStore.open(db ?? defaultDbPath(), opts);
  if (!opts.readOnly) await store.reapExpired().catch(() => undefined); // a busy DB: shown as it is, reaped next time
  return store;
}

/** Read-only, for listings: null when there is no database yet (nothing stored: an empty list, not an error). */
export async function openStoreIfExists(db?: string): Promise<RunStore | null> {
  const path = db ?? defaultDbPath();
  if (!existsSync(path)) return null;
  return RunStore.open(path, { readOnly: true });
}
