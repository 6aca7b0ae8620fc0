// datasets.import kind 'idx' (an MNIST-style folder): in web mode the four files are uploaded (any order,
// plain or .gz) and assembled by the server; in Electron the folder is picked in the native dialog
// (pickFile { directory: true }) and granted. Both end as one imported dataset with the files' rows.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { IPC_CHANNELS, type IpcReply } from '../src-main/transports/ipc.js';
import { idxRole } from '../src-main/service/idx-upload.js';
import { APP_URL, httpHarness, ipcHarness, rejection } from './service-harness.js';

/** IDX bytes: n images 28×28 (u8) or n labels. */
function idx(kind: 'images' | 'labels', n: number, seed: number): Buffer {
  const dims = kind === 'images' ? [n, 28, 28] : [n];
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt8(0x08, 2); // unsigned byte
  head.writeUInt8(dims.length, 3);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  const body = Buffer.alloc(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < body.length; i++) body[i] = kind === 'labels' ? (i + seed) % 10 : (i * 31 + seed) % 256;
  return Buffer.concat([head, body]);
}
const FILES: [string, Buffer][] = [
  ['t10k-labels-idx1-ubyte', idx('labels', 12, 3)],
  ['train-images-idx3-ubyte.gz', gzipSync(idx('images', 40, 1))],
  ['train-labels-idx1-ubyte', idx('labels', 40, 1)],
  ['t10k-images-idx3-ubyte.gz', gzipSync(idx('images', 12, 3))],
];
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('IDX import', () => {
  it('names the four roles from common file names', () => {
    expect(idxRole('train-images.idx3-ubyte')).toBe('train-images-idx3-ubyte');
    expect(idxRole('t10k-labels-idx1-ubyte.gz')).toBe('t10k-labels-idx1-ubyte');
    expect(idxRole('test-images-idx3-ubyte')).toBe('t10k-images-idx3-ubyte');
    expect(idxRole('notes.txt')).toBeNull();
  });

  it('web mode: four uploads (two gzipped, any order) → one dataset; three files are refused clearly', async () => {
    const h = await httpHarness({ workers: 1 });
    try {
      const up = async (name: string, body: Buffer) => {
        const r = await fetch(`${h.web!.url}/upload?name=${encodeURIComponent(name)}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${h.web!.token}` },
          body: new Uint8Array(body),
        });
        expect(r.status).toBe(200);
        return ((await r.json()) as { uploadId: string }).uploadId;
      };
      const three = [];
      for (const [n, b] of FILES.slice(0, 3)) three.push(await up(n, b));
      const e = await rejection(h.call('datasets.import', { kind: 'idx', uploadIds: three }));
      expect(e.body).toMatchObject({
        kind: 'bad-request',
        error: 'an IDX import needs the four files; missing t10k-images-idx3-ubyte',
      });
      expect((await rejection(h.call('datasets.import', { kind: 'csv', uploadIds: three }))).body.error).toMatch(
        /uploadIds is for kind idx/,
      );
      const ids = [];
      for (const [n, b] of FILES) ids.push(await up(n, b));
      const ds = await h.call('datasets.import', { kind: 'idx', uploadIds: ids, title: 'tiny IDX' });
      expect(ds).toMatchObject({
        title: 'tiny IDX',
        kind: 'idx',
        task: 'classification',
        inputDim: 784,
        outputDim: 10,
        rows: 52,
      });
      expect((await h.call('datasets.list')).some((d) => d.id === ds.id && d.kind === 'idx')).toBe(true);
    } finally {
      await h.close();
    }
  });

  it('Electron: the folder picked with pickFile({directory: true}) is granted and imported', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'deepbern-idx-src-'));
    dirs.push(folder);
    for (const [n, b] of FILES)
      writeFileSync(
        join(folder, n.replace(/\.gz$/, '')),
        n.endsWith('.gz')
          ? idx(
              n.includes('images') ? 'images' : 'labels',
              n.startsWith('train') ? 40 : 12,
              n.startsWith('train') ? 1 : 3,
            )
          : b,
      );
    const asked: unknown[] = [];
    const h = await ipcHarness({
      workers: 1,
      pickFile: async (o?: { directory?: boolean }) => (asked.push(o), o?.directory ? folder : null),
    } as never);
    try {
      expect((await rejection(h.call('datasets.import', { kind: 'idx', path: folder }))).body.error).toMatch(
        /was not chosen in the file dialog/,
      );
      const reply = (await h.ipc.invoke(IPC_CHANNELS.pickFile, APP_URL, { directory: true })) as IpcReply;
      expect(reply).toEqual({ ok: true, result: folder });
      expect(asked).toEqual([{ directory: true }]);
      const ds = await h.call('datasets.import', { kind: 'idx', path: folder, rows: 30 });
      expect(ds).toMatchObject({ kind: 'idx', inputDim: 784, outputDim: 10 });
      expect(ds.rows).toBeLessThanOrEqual(52);
    } finally {
      await h.close();
    }
  });
});
