// The one error type the store throws for anything the caller can act on; `code` lets adapters map it
// (HTTP status, CLI exit code) without parsing messages.

export type StoreErrorCode =
  | 'not_sqlite' // the file exists but is not a SQLite database
  | 'not_workbench' // a SQLite database of something else (never migrated, never changed)
  | 'too_new' // the schema version is newer than this code knows
  | 'needs_migration' // a read-only open of a database that is not at the current version
  | 'cannot_open' // missing, unwritable or otherwise unopenable location
  | 'read_only' // a write on a store opened read-only
  | 'not_found' // unknown run / sweep / dataset id
  | 'conflict' // a write that would store something twice (e.g. an epoch)
  | 'invalid' // arguments the store refuses (unknown metric, bad page size…)
  | 'closed' // the connection was closed
  | 'owned' // another live process owns the run or sweep (leases.ts)
  | 'sqlite'; // anything else SQLite reported

export class StoreError extends Error {
  constructor(
    message: string,
    readonly code: StoreErrorCode,
    options?: { cause?: unknown; sqlite?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StoreError';
    this.sqlite = options?.sqlite;
  }
  /** SQLite's error name when SQLite raised it, e.g. "SQLITE_CONSTRAINT". */
  readonly sqlite: string | undefined;
}

/** SQLite's error name from a node-sqlite3 error (or a StoreError wrapping one), e.g. "SQLITE_CONSTRAINT". */
export function sqliteCode(e: unknown): string | undefined {
  if (e instanceof StoreError) return e.sqlite;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
