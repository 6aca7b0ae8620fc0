import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetError } from '../workers/data/errors.js';
import { writeSyntheticHiggsCsv } from '../workers/data/synthetic.js';
import { readUciCsv, readUserCsv, type ImportProgress } from '../workers/data/uci-csv.js';

let dir: string;
const ROWS = 3000; // ≈ 2.1 MB plain: more than one 1 MB read chunk, so early stopping is visible
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deepbern-csv-'));
  await writeSyntheticHiggsCsv(join(dir, 'higgs.csv'), { rows: ROWS, seed: 7 });
  await writeSyntheticHiggsCsv(join(dir, 'higgs.csv.gz'), { rows: ROWS, seed: 7, gzip: true });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const p = (name: string) => join(dir, name);
const HIGGS_LINE = '1,' + Array.from({ length: 28 }, (_, i) => (i / 10).toFixed(1)).join(',');

async function errorOf(run: Promise<unknown>): Promise<string> {
  try {
    await run;
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetError);
    return (e as Error).message;
  }
  throw new Error('expected a DatasetError');
}

describe('HIGGS/SUSY CSV', () => {
  it('reads plain and gzip files to the same rows (gzip found by magic bytes, not the name)', async () => {
    const plain = await readUciCsv(p('higgs.csv'), 'higgs');
    const gz = await readUciCsv(p('higgs.csv.gz'), 'higgs');
    expect(plain.rows).toBe(ROWS);
    expect(plain.inputDim).toBe(28);
    expect(plain.outputDim).toBe(2);
    expect(plain.x.length).toBe(ROWS * 28);
    expect(Array.from(gz.x)).toEqual(Array.from(plain.x));
    expect(Array.from(gz.y)).toEqual(Array.from(plain.y));
    expect(new Set(plain.y)).toEqual(new Set([0, 1]));
    // A gzip file without .gz in its name is still detected.
    await writeFile(p('disguised.csv'), await readFile(p('higgs.csv.gz')));
    expect(Array.from((await readUciCsv(p('disguised.csv'), 'higgs', { rows: 50 })).x)).toEqual(
      Array.from(plain.x.subarray(0, 50 * 28)),
    );
  });

  it('a row limit stops reading early and progress reports rows and bytes', async () => {
    for (const f of ['higgs.csv', 'higgs.csv.gz']) {
      const seen: ImportProgress[] = [];
      const t = await readUciCsv(p(f), 'higgs', { rows: 100, onProgress: (x) => seen.push(x) });
      expect(t.rows).toBe(100);
      const last = seen.at(-1) as ImportProgress;
      expect(last.rows).toBe(100);
      expect(last.totalBytes).toBe((await stat(p(f))).size);
      expect(last.bytesRead).toBeGreaterThan(0);
      expect(last.bytesRead).toBeLessThan(last.totalBytes);
      expect(last.fraction).toBeLessThan(1);
    }
    const seen: ImportProgress[] = [];
    await readUciCsv(p('higgs.csv'), 'higgs', { onProgress: (x) => seen.push(x) });
    expect(seen.at(-1)).toMatchObject({ rows: ROWS, fraction: 1 });
  });

  it('reads SUSY-shaped files (label + 18) and rejects a HIGGS file as SUSY', async () => {
    await writeSyntheticHiggsCsv(p('susy.csv.gz'), { rows: 20, seed: 1, gzip: true, format: 'susy' });
    const t = await readUciCsv(p('susy.csv.gz'), 'susy');
    expect([t.rows, t.inputDim]).toEqual([20, 18]);
    expect(await errorOf(readUciCsv(p('higgs.csv'), 'susy'))).toMatch(
      /higgs\.csv: line 1: expected 19 columns \(label \+ 18 features for SUSY\), found 29/,
    );
  });

  it('names the line (and column) of malformed rows', async () => {
    const cases: [string, string, RegExp][] = [
      ['cols.csv', `${HIGGS_LINE}\n${HIGGS_LINE}\n1,2,3\n`, /cols\.csv(\.gz)?: line 3: expected 29 columns .* found 3/],
      [
        'word.csv',
        `${HIGGS_LINE}\n${HIGGS_LINE.replace(',0.4,', ',abc,')}\n`,
        /line 2, column 6: "abc" is not a number/,
      ],
      ['nan.csv', `${HIGGS_LINE}\n\n${HIGGS_LINE.replace(',0.4,', ',NaN,')}\n`, /line 3, column 6: NaN is not allowed/],
      ['inf.csv', `${HIGGS_LINE.replace(',0.4,', ',-Infinity,')}\n`, /line 1, column 6: -Infinity is not allowed/],
      ['blank.csv', `${HIGGS_LINE.replace(',0.4,', ',,')}\n`, /line 1, column 6: empty field/],
      ['label.csv', `${HIGGS_LINE}\n2${HIGGS_LINE.slice(1)}\n`, /line 2, column 1: label must be 0 or 1, found 2/],
      [
        'header.csv',
        `label,${HIGGS_LINE.slice(2)}\n${HIGGS_LINE}\n`,
        /line 1, column 1: "label" is not a number \(HIGGS files have no header row/,
      ],
    ];
    for (const [name, text, re] of cases) {
      await writeFile(p(name), text);
      expect(await errorOf(readUciCsv(p(name), 'higgs'))).toMatch(re);
      await writeFile(p(`${name}.gz`), gzipSync(text));
      expect(await errorOf(readUciCsv(p(`${name}.gz`), 'higgs'))).toMatch(re);
    }
  });

  it('accepts CRLF line ends and a missing final newline', async () => {
    await writeFile(p('crlf.csv'), `${HIGGS_LINE}\r\n${HIGGS_LINE}`);
    expect((await readUciCsv(p('crlf.csv'), 'higgs')).rows).toBe(2);
  });

  it('rejects empty files, blank files, empty gzip, truncated and corrupt gzip', async () => {
    await writeFile(p('empty.csv'), '');
    expect(await errorOf(readUciCsv(p('empty.csv'), 'higgs'))).toMatch(/empty\.csv: the file is empty/);
    await writeFile(p('blank.csv'), '\n\n  \n');
    expect(await errorOf(readUciCsv(p('blank.csv'), 'higgs'))).toMatch(/no data rows/);
    await writeFile(p('empty.csv.gz'), gzipSync(''));
    expect(await errorOf(readUciCsv(p('empty.csv.gz'), 'higgs'))).toMatch(/no data rows/);
    const gz = await readFile(p('higgs.csv.gz'));
    await writeFile(p('cut.csv.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
    expect(await errorOf(readUciCsv(p('cut.csv.gz'), 'higgs'))).toMatch(/cut\.csv\.gz: truncated gzip data/);
    const bad = Buffer.from(gz);
    bad.fill(0x55, 100, 400);
    await writeFile(p('bad.csv.gz'), bad);
    expect(await errorOf(readUciCsv(p('bad.csv.gz'), 'higgs'))).toMatch(/bad\.csv\.gz: (corrupt gzip data|line \d+)/);
    expect(await errorOf(readUciCsv(p('missing.csv'), 'higgs'))).toMatch(/missing\.csv: cannot read the file/);
  });
});

describe('user CSV', () => {
  const text = 'a,b,species,c\n1,2,setosa,3\n4,5,virginica,6\n7,8,setosa,9\n"10",11,versicolor,12\n';

  it('maps string labels to 0..K−1 (sorted) by column name or index, features keep their order', async () => {
    await writeFile(p('iris.csv'), text);
    const t = await readUserCsv(p('iris.csv'), { labelColumn: 'species' });
    expect(t.task).toBe('classification');
    expect(t.labels).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(Array.from(t.y)).toEqual([0, 2, 0, 1]);
    expect(t.featureNames).toEqual(['a', 'b', 'c']);
    expect(Array.from(t.x)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(t.outputDim).toBe(3);
    const byIndex = await readUserCsv(p('iris.csv'), { labelColumn: 2, rows: 2 });
    expect(byIndex.rows).toBe(2);
    expect(byIndex.labels).toEqual(['setosa', 'virginica']);
  });

  it('regression on a numeric column (default: last), auto task, numeric classes by value', async () => {
    await writeFile(p('reg.csv.gz'), gzipSync('x1,x2,y\n0,1,0.5\n1,1,1.25\n2,0,-3.5\n'));
    const r = await readUserCsv(p('reg.csv.gz'));
    expect(r.task).toBe('regression');
    expect(Array.from(r.y)).toEqual([0.5, 1.25, -3.5]);
    expect(r.labelName).toBe('y');
    await writeFile(p('cls.csv'), 'x,y\n0,1\n1,10\n2,2\n3,1.0\n');
    const c = await readUserCsv(p('cls.csv'));
    expect(c.task).toBe('classification');
    expect(c.labels).toEqual(['1', '2', '10']);
    expect(Array.from(c.y)).toEqual([0, 2, 1, 0]);
  });

  it('errors: unknown label column, bad feature, wrong width, regression on strings, header only', async () => {
    await writeFile(p('iris.csv'), text);
    expect(await errorOf(readUserCsv(p('iris.csv'), { labelColumn: 'kind' }))).toMatch(
      /label column "kind" not found \(allowed: a header name — "a", "b", "species", "c" — or an index 0 to 3\)/,
    );
    expect(await errorOf(readUserCsv(p('iris.csv'), { labelColumn: 'species', task: 'regression' }))).toMatch(
      /line 2: label "setosa" is not a number/,
    );
    await writeFile(p('badf.csv'), 'a,y\n1,0\nx,1\n');
    expect(await errorOf(readUserCsv(p('badf.csv')))).toMatch(/badf\.csv: line 3, column 1 \(a\): "x" is not a number/);
    await writeFile(p('width.csv'), 'a,y\n1,0\n1,2,3\n');
    expect(await errorOf(readUserCsv(p('width.csv')))).toMatch(
      /line 3: expected 2 columns \(as in the header\), found 3/,
    );
    await writeFile(p('head.csv'), 'a,y\n');
    expect(await errorOf(readUserCsv(p('head.csv')))).toMatch(/no data rows after the header/);
    await writeFile(p('quote.csv'), 'a,y\n1,"0\n');
    expect(await errorOf(readUserCsv(p('quote.csv')))).toMatch(/quote\.csv: .*(quote|Quote)/);
  });
});
