// Bounded resources: a small input must not take the machine. gzip bombs (CLI and web upload) are refused by
// expansion ratio and size; one enormous line is refused past MAX_LINE_CHARS; imports stream rows to the
// dataset file (same bytes as the in-memory reader, headers larger than the reserve, nothing left behind on
// failure); standardisation of a streamed import is right; stale temp files are cleaned at start-up (only ours,
// only stale). Peak memory of a full-size HIGGS import is measured by `npm run bench -- import`, not here.
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDatasetFile } from '../workers/data/dataset-file.js';
import { importUciDataset, loadDataset } from '../workers/data/registry.js';
import { writeSyntheticHiggsCsv } from '../workers/data/synthetic.js';
import { MAX_LINE_CHARS, readUciCsv, readUserCsv } from '../workers/data/uci-csv.js';
import { cleanStaleFiles } from '../src-main/service/stale-files.js';
import { WorkbenchService } from '../src-main/service/workbench-service.js';
import { RunStore } from '../src-main/store/run-store.js';
import { cli, dbHash, expectOneLineError, tempDir } from './support/cli.js';
import { httpHarness, type Harness } from './service-harness.js';

const tmp = tempDir('deepbern-faults-res-');
const p = (name: string) => join(tmp.dir, name);
const db = p('wb.db');
let bomb = '';

/** `mb` MiB of one HIGGS row repeated, gzipped: ~1000:1, the shape of a gzip bomb that is also valid CSV. */
async function higgsBomb(path: string, mb: number): Promise<void> {
  const row = Buffer.from(['1', ...Array.from({ length: 28 }, () => '0')].join(',') + '\n');
  const block = Buffer.concat(Array.from({ length: Math.ceil((1 << 20) / row.length) }, () => row));
  async function* blocks() {
    for (let i = 0; i < mb; i++) yield block;
  }
  await pipeline(Readable.from(blocks()), createGzip({ level: 9 }), createWriteStream(path));
}

beforeAll(async () => {
  bomb = p('bomb.csv.gz');
  await higgsBomb(bomb, 400);
  await (await RunStore.open(db)).close(); // an existing, empty store: "unchanged" is then meaningful
}, 120_000);

afterAll(() => tmp.cleanup());

describe('gzip bombs', () => {
  it('CLI import: refused by expansion ratio with one clear line, DB unchanged, no temp file left', () => {
    const before = dbHash(db);
    const r = cli(['datasets', 'import', 'higgs', bomb, '--db', db]);
    expectOneLineError(r, /^deepbern: bomb\.csv\.gz: the gzip expands more than 200:1 .*refusing it/, 2);
    expect(dbHash(db)).toBe(before);
    expect(readdirSync(join(tmp.dir, 'datasets')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('the size cap: a gzip that unpacks past maxUnpackedBytes is refused', async () => {
    const gz = p('big.csv.gz');
    await writeSyntheticHiggsCsv(p('big.csv'), { rows: 3000, seed: 1 });
    writeFileSync(gz, gzipSync(await readFile(p('big.csv'))));
    await expect(
      importUciDataset('higgs', gz, p('big.dbds'), { limits: { maxUnpackedBytes: 256 << 10 } }),
    ).rejects.toThrow(/big\.csv\.gz: the gzip unpacks to more than/);
    expect(existsSync(p('big.dbds'))).toBe(false);
    expect(readdirSync(tmp.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  describe('through /upload', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await httpHarness({ workers: 1 });
    });
    afterAll(async () => h?.close());

    it('upload a bomb, import it → 400 bad-request naming the ratio; the server stays up', async () => {
      const web = h.web!;
      const up = await fetch(`${web.url}/upload?name=HIGGS.csv.gz`, {
        method: 'POST',
        headers: { authorization: `Bearer ${web.token}` },
        body: await readFile(bomb),
      });
      expect(up.status).toBe(200);
      const { uploadId } = (await up.json()) as { uploadId: string };
      const res = await fetch(`${web.url}/api/datasets.import`, {
        method: 'POST',
        headers: { authorization: `Bearer ${web.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ args: [{ kind: 'higgs', uploadId }] }),
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: string; kind: string };
      expect(body.kind).toBe('bad-request');
      expect(body.error).toMatch(/the gzip expands more than 200:1/);
      expect(await h.call('datasets.list')).not.toContainEqual(expect.objectContaining({ kind: 'higgs' }));
      expect((await h.call('system.info')).transport).toBe('web');
    });
  });
});

describe('one enormous line', () => {
  it(`HIGGS and user CSV: a line past ${MAX_LINE_CHARS} characters is refused with its line number`, async () => {
    const big = '1,' + '7'.repeat(MAX_LINE_CHARS + 10) + '\n';
    writeFileSync(p('long.csv'), '1,2\n' + big);
    await expect(readUciCsv(p('long.csv'), 'higgs')).rejects.toThrow(/long\.csv: line 1: expected 29 columns/);
    writeFileSync(p('long2.csv'), big);
    await expect(readUciCsv(p('long2.csv'), 'higgs')).rejects.toThrow(
      new RegExp(`long2\\.csv: line 1: the line is longer than ${MAX_LINE_CHARS} characters`),
    );
    writeFileSync(p('long3.csv'), 'a,y\n1,0\n' + big);
    await expect(readUserCsv(p('long3.csv'))).rejects.toThrow(
      new RegExp(`long3\\.csv: line 3: a record is longer than ${MAX_LINE_CHARS} characters`),
    );
  });
});

describe('streamed imports', () => {
  it('HIGGS: the streamed dataset file holds exactly the rows the in-memory reader reads; standardisation is per train split', async () => {
    await writeSyntheticHiggsCsv(p('h.csv'), { rows: 20_000, seed: 3 });
    const meta = await importUciDataset('higgs', p('h.csv'), p('h.dbds'), { id: 'h' });
    expect(meta.rows).toBe(20_000);
    const mem = await readUciCsv(p('h.csv'), 'higgs');
    const { table } = await readDatasetFile(p('h.dbds'));
    expect(Buffer.from(table.x.buffer).equals(Buffer.from(mem.x.buffer))).toBe(true);
    expect(Array.from(table.y)).toEqual(Array.from(mem.y));
    const ds = await loadDataset({ id: 'h', testFraction: 0.2, seed: 1 }, () => p('h.dbds'));
    for (let j = 0; j < ds.inputDim; j += 9) {
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < ds.nTrain; i++) {
        const v = ds.xTrain[i * ds.inputDim + j];
        s += v;
        s2 += v * v;
      }
      expect(Math.abs(s / ds.nTrain)).toBeLessThan(1e-3);
      expect(Math.sqrt(s2 / ds.nTrain - (s / ds.nTrain) ** 2)).toBeCloseTo(1, 2);
    }
    expect(readdirSync(tmp.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('user CSV: class names sorted at the end; a header larger than the reserve moves the rows behind it', async () => {
    const classes = Array.from({ length: 400 }, (_, i) => `class-${String(i).padStart(3, '0')}-${'x'.repeat(300)}`);
    const rows = Array.from({ length: 2000 }, (_, i) => `${i},${i % 7},${classes[(i * 37) % classes.length]}`);
    writeFileSync(p('names.csv'), 'a,b,label\n' + rows.join('\n') + '\n');
    const meta = await importUciDataset('csv', p('names.csv'), p('names.dbds'), { id: 'names' });
    expect(meta.outputDim).toBe(400);
    const mem = await readUserCsv(p('names.csv'));
    const { header, table } = await readDatasetFile(p('names.dbds'));
    expect(header.labels).toEqual([...classes].sort());
    expect(Array.from(table.y)).toEqual(Array.from(mem.y));
    expect(Array.from(table.x)).toEqual(Array.from(mem.x));
    expect(header.labels![table.y[5]!]).toBe(classes[(5 * 37) % classes.length]);
    expect(readdirSync(tmp.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a failing import (bad value on the last line) removes its temp files', async () => {
    await writeSyntheticHiggsCsv(p('bad-end.csv'), { rows: 30_000, seed: 2 });
    writeFileSync(
      p('bad-end.csv'),
      (await readFile(p('bad-end.csv'), 'utf8')) + ['1', ...Array.from({ length: 28 }, () => '1e39')].join(',') + '\n',
    );
    await expect(importUciDataset('higgs', p('bad-end.csv'), p('bad-end.dbds'))).rejects.toThrow(
      /line 30001, column 2: 1e39 is beyond the float32 range/,
    );
    expect(readdirSync(tmp.dir).filter((f) => f.includes('bad-end.dbds'))).toEqual([]);
  });
});

describe('stale temp files are cleaned at start-up (only ours, only stale)', () => {
  const deadPid = () => {
    const r = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    return Number(r.stdout.trim());
  };
  const hourAgo = () => new Date(Date.now() - 3600_000);

  function plant(dir: string) {
    mkdirSync(dir, { recursive: true });
    const dead = deadPid();
    const files = {
      crashed: join(dir, `higgs-abc123.dbds.${dead}-0123456789ab.tmp`),
      crashedLabels: join(dir, `higgs-abc123.dbds.${dead}-0123456789ab.labels.tmp`),
      oldFormat: join(dir, 'csv-ffffff.dbds.aaaaaaaaaaaa.tmp'),
      live: join(dir, `susy-1.dbds.${process.pid}-bbbbbbbbbbbb.tmp`),
      deadButFresh: join(dir, `susy-2.dbds.${dead}-cccccccccccc.tmp`),
      notOurs: join(dir, 'notes.tmp'),
      dataset: join(dir, 'higgs-abc123.dbds'),
    };
    for (const f of Object.values(files)) writeFileSync(f, 'x'.repeat(1000));
    for (const f of [files.crashed, files.crashedLabels, files.live, files.notOurs, files.dataset])
      utimesSync(f, hourAgo(), hourAgo());
    const twoDays = new Date(Date.now() - 48 * 3600_000);
    utimesSync(files.oldFormat, twoDays, twoDays);
    return { files, dead };
  }

  it("cleanStaleFiles: removes crashed imports and dead servers' upload folders, keeps live, fresh and foreign files", async () => {
    const dsDir = p('clean/datasets');
    const root = p('clean/tmp');
    const { files, dead } = plant(dsDir);
    mkdirSync(join(root, `deepbern-uploads-${dead}-deadbeef`), { recursive: true });
    writeFileSync(join(root, `deepbern-uploads-${dead}-deadbeef`, 'x-HIGGS.csv.gz'), 'y'.repeat(5000));
    mkdirSync(join(root, `deepbern-idx-${dead}-Ab12Cd`), { recursive: true });
    mkdirSync(join(root, `deepbern-uploads-${process.pid}-livelive`), { recursive: true });
    mkdirSync(join(root, 'someone-elses-dir'), { recursive: true });
    for (const d of [
      `deepbern-uploads-${dead}-deadbeef`,
      `deepbern-idx-${dead}-Ab12Cd`,
      `deepbern-uploads-${process.pid}-livelive`,
      'someone-elses-dir',
    ])
      utimesSync(join(root, d), hourAgo(), hourAgo());
    const r = await cleanStaleFiles({ datasetsDir: dsDir, tempRoot: root });
    expect(r.removed.sort()).toEqual(
      [
        files.crashed,
        files.crashedLabels,
        files.oldFormat,
        join(root, `deepbern-idx-${dead}-Ab12Cd`),
        join(root, `deepbern-uploads-${dead}-deadbeef`),
      ].sort(),
    );
    expect(r.bytes).toBe(3000 + 5000);
    for (const f of [files.live, files.deadButFresh, files.notOurs, files.dataset]) expect(existsSync(f), f).toBe(true);
    expect(existsSync(join(root, `deepbern-uploads-${process.pid}-livelive`))).toBe(true);
    expect(existsSync(join(root, 'someone-elses-dir'))).toBe(true);
  });

  it('the CLI import and the service start clean the datasets folder beside their DB', async () => {
    const cliDb = p('cli-clean/w.db');
    const { files } = plant(join(p('cli-clean'), 'datasets'));
    await writeSyntheticHiggsCsv(p('small.csv'), { rows: 200, seed: 1 });
    const r = cli(['datasets', 'import', 'higgs', p('small.csv'), '--db', cliDb]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/removed 3 stale temp files left by interrupted imports or a crashed server/);
    expect(existsSync(files.crashed) || existsSync(files.crashedLabels) || existsSync(files.oldFormat)).toBe(false);
    expect(existsSync(files.live) && existsSync(files.notOurs) && existsSync(files.deadButFresh)).toBe(true);

    const svcDir = p('svc-clean');
    const planted = plant(join(svcDir, 'datasets')).files;
    const service = await WorkbenchService.start({
      dbPath: join(svcDir, 'w.db'),
      workers: 1,
      backend: 'wasm',
      transport: 'web',
    });
    await service.close();
    expect(existsSync(planted.crashed) || existsSync(planted.oldFormat)).toBe(false);
    expect(existsSync(planted.live) && existsSync(planted.dataset)).toBe(true);
  });
});
