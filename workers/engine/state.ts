// The checkpoint format: one Uint8Array = magic "DBNS", u32 LE version, u32 LE header length, a UTF-8 JSON
// header, zero padding to a 4-byte boundary, then every tensor's float32 data (little-endian) in header order.
// Pure codec (no tfjs), so export.ts and other programs can read it without the engine.
import { withLegacyDefaults, type NetworkSpec } from '../../shared/spec.js';
import type { Task } from '../data/types.js';

export const STATE_FORMAT = 'deepbern-state';
export const STATE_VERSION = 1;
const MAGIC = [0x44, 0x42, 0x4e, 0x53]; // "DBNS"

export interface ModelDims {
  inputDim: number;
  outputDim: number;
  task: Task;
}

export interface NamedArray {
  /** e.g. `L3/w`, `L3/theta`, `L3/bn_mean`, `L3/lo`, `out/b`, `adam/m/L3/w`. */
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface StateMeta {
  spec: NetworkSpec;
  dims: ModelDims;
  /** Completed epochs. 0 = the initial weights. */
  epoch: number;
  standardization: { mean: number[]; std: number[] };
  optimizer: { kind: 'adam' | 'sgd'; step: number };
  paramCount: number;
}

export interface ModelState extends StateMeta {
  tensors: NamedArray[];
}

interface Header extends StateMeta {
  format: typeof STATE_FORMAT;
  version: number;
  tensors: { name: string; shape: number[] }[];
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function assertLittleEndian(): void {
  // Float32Array views use host byte order; every platform we ship on is little-endian.
  if (new Uint8Array(new Float32Array([1]).buffer)[3] !== 0x3f) throw new Error('big-endian hosts are not supported');
}

export function saveState(state: ModelState): Uint8Array {
  assertLittleEndian();
  const { tensors, ...meta } = state;
  const header: Header = {
    format: STATE_FORMAT,
    version: STATE_VERSION,
    ...meta,
    tensors: tensors.map((t) => ({ name: t.name, shape: t.shape })),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = Math.ceil((12 + json.length) / 4) * 4;
  let floats = 0;
  for (const t of tensors) {
    if (t.data.length !== size(t.shape))
      throw new Error(`tensor ${t.name}: ${t.data.length} values for shape [${t.shape}]`);
    floats += t.data.length;
  }
  const out = new Uint8Array(dataStart + floats * 4);
  out.set(MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint32(4, STATE_VERSION, true);
  view.setUint32(8, json.length, true);
  out.set(json, 12);
  const body = new Float32Array(out.buffer, dataStart, floats);
  let off = 0;
  for (const t of tensors) {
    body.set(t.data, off);
    off += t.data.length;
  }
  return out;
}

export function loadState(bytes: Uint8Array): ModelState {
  assertLittleEndian();
  if (bytes.length < 12 || MAGIC.some((m, i) => bytes[i] !== m))
    throw new Error('not a DeepBern checkpoint (bad magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== STATE_VERSION)
    throw new Error(`checkpoint version ${version} is not supported (expected ${STATE_VERSION})`);
  const jsonLen = view.getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + jsonLen))) as Header;
  if (header.format !== STATE_FORMAT) throw new Error(`not a DeepBern checkpoint (format ${String(header.format)})`);
  let off = Math.ceil((12 + jsonLen) / 4) * 4;
  const tensors: NamedArray[] = header.tensors.map(({ name, shape }) => {
    const len = size(shape) * 4;
    if (off + len > bytes.length) throw new Error(`checkpoint truncated in tensor ${name}`);
    // Copy into a fresh buffer: the input may sit at any byte offset, and a Node Buffer's slice() is a view
    // of its (pooled) memory, so `.slice().buffer` would be the whole pool.
    const data = new Float32Array(len / 4);
    new Uint8Array(data.buffer).set(bytes.subarray(off, off + len));
    off += len;
    return { name, shape, data };
  });
  const { format: _f, version: _v, tensors: _t, ...meta } = header;
  // Checkpoints from before init / bnAffine: complete the spec with what that run used.
  return { ...meta, spec: withLegacyDefaults(meta.spec), tensors };
}

export function tensorMap(state: ModelState): Map<string, NamedArray> {
  return new Map(state.tensors.map((t) => [t.name, t]));
}
