// Multi-row INSERTs: one statement per chunk instead of one per row (an epoch brings hundreds of layer rows).
import type { Queryable, SqlValue } from './db.js';

/** SQLite's default bound-parameter limit is 32766; stay well below it. */
const MAX_PARAMS = 8000;

/** `table` and `columns` are trusted identifiers from this package, never user input. */
export async function insertRows(
  q: Queryable,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly SqlValue[])[],
): Promise<void> {
  const perChunk = Math.max(1, Math.floor(MAX_PARAMS / columns.length));
  const tuple = `(${columns.map(() => '?').join(',')})`;
  for (let i = 0; i < rows.length; i += perChunk) {
    const chunk = rows.slice(i, i + perChunk);
    const sql = `INSERT INTO ${table} (${columns.join(',')}) VALUES ${chunk.map(() => tuple).join(',')}`;
    await q.run(sql, chunk.flat());
  }
}
