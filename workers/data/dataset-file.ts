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

/**
 * `<path>.<pid>-<random>.tmp`: the writer's pid lets start-up cleanup (temp-files.ts) tell an interrupted
 * import (its process is gone) from one still being written by another process.
 */
export function tempPathFor(path: string, tag = ''): string {
  return `${path}.${process.pid}-${randomBytes(6).toString('hex')}${tag}.tmp`;
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
    while (done < part.length)
      done += (await fh.write(part, done, part.length - done, position + o + done)).bytesWritten;
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
export async function writeDatasetFile(
  path: string,
  meta: DatasetFileMeta,
  table: RawTable,
): Promise<DatasetFileHeader> {
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

  const tmp = tempPathFor(path);
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

async function readHeaderFrom(
  fh: FileHandle,
  name: string,
): Promise<{ header: DatasetFileHeader; dataAt: number; size: number }> {
  const size = (await fh.stat()).size;
  const prefix = Buffer.alloc(PREFIX_BYTES);
  if (!(await readAll(fh, prefix, 0)) || prefix.toString('ascii', 0, 4) !== DATASET_FILE_MAGIC) {
    throw new DatasetError(`${name}: not a dataset file (it must start with "${DATASET_FILE_MAGIC}")`);
  }
  const version = prefix.readUInt32LE(4);
  if (version !== DATASET_FILE_VERSION)
    throw new DatasetError(
      `${name}: dataset file version ${version} is not supported (allowed: ${DATASET_FILE_VERSION})`,
    );
  const jsonLen = prefix.readUInt32LE(8);
  if (PREFIX_BYTES + jsonLen > size || jsonLen > 64 << 20)
    throw new DatasetError(`${name}: corrupt dataset file (header length ${jsonLen} exceeds the file)`);
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
    throw new DatasetError(
      `${name}: corrupt dataset file header (${issue.path.join('.') || 'header'}: ${issue.message})`,
    );
  }
  const h = r.data;
  if (h.task === 'regression' && h.outputDim !== 1)
    throw new DatasetError(`${name}: corrupt dataset file header (regression needs outputDim 1)`);
  if (h.labels && h.labels.length !== h.outputDim)
    throw new DatasetError(
      `${name}: corrupt dataset file header (${h.labels.length} label names for ${h.outputDim} classes)`,
    );
  const dataAt = PREFIX_BYTES + jsonLen;
  const expected = dataAt + 4 * h.rows * (h.inputDim + 1);
  if (size !== expected) {
    throw new DatasetError(
      `${name}: corrupt dataset file (${size} bytes; header says ${h.rows} rows × ${h.inputDim} features = ${expected} bytes)`,
    );
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
    if (crc32(bytesOf(y), crc32(bytesOf(x))) !== h.crc32)
      throw new DatasetError(`${name}: corrupt dataset file (checksum mismatch: the rows were altered or damaged)`);
    if (h.task === 'classification') {
      const bad = y.findIndex((v) => !(Number.isInteger(v) && v >= 0 && v < h.outputDim));
      if (bad >= 0)
        throw new DatasetError(
          `${name}: corrupt dataset file (row ${bad + 1} has class ${y[bad]}; allowed 0 to ${h.outputDim - 1})`,
        );
    }
    const table: RawTable = {
      task: h.task,
      inputDim: h.inputDim,
      outputDim: h.outputDim,
      rows: h.rows,
      x,
      y,
      ...(h.labels ? { labels: h.labels } : {}),
    };
    return { header: h, table };
  } finally {
    await fh.close();
  }
}

/** Bytes kept free for the header in front of the rows while streaming (the header is known only at the end). */
const HEADER_RESERVE = 64 << 10;
/** Label codes are read back and mapped in slices of this many rows. */
const LABEL_SLICE_ROWS = 1 << 16;

/** What finishing a streamed file needs that the rows did not say. */
export interface StreamedTableInfo {
  task: RawTable['task'];
  outputDim: number;
  labels?: string[];
  /** The label (class index or target) of a row from its codes, `codes[at .. at + codeWidth)`. */
  yOf(codes: Float64Array, at: number): number;
}

/**
 * A dataset file written as rows stream in, in bounded memory: features go straight into the temp file
 * behind a reserved header area; each row's label *codes* (codeWidth float64s: what the importer needs to
 * decide the final label, e.g. a user CSV's class names are sorted only at the end) go to a side temp file.
 * `finish` maps the codes to labels, appends them, writes the header, fsyncs and renames atomically.
 */
export class DatasetFileWriter {
  rows = 0;
  private crcX = 0;
  private done = false;

  private constructor(
    readonly path: string,
    private readonly tmp: string,
    private readonly codesTmp: string,
    private readonly fh: FileHandle,
    private readonly codesFh: FileHandle,
    readonly inputDim: number,
    readonly codeWidth: number,
    private readonly reserve: number,
  ) {}

  /** `headerHint`: bytes the header will need beyond the fixed fields (e.g. the feature names' JSON). */
  static async create(
    path: string,
    o: { inputDim: number; codeWidth: number; headerHint?: number },
  ): Promise<DatasetFileWriter> {
    assertLittleEndian();
    const tmp = tempPathFor(path);
    const codesTmp = tempPathFor(path, '.labels');
    const fh = await open(tmp, 'wx+'); // read back if the header outgrows its reserve
    let codesFh: FileHandle;
    try {
      codesFh = await open(codesTmp, 'wx+');
    } catch (e) {
      await fh.close();
      await rm(tmp, { force: true });
      throw e;
    }
    const reserve = Math.ceil((HEADER_RESERVE + 2 * (o.headerHint ?? 0)) / ALIGN) * ALIGN;
    return new DatasetFileWriter(path, tmp, codesTmp, fh, codesFh, o.inputDim, o.codeWidth, reserve);
  }

  /** Append `n` rows: x is [n × inputDim], codes [n × codeWidth]. */
  async write(x: Float32Array, codes: Float64Array, n: number): Promise<void> {
    if (x.length < n * this.inputDim || codes.length < n * this.codeWidth)
      throw new DatasetError('dataset file writer: batch arrays shorter than the row count');
    const xb = bytesOf(x.subarray(0, n * this.inputDim));
    this.crcX = crc32(xb, this.crcX);
    await writeAll(this.fh, xb, this.reserve + this.rows * this.inputDim * 4);
    const cb = new Uint8Array(codes.buffer, codes.byteOffset, n * this.codeWidth * 8);
    await writeAll(this.codesFh, cb, this.rows * this.codeWidth * 8);
    this.rows += n;
  }

  async finish(meta: DatasetFileMeta, info: StreamedTableInfo): Promise<DatasetFileHeader> {
    try {
      if (this.rows < 1) throw new DatasetError('cannot write a dataset file without rows');
      // Labels: read the codes back slice by slice, map, append after the features.
      const yAt = this.reserve + this.rows * this.inputDim * 4;
      let crc = this.crcX;
      const codes = new Float64Array(LABEL_SLICE_ROWS * this.codeWidth);
      const y = new Float32Array(LABEL_SLICE_ROWS);
      for (let r0 = 0; r0 < this.rows; r0 += LABEL_SLICE_ROWS) {
        const n = Math.min(LABEL_SLICE_ROWS, this.rows - r0);
        const cb = new Uint8Array(codes.buffer, 0, n * this.codeWidth * 8);
        if (!(await readAll(this.codesFh, cb, r0 * this.codeWidth * 8)))
          throw new DatasetError('dataset file writer: label codes file ended early');
        for (let i = 0; i < n; i++) y[i] = info.yOf(codes, i * this.codeWidth);
        const yb = bytesOf(y.subarray(0, n));
        crc = crc32(yb, crc);
        await writeAll(this.fh, yb, yAt + r0 * 4);
      }
      const header: DatasetFileHeader = HeaderSchema.parse({
        id: meta.id,
        kind: meta.kind,
        task: info.task,
        inputDim: this.inputDim,
        outputDim: info.outputDim,
        rows: this.rows,
        source: meta.source,
        ...(info.labels ? { labels: info.labels } : {}),
        ...(meta.featureNames ? { featureNames: meta.featureNames } : {}),
        created: meta.created ?? new Date().toISOString(),
        crc32: crc,
      });
      const json = Buffer.from(JSON.stringify(header), 'utf8');
      const payloadBytes = this.rows * (this.inputDim + 1) * 4;
      let finalTmp = this.tmp;
      if (PREFIX_BYTES + json.length <= this.reserve) {
        await writeAll(this.fh, headerBytes(json, this.reserve - PREFIX_BYTES), 0);
        await this.fh.sync();
        await this.fh.close();
      } else {
        // A header larger than the reserve (thousands of long class names): move the rows behind it.
        finalTmp = tempPathFor(this.path);
        const head = headerBytes(json, Math.ceil((PREFIX_BYTES + json.length) / ALIGN) * ALIGN - PREFIX_BYTES);
        const out = await open(finalTmp, 'wx');
        try {
          await writeAll(out, head, 0);
          const buf = new Uint8Array(Math.min(IO_CHUNK, 16 << 20));
          for (let o = 0; o < payloadBytes; o += buf.length) {
            const part = buf.subarray(0, Math.min(buf.length, payloadBytes - o));
            if (!(await readAll(this.fh, part, this.reserve + o)))
              throw new DatasetError('dataset file writer: temp file ended early');
            await writeAll(out, part, head.length + o);
          }
          await out.sync();
          await out.close();
        } catch (e) {
          await out.close().catch(() => undefined);
          await rm(finalTmp, { force: true });
          throw e;
        }
        await this.fh.close();
        await rm(this.tmp, { force: true });
      }
      await rename(finalTmp, this.path);
      this.done = true;
      await this.codesFh.close();
      await rm(this.codesTmp, { force: true });
      return header;
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  /** Remove the temp files (after a failed import). Safe to call more than once. */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.fh.close().catch(() => undefined);
    await this.codesFh.close().catch(() => undefined);
    await rm(this.tmp, { force: true });
    await rm(this.codesTmp, { force: true });
  }
}

/** Prefix + JSON padded with spaces to `jsonBytes` (still valid JSON; keeps the rows 8-byte aligned). */
function headerBytes(json: Buffer, jsonBytes: number): Buffer {
  const prefix = Buffer.alloc(PREFIX_BYTES);
  prefix.write(DATASET_FILE_MAGIC, 0, 'ascii');
  prefix.writeUInt32LE(DATASET_FILE_VERSION, 4);
  prefix.writeUInt32LE(jsonBytes, 8);
  return Buffer.concat([prefix, json, Buffer.alloc(jsonBytes - json.length, 0x20)]);
}
