// The on-disk form of an imported dataset (format: docs/dataset-file.md): a small JSON header, then float32
// features and labels of ALL imported rows, raw (unsplit, unstandardised), so later runs reuse an import
// without re-parsing a CSV and can still choose their own split, seed and row count.
import { randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { basename } from 'node:path';
import { crc32 } from 'node:zlib';
import { z } from 'zod';
import { DatasetError } from './errors.js';
import type { RawTable } from './types.js';
import { TASK_KINDS } from '../../shared/vocab.js';

export const DATASET_FILE_MAGIC = 'DBDS';
export const DATASET_FILE_VERSION = 1;
/** Magic (4) + version u32 LE (4) + header length u32 LE (4). */
const PREFIX_BYTES = 12;
/** Payload offset is a multiple of this, so float32 data is aligned in the file (and in mmap-style reads). */
const ALIGN = 8;
/** fs reads/writes are limited to < 2 GiB per call; HIGGS in full is 1.3 GB, but stay well under. */
const IO_CHUNK = 1 << 28;

const HeaderSchema = z
  .object({
    id: z.string().min(1),
    kind: z.string().min(1),
    task: z.enum(TASK_KINDS),
    inputDim: z.number().int().min(1),
    outputDim: z.number().int().min(1),
    rows: z.number().int().min(1),
    source: z.string(),
    labels: z.array(z.string()).optional(),
    featureNames: z.array(z.string()).optional(),
    created: z.string(),
    /** CRC-32 of the payload (features then labels), so flipped or overwritten bytes are caught. */
    crc32: z.number().int().min(0),
  })
  .strict();

export type DatasetFileHeader = z.infer<typeof HeaderSchema>;

/** What the writer needs besides the table (dims, task, rows and labels come from the table). */
export interface DatasetFileMeta {
  id: string;
  /** 'higgs' | 'susy' | 'csv' | 'synthetic-higgs'… — how it was imported. */
  kind: string;
  source: string;
  featureNames?: string[];
  /** ISO time; default now. */
  created?: string;
}

function assertLittleEndian(): void {
  // The payload is little-endian float32 written straight from memory.
  if (endianness() !== 'LE') throw new DatasetError('dataset files need a little-endian machine');
}

const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

async function writeAll(fh: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  for (let o = 0; o < bytes.length; o += IO_CHUNK) {
    const part = bytes.subarray(o, Math.min(bytes.length, o + IO_CHUNK));
    let done = 0;
    while (done < part.length) done += (await fh.write(part, done, part.length - done, position + o + done)).bytesWritten;
  }
}

/** Read exactly bytes.length bytes at `position`; false if the file ends first. */
async function readAll(fh: FileHandle, bytes: Uint8Array, position: number): Promise<boolean> {
  let done = 0;
  while (done < bytes.length) {
    const n = Math.min(IO_CHUNK, bytes.length - done);
    const { bytesRead } = await fh.read(bytes, done, n, position + done);
    if (bytesRead === 0) return false;
    done += bytesRead;
  }
  return true;
}

function checkTable(t: RawTable): void {
  if (t.rows < 1 || t.x.length !== t.rows * t.inputDim || t.y.length !== t.rows) {
    throw new DatasetError(`cannot write a dataset file: arrays do not match ${t.rows} rows × ${t.inputDim} features`);
  }
}

/**
 * Write `table` to `path` atomically: a temp file in the same directory, fsync, then rename, so a crash
 * never leaves a half-written file under the final name. Returns the header written.
 */
export async function writeDatasetFile(path: string, meta: DatasetFileMeta, table: RawTable): Promise<DatasetFileHeader> {
  assertLittleEndian();
  checkTable(table);
  const x = bytesOf(table.x);
  const y = bytesOf(table.y);
  const header: DatasetFileHeader = HeaderSchema.parse({
    id: meta.id,
    kind: meta.kind,
    task: table.task,
    inputDim: table.inputDim,
    outputDim: table.outputDim,
    rows: table.rows,
    source: meta.source,
    ...(table.labels ? { labels: table.labels } : {}),
    ...(meta.featureNames ? { featureNames: meta.featureNames } : {}),
    created: meta.created ?? new Date().toISOString(),
    crc32: crc32(y, crc32(x)),
  });
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (ALIGN - ((PREFIX_BYTES + json.length) % ALIGN)) % ALIGN;
  json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]); // spaces: still valid JSON
  const prefix = Buffer.alloc(PREFIX_BYTES);
  prefix.write(DATASET_FILE_MAGIC, 0, 'ascii');
  prefix.writeUInt32LE(DATASET_FILE_VERSION, 4);
  prefix.writeUInt32LE(json.length, 8);

  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await open(tmp, 'wx');
  try {
    await writeAll(fh, Buffer.concat([prefix, json]), 0);
    const dataAt = PREFIX_BYTES + json.length;
    await writeAll(fh, x, dataAt);
    await writeAll(fh, y, dataAt + x.length);
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  return header;
}

async function readHeaderFrom(fh: FileHandle, name: string): Promise<{ header: DatasetFileHeader; dataAt: number; size: number }> {
  const size = (await fh.stat()).size;
  const prefix = Buffer.alloc(PREFIX_BYTES);
  if (!(await readAll(fh, prefix, 0)) || prefix.toString('ascii', 0, 4) !== DATASET_FILE_MAGIC) {
    throw new DatasetError(`${name}: not a dataset file (it must start with "${DATASET_FILE_MAGIC}")`);
  }
  const version = prefix.readUInt32LE(4);
  if (version !== DATASET_FILE_VERSION) throw new DatasetError(`${name}: dataset file version ${version} is not supported (allowed: ${DATASET_FILE_VERSION})`);
  const jsonLen = prefix.readUInt32LE(8);
  if (PREFIX_BYTES + jsonLen > size || jsonLen > 64 << 20) throw new DatasetError(`${name}: corrupt dataset file (header length ${jsonLen} exceeds the file)`);
  const json = Buffer.alloc(jsonLen);
  await readAll(fh, json, PREFIX_BYTES);
  let parsed: unknown;
  try {
    parsed = JSON.parse(json.toString('utf8'));
  } catch {
    throw new DatasetError(`${name}: corrupt dataset file (header is not valid JSON)`);
  }
  const r = HeaderSchema.safeParse(parsed);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new DatasetError(`${name}: corrupt dataset file header (${issue.path.join('.') || 'header'}: ${issue.message})`);
  }
  const h = r.data;
  if (h.task === 'regression' && h.outputDim !== 1) throw new DatasetError(`${name}: corrupt dataset file header (regression needs outputDim 1)`);
  if (h.labels && h.labels.length !== h.outputDim) throw new DatasetError(`${name}: corrupt dataset file header (${h.labels.length} label names for ${h.outputDim} classes)`);
  const dataAt = PREFIX_BYTES + jsonLen;
  const expected = dataAt + 4 * h.rows * (h.inputDim + 1);
  if (size !== expected) {
    throw new DatasetError(`${name}: corrupt dataset file (${size} bytes; header says ${h.rows} rows × ${h.inputDim} features = ${expected} bytes)`);
  }
  return { header: h, dataAt, size };
}

/** The header only (listing imported sets without reading their rows). */
export async function readDatasetFileHeader(path: string): Promise<DatasetFileHeader> {
  const fh = await openForRead(path);
  try {
    return (await readHeaderFrom(fh, basename(path))).header;
  } finally {
    await fh.close();
  }
}

async function openForRead(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (e) {
    throw new DatasetError(`${basename(path)}: cannot open the dataset file (${(e as Error).message})`);
  }
}

/** Read and verify (size, checksum, label range) a dataset file. */
export async function readDatasetFile(path: string): Promise<{ header: DatasetFileHeader; table: RawTable }> {
  assertLittleEndian();
  const name = basename(path);
  const fh = await openForRead(path);
  try {
    const { header: h, dataAt } = await readHeaderFrom(fh, name);
    const x = new Float32Array(h.rows * h.inputDim);
    const y = new Float32Array(h.rows);
    const ok = (await readAll(fh, bytesOf(x), dataAt)) && (await readAll(fh, bytesOf(y), dataAt + x.byteLength));
    if (!ok) throw new DatasetError(`${name}: corrupt dataset file (it ended while reading the rows)`);
    if (crc32(bytesOf(y), crc32(bytesOf(x))) !== h.crc32) throw new DatasetError(`${name}: corrupt dataset file (checksum mismatch: the rows were altered or damaged)`);
    if (h.task === 'classification') {
      const bad = y.findIndex((v) => !(Number.isInteger(v) && v >= 0 && v < h.outputDim));
      if (bad >= 0) throw new DatasetError(`${name}: corrupt dataset file (row ${bad + 1} has class ${y[bad]}; allowed 0 to ${h.outputDim - 1})`);
    }
    const table: RawTable = { task: h.task, inputDim: h.inputDim, outputDim: h.outputDim, rows: h.rows, x, y, ...(h.labels ? { labels: h.labels } : {}) };
    return { header: h, table };
  } finally {
    await fh.close();
  }
}
