// `npm run bench -- threads`: one run of the product trainer on 1 thread and on every core (docs/threads.md):
// steps/s per epoch (epoch 1 = warm-up; median of the rest), the scaling ratio, tf.memory() tensors over ≥ 200
// steps and the RSS sampled at epoch ends, the scaling (median over repeats of each repeat's N/1 ratio), the CPU scaling (one thread's CPU per step over rank 0's, steps only:
// how far the work splits, whatever the load) and every rank's per-phase profile (forward, backward, their batch-norm exchange
// waits, gradient reduction, optimizer, weight copy, rank 0's own work; wall vs CPU). Runs alternate 1 / N
// threads so a change in machine load hits both.
// Flags: --json, --only <substring>, --threads N (default: the machine's cores), --repeats R (default 2).
import { availableParallelism, loadavg } from 'node:os';
import { initBackend } from '../../workers/engine/backend.js';
import { barrierProbe, probeLine } from './barrier-probe.js';
import { LONG_LAG_MS, PHASES, type RankProfile } from '../../workers/engine/threads/group-memory.js';
import { PEER_NETS, type NetSpec } from './nets.js';
import { timeProduct, type ProductResult } from './product.js';

export interface ThreadsRow {
  net: string;
  threads: number;
  /** Median over repeats of each run's median later-epoch rate. */
  one: number;
  many: number;
  /** Median over repeats of each repeat's N-thread rate over its 1-thread rate (pairScalings). */
  scaling: number;
  pairScalings: number[];
  oneRuns: number[];
  manyRuns: number[];
  tensorsBefore: number;
  tensorsAfter: number;
  tensorSteps: number;
  rssOneMB: number;
  rssManyMB: number;
  /** Rank 0's barrier waits as a share of its epochs (median over repeats), and the share of barriers slept at. */
  waitShare: number;
  sleptShare: number;
  barriersPerStep: number;
  /** The one-thread runs' CPU ms per step (median; its thread, epoch-end probes included). */
  oneCpuMsPerStep: number;
  /**
   * Load-independent scaling: one thread's CPU per step over rank 0's, steps only, its barrier spinning taken out
   * (see cpuScaling): how far the work itself splits; the wall-clock ratio adds the barrier waits, which other
   * processes' load inflates.
   */
  cpuScaling: number;
  /** The last N-thread run's per-rank phase profile (ms per step). */
  profiles: RankProfile[];
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * The work's own scaling in CPU time, steps only (as steps/s count them): rank 0's step CPU without its barrier
 * spinning, against one thread's CPU per step less the epoch-end probes and checkpoints, which rank 0 runs alike
 * (measured as rank 0's CPU around the steps). Null without a profile.
 */
function cpuScaling(one: ProductResult, many: ProductResult): number {
  const p = many.profiles?.[0];
  if (!p || p.cpuMs < 0 || one.cpuMsPerStep < 0) return NaN;
  const steps = Math.max(1, p.steps);
  const epochEnds = many.cpuMsPerStep - p.cpuMs / steps;
  return (one.cpuMsPerStep - epochEnds) / ((p.cpuMs - p.spunMs) / steps);
}

/**
 * Epochs left out of a run's rate: the first two. A replica thread's isolate compiles its JS anew, with both cores
 * busy: measured, 2-thread epochs ran 11 → 12–13 → 15–16 steps/s before they settled, 1-thread ones from the
 * second epoch on. Both sides skip the same count.
 */
const WARMUP_EPOCHS = 2;

/** A run's rate: the median of its epochs after the warm-up. */
const rate = (r: ProductResult): number => median(r.epochRates.slice(WARMUP_EPOCHS));

/** One net, 1 vs N threads, alternating; ≥ 200 steps after warm-up per run (the tensor-count window). */
export async function timeThreads(
  spec: NetSpec,
  threads: number,
  repeats: number,
  log: (s: string) => void,
): Promise<ThreadsRow> {
  const probe = await timeProduct(spec, 4, 2, 1);
  const perEpoch = Math.max(8, Math.round(probe.epochRates[1] * 2.5));
  const epochs = WARMUP_EPOCHS + Math.max(3, Math.ceil(200 / perEpoch));
  const one: ProductResult[] = [],
    many: ProductResult[] = [];
  for (let r = 0; r < repeats; r++) {
    one.push(await timeProduct(spec, perEpoch, epochs, 1));
    many.push(await timeProduct(spec, perEpoch, epochs, threads));
    log(
      `  ${spec.name}: 1 thread ${one[r].epochRates.map((v) => v.toFixed(2)).join(', ')} | ${many[r].threads} threads ${many[r].epochRates.map((v) => v.toFixed(2)).join(', ')} steps/s per epoch`,
    );
  }
  const a = median(one.map(rate)),
    b = median(many.map(rate));
  const last = many[many.length - 1];
  // Each repeat's 1- and N-thread runs are adjacent in time: their ratio cancels the drift of a shared host's
  // speed between repeats (measured here: ±20 % over minutes), which the ratio of two medians would keep.
  const pairs = one.map((r, i) => rate(many[i]) / rate(r));
  return {
    net: spec.name,
    threads: last.threads,
    one: a,
    many: b,
    scaling: median(pairs),
    pairScalings: pairs,
    oneRuns: one.map(rate),
    manyRuns: many.map(rate),
    tensorsBefore: last.tensorsBefore,
    tensorsAfter: last.tensorsAfter,
    tensorSteps: last.stepsBetween,
    rssOneMB: Math.max(...one.map((r) => r.rssMB)),
    rssManyMB: Math.max(...many.map((r) => r.rssMB)),
    waitShare: median(many.map((r) => r.waitShare ?? 0)),
    sleptShare: median(many.map((r) => r.sleptShare ?? 0)),
    barriersPerStep: last.barriersPerStep ?? 0,
    oneCpuMsPerStep: median(one.map((r) => r.cpuMsPerStep)),
    cpuScaling: median(one.map((r, i) => cpuScaling(r, many[i]))),
    profiles: last.profiles ?? [],
  };
}

/** Per-rank breakdown of one N-thread run: ms per step in each phase, its share of the step, CPU vs wall. */
export function profileTable(row: ThreadsRow): string {
  const ranks = row.profiles;
  if (ranks.length === 0) return '';
  const per = (p: RankProfile, ms: number): number => ms / Math.max(1, p.steps);
  const head = ['phase (ms/step)', ...ranks.map((p) => `rank ${p.rank}`)];
  const rows: string[][] = [];
  for (const ph of PHASES) {
    if (ranks.every((p) => p.phases[ph] === 0)) continue;
    rows.push([
      ph,
      ...ranks.map((p) => `${per(p, p.phases[ph]).toFixed(2)} (${((100 * p.phases[ph]) / p.wallMs).toFixed(1)} %)`),
    ]);
  }
  const waits = (p: RankProfile): number =>
    PHASES.filter((x) => x.endsWith('Wait')).reduce((s, x) => s + p.phases[x], 0);
  rows.push([
    'all waits',
    ...ranks.map((p) => `${per(p, waits(p)).toFixed(2)} (${((100 * waits(p)) / p.wallMs).toFixed(1)} %)`),
  ]);
  rows.push(['step wall', ...ranks.map((p) => per(p, p.wallMs).toFixed(2))]);
  rows.push(['thread CPU', ...ranks.map((p) => (p.cpuMs < 0 ? 'n/a' : per(p, p.cpuMs).toFixed(2)))]);
  rows.push([
    'thread CPU − spinning',
    ...ranks.map((p) => (p.cpuMs < 0 ? 'n/a' : per(p, p.cpuMs - p.spunMs).toFixed(2))),
  ]);
  rows.push([
    'barriers/step (slept)',
    ...ranks.map(
      (p) => `${per(p, p.barriers).toFixed(1)} (${((100 * p.slept) / Math.max(1, p.barriers)).toFixed(0)} %)`,
    ),
  ]);
  // Where the waits come from: each rank's lateness (the others' wait it caused) and its time off the CPU.
  rows.push([
    'arrived last: barriers (lag)',
    ...ranks.map((p) => `${((100 * p.late) / Math.max(1, p.barriers)).toFixed(0)} % (${per(p, p.lagMs).toFixed(2)})`),
  ]);
  rows.push([
    `of those > ${LONG_LAG_MS} ms: n (lag)`,
    ...ranks.map((p) => `${per(p, p.longLate).toFixed(2)} (${per(p, p.longLagMs).toFixed(2)})`),
  ]);
  rows.push(['run-queue wait', ...ranks.map((p) => (p.queueMs < 0 ? 'n/a' : per(p, p.queueMs).toFixed(2)))]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((b) => b[i].length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [
    `${row.net}, ${row.threads} threads: per-rank profile over ${ranks[0].steps} steps (wall ms per step, waits ` +
      `separate; one thread: ${row.oneCpuMsPerStep.toFixed(1)} CPU ms per step incl. epoch-end probes)`,
    line(head),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}

export function threadsTable(rows: ThreadsRow[]): string {
  const head = [
    'net',
    'steps/s 1 thread',
    'steps/s N threads',
    'N',
    'scaling (per repeat)',
    'CPU scaling',
    'barrier wait (rank 0)',
    'tensors (over steps)',
    'RSS MB 1 / N',
  ];
  const body = rows.map((r) => [
    r.net,
    r.one.toFixed(2),
    r.many.toFixed(2),
    String(r.threads),
    `${r.scaling.toFixed(2)}× (${r.pairScalings.map((x) => x.toFixed(2)).join(', ')})`,
    `${r.cpuScaling.toFixed(2)}×`,
    `${(100 * r.waitShare).toFixed(0)} % of time, ${r.barriersPerStep.toFixed(0)}/step, ${(100 * r.sleptShare).toFixed(0)} % slept`,
    `${r.tensorsBefore} → ${r.tensorsAfter} (${r.tensorSteps})`,
    `${r.rssOneMB} / ${r.rssManyMB}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

export async function threadsBench(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const flag = (name: string): string | null => (argv.includes(name) ? (argv[argv.indexOf(name) + 1] ?? null) : null);
  const only = flag('--only') ?? 'HIGGS Bern';
  const threads = Number(flag('--threads') ?? availableParallelism());
  const repeats = Number(flag('--repeats') ?? 2);
  const log = (s: string): void => {
    if (!json) console.log(s);
  };
  await initBackend('wasm');
  log(
    `one run, 1 vs ${threads} threads (product trainer, wasm); medians; load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores`,
  );
  const probe = [await barrierProbe(threads, 'arithmetic'), await barrierProbe(threads, 'streaming')];
  for (const p of probe) log(probeLine(p));
  const rows: ThreadsRow[] = [];
  for (const spec of PEER_NETS.filter((n) => n.name.toLowerCase().includes(only.toLowerCase())))
    rows.push(await timeThreads(spec, threads, repeats, log));
  if (json) console.log(JSON.stringify({ threads, load: loadavg()[0], probe, rows }, null, 2));
  else {
    console.log(`\n${threadsTable(rows)}`);
    for (const r of rows) console.log(`\n${profileTable(r)}`);
  }
}
