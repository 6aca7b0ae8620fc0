// Opening the store for a CLI command: --db, else $DEEPBERN_DB, else the per-user data dir.
import { RunStore } from '../store/run-store.js';
import { defaultDbPath } from '../store/paths.js';

export async function openStore(db?: string, opts: { readOnly?: boolean } = {}): Promise<RunStore> {
  return RunStore.open(db ?? defaultDbPath(), opts);
}
