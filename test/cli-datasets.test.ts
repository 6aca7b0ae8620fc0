// `deepbern datasets import|list` on generated HIGGS files, training on the import, and bad files.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSyntheticHiggsCsv } from '../workers/data/synthetic.js';
import { cli, dbHash, tempDir } from './support/cli.js';

const tmp = tempDir('deepbern-ds-');
afterAll(() => tmp.cleanup());
const db = join(tmp.dir, 'wb.db');

describe('datasets from the command line', () => {
  it('imports a HIGGS .csv.gz once and trains on it', async () => {
    const src = join(tmp.dir, 'HIGGS.csv.gz');
    await writeSyntheticHiggsCsv(src, { rows: 700, seed: 3, gzip: true });
    const r = cli(['datasets', 'import', 'higgs', src, '--rows', '500', '--db', db, '--json']);
    expect(r.stderr).toBe('');
    const info = JSON.parse(r.stdout);
    expect(info).toMatchObject({ kind: 'higgs', rows: 500, inputDim: 28, outputDim: 2, task: 'classification' });
    const list = JSON.parse(cli(['datasets', 'list', '--db', db, '--json']).stdout);
    expect(list.map((d: { id: string }) => d.id)).toEqual(
      expect.arrayContaining(['mnist', 'synthetic-higgs', info.id]),
    );
    const t = cli([
      'train',
      '--dataset',
      info.id,
      '--depth',
      '2',
      '--width',
      '8',
      '--activation',
      'relu',
      '--epochs',
      '1',
      '--db',
      db,
    ]);
    expect(t.code).toBe(0);
    expect(t.stderr).toMatch(/data HIGGS\.csv\.gz/);
  });

  it('refuses bad files with one clear line; nothing is imported', () => {
    const bad: [string, string, RegExp][] = [
      ['truncated.csv.gz', '', /truncated gzip data/],
      ['short.csv', '1,2,3\n', /line 1: expected 29 columns \(label \+ 28 features for HIGGS\), found 3/],
      [
        'nan.csv',
        '1,' + Array.from({ length: 28 }, (_, i) => (i === 3 ? 'NaN' : '0.5')).join(',') + '\n',
        /line 1.*(NaN|not a finite number)/i,
      ],
      ['empty.csv', '', /empty/],
    ];
    // a real gzip cut in the middle
    const full = join(tmp.dir, 'HIGGS.csv.gz');
    writeFileSync(join(tmp.dir, 'truncated.csv.gz'), readFileSync(full).subarray(0, 4000));
    const before = dbHash(db);
    const files = readdirSync(join(tmp.dir, 'datasets')).length;
    for (const [name, content, re] of bad) {
      const p = join(tmp.dir, name);
      if (name !== 'truncated.csv.gz') writeFileSync(p, content);
      const r = cli(['datasets', 'import', 'higgs', p, '--db', db]);
      expect(r.code, name).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr, name).toMatch(re);
    }
    const missing = cli(['datasets', 'import', 'higgs', join(tmp.dir, 'absent.csv'), '--db', db]);
    expect(missing.stderr).toMatch(/absent\.csv: cannot read the file/);
    expect(cli(['datasets', 'import', 'parquet', full, '--db', db]).stderr).toMatch(
      /kind must be one of higgs, susy, csv/,
    );
    expect(dbHash(db)).toBe(before);
    expect(readdirSync(join(tmp.dir, 'datasets'))).toHaveLength(files);
  });
});
