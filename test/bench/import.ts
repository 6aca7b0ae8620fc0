// `npm run bench -- import [--rows N] [--gzip] [--keep] [--json]`: import a generated HIGGS-format CSV
// (default 11,000,000 rows, the full UCI file's size and number format) with the real CLI
// (`deepbern datasets import higgs`) and report its wall time and peak RSS (the child's VmHWM from /proc,
// sampled while it runs: Linux). The bound: the full file imports with peak RSS < 600 MB.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';

const BIN = fileURLToPath(new URL('../../../bin/deepbern.js', import.meta.url));
const FULL_HIGGS_ROWS = 11_000_000;
const RSS_BOUND_MB = 600;

interface Options {
  rows: number;
  gzip: boolean;
  keep: boolean;
  json: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { rows: FULL_HIGGS_ROWS, gzip: false, keep: false, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--rows') o.rows = Number(argv[++i]);
    else if (a === '--gzip') o.gzip = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '--json') o.json = true;
    else throw new Error(`unknown flag ${a} (allowed: --rows N, --gzip, --keep, --json)`);
  }
  if (!Number.isInteger(o.rows) || o.rows < 10) throw new Error('--rows must be an integer ≥ 10');
  return o;
}

/** HIGGS's own number format: 1.000000000000000000e+00,8.692932128906250000e-01,… */
function* higgsLines(rows: number): Generator<string> {
  // A pool of distinct rows (formatting 300M numbers would take longer than the import), cycled.
  let seed = 12345;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const pool: string[] = [];
  for (let i = 0; i < 4096; i++) {
    const f = [String(i % 2 === 0 ? '1.000000000000000000e+00' : '0.000000000000000000e+00')];
    for (let j = 0; j < 28; j++) f.push((j < 21 ? (rnd() - 0.5) * 6 : rnd() * 3).toExponential(18));
    pool.push(f.join(',') + '\n');
  }
  const block = 1024;
  for (let r = 0; r < rows; r += block) {
    let s = '';
    for (let k = r; k < Math.min(rows, r + block); k++) s += pool[(k * 2654435761) % pool.length];
    yield s;
  }
}

async function generate(path: string, rows: number, gzip: boolean): Promise<void> {
  const src = Readable.from(higgsLines(rows));
  if (gzip) await pipeline(src, createGzip({ level: 1 }), createWriteStream(path));
  else await pipeline(src, createWriteStream(path));
}

async function peakRssOf(
  args: string[],
): Promise<{ code: number | null; ms: number; peakMb: number | null; stderr: string; stdout: string }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let peakKb: number | null = null;
  const sample = async () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peakKb = Math.max(peakKb ?? 0, Number(m[1]));
    } catch {
      /* exited, or not Linux */
    }
  };
  const timer = setInterval(() => void sample(), 100);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearInterval(timer);
  return { code, ms: performance.now() - t0, peakMb: peakKb === null ? null : peakKb / 1024, stderr, stdout };
}

export async function importBench(argv: string[]): Promise<void> {
  const o = parseArgs(argv);
  const dir = await mkdtemp(join(tmpdir(), 'deepbern-bench-import-'));
  const log = (s: string) => !o.json && process.stdout.write(`${s}\n`);
  try {
    const csv = join(dir, o.gzip ? 'HIGGS.csv.gz' : 'HIGGS.csv');
    log(`generating ${o.rows.toLocaleString('en')} HIGGS-format rows → ${csv} …`);
    const g0 = performance.now();
    await generate(csv, o.rows, o.gzip);
    const size = (await stat(csv)).size;
    log(`  ${(size / 2 ** 30).toFixed(2)} GiB in ${((performance.now() - g0) / 1000).toFixed(0)} s`);
    log('importing with `deepbern datasets import higgs` …');
    const r = await peakRssOf(['datasets', 'import', 'higgs', csv, '--db', join(dir, 'w.db'), '--json']);
    if (r.code !== 0) throw new Error(`import failed (exit ${r.code}): ${r.stderr.trim()}`);
    const info = JSON.parse(r.stdout) as { rows: number };
    const result = {
      rows: info.rows,
      csvBytes: size,
      gzip: o.gzip,
      seconds: +(r.ms / 1000).toFixed(1),
      rowsPerSecond: Math.round(info.rows / (r.ms / 1000)),
      peakRssMb: r.peakMb === null ? null : +r.peakMb.toFixed(0),
      boundMb: RSS_BOUND_MB,
      withinBound: r.peakMb === null ? null : r.peakMb < RSS_BOUND_MB,
    };
    if (o.json) process.stdout.write(JSON.stringify(result) + '\n');
    else {
      log(
        `  ${result.rows.toLocaleString('en')} rows in ${result.seconds} s (${result.rowsPerSecond.toLocaleString('en')} rows/s)`,
      );
      log(
        `  peak RSS ${result.peakRssMb ?? 'n/a (no /proc)'} MB — bound ${RSS_BOUND_MB} MB: ${result.withinBound === null ? 'not measured' : result.withinBound ? 'OK' : 'EXCEEDED'}`,
      );
    }
    if (result.withinBound === false) process.exitCode = 1;
  } finally {
    if (!o.keep) await rm(dir, { recursive: true, force: true });
    else log(`kept ${dir}`);
  }
}
