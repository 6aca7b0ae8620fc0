// Reading a possibly gzipped file as a stream of chunks, for the CSV importers: gzip is detected by its magic
// bytes (1f 8b), not the file name; the consumer may stop early (row limit) without that being an error;
// zlib errors become DatasetErrors that say the gzip is truncated or corrupt.
import { createReadStream, type ReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { DatasetError } from './errors.js';

/** Read size: large enough for throughput, small enough that a row limit stops after little extra I/O. */
const READ_CHUNK = 256 << 10;

/**
 * Caps on what a gzip may expand to (docs/dataset-file.md): a gzip bomb (a few MB that unpack to terabytes)
 * is stopped with a clear error instead of running for hours. HIGGS.csv.gz unpacks ≈ 3:1; CSV text rarely
 * beyond 20:1.
 */
export interface StreamLimits {
  /** Unpacked bytes ÷ compressed bytes read so far, checked once `ratioAfterBytes` are unpacked. Default 200. */
  maxGzipRatio?: number;
  /** Default 64 MiB. */
  ratioAfterBytes?: number;
  /** Most bytes a gzip may unpack to. Default 64 GiB (HIGGS in full is 7.5 GB). */
  maxUnpackedBytes?: number;
}
export const DEFAULT_STREAM_LIMITS: Required<StreamLimits> = {
  maxGzipRatio: 200,
  ratioAfterBytes: 64 << 20,
  maxUnpackedBytes: 64 * 2 ** 30,
};

function fmtBytes(n: number): string {
  return n >= 2 ** 30 ? `${+(n / 2 ** 30).toFixed(1)} GiB` : `${+(n / 2 ** 20).toFixed(1)} MiB`;
}

/** Counts the gunzipped bytes and fails the stream when they pass the caps. */
function expansionGuard(name: string, compressedRead: () => number, limits: Required<StreamLimits>): Transform {
  let out = 0;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      out += chunk.length;
      if (out > limits.maxUnpackedBytes) {
        cb(
          new DatasetError(
            `${name}: the gzip unpacks to more than ${fmtBytes(limits.maxUnpackedBytes)} (the most an import may read); refusing it`,
          ),
        );
        return;
      }
      const read = Math.max(1, compressedRead());
      if (out > limits.ratioAfterBytes && out / read > limits.maxGzipRatio) {
        cb(
          new DatasetError(
            `${name}: the gzip expands more than ${limits.maxGzipRatio}:1 (${fmtBytes(out)} from ${fmtBytes(read)}): not a CSV export (a gzip bomb?); refusing it`,
          ),
        );
        return;
      }
      cb(null, chunk);
    },
  });
}

export interface ImportProgress {
  /** Data rows accepted so far. */
  rows: number;
  /** Bytes of the file (compressed, if gzip) consumed so far. */
  bytesRead: number;
  totalBytes: number;
  /** bytesRead / totalBytes, 0..1 (a row limit ends the import before 1). */
  fraction: number;
}
export type ProgressFn = (p: ImportProgress) => void;

/** Progress from a row count and the source's byte counters. */
export function progressOf(rows: number, info: SourceInfo): ImportProgress {
  const bytesRead = Math.min(info.bytesRead(), info.totalBytes);
  return {
    rows,
    bytesRead,
    totalBytes: info.totalBytes,
    fraction: info.totalBytes > 0 ? bytesRead / info.totalBytes : 1,
  };
}

export interface SourceInfo {
  gzip: boolean;
  totalBytes: number;
  /** File bytes read so far (the read stream's counter). */
  bytesRead(): number;
}

export async function isGzipFile(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/**
 * Stream `path` (gunzipped if it is gzip) into `consume`. `consume` returns 'stop' to end reading early;
 * the remaining file is then never read or decompressed.
 */
export async function streamFile(
  path: string,
  consume: (chunks: AsyncIterable<Buffer>, info: SourceInfo) => Promise<'done' | 'stop'>,
  extraStages: NodeJS.ReadWriteStream[] = [],
  limits: StreamLimits = {},
): Promise<void> {
  const name = basename(path);
  let totalBytes: number;
  let gzip: boolean;
  try {
    totalBytes = (await stat(path)).size;
    gzip = await isGzipFile(path);
  } catch (e) {
    throw new DatasetError(`${name}: cannot read the file (${(e as Error).message})`);
  }
  if (totalBytes === 0) throw new DatasetError(`${name}: the file is empty (expected CSV rows)`);
  const src: ReadStream = createReadStream(path, { highWaterMark: READ_CHUNK });
  const info: SourceInfo = { gzip, totalBytes, bytesRead: () => src.bytesRead };
  let stopped = false;
  let consumerError: unknown;
  const sink = async (chunks: AsyncIterable<Buffer>): Promise<void> => {
    try {
      stopped = (await consume(chunks, info)) === 'stop';
    } catch (e) {
      // pipeline would report the abort of the upstream stages instead of this, the real cause.
      consumerError = e;
      throw e;
    }
  };
  const caps = { ...DEFAULT_STREAM_LIMITS, ...limits };
  const unzip = gzip ? [createGunzip(), expansionGuard(name, () => src.bytesRead, caps)] : [];
  const stages: NodeJS.ReadWriteStream[] = [...unzip, ...extraStages];
  try {
    // pipeline's typings cannot express a variable number of stages; the stage list is only streams.
    await (pipeline as (...s: unknown[]) => Promise<void>)(src, ...stages, sink);
  } catch (e) {
    // A zlib failure reaches the consumer first (through its chunk iterator): map it like a pipeline error.
    const cause = consumerError ?? e;
    if (cause instanceof DatasetError) throw cause;
    const err = cause as NodeJS.ErrnoException;
    if (consumerError !== undefined && !(typeof err.code === 'string' && err.code.startsWith('Z_')))
      throw consumerError;
    // Returning early from the sink aborts the pipeline: that is the row limit working, not a failure.
    if (stopped && err.code === 'ABORT_ERR') return;
    if (err.code === 'Z_BUF_ERROR') {
      throw new DatasetError(
        `${name}: truncated gzip data (the compressed stream ends early, after ${src.bytesRead} of ${totalBytes} bytes)`,
      );
    }
    if (typeof err.code === 'string' && err.code.startsWith('Z_')) {
      throw new DatasetError(`${name}: corrupt gzip data (${err.message})`);
    }
    if (err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'EISDIR') {
      throw new DatasetError(`${name}: cannot read the file (${err.message})`);
    }
    throw cause;
  }
}
