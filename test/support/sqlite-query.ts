// Read-only SQL against a DB file from tests (a separate connection, as an outside observer would).
import { existsSync } from 'node:fs';
import sqlite3 from 'sqlite3';

export function query<T>(db: string, sql: string, params: unknown[] = []): Promise<T[]> {
  return new Promise((resolve, reject) => {
    if (!existsSync(db)) return reject(new Error(`no database at ${db}`));
    const d = new sqlite3.Database(db, sqlite3.OPEN_READONLY, (openError) => {
      if (openError) reject(openError);
    });
    d.all(sql, params, (e, rows) => {
      d.close();
      if (e) reject(e);
      else resolve(rows as T[]);
    });
  });
}
