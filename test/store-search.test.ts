// Runs search (issue 15, scale): listRuns evaluates the full-text match once per call and picks a plan by the
// number of hits; whatever the plan, its pages and totals must be exactly what a plain LIKE scan of the same
// real SQLite file gives, for every filter, order, direction and offset, on writable and read-only opens.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunStore, type ListRunsOptions } from '../src-main/store/run-store.js';
import { orderColumn } from '../src-main/store/run-rows.js';
import type { SqlValue } from '../src-main/store/db.js';
import { addRuns } from './bench/ui.js';
import { tempDir } from './support/cli.js';

const tmp = tempDir('deepbern-search-');
const path = join(tmp.dir, 'search.db');
let store: RunStore;
let readOnly: RunStore;
const sweepIds: string[] = [];

beforeAll(async () => {
  store = await RunStore.open(path);
  await store.writeBatch(async () => {
    for (let s = 0; s < 40; s++)
      sweepIds.push(await store.createSweep({ name: `sweep-${s}`, config: { name: `sweep-${s}` } as never }));
  });
  await addRuns(store, 3000, sweepIds, 10); // three activation labels, names "sweep-<s>-<i> <label>", 1 in 11 without accuracy
  // Variety beyond the generator: other kinds, statuses, tags, names with LIKE's and FTS's special characters.
  await store.writeBatch(async () => {
    await store.db.run(
      'UPDATE runs SET kind = \'approx\', tags_json = \'["approx-lab","lab:7"]\' WHERE rowid % 37 = 0',
    );
    await store.db.run("UPDATE runs SET status = 'failed', final_test_acc = NULL WHERE rowid % 13 = 0");
    await store.db.run("UPDATE runs SET status = 'cancelled' WHERE rowid % 17 = 0");
    await store.db.run('UPDATE runs SET name = \'Wide_100% "quoted" run \' || rowid WHERE rowid % 101 = 0');
    await store.db.run('UPDATE runs SET tags_json = \'["baseline"]\' WHERE rowid % 7 = 3');
    await store.db.run('UPDATE runs SET final_test_loss = NULL WHERE rowid % 19 = 0');
  });
  readOnly = await RunStore.open(path, { readOnly: true });
}, 120_000);

afterAll(async () => {
  await readOnly?.close();
  await store?.close();
  tmp.cleanup();
});

const SEARCHABLE = ['id', 'name', 'activation_label', 'dataset', 'tags_json'];

/** The reference: every condition as a plain scan, NULLs last, the same tie-breaks. */
async function reference(opts: ListRunsOptions): Promise<{ ids: string[]; total: number }> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (opts.status !== undefined) {
    const st = typeof opts.status === 'string' ? [opts.status] : [...opts.status];
    where.push(`status IN (${st.map(() => '?').join(',')})`);
    params.push(...st);
  }
  if (opts.sweepId !== undefined) {
    where.push('sweep_id = ?');
    params.push(opts.sweepId);
  }
  if (opts.kind !== undefined && opts.kind !== 'all') {
    where.push('kind = ?');
    params.push(opts.kind);
  }
  for (const word of (opts.search ?? '').split(/\s+/).filter(Boolean)) {
    const like = `%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    where.push(`(${SEARCHABLE.map((c) => `${c} LIKE ? ESCAPE '\\'`).join(' OR ')})`);
    params.push(...SEARCHABLE.map(() => like));
  }
  const col = orderColumn(opts.orderBy);
  const dir = opts.desc ? 'DESC' : 'ASC';
  const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const rows = await store.db.all<{ id: string }>(
    `SELECT id FROM runs NOT INDEXED ${filter} ORDER BY ${col} IS NULL, ${col} ${dir}, name ${dir}, id ${dir} LIMIT ? OFFSET ?`,
    [...params, opts.limit ?? 100, opts.offset ?? 0],
  );
  const total = (await store.db.get<{ n: number }>(`SELECT count(*) AS n FROM runs NOT INDEXED ${filter}`, params))!.n;
  return { ids: rows.map((r) => r.id), total };
}

describe('runs search', () => {
  const terms = [
    'Bern_{9',
    'bern',
    'ReLU',
    'relu 5',
    'sweep-12-',
    'sweep-3',
    'SELU',
    'approx-lab',
    'baseline Bern',
    '100%',
    '"quoted"',
    'rb00012',
    'xyzzy',
    'e 9',
    'synthetic',
  ];
  const filters: ListRunsOptions[] = [
    { kind: 'training' },
    {},
    { kind: 'approx' },
    { status: 'finished', kind: 'training' },
    { sweepId: 'SWEEP' },
    { status: ['failed', 'cancelled'] },
  ];
  const orders: Pick<ListRunsOptions, 'orderBy' | 'desc'>[] = [
    {},
    { orderBy: 'createdAt', desc: true },
    { orderBy: 'final.test_acc', desc: true },
    { orderBy: 'final.test_acc' },
    { orderBy: 'final.test_loss' },
    { orderBy: 'name', desc: true },
  ];

  it('pages and totals equal a LIKE scan: every term × filter × order × offset, writable and read-only', async () => {
    let compared = 0;
    let nonEmpty = 0;
    for (const search of terms) {
      for (const f of filters) {
        const base = { ...f, ...(f.sweepId ? { sweepId: sweepIds[12]! } : {}), search, limit: 25 };
        const { total } = await reference(base);
        if (total > 0) nonEmpty++;
        for (const o of orders) {
          for (const offset of [0, 40, Math.max(0, total - 10), total + 5]) {
            const q = { ...base, ...o, offset };
            const want = await reference(q);
            for (const s of [store, readOnly]) {
              const got = await s.listRuns(q);
              expect({ ids: got.rows.map((r) => r.id), total: got.total }, JSON.stringify(q)).toEqual(want);
              compared++;
            }
          }
        }
      }
    }
    expect(compared).toBe(terms.length * filters.length * orders.length * 4 * 2);
    expect(nonEmpty).toBeGreaterThan(terms.length * 2); // the cases are not all empty
  }, 300_000);

  it('both plans are exercised: a term with few hits and one with a third of the runs', async () => {
    const few = await store.listRuns({ kind: 'training', search: 'sweep-12-' });
    const many = await store.listRuns({ kind: 'training', search: 'Bern_{9' });
    expect(few.total).toBeGreaterThan(0);
    expect(few.total).toBeLessThan(200); // hits² · 8 ≤ (offset+limit) · runs: read the hits
    expect(many.total).toBeGreaterThan(800); // walk the order's index
    // a search after a rename sees the new name (the scratch table is refilled on every call)
    const id = few.rows[0]!.id;
    await store.db.run("UPDATE runs SET name = 'renamed-zq9' WHERE id = ?", [id]);
    expect((await store.listRuns({ search: 'renamed-zq9' })).rows.map((r) => r.id)).toEqual([id]);
    expect((await store.listRuns({ search: 'renamed-zq9 sweep-12-' })).total).toBe(0);
  });
});
