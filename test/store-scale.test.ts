// Issue 15 (scale, #8): list orders an index serves (no `col IS NULL` sort of the whole table), NULLs last in
// both directions across page boundaries, trigram full-text search, run kinds (approximation fits apart),
// many runs in one call, and deletes that give space back in small background steps.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EpochReport } from '../shared/metrics.js';
import { parseSpec, type NetworkSpecInput } from '../shared/spec.js';
import { RunStore } from '../src-main/store/run-store.js';

let dir: string;
let store: RunStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deepbern-scale-'));
  store = await RunStore.open(join(dir, 'wb.db'));
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const spec = (over: Partial<NetworkSpecInput> = {}) =>
  parseSpec({ dataset: 'synthetic-higgs', depth: 2, width: 8, activation: 'bernstein', ...over });
const report = (epoch: number, acc: number): EpochReport => ({
  epoch,
  metrics: { train_loss: 1, test_loss: 1, test_acc: acc },
  layers: [],
});

describe('runs list at scale', () => {
  it('every list order is an index order: no temp B-tree sorts the table', async () => {
    for (const [orderBy, desc] of [
      ['createdAt', true],
      ['createdAt', false],
      ['final.test_acc', true],
      ['final.test_loss', true],
      ['final.train_loss', true],
    ] as const) {
      const col = orderBy === 'createdAt' ? 'created_at' : `final_${orderBy.slice(6)}`;
      const dir = desc ? 'DESC' : 'ASC';
      // what the Runs screen asks (training runs) in every order; all kinds in creation order
      const kinded = await store.db.all<{ detail: string }>(
        `EXPLAIN QUERY PLAN SELECT id FROM runs WHERE kind = 'training' ORDER BY ${col} ${dir}, name ${dir}, id ${dir} LIMIT 100`,
      );
      expect(kinded.map((p) => p.detail).join(' | '), `${orderBy} ${dir}`).not.toMatch(/TEMP B-TREE/);
      const nonNull = await store.db.all<{ detail: string }>(
        `EXPLAIN QUERY PLAN SELECT id FROM runs WHERE kind = 'training' AND ${col} IS NOT NULL ORDER BY ${col} ${dir}, name ${dir}, id ${dir} LIMIT 100`,
      );
      expect(nonNull.map((p) => p.detail).join(' | '), `${orderBy} ${dir} non-null`).not.toMatch(/TEMP B-TREE/);
      const all = await store.db.all<{ detail: string }>(
        `EXPLAIN QUERY PLAN SELECT id FROM runs ORDER BY created_at ${dir}, name ${dir}, id ${dir} LIMIT 100`,
      );
      expect(all.map((p) => p.detail).join(' | ')).not.toMatch(/TEMP B-TREE/);
    }
  });

  it('runs without a value sort last ascending and descending, also across page boundaries', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const id = await store.createRun({ spec: spec(), name: `r${i}`, epochsTotal: 1 });
      if (i % 2 === 0) await store.appendEpoch(id, report(1, i / 10)); // r0 r2 r4 r6 have an accuracy
      ids.push(id);
    }
    const names = async (desc: boolean, limit: number) => {
      const out: string[] = [];
      for (let offset = 0; offset < 7; offset += limit)
        out.push(
          ...(await store.listRuns({ kind: 'training', orderBy: 'final.test_acc', desc, limit, offset })).rows.map(
            (r) => r.name,
          ),
        );
      return out;
    };
    expect(await names(false, 100)).toEqual(['r0', 'r2', 'r4', 'r6', 'r1', 'r3', 'r5']);
    expect(await names(false, 3)).toEqual(['r0', 'r2', 'r4', 'r6', 'r1', 'r3', 'r5']);
    expect(await names(true, 3)).toEqual(['r6', 'r4', 'r2', 'r0', 'r5', 'r3', 'r1']);
  });

  it('search finds substrings through the full-text index (and short words by LIKE), following renames and tags', async () => {
    const a = await store.createRun({
      spec: spec({ degree: 9, eps: 0.01, bounds: [-5, 5] }),
      name: 'higgs-deep-001',
      epochsTotal: 1,
      tags: ['baseline-check'],
    });
    await store.createRun({ spec: spec({ activation: 'relu' }), name: 'mnist-wide-002', epochsTotal: 1 });
    const find = async (search: string) => (await store.listRuns({ search })).rows.map((r) => r.name);
    expect(await find('Bern_{9')).toEqual(['higgs-deep-001']);
    expect(await find('DEEP')).toEqual(['higgs-deep-001']);
    expect(await find('line-ch')).toEqual(['higgs-deep-001']);
    expect(await find('wide relu')).toEqual(['mnist-wide-002']);
    expect(await find('-0')).toHaveLength(2); // 2 characters: LIKE
    await store.setTags(a, ['renamed-tag']);
    expect(await find('line-ch')).toEqual([]);
    expect(await find('med-ta')).toEqual(['higgs-deep-001']);
    const plan = await store.db.all<{ detail: string }>(
      `EXPLAIN QUERY PLAN SELECT id FROM runs WHERE rowid IN (SELECT rowid FROM runs_fts WHERE runs_fts MATCH '"deep"')`,
    );
    expect(plan.map((p) => p.detail).join(' | ')).toMatch(/VIRTUAL TABLE INDEX/);
    await store.deleteRuns([a]);
    expect(await find('deep')).toEqual([]);
  });

  it('approximation-lab fits are their own kind: the training list leaves them out', async () => {
    await store.createRun({ spec: spec(), name: 'trained', epochsTotal: 1 });
    await store.createRun({ spec: spec(), name: 'fit', epochsTotal: 5, tags: ['approx-lab', 'steps:2000'] });
    expect((await store.listRuns({ kind: 'training' })).rows.map((r) => [r.name, r.kind])).toEqual([
      ['trained', 'training'],
    ]);
    expect((await store.listRuns({ kind: 'approx' })).rows.map((r) => [r.name, r.kind])).toEqual([['fit', 'approx']]);
    expect((await store.listRuns({})).total).toBe(2);
  });

  it('getRuns: many runs in one query, in the order asked, unknown ids listed', async () => {
    const a = await store.createRun({ spec: spec(), name: 'a', epochsTotal: 1 });
    const b = await store.createRun({ spec: spec({ seed: 3 }), name: 'b', epochsTotal: 1 });
    const got = await store.getRuns([b, 'rnope', a]);
    expect(got.runs.map((r) => [r.name, r.spec.seed])).toEqual([
      ['b', 3],
      ['a', 0],
    ]);
    expect(got.missing).toEqual(['rnope']);
  });
});

describe('deleting without blocking', () => {
  it('a new store vacuums incrementally; a background delete returns at once and the file shrinks in steps', async () => {
    expect(await store.db.get('PRAGMA auto_vacuum')).toEqual({ auto_vacuum: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const id = await store.createRun({ spec: spec(), epochsTotal: 1 });
      await store.appendEpoch(id, report(1, 0.5), new Uint8Array(2 << 20).fill(i));
      ids.push(id);
    }
    await store.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const before = (await stat(store.path)).size;
    const r = await store.deleteRuns(ids.slice(1), { vacuum: 'background', chunk: 1 });
    expect(r).toMatchObject({ deleted: 5, reclaim: 'background', vacuumed: false });
    expect(r.freedBytes).toBeGreaterThan(9 << 20);
    // other calls are answered while the space is given back
    expect((await store.listRuns()).rows.map((x) => x.id)).toEqual([ids[0]]);
    await store.reclaimIdle();
    expect((await stat(store.path)).size).toBeLessThan(before - (8 << 20));
    expect((await store.space()).freeBytes).toBe(0);
    expect(await store.db.get('PRAGMA integrity_check')).toEqual({ integrity_check: 'ok' });
  });
});
