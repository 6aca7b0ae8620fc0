// IDX (the MNIST file format, http://yann.lecun.com/exdb/mnist/): magic 0x00 0x00 <type> <ndims>, then
// ndims big-endian uint32 sizes, then the data. We read unsigned-byte data only — all MNIST files are.
import { DatasetError } from './errors.js';

export interface IdxArray {
  dims: number[];
  /** A view into the file's buffer, row-major. */
  data: Uint8Array;
}

const UBYTE = 0x08;

/** Parse an unsigned-byte IDX buffer; `name` goes into error messages. Every inconsistency is an error. */
export function parseIdx(buf: Uint8Array, name: string): IdxArray {
  if (buf.length < 4)
    throw new DatasetError(`${name}: not an IDX file (only ${buf.length} bytes; an IDX header has at least 8)`);
  if (buf[0] !== 0 || buf[1] !== 0) {
    throw new DatasetError(
      `${name}: not an IDX file (magic number must start with 0x00 0x00, found 0x${hex(buf[0])} 0x${hex(buf[1])})`,
    );
  }
  if (buf[2] !== UBYTE)
    throw new DatasetError(`${name}: IDX data type 0x${hex(buf[2])} is not supported (allowed: 0x08 unsigned byte)`);
  const ndims = buf[3];
  if (ndims < 1 || ndims > 4) throw new DatasetError(`${name}: IDX header has ${ndims} dimensions (allowed: 1 to 4)`);
  const headerBytes = 4 + 4 * ndims;
  if (buf.length < headerBytes)
    throw new DatasetError(`${name}: truncated IDX header (${buf.length} bytes, need ${headerBytes})`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const found = buf.length - headerBytes;
  if (found !== expected) {
    const what = found < expected ? 'truncated' : 'has trailing bytes';
    throw new DatasetError(
      `${name}: IDX file ${what}: dims ${dims.join('×')} need ${expected} data bytes, found ${found}`,
    );
  }
  return { dims, data: buf.subarray(headerBytes) };
}

function hex(b: number | undefined): string {
  return (b ?? 0).toString(16).padStart(2, '0');
}
