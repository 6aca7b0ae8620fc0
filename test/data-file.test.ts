import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDatasetFile, readDatasetFileHeader, writeDatasetFile } from '../workers/data/dataset-file.js';
import { DatasetError } from '../workers/data/errors.js';
import { BUILTIN_DATASETS, importUciDataset, loadDataset } from '../workers/data/registry.js';
import { syntheticHiggsTable, writeSyntheticHiggsCsv } from '../workers/data/synthetic.js';
import { readUciCsv } from '../workers/data/uci-csv.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deepbern-dsfile-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
const p = (name: string) => join(dir, name);

describe('dataset file', () => {
  it('round-trips header and rows exactly, leaving no temp files', async () => {
    const t = { ...syntheticHiggsTable(300, 4), labels: ['background', 'signal'] };
    const h = await writeDatasetFile(p('a.dbds'), { id: 'my-higgs', kind: 'higgs', source: 'test rows' }, t);
    const back = await readDatasetFile(p('a.dbds'));
    expect(back.header).toEqual(h);
    expect(back.header).toMatchObject({
      id: 'my-higgs',
      kind: 'higgs',
      task: 'classification',
      inputDim: 28,
      outputDim: 2,
      rows: 300,
      labels: ['background', 'signal'],
    });
    expect(Array.from(back.table.x)).toEqual(Array.from(t.x));
    expect(Array.from(back.table.y)).toEqual(Array.from(t.y));
    expect(await readDatasetFileHeader(p('a.dbds'))).toEqual(h);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('rejects corrupted files: magic, header JSON, size, flipped payload byte, bad class', async () => {
    const t = syntheticHiggsTable(50, 1);
    await writeDatasetFile(p('ok.dbds'), { id: 'x', kind: 'higgs', source: 's' }, t);
    const good = await readFile(p('ok.dbds'));
    const variant = async (name: string, edit: (b: Buffer) => Buffer): Promise<string> => {
      await writeFile(p(name), edit(Buffer.from(good)));
      try {
        await readDatasetFile(p(name));
      } catch (e) {
        expect(e).toBeInstanceOf(DatasetError);
        return (e as Error).message;
      }
      throw new Error(`${name} was accepted`);
    };
    expect(await variant('magic.dbds', (b) => (b.write('XXXX', 0), b))).toMatch(/magic\.dbds: not a dataset file/);
    expect(await variant('json.dbds', (b) => (b.write('@', 12), b))).toMatch(/header is not valid JSON/);
    expect(await variant('short.dbds', (b) => b.subarray(0, b.length - 4))).toMatch(
      /short\.dbds: corrupt dataset file \(\d+ bytes; header says 50 rows × 28 features/,
    );
    expect(await variant('flip.dbds', (b) => ((b[b.length - 300] ^= 0x40), b))).toMatch(/checksum mismatch/);
    expect(await variant('version.dbds', (b) => (b.writeUInt32LE(9, 4), b))).toMatch(
      /version 9 is not supported \(allowed: 1\)/,
    );
    const rowsLie = good.toString('latin1').replace('"rows":50', '"rows":51');
    expect(await variant('rows.dbds', () => Buffer.from(rowsLie, 'latin1'))).toMatch(/header says 51 rows/);
    await expect(readDatasetFile(p('nope.dbds'))).rejects.toThrow(/nope\.dbds: cannot open the dataset file/);
  });

  it('a failed write leaves neither the final file nor a temp file', async () => {
    const t = syntheticHiggsTable(10, 1);
    const bad = { ...t, rows: 11 }; // arrays do not match the row count
    await expect(writeDatasetFile(p('bad.dbds'), { id: 'b', kind: 'higgs', source: 's' }, bad)).rejects.toThrow(
      DatasetError,
    );
    const files = await readdir(dir);
    expect(files.some((f) => f.startsWith('bad.dbds'))).toBe(false);
    // Overwriting replaces the file whole (rename), never appends or truncates in place.
    await writeDatasetFile(p('over.dbds'), { id: 'o', kind: 'higgs', source: 'first' }, syntheticHiggsTable(20, 1));
    await writeDatasetFile(p('over.dbds'), { id: 'o', kind: 'higgs', source: 'second' }, t);
    expect((await readDatasetFile(p('over.dbds'))).header).toMatchObject({ source: 'second', rows: 10 });
  });
});

describe('registry', () => {
  it('imports a HIGGS csv.gz once, then loads it by id with first-rows, seed and train-stat standardisation', async () => {
    await writeSyntheticHiggsCsv(p('HIGGS.csv.gz'), { rows: 400, seed: 9, gzip: true });
    const progress: number[] = [];
    const meta = await importUciDataset('higgs', p('HIGGS.csv.gz'), p('higgs.dbds'), {
      rows: 300,
      onProgress: (x) => progress.push(x.rows),
    });
    expect(meta).toMatchObject({
      id: 'higgs',
      kind: 'higgs',
      rows: 300,
      inputDim: 28,
      outputDim: 2,
      task: 'classification',
      path: p('higgs.dbds'),
    });
    expect(meta.source).toBe('HIGGS.csv.gz first 300 rows (HIGGS format)');
    expect(progress.at(-1)).toBe(300);
    const resolve = (id: string) => (id === 'higgs' ? p('higgs.dbds') : undefined);
    const ds = await loadDataset({ id: 'higgs', rows: 200, testFraction: 0.25, seed: 3 }, resolve);
    expect([ds.nTrain, ds.nTest]).toEqual([150, 50]);
    expect(ds.source).toBe('HIGGS.csv.gz first 300 rows (HIGGS format), first 200 of 300 rows');
    // The 200 rows used are the file's first 200, whatever the split order.
    const first = await readUciCsv(p('HIGGS.csv.gz'), 'higgs', { rows: 200 });
    const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
    expect(sum(ds.yTrain) + sum(ds.yTest)).toBe(sum(first.y));
    const again = await loadDataset({ id: 'higgs', rows: 200, testFraction: 0.25, seed: 3 }, resolve);
    expect(Array.from(again.xTest)).toEqual(Array.from(ds.xTest));
  });

  it('imports a user CSV with its label mapping', async () => {
    const rows = Array.from({ length: 12 }, (_, i) => `${i},${i * 2},${i % 2 ? 'virginica' : 'setosa'}`);
    await writeFile(p('Iris Data.csv'), 'a,b,species\n' + rows.join('\n') + '\n');
    const meta = await importUciDataset('csv', p('Iris Data.csv'), p('iris.dbds'), { labelColumn: 'species' });
    expect(meta).toMatchObject({
      id: 'iris-data',
      kind: 'csv',
      labels: ['setosa', 'virginica'],
      featureNames: ['a', 'b'],
      rows: 12,
    });
    // too few rows to split is refused, and no file is written
    await writeFile(p('tiny.csv'), 'a,b,species\n1,2,setosa\n3,4,virginica\n');
    await expect(importUciDataset('csv', p('tiny.csv'), p('tiny.dbds'), { labelColumn: 'species' })).rejects.toThrow(
      /tiny\.csv: 2 data rows; a dataset needs at least 10/,
    );
    const ds = await loadDataset({ id: 'iris-data', testFraction: 0.25, seed: 0 }, () => p('iris.dbds'));
    expect(ds.labels).toEqual(['setosa', 'virginica']);
  });

  it('unknown ids and taken ids are one-line errors listing what is allowed', async () => {
    await expect(loadDataset({ id: 'cifar', testFraction: 0.2, seed: 0 })).rejects.toThrow(
      /^unknown dataset "cifar"; available: mnist, synthetic-higgs, fn:smooth, fn:osc, fn:kink, fn:runge, fn:sinexp, or the id of an imported dataset$/,
    );
    await expect(loadDataset({ id: 'higgs', testFraction: 0.2, seed: 0 }, () => undefined)).rejects.toThrow(
      /higgs is not imported yet/,
    );
    await expect(loadDataset({ id: 'mnist', testFraction: 0, seed: 0 })).rejects.toThrow(
      /testFraction must be a number > 0 and < 1/,
    );
    await expect(importUciDataset('csv', p('Iris Data.csv'), p('x.dbds'), { id: 'mnist' })).rejects.toThrow(
      /taken by a built-in dataset/,
    );
    expect(BUILTIN_DATASETS.map((d) => d.id)).toContain('synthetic-higgs');
    expect(BUILTIN_DATASETS.every((d) => d.title && d.description && d.inputDim > 0)).toBe(true);
  });
});
