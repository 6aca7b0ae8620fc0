// Storage faults: a read-only DB file, a full disk (a file-size limit on the process), a DB from a newer
// schema: each a clear error, no corruption, and what was stored before still there.
import { chmodSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sqlite3 from 'sqlite3';
import { BIN, cli, dbHash, tempDir } from './support/cli.js';
import { query } from './support/sqlite-query.js';

const tmp = tempDir('deepbern-storage-');
const db = join(tmp.dir, 'wb.db');
let runId = '';

beforeAll(() => {
  const r = cli([
    'train',
    '--rows',
    '200',
    '--depth',
    '2',
    '--width',
    '4',
    '--activation',
    'relu',
    '--epochs',
    '2',
    '--db',
    db,
  ]);
  expect(r.code).toBe(0);
  runId = r.stdout.trim();
});
afterAll(() => tmp.cleanup());

function sh(script: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('storage faults', () => {
  it('a full disk (the file cannot grow): a clear error, earlier runs intact, integrity ok', async () => {
    const before = await query(db, 'SELECT * FROM epoch_metrics WHERE run_id = ? ORDER BY epoch, metric', [runId]);
    const limitKb = Math.ceil(statSync(db).size / 1024) + 16;
    // A wide net: its first epoch's checkpoint cannot fit under the limit.
    const r = sh(
      `ulimit -f ${limitKb}; exec node ${BIN} train --rows 400 --depth 4 --width 128 --activation bernstein --epochs 2 --db ${db}`,
    );
    expect(r.code, r.stderr).not.toBe(0);
    expect(r.stderr, `exit ${r.code}`).toMatch(
      /deepbern: could not write the database \(disk full, file size limit, or I\/O error/,
    );
    expect(await query(db, 'PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    expect(await query(db, 'SELECT * FROM epoch_metrics WHERE run_id = ? ORDER BY epoch, metric', [runId])).toEqual(
      before,
    );
    // the failed run kept no half epoch
    const runs = await query<{ id: string; epochs_done: number }>(
      db,
      'SELECT id, epochs_done FROM runs WHERE id != ?',
      [runId],
    );
    for (const run of runs) {
      const n = await query<{ n: number }>(
        db,
        "SELECT COUNT(*) n FROM epoch_metrics WHERE run_id = ? AND metric = 'train_loss'",
        [run.id],
      );
      expect(n[0].n).toBe(run.epochs_done);
    }
  });

  it('a read-only DB file: reading works, writing says read-only, nothing changes', () => {
    const dir = tmp.dir;
    chmodSync(dir, 0o755);
    chmodSync(db, 0o644); // root owns it; the CLI runs as nobody, for whom it is read-only
    const before = dbHash(db);
    const asNobody = (args: string) => sh(`setpriv --reuid=nobody --regid=nogroup --clear-groups node ${BIN} ${args}`);
    const list = asNobody(`show ${runId} --db ${db} --json`);
    expect(list.stderr).toBe('');
    expect(JSON.parse(list.stdout).run.id).toBe(runId);
    const write = asNobody(`train --rows 100 --depth 2 --width 4 --activation relu --epochs 1 --db ${db}`);
    expect(write.code).not.toBe(0);
    expect(write.stderr.trim().split('\n')).toHaveLength(1);
    expect(write.stderr).toMatch(/deepbern: .*(read-only|not writable)/);
    expect(dbHash(db)).toBe(before);
  });

  it('a DB from a newer schema version: refused, unchanged', async () => {
    const newer = join(tmp.dir, 'newer.db');
    cli(['runs', '--db', newer]); // create a current DB
    await new Promise<void>((resolve, reject) => {
      const d = new sqlite3.Database(newer);
      d.exec('PRAGMA user_version = 99', (e) => d.close(() => (e ? reject(e) : resolve())));
    });
    const before = dbHash(newer);
    for (const args of [['runs'], ['train', '--depth', '2', '--width', '4', '--activation', 'relu']]) {
      const r = cli([...args, '--db', newer]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/newer/);
    }
    expect(dbHash(newer)).toBe(before);
  });
});
