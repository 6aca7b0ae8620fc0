// Streaming CSV importers: UCI HIGGS (label + 28 features) and SUSY (label + 18 features), plain or gzip, and
// a user CSV with a header row. Rows are parsed as they stream in and handed to a RowSink in batches, so an
// import never holds the whole table (HIGGS.csv.gz is 7.5 GB unpacked, 11M rows): the dataset-file writer
// streams them to disk, readUciCsv/readUserCsv collect them in memory. A row limit stops reading early.
// Every data error names the file, line and column.
import { basename } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { parse } from 'csv-parse';
import { DatasetError } from './errors.js';
import { progressOf, streamFile, type ProgressFn, type StreamLimits } from './stream-source.js';
import type { RawTable, Task } from './types.js';

export type { ImportProgress, ProgressFn, StreamLimits } from './stream-source.js';

export const UCI_FORMATS = {
  higgs: { title: 'HIGGS', features: 28 },
  susy: { title: 'SUSY', features: 18 },
} as const;
export type UciKind = keyof typeof UCI_FORMATS;

/** Progress is reported every this many rows (and once at the end). */
const PROGRESS_EVERY = 50_000;
/** Rows handed to the sink at a time. */
const BATCH_ROWS = 8192;
/**
 * The longest line (or CSV record) accepted, in characters: far beyond any real row (a HIGGS row is ~700),
 * and a bound on the memory one line may take. Parsing stays linear in the line's length up to it.
 */
export const MAX_LINE_CHARS = 64 << 20;
/** float32's largest finite value: the dataset file stores float32, so anything beyond it would become ±Inf. */
const FLOAT32_MAX = 3.4028234663852886e38;

export interface ReadOptions {
  /** Read at most this many data rows (the first ones). */
  rows?: number;
  onProgress?: ProgressFn;
  /** gzip expansion caps (defaults in stream-source.ts). */
  limits?: StreamLimits;
}

/** Where parsed rows go. `start` is called once the row width is known, before any `write`. */
export interface RowSink {
  start(inputDim: number, codeWidth: number, featureNames?: string[]): Promise<void>;
  /** `n` rows: x is [n × inputDim] float32, codes [n × codeWidth] float64 (label codes, see LabelPlan). */
  write(x: Float32Array, codes: Float64Array, n: number): Promise<void>;
}

/** How label codes become labels, decided once every row was seen (user CSVs sort their class names). */
export interface LabelPlan {
  task: Task;
  outputDim: number;
  labels?: string[];
  yOf(codes: Float64Array, at: number): number;
}

export interface ScanResult extends LabelPlan {
  rows: number;
  inputDim: number;
}

/** Fills fixed-size batches and hands them to the sink. */
class Batcher {
  readonly x: Float32Array;
  readonly codes: Float64Array;
  n = 0;
  rows = 0;
  constructor(
    private readonly sink: RowSink,
    readonly width: number,
    readonly codeWidth: number,
  ) {
    this.x = new Float32Array(BATCH_ROWS * width);
    this.codes = new Float64Array(BATCH_ROWS * codeWidth);
  }
  get full(): boolean {
    return this.n === BATCH_ROWS;
  }
  /** Call after filling row `n` (x at n·width, codes at n·codeWidth). */
  commit(): void {
    this.n++;
    this.rows++;
  }
  async flush(): Promise<void> {
    if (this.n === 0) return;
    await this.sink.write(this.x, this.codes, this.n);
    this.n = 0;
  }
}

/** Collects rows in memory (readUciCsv / readUserCsv); doubling buffers, exact when the row limit is known. */
export class MemorySink implements RowSink {
  private x = new Float32Array(0);
  private codes = new Float64Array(0);
  rows = 0;
  private width = 0;
  private codeWidth = 1;
  constructor(private readonly capacityRows = 1 << 12) {}
  async start(inputDim: number, codeWidth: number): Promise<void> {
    this.width = inputDim;
    this.codeWidth = codeWidth;
    this.x = new Float32Array(this.capacityRows * inputDim);
    this.codes = new Float64Array(this.capacityRows * codeWidth);
  }
  async write(x: Float32Array, codes: Float64Array, n: number): Promise<void> {
    const need = this.rows + n;
    if (need * this.width > this.x.length) {
      const cap = Math.max(need, 2 * (this.x.length / Math.max(1, this.width)));
      const bx = new Float32Array(cap * this.width);
      bx.set(this.x.subarray(0, this.rows * this.width));
      this.x = bx;
      const bc = new Float64Array(cap * this.codeWidth);
      bc.set(this.codes.subarray(0, this.rows * this.codeWidth));
      this.codes = bc;
    }
    this.x.set(x.subarray(0, n * this.width), this.rows * this.width);
    this.codes.set(codes.subarray(0, n * this.codeWidth), this.rows * this.codeWidth);
    this.rows = need;
  }
  table(plan: LabelPlan): RawTable {
    const y = new Float32Array(this.rows);
    for (let i = 0; i < this.rows; i++) y[i] = plan.yOf(this.codes, i * this.codeWidth);
    return {
      task: plan.task,
      inputDim: this.width,
      outputDim: plan.outputDim,
      rows: this.rows,
      x: this.x.slice(0, this.rows * this.width),
      y,
      ...(plan.labels ? { labels: plan.labels } : {}),
    };
  }
}

function checkRowLimit(rows: number | undefined): void {
  if (rows !== undefined && !(Number.isInteger(rows) && rows >= 1))
    throw new DatasetError(`rows must be a positive integer (got ${rows})`);
}

const NAN_TEXT = /^[+-]?nan$/i;
/** A plain decimal number: optional sign, digits with an optional point, optional exponent. Nothing else. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The number in `text`, or a one-line reason why it is not an allowed number. */
export function parseNumber(text: string): number | string {
  // Fast path (this runs 29 times per HIGGS row). Number() also accepts what is not a decimal number here:
  // "" and blanks (→ 0), 0x/0b/0o prefixes, Infinity; those all go the slow way, as does anything not finite
  // in float32 (so 1e39 is an error here, not a silent Inf in the dataset file).
  const fast = Number(text);
  const c0 = text.charCodeAt(0);
  const plainStart = (c0 >= 0x30 && c0 <= 0x39) || c0 === 0x2d || c0 === 0x2b || c0 === 0x2e; // digit - + .
  if (Math.abs(fast) <= FLOAT32_MAX && plainStart && !(c0 === 0x30 && isRadixLetter(text.charCodeAt(1)))) return fast;
  const t = text.trim();
  if (t === '') return 'empty field (expected a number)';
  if (NAN_TEXT.test(t)) return 'NaN is not allowed (expected a finite number)';
  if (/^[+-]?inf(inity)?$/i.test(t)) return `${t} is not allowed (expected a finite number)`;
  if (!DECIMAL.test(t)) {
    return Number.isNaN(Number(t))
      ? `"${clip(t)}" is not a number`
      : `"${clip(t)}" is not a plain decimal number (write numbers like 12, -0.5 or 1e-3)`;
  }
  const v = Number(t);
  if (!(Math.abs(v) <= FLOAT32_MAX))
    return `${clip(t)} is beyond the float32 range (±3.4028235e38; the dataset stores float32)`;
  return v;
}

/** x, b or o (either case): the second character of 0x…/0b…/0o… (signed forms are NaN to Number()). */
function isRadixLetter(c: number): boolean {
  const l = c | 0x20;
  return l === 0x78 || l === 0x62 || l === 0x6f;
}

function clip(s: string): string {
  return s.length > 30 ? `${s.slice(0, 30)}…` : s;
}

/**
 * Stream a UCI HIGGS/SUSY file into `sink`: no header, column 0 the label (0 or 1), then the features.
 * `.csv` or gzip (detected by content). Blank lines are skipped; anything else malformed is an error with
 * its line number.
 */
export async function scanUciCsv(
  path: string,
  kind: UciKind,
  sink: RowSink,
  opts: ReadOptions = {},
): Promise<ScanResult> {
  checkRowLimit(opts.rows);
  const fmt = UCI_FORMATS[kind];
  const name = basename(path);
  const cols = fmt.features + 1;
  const limit = opts.rows ?? Infinity;
  await sink.start(fmt.features, 1);
  const b = new Batcher(sink, fmt.features, 1);
  let lineNo = 0;

  const fail = (msg: string, col?: number): never => {
    throw new DatasetError(`${name}: line ${lineNo}${col === undefined ? '' : `, column ${col + 1}`}: ${msg}`);
  };
  const parseLine = (line: string): void => {
    const fields = line.split(',');
    if (fields.length !== cols) {
      fail(`expected ${cols} columns (label + ${fmt.features} features for ${fmt.title}), found ${fields.length}`);
    }
    const label = parseNumber(fields[0]);
    if (typeof label === 'string') {
      fail(lineNo === 1 ? `${label} (${fmt.title} files have no header row; column 1 is the label)` : label, 0);
    } else if (label !== 0 && label !== 1) fail(`label must be 0 or 1, found ${fields[0].trim()}`, 0);
    const o = b.n * fmt.features;
    const xs = b.x;
    for (let j = 1; j < cols; j++) {
      const v = parseNumber(fields[j]);
      if (typeof v === 'string') fail(v, j);
      xs[o + j - 1] = v as number;
    }
    b.codes[b.n] = label as number;
    b.commit();
  };

  await streamFile(
    path,
    async (chunks, info) => {
      const decoder = new StringDecoder('utf8');
      // The unfinished line so far, as pieces: joined once when its newline arrives, so a long line costs
      // linear time (concatenating and re-searching it per chunk was quadratic).
      let pending: string[] = [];
      let pendingChars = 0;
      const report = () => opts.onProgress?.(progressOf(b.rows, info));
      /** true when the row limit is reached. */
      const takeLine = async (raw: string): Promise<boolean> => {
        lineNo++;
        const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
        if (line.trim() === '') return false;
        parseLine(line);
        if (b.full) await b.flush();
        if (b.rows % PROGRESS_EVERY === 0) report();
        return b.rows >= limit;
      };
      const tooLong = (): never => {
        lineNo++;
        return fail(
          `the line is longer than ${MAX_LINE_CHARS} characters (a ${fmt.title} row is about ${cols * 25}): not a ${fmt.title} file?`,
        );
      };
      for await (const chunk of chunks) {
        const text = decoder.write(chunk);
        let start = 0;
        for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
          let line = text.slice(start, nl);
          if (pending.length) {
            if (pendingChars + line.length > MAX_LINE_CHARS) tooLong();
            pending.push(line);
            line = pending.join('');
            pending = [];
            pendingChars = 0;
          }
          start = nl + 1;
          if (await takeLine(line)) {
            await b.flush();
            report();
            return 'stop';
          }
        }
        if (start < text.length) {
          pending.push(text.slice(start));
          pendingChars += text.length - start;
          if (pendingChars > MAX_LINE_CHARS) tooLong();
        }
      }
      const rest = pending.join('') + decoder.end();
      if (rest !== '') await takeLine(rest);
      await b.flush();
      report();
      return 'done';
    },
    [],
    opts.limits,
  );

  if (b.rows === 0)
    throw new DatasetError(`${name}: no data rows (the file is empty or blank; expected ${fmt.title} CSV rows)`);
  return { rows: b.rows, inputDim: fmt.features, task: 'classification', outputDim: 2, yOf: (c, at) => c[at] };
}

/** Read a UCI HIGGS/SUSY file into memory (see scanUciCsv). */
export async function readUciCsv(path: string, kind: UciKind, opts: ReadOptions = {}): Promise<RawTable> {
  const sink = new MemorySink(opts.rows ?? 1 << 16);
  const plan = await scanUciCsv(path, kind, sink, opts);
  return sink.table(plan);
}

export interface UserCsvOptions extends ReadOptions {
  /** Label column: header name, or 0-based index. Default: the last column. */
  labelColumn?: string | number;
  /**
   * Default (auto): classification if some label is not a number, or all labels are integers with at
   * most AUTO_MAX_CLASSES distinct values; otherwise regression.
   */
  task?: Task;
}

export interface UserCsvTable extends RawTable {
  featureNames: string[];
  labelName: string;
}

export const AUTO_MAX_CLASSES = 20;
export const MAX_CLASSES = 1000;

function resolveLabelColumn(header: string[], want: string | number | undefined, name: string): number {
  if (want === undefined) return header.length - 1;
  const byName = typeof want === 'string' ? header.indexOf(want) : -1;
  if (byName >= 0) return byName;
  const idx = typeof want === 'number' ? want : /^\d+$/.test(want) ? Number(want) : NaN;
  if (Number.isInteger(idx) && idx >= 0 && idx < header.length) return idx;
  const shown =
    header
      .slice(0, 12)
      .map((h) => JSON.stringify(h))
      .join(', ') + (header.length > 12 ? ', …' : '');
  throw new DatasetError(
    `${name}: label column ${JSON.stringify(want)} not found (allowed: a header name — ${shown} — or an index 0 to ${header.length - 1})`,
  );
}

/**
 * A user CSV's labels, coded per row as [numeric value or NaN, text index or −1] while streaming; the
 * distinct values kept are bounded (MAX_CLASSES + 1 each: more is an error for classification anyway).
 */
class LabelCoder {
  readonly texts = new Map<string, number>();
  textOverflow = false;
  readonly nums = new Set<number>();
  numOverflow = false;
  allIntegers = true;
  firstNonNumeric: { line: number; text: string } | undefined;
  firstBeyondFloat32: { line: number; text: string } | undefined;

  code(text: string, line: number, out: Float64Array, at: number): void {
    const v = parseNumber(text);
    let ti = this.texts.get(text);
    if (ti === undefined) {
      if (this.texts.size > MAX_CLASSES) this.textOverflow = true;
      else this.texts.set(text, (ti = this.texts.size));
    }
    out[at + 1] = ti ?? -1;
    if (typeof v === 'number') {
      out[at] = v;
      if (!Number.isInteger(v)) this.allIntegers = false;
      if (!this.nums.has(v)) {
        if (this.nums.size > MAX_CLASSES) this.numOverflow = true;
        else this.nums.add(v);
      }
      return;
    }
    out[at] = NaN;
    // A number beyond float32 is "not a number" for classes but a bad value for regression targets.
    if (/beyond the float32 range/.test(v)) this.firstBeyondFloat32 ??= { line, text };
    else this.firstNonNumeric ??= { line, text };
  }

  plan(name: string, labelName: string, column: number, task: Task | undefined): LabelPlan {
    const allNumeric = !this.firstNonNumeric && !this.firstBeyondFloat32;
    const chosen: Task =
      task ??
      (!allNumeric || (!this.numOverflow && this.nums.size <= AUTO_MAX_CLASSES && this.allIntegers)
        ? 'classification'
        : 'regression');
    if (chosen === 'regression') {
      const bad = this.firstNonNumeric;
      if (bad)
        throw new DatasetError(
          `${name}: line ${bad.line}: label "${clip(bad.text)}" is not a number (regression needs numeric labels)`,
        );
      const big = this.firstBeyondFloat32;
      if (big)
        throw new DatasetError(
          `${name}: line ${big.line}, column ${column + 1} (${labelName}): ${clip(big.text)} is beyond the float32 range (±3.4028235e38; the dataset stores float32)`,
        );
      return { task: 'regression', outputDim: 1, yOf: (c, at) => c[at] };
    }
    const overflow = allNumeric ? this.numOverflow : this.textOverflow;
    const size = allNumeric ? this.nums.size : this.texts.size;
    if (overflow || size > MAX_CLASSES) {
      throw new DatasetError(
        `${name}: label column "${labelName}" has more than ${MAX_CLASSES} distinct values (classification allows at most ${MAX_CLASSES}; use task regression)`,
      );
    }
    if (size < 2)
      throw new DatasetError(
        `${name}: label column "${labelName}" has only one value (classification needs at least 2 classes)`,
      );
    if (allNumeric) {
      // Numeric labels are keyed by value so "1" and "1.0" are one class.
      const keys = [...this.nums].sort((a, b) => a - b);
      const index = new Map(keys.map((k, i) => [k, i]));
      return {
        task: 'classification',
        outputDim: keys.length,
        labels: keys.map(String),
        yOf: (c, at) => index.get(c[at]) as number,
      };
    }
    const keys = [...this.texts.keys()].sort();
    const rank = new Float64Array(this.texts.size);
    keys.forEach((k, i) => (rank[this.texts.get(k) as number] = i));
    return { task: 'classification', outputDim: keys.length, labels: keys, yOf: (c, at) => rank[c[at + 1]] };
  }
}

export interface UserCsvScan extends ScanResult {
  featureNames: string[];
  labelName: string;
}

/**
 * Stream a user CSV into `sink`: first row is the header, every other column must be numeric. Classification
 * labels are mapped to 0..K−1 in sorted order (numeric order if all labels are numbers), the names kept in
 * `labels`.
 */
export async function scanUserCsv(path: string, sink: RowSink, opts: UserCsvOptions = {}): Promise<UserCsvScan> {
  checkRowLimit(opts.rows);
  const name = basename(path);
  const limit = opts.rows ?? Infinity;
  let header: string[] | undefined;
  let labelCol = -1;
  let b: Batcher | undefined;
  const coder = new LabelCoder();
  let lineNo = 0;
  const parser = parse({
    info: true,
    skip_empty_lines: true,
    relax_column_count: true,
    bom: true,
    max_record_size: MAX_LINE_CHARS,
  });

  try {
    await streamFile(
      path,
      async (records, info) => {
        const report = () => opts.onProgress?.(progressOf(b?.rows ?? 0, info));
        // csv-parse in object mode yields {record, info}; typed loosely by the pipeline, checked here.
        for await (const item of records as unknown as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
          lineNo = item.info.lines;
          const rec = item.record;
          if (!header) {
            header = rec.map((h) => h.trim());
            if (header.length < 2)
              throw new DatasetError(
                `${name}: line ${lineNo}: the header has ${header.length} column (need a label and at least one feature)`,
              );
            labelCol = resolveLabelColumn(header, opts.labelColumn, name);
            await sink.start(
              header.length - 1,
              2,
              header.filter((_, j) => j !== labelCol),
            );
            b = new Batcher(sink, header.length - 1, 2);
            continue;
          }
          if (rec.length !== header.length) {
            throw new DatasetError(
              `${name}: line ${lineNo}: expected ${header.length} columns (as in the header), found ${rec.length}`,
            );
          }
          const batch = b as Batcher;
          const o = batch.n * batch.width;
          const xs = batch.x;
          for (let j = 0, k = 0; j < rec.length; j++) {
            if (j === labelCol) continue;
            const v = parseNumber(rec[j]);
            if (typeof v === 'string')
              throw new DatasetError(`${name}: line ${lineNo}, column ${j + 1} (${header[j]}): ${v}`);
            xs[o + k++] = v;
          }
          const lt = rec[labelCol].trim();
          if (lt === '')
            throw new DatasetError(
              `${name}: line ${lineNo}, column ${labelCol + 1} (${header[labelCol]}): empty label`,
            );
          coder.code(lt, lineNo, batch.codes, batch.n * 2);
          batch.commit();
          if (batch.full) await batch.flush();
          if (batch.rows % PROGRESS_EVERY === 0) report();
          if (batch.rows >= limit) {
            await batch.flush();
            report();
            return 'stop';
          }
        }
        await b?.flush();
        report();
        return 'done';
      },
      [parser],
      opts.limits,
    );
  } catch (e) {
    // csv-parse's own errors (unclosed quote…) carry their line in the message.
    const code = (e as { code?: unknown }).code?.toString() ?? '';
    if (code === 'CSV_MAX_RECORD_SIZE')
      throw new DatasetError(`${name}: line ${lineNo + 1}: a record is longer than ${MAX_LINE_CHARS} characters`);
    if (code.startsWith('CSV_')) throw new DatasetError(`${name}: ${(e as Error).message}`);
    throw e;
  }

  if (!header || !b) throw new DatasetError(`${name}: the file is empty (expected a header row and data rows)`);
  if (b.rows === 0) throw new DatasetError(`${name}: no data rows after the header`);
  const labelName = header[labelCol];
  const featureNames = header.filter((_, j) => j !== labelCol);
  const plan = coder.plan(name, labelName, labelCol, opts.task);
  return { ...plan, rows: b.rows, inputDim: featureNames.length, featureNames, labelName };
}

/** Read a user CSV into memory (see scanUserCsv). */
export async function readUserCsv(path: string, opts: UserCsvOptions = {}): Promise<UserCsvTable> {
  const sink = new MemorySink(opts.rows ?? 1 << 12);
  const scan = await scanUserCsv(path, sink, opts);
  return { ...sink.table(scan), featureNames: scan.featureNames, labelName: scan.labelName };
}
